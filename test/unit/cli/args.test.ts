import { describe, expect, it } from 'vitest';
import { helpText, parseCliArgs } from '../../../src/cli/args.ts';
import { QUESTIONS } from '../../../src/app/questions.ts';
import { UsageError } from '../../../src/errors.ts';

describe('parseCliArgs', () => {
  it('reads the name and typed flags', () => {
    const a = parseCliArgs(['new', 'inventory', '--stack', 'python', '--kind', 'readonly', '--port', '8010', '--db-pool-size', '5', '-y', '--dry-run', '--json']);
    expect(a.command).toBe('new');
    expect(a.given).toEqual({ name: 'inventory', stack: 'python', kind: 'readonly', port: 8010, dbPoolSize: 5 });
    expect(a).toMatchObject({ yes: true, dryRun: true, json: true, force: false });
  });

  it('treats `new` as optional', () => {
    expect(parseCliArgs(['inventory']).given.name).toBe('inventory');
    expect(parseCliArgs(['--yes', 'inventory']).given.name).toBe('inventory');
  });

  it('knows the provision command and its own flags', () => {
    const a = parseCliArgs(['provision', 'inventory', '--migrate', '--reset-password', '--admin-url', 'postgresql://x@h/p']);
    expect(a.command).toBe('provision');
    expect(a.given).toEqual({ name: 'inventory', migrate: true, adminUrl: 'postgresql://x@h/p' });
    expect(a.resetPassword).toBe(true);
    expect(() => parseCliArgs(['provision', 'inventory', '--port', '1'])).toThrow(UsageError);
  });

  it.each([
    [['x', '--port', 'abc'], /--port must be a whole number from 1 to 65535/],
    [['x', '--port', '70000'], /--port must be a whole number/],
    [['x', '--stack', 'go'], /--stack must be one of python, typescript/],
    [['x', '--kind', 'full'], /--kind must be one of crud, readonly/],
    [['x', '--colour'], /Unknown option '--colour'.*--help/],
    [['x', 'y'], /Expected one app name, got 2/],
    [['x', '--port'], /--port/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});

describe('helpText', () => {
  it('lists every flag of the question schema', () => {
    const help = helpText('new');
    for (const q of QUESTIONS.filter((q) => q.flag.startsWith('--'))) {
      expect(help).toContain(q.flag);
      expect(help).toContain(q.describe);
    }
    for (const flag of ['--workspace', '--yes', '--dry-run', '--force', '--json', '--help', '--version']) expect(help).toContain(flag);
  });

  it('gives provision only its own flags', () => {
    const help = helpText('provision');
    expect(help).toContain('--admin-url');
    expect(help).toContain('--reset-password');
    expect(help).toMatch(/--dry-run +print the SQL it would run \(password hidden\)/);
    expect(help).toMatch(/-y, --yes +run without showing the SQL first and asking/);
    expect(help).not.toContain('--port');
  });

  it('provision takes --dry-run and --yes', () => {
    const a = parseCliArgs(['provision', 'inventory', '--dry-run', '--yes']);
    expect(a).toMatchObject({ command: 'provision', dryRun: true, yes: true, given: { name: 'inventory' } });
  });
});
