import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import type { Stack } from '../app/spec.ts';

/** The commands a person would type to install the app, also printed as a next step. */
export function installCommands(stack: Stack): string[][] {
  return stack === 'python'
    ? [
        ['python3', '-m', 'venv', '.venv'],
        [path.join('.venv', 'bin', 'pip'), 'install', '--disable-pip-version-check', '-e', '.[dev]'],
      ]
    : [['npm', 'install', '--no-audit', '--no-fund']];
}

export function installHint(stack: Stack): string {
  return installCommands(stack)
    .map((c) => c.map((a) => (/[[\]]/.test(a) ? `'${a}'` : a)).join(' '))
    .join(' && ');
}

/** Installs the app's dependencies in its backend directory, streaming the tools' output. */
export async function installApp(stack: Stack, backendDir: string, opts: { toStderr: boolean }): Promise<void> {
  const { execa } = await import('execa');
  for (const [cmd, ...args] of installCommands(stack)) {
    if (cmd === 'python3' && fs.existsSync(path.join(backendDir, '.venv'))) continue;
    const result = await execa(cmd!, args, {
      cwd: backendDir,
      stdout: opts.toStderr ? ['inherit' as const, process.stderr] : 'inherit',
      stderr: 'inherit',
      stdin: 'ignore',
      reject: false,
    });
    if (result.failed) {
      const why = result.exitCode === undefined ? (result.originalMessage ?? 'could not start') : `exit code ${result.exitCode}`;
      const rel = path.relative(process.cwd(), backendDir) || '.';
      throw new UserError(`\`${[cmd, ...args].join(' ')}\` failed (${why}). The app's files were written; retry with: cd ${rel} && ${installHint(stack)}`);
    }
  }
}
