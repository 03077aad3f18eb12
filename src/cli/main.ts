// The entry point, and the only code that prints. It loads only what --help and --version need;
// everything else (templates, YAML, JSON Schema, prompts, pg) is imported when a run needs it, so
// `--help` costs little more than starting node.
import { parseCliArgs, helpText, type ParsedArgs } from './args.ts';
import { UserError, CancelledError } from '../errors.ts';
import { isPromptExit } from './collect-answers.ts';
import { colours, renderDryRun, type Colours } from './output.ts';
import * as report from './report.ts';
import type { Io } from '../commands/io.ts';
import { VERSION } from '../version.ts';

export const isCI = (): boolean => ['1', 'true'].includes(String(process.env.CI ?? '').toLowerCase());

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

const out = (s: string): void => void process.stdout.write(s + '\n');
const err = (s: string): void => void process.stderr.write(s + '\n');

function makeIo(args: ParsedArgs, c: Colours): Io {
  const interactive = !args.yes && !args.json && Boolean(process.stdin.isTTY) && !isCI();
  // Ctrl-C while a step runs: the step stops at its next safe point and undoes what it made
  // (provision drops the role and database it created); a second Ctrl-C exits at once.
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
    err(c.yellow('Interrupted: stopping and undoing what this step made (Ctrl-C again to exit now)…'));
  };
  return {
    signal: interrupt.signal,
    async confirmProvision(plan) {
      err(report.provisionPlan(plan, c).join('\n'));
      const { confirmProvision } = await import('./prompts.ts');
      return confirmProvision();
    },
    interactive,
    json: args.json,
    async answers(given, facts) {
      const { collectAnswers } = await import('./collect-answers.ts');
      return collectAnswers({ given, facts, interactive });
    },
    async confirm(app) {
      err(report.planSummary(app, c).join('\n'));
      const { confirmPlan } = await import('./prompts.ts');
      return confirmPlan();
    },
    step(label, opts) {
      const started = Date.now();
      if (opts?.interruptible) process.on('SIGINT', onSigint);
      if (!args.json) err(c.dim(`… ${label}`));
      return (ok, outcome) => {
        process.off('SIGINT', onSigint);
        if (args.json) return;
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        const detail = outcome?.detail ? `: ${outcome.detail}` : '';
        err(`${ok ? c.green('✔') : c.red('✖')} ${label}${detail} ${c.dim(`(${secs}s)`)}`);
        for (const l of outcome?.lines ?? []) err(report.reportLine(l, c));
      };
    },
  };
}

async function run(args: ParsedArgs, c: Colours): Promise<void> {
  const io = makeIo(args, c);
  if (args.command === 'provision') {
    const { runProvision } = await import('../commands/provision.ts');
    const r = await runProvision(args, io);
    if (args.json) out(JSON.stringify(report.provisionJson(r), null, 2));
    else {
      for (const l of r.files) err(report.reportLine(l, c));
      if (r.dryRun) out([...report.provisionPlan(r.report, c), '', c.bold('Dry run: nothing was changed on the server or in the workspace.')].join('\n'));
      else out(`${c.green('✔')} ${r.spec.names.db} is ready for ${r.spec.names.user}.`);
    }
    return;
  }
  const started = Date.now();
  const { runNew } = await import('../commands/new.ts');
  const r = await runNew(args, io);
  if (args.json) out(JSON.stringify(report.newJson(r), null, 2));
  else if (r.dryRun) out(renderDryRun(r.app.plan, r.app.snapshot.workspace.root, c));
  else {
    out(report.newSummary(r, c, !io.interactive));
    out(c.dim(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)}s.`));
  }
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  if (!process.stdout.listeners('error').includes(ignoreEpipe)) process.stdout.on('error', ignoreEpipe);
  const wantsJson = argv.includes('--json');
  const c = colours(process.stderr);
  try {
    const args = parseCliArgs(argv);
    if (args.help) out(helpText(args.command));
    else if (args.version) out(VERSION);
    else await run(args, c);
    return 0;
  } catch (caught) {
    const e = isPromptExit(caught) ? new CancelledError() : asUserError(caught);
    if (e instanceof UserError) {
      // A cancellation is the user's choice, not an error.
      err(e instanceof CancelledError ? e.message : `${c.red('error:')} ${e.message}`);
      if (wantsJson) out(JSON.stringify({ ok: false, error: e.message, exitCode: e.exitCode }));
      return e.exitCode;
    }
    err(`${c.red('create-ovu-app crashed')} (this is a bug, please report it with the trace below):`);
    err((e as Error)?.stack ?? String(e));
    return 1;
  }
}
