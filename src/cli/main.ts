// The entry point. It loads only what --help and --version need; everything else (templates,
// YAML, JSON Schema, prompts, pg) is imported when a run needs it, so `--help` costs little more
// than starting node.
import { parseCliArgs, helpText } from './args.ts';
import { UserError, CancelledError } from '../errors.ts';
import { isPromptExit } from './collect-answers.ts';
import { colours } from './output.ts';
import type { Io } from '../commands/new.ts';
import { VERSION } from '../version.ts';

/** `create-ovu-app … | head` closes stdout early: that ends the output, it is not a crash. */
function ignoreEpipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
}

/**
 * File system refusals are the machine's state, not a bug: say which path and why, in one line.
 * The plan has already put back whatever it had written when one reaches here.
 */
function asUserError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
  };
  if (e && typeof e.code === 'string' && why[e.code] && e.path) {
    return new UserError(`cannot write ${e.path}: ${why[e.code]}; fix that, or pass another --workspace.`);
  }
  return err;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (!process.stdout.listeners('error').includes(ignoreEpipe)) process.stdout.on('error', ignoreEpipe);
  const wantsJson = argv.includes('--json');
  const io: Io = {
    out: (s) => process.stdout.write(s + '\n'),
    err: (s) => process.stderr.write(s + '\n'),
    c: colours(process.stderr),
    json: wantsJson,
  };
  try {
    const args = parseCliArgs(argv);
    if (args.help) {
      io.out(helpText(args.command));
      return 0;
    }
    if (args.version) {
      io.out(VERSION);
      return 0;
    }
    const run = await import('../commands/new.ts');
    if (args.command === 'provision') await run.runProvision(args, io);
    else await run.runNew(args, io);
    return 0;
  } catch (err) {
    const e = isPromptExit(err) ? new CancelledError() : asUserError(err);
    if (e instanceof UserError) {
      // A cancellation is the user's choice, not an error.
      io.err(e instanceof CancelledError ? e.message : `${io.c.red('error:')} ${e.message}`);
      if (wantsJson) io.out(JSON.stringify({ ok: false, error: e.message, exitCode: e.exitCode }));
      return e.exitCode;
    }
    io.err(`${io.c.red('create-ovu-app crashed')} (this is a bug, please report it with the trace below):`);
    io.err((e as Error)?.stack ?? String(e));
    return 1;
  }
}

