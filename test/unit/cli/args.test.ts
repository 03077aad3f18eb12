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

  it('takes --package-manager for both commands, and only the ones it knows', () => {
    expect(parseCliArgs(['x', '--package-manager', 'pnpm']).packageManager).toBe('pnpm');
    expect(parseCliArgs(['provision', 'x', '--package-manager', 'bun']).packageManager).toBe('bun');
    expect(parseCliArgs(['x']).packageManager).toBeUndefined();
    expect(() => parseCliArgs(['x', '--package-manager', 'deno'])).toThrow(/--package-manager must be one of npm, pnpm, yarn, bun \(got "deno"\)/);
  });

  it('names the help of the command and the runner in the hint after a bad flag', () => {
    expect(() => parseCliArgs(['provision', 'x', '--port', '1'], { runner: 'pnpm dlx create-ovu-app' })).toThrow(/Run `pnpm dlx create-ovu-app provision --help` for the options\.$/);
    expect(() => parseCliArgs(['x', '--nope'])).toThrow(/Run `create-ovu-app --help` for the options\.$/);
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

  it('gives provision only its own flags, described as provision uses them', () => {
    const help = helpText('provision');
    expect(help).toMatch(/^Usage: create-ovu-app provision <app-name> \[options\]\n\nCreate an existing app's database/);
    expect(help).toMatch(/^ {2}--admin-url <url> +admin connection to the server \(default: PG\* env vars/m);
    expect(help).toMatch(/^ {2}--migrate +then run the app's first migration/m);
    expect(help).toContain('--reset-password');
    expect(help).toContain('--package-manager');
    expect(help).not.toContain('--create-db');
    expect(help).toMatch(/--dry-run +print the SQL it would run \(password hidden\)/);
    expect(help).toMatch(/-y, --yes +run without showing the SQL first and asking/);
    expect(help).not.toContain('--port');
    expect(help).not.toMatch(/never prompts/);
    expect(help).toContain('  npx create-ovu-app provision inventory --migrate');
  });

  it("names the commands in new's help, and uses the runner it is given in examples", () => {
    const help = helpText('new', 'pnpm dlx create-ovu-app');
    expect(help).toMatch(/^Commands:\n {2}new +scaffold an app.*\n {2}provision +create an existing app's database and login now \(`pnpm dlx create-ovu-app provision --help`\)$/m);
    expect(help).toContain('  pnpm dlx create-ovu-app inventory --yes\n');
    expect(help).not.toMatch(/^ {2}create-ovu-app /m);
    // The compose index and its cache are gone: the help does not send anyone looking for them.
    expect(help).not.toMatch(/cache|OVU_CACHE_DIR/i);
  });

  it('provision takes --dry-run and --yes', () => {
    const a = parseCliArgs(['provision', 'inventory', '--dry-run', '--yes']);
    expect(a).toMatchObject({ command: 'provision', dryRun: true, yes: true, given: { name: 'inventory' } });
  });
});

describe('a mistyped option', () => {
  it('says which option it most likely meant', () => {
    expect(() => parseCliArgs(['inv', '--stak', 'typescript'])).toThrow(/^Unknown option '--stak': did you mean --stack\? Run `create-ovu-app --help` for the options\.$/);
    expect(() => parseCliArgs(['provision', 'inv', '--admin-ulr', 'x'])).toThrow(/did you mean --admin-url\?/);
    expect(() => parseCliArgs(['inv', '--dryrun'])).toThrow(/did you mean --dry-run\?/);
    // Nothing close: no guess.
    expect(() => parseCliArgs(['inv', '--bogus'])).toThrow(/^Unknown option '--bogus'\. Run/);
  });
});
