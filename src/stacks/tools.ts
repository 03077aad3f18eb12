/** Running a stack's own tools (installers, migration runners) in the app's backend directory. */
import path from 'node:path';
import { InterruptedError, ToolError, UserError } from '../errors.ts';
import { shellWords, type Command, type StackDef, type Toolchain } from './stack.ts';
import { engineWarnings } from './node-engines.ts';

export interface ToolOptions {
  /**
   * What becomes of the tool's output: `live` streams it to stderr, beside the progress lines
   * (stdout is the result's); `folded` keeps it, to be shown only if the tool fails.
   */
  output: 'live' | 'folded';
  /** Ctrl-C: the tool is stopped and the step ends in an InterruptedError. */
  signal?: AbortSignal | undefined;
  env?: Record<string, string>;
}

/** The install commands as a person types them, also printed as a next step. */
export function installHint(stack: StackDef, tools: Toolchain): string {
  return stack.install(tools).map((s) => shellWords(s.command)).join(' && ');
}

async function run(command: Command, backendDir: string, opts: ToolOptions) {
  const { execa } = await import('execa');
  const [program, ...args] = command;
  const streams =
    opts.output === 'folded'
      ? ({ stdout: 'pipe', stderr: 'pipe', all: true } as const)
      : ({ stdout: 2, stderr: 'inherit' } as const);
  const result = await execa(program, args, {
    cwd: backendDir,
    ...(opts.env ? { env: opts.env } : {}),
    ...streams,
    stdin: 'ignore',
    reject: false,
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  // Ctrl-C in a terminal reaches the tool too: it may have ended by SIGINT before we stopped it.
  if (opts.signal?.aborted || result.isCanceled || result.signal === 'SIGINT') throw new InterruptedError();
  return { ...result, output: opts.output === 'folded' ? String(result.all ?? '') : '' };
}

/** Installs the app's dependencies; the tools' output is shown live or kept for a failure. */
export async function installApp(stack: StackDef, tools: Toolchain, backendDir: string, opts: ToolOptions): Promise<string[]> {
  const warnings: string[] = [];
  for (const step of stack.install(tools)) {
    if (step.skip?.(backendDir)) continue;
    const result = await run(step.command, backendDir, opts);
    // Folded output is shown only on failure; warnings that the app's engines do not match matter anyway.
    if (opts.output === 'folded') warnings.push(...engineWarnings(result.output));
    if (result.failed) {
      const why = result.exitCode === undefined ? (result.originalMessage ?? 'could not start') : `exit code ${result.exitCode}`;
      const rel = path.relative(process.cwd(), backendDir);
      throw new ToolError(
        `\`${shellWords(step.command)}\` failed (${why}). The app's files were written; retry with: ${rel ? `cd ${rel} && ` : ''}${installHint(stack, tools)}`,
        result.output,
      );
    }
  }
  return warnings;
}

/**
 * Applies the app's migrations with its own tool, as its own login; its exit code becomes ours.
 * The commands check that the app's dependencies are installed before anything is written or
 * created; this check is for an install that went missing since.
 */
export async function migrateApp(stack: StackDef, slug: string, backendDir: string, databaseUrl: string, opts: ToolOptions): Promise<void> {
  if (!stack.installed(backendDir)) throw new UserError(`${slug}'s dependencies are not installed in ${backendDir}: install them, then migrate.`);
  const result = await run(stack.migrate.command(backendDir), backendDir, { ...opts, env: { DATABASE_URL: databaseUrl } });
  if (result.exitCode !== 0) {
    throw new ToolError(`${stack.migrate.shown} failed with exit code ${result.exitCode} (its output is above).`, result.output, result.exitCode ?? 1);
  }
}
