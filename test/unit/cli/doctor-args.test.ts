/** list and doctor in the command table: parsed, in the main help and with their own --help. */
import { describe, expect, it } from 'vitest';
import { helpText, parseCliArgs } from '../../../src/cli/args.ts';
import { UsageError } from '../../../src/errors.ts';

describe('list and doctor on the command line', () => {
  it('are in the main help\'s command table', () => {
    const help = helpText('new', 'npx create-ovu-app');
    expect(help).toMatch(/^ {2}list\s+the workspace's apps.*\(`npx create-ovu-app list --help`\)$/m);
    expect(help).toMatch(/^ {2}doctor\s+audit the workspace and the server against ADR-002.*\(`npx create-ovu-app doctor --help`\)$/m);
  });

  it('doctor takes --admin-url, --fix, --dry-run, --yes, --json and --workspace; list takes no question flags', () => {
    const a = parseCliArgs(['doctor', '--fix', '--yes', '--dry-run', '--json', '--admin-url', 'postgresql://u:p@h:5432/postgres', '--workspace', '/w']);
    expect(a).toMatchObject({ command: 'doctor', yes: true, dryRun: true, json: true, workspace: '/w', given: { adminUrl: 'postgresql://u:p@h:5432/postgres' } });
    expect(a.options['fix']).toBe(true);
    const help = helpText('doctor');
    for (const flag of ['--admin-url', '--fix', '--dry-run', '-y, --yes', '--json', '--workspace']) expect(help).toContain(flag);
    expect(() => parseCliArgs(['list', '--fix'])).toThrow(UsageError);
    expect(() => parseCliArgs(['list', '--admin-url', 'postgresql://h/x'])).toThrow(UsageError);
    expect(() => parseCliArgs(['doctor', 'inventory'])).toThrow(/Expected no arguments, got 1: inventory/);
    expect(parseCliArgs(['list', '--json']).command).toBe('list');
  });
});
