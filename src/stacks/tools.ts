/** Running a stack's own tools (installers, migration runners) in the app's backend directory. */
import path from 'node:path';
import { UserError } from '../errors.ts';
import { shellWords, type Command, type StackDef } from './stack.ts';

export interface ToolOptions {
  /** Where the tool's output goes: the terminal normally, stderr under --json. */
  output: 'inherit' | 'stderr';
  env?: Record<string, string>;
  /** Stops the tool (SIGTERM to it) when aborted. */
  signal?: AbortSignal;
}

/** The install commands as a person types them, also printed as a next step. */
export function installHint(stack: StackDef): string {
  return stack.install.map((s) => shellWords(s.command)).join(' && ');
}

async function run(command: Command, backendDir: string, opts: ToolOptions) {
  const { execa } = await import('execa');
  const [program, ...args] = command;
  return execa(program, args, {
    cwd: backendDir,
    ...(opts.env ? { env: opts.env } : {}),
    stdout: opts.output === 'stderr' ? ['inherit' as const, process.stderr] : 'inherit',
    stderr: 'inherit',
    stdin: 'ignore',
    reject: false,
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
}

/** Installs the app's dependencies, streaming the tools' output. */
export async function installApp(stack: StackDef, backendDir: string, opts: ToolOptions): Promise<void> {
  for (const step of stack.install) {
    if (step.skip?.(backendDir)) continue;
    const result = await run(step.command, backendDir, opts);
    if (result.failed) {
      const why = result.exitCode === undefined ? (result.originalMessage ?? 'could not start') : `exit code ${result.exitCode}`;
      const rel = path.relative(process.cwd(), backendDir) || '.';
      throw new UserError(`\`${shellWords(step.command)}\` failed (${why}). The app's files were written; retry with: cd ${rel} && ${installHint(stack)}`);
    }
  }
}

/** Applies the app's migrations with its own tool, as its own login; its exit code becomes ours. */
export async function migrateApp(stack: StackDef, slug: string, backendDir: string, databaseUrl: string, opts: ToolOptions): Promise<void> {
  if (!stack.installed(backendDir)) {
    const rel = path.relative(process.cwd(), backendDir) || '.';
    throw new UserError(`${slug}'s dependencies are not installed: install the app first (cd ${rel} && ${installHint(stack)}), then run \`create-ovu-app provision ${slug} --migrate\`.`);
  }
  const result = await run(stack.migrate.command(backendDir), backendDir, { ...opts, env: { DATABASE_URL: databaseUrl } });
  if (result.exitCode !== 0) {
    throw new UserError(`${stack.migrate.shown} failed with exit code ${result.exitCode} (its output is above).`, result.exitCode ?? 1);
  }
}
