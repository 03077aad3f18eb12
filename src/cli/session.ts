// A run of the CLI (main.ts answers --help and --version without loading this): the only code
// that prints. Templates, YAML, JSON Schema, prompts and pg are imported when a run needs them.
import { parseCliArgs, helpText, type ParsedArgs } from './args.ts';
import fs from 'node:fs';
import path from 'node:path';
import { UserError, CancelledError, InterruptedError, ToolError } from '../errors.ts';
import { isPromptExit } from './collect-answers.ts';
import { colours, groupChanges, type Colours } from './output.ts';
import { canAnimate, startStep } from './progress.ts';
import { RUNNERS } from './run/index.ts';
import type { RunState } from './run/state.ts';
import { isCommand } from './commands.ts';
import * as report from './report.ts';
import type { Io } from '../commands/io.ts';
import type { Invocation } from '../commands/suggest.ts';
import { launcherWords } from './launcher.ts';
import { shellWords } from '../stacks/stack.ts';
import { toolchain } from '../stacks/index.ts';
import type { Toolchain } from '../stacks/stack.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { VERSION } from '../version.ts';
import { ignoreEpipe, isCI, packageManager } from './main.ts';

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
    EISDIR: 'it is a directory, where a file belongs',
    ENOTDIR: 'a part of the path is a file, where a directory belongs',
    EIO: 'input/output error (the disk or file system failed)',
    ELOOP: 'too many symbolic links',
  };
  if (e && typeof e.code === 'string' && why[e.code] && e.path) {
    return new UserError(`cannot use ${e.path}: ${why[e.code]}; fix that, or pass another --workspace. Nothing was changed.`);
  }
  return err;
}

const out = (s: string): void => void process.stdout.write(s + '\n');
const err = (s: string): void => void process.stderr.write(s + '\n');

/** Before the first question: which workspace the app goes into. */
function intro(ws: Workspace, c: Colours): string {
  const compose = path.basename(ws.composeFile);
  return `${c.bold('create-ovu-app')} ${VERSION} ${c.dim('·')} a new app in ${c.bold(ws.root)} ${c.dim(`(${fs.existsSync(ws.composeFile) ? compose : `${compose}, to be created`})`)}`;
}

/** The tools this run installs with, and how it was started: what suggested commands repeat. */
function toolsOf(args: ParsedArgs): { tools: Toolchain; invoked: Invocation } {
  const pm = packageManager(args);
  return { tools: toolchain(pm, process.env), invoked: { pm, runner: launcherWords(pm, process.argv[1]), workspace: args.workspace, adminUrl: args.given.adminUrl } };
}

function makeIo(args: ParsedArgs, c: Colours, state: RunState, signal: AbortSignal): Io {
  const interactive = !args.yes && !args.json && Boolean(process.stdin.isTTY) && !isCI();
  const { tools, invoked } = toolsOf(args);
  const waiting = async <T>(prompt: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await prompt();
    } finally {
      state.promptMs += Date.now() - started;
    }
  };
  return {
    interactive,
    json: args.json,
    verbose: args.verbose,
    signal,
    tools,
    invoked,
    async answers(given, facts, ws) {
      const { collectAnswers } = await import('./collect-answers.ts');
      if (interactive) err(intro(ws, c));
      return waiting(() => collectAnswers({ given, facts, interactive, invoked, signal }));
    },
    async chooseDatabase(candidates, why) {
      err(`${c.yellow('?')} ${why.replace(/: pass --db-service.*$/, '')}.`);
      const { chooseDatabase } = await import('./prompts.ts');
      return waiting(() => chooseDatabase(candidates, signal));
    },
    async confirm(request) {
      const { shown, asked } = await import('./confirm.ts');
      err(shown(request, c).join('\n'));
      return waiting(() => asked(request, signal));
    },
    notice(text) {
      if (!args.json) err(`${c.yellow('!')} ${text}`);
    },
    committed(app) {
      state.committed = app;
    },
    step(label, id) {
      const started = Date.now();
      const line = args.json ? undefined : startStep(label, { stream: process.stderr, colours: c, live: canAnimate(process.stderr), verbose: args.verbose });
      return (ok, outcome) => {
        state.steps.push({ id, ok, seconds: Math.round((Date.now() - started) / 100) / 10 });
        // After Ctrl-C the one line the CLI prints says it all.
        if (!ok && signal.aborted) return line?.clear();
        if (!line) return;
        line.end(ok, `${label}${outcome?.detail ? `: ${outcome.detail}` : ''}`);
        for (const l of outcome?.lines ?? []) err(report.reportLine(l, c));
      };
    },
  };
}

/** `c` colours stderr (progress, the plan, errors), `co` stdout (the result): each stream decides for itself. */
async function run(args: ParsedArgs, c: Colours, co: Colours, state: RunState, signal: AbortSignal): Promise<void> {
  const started = Date.now();
  const io = makeIo(args, c, state, signal);
  const { run: runner } = await RUNNERS[args.command]();
  await runner({ args, io, c, co, out, err, state, started });
}

/** What a run that stopped after the write has done, from the steps that ended well. */
function progressOf(state: RunState) {
  const done = (id: string) => state.steps.some((s) => s.id === id && s.ok);
  return { installed: done('install'), provisioned: done('provision'), migrated: done('migrate') };
}

/** The one line after Ctrl-C: what was written, and the command that goes on from there. */
async function interruptedMessage(args: ParsedArgs | undefined, state: RunState, detail?: string): Promise<string> {
  const app = state.committed;
  if (args && app) {
    const { continueCommand } = await import('../commands/next-steps.ts');
    const io = toolsOf(args);
    const { created, changed } = groupChanges(app.plan, app.snapshot.workspace.root);
    // The app's directory first, then the workspace files, each once.
    const appDir = `${path.relative(app.snapshot.workspace.root, app.appDir)}/`;
    const top = [...new Set([appDir, ...[...created, ...changed].map((p) => (p.includes(path.sep) ? `${p.split(path.sep)[0]}/` : p))])];
    const command = continueCommand(app.spec, app.snapshot.workspace, app.backendDir, progressOf(state), io.tools, io.invoked);
    return `Interrupted: ${app.spec.names.slug}'s files were written (${top.join(', ')}); to continue: ${command}`;
  }
  if (args?.command === 'provision' && args.given.name) {
    const { suggestCommand } = await import('../commands/suggest.ts');
    const io = toolsOf(args);
    const again = suggestCommand(io.invoked, ['provision', args.given.name, ...(args.given.migrate ? ['--migrate'] : []), ...(args.resetPassword ? ['--reset-password'] : []), ...(args.yes ? ['--yes'] : [])], { adminUrl: true });
    // What provision undid on the server, when it says.
    const undone = detail && /dropped what this run created/.test(detail) ? ` ${detail}` : '';
    return `Interrupted: no files were written, and provision can safely run again: ${again}${undone}`;
  }
  return 'Interrupted: nothing was written.';
}

/** The --json result of a run that stopped: what it had written, and how to go on from there. */
async function failureJson(args: ParsedArgs | undefined, state: RunState, message: string, exitCode: number): Promise<report.ResultJson> {
  const app = state.committed;
  let steps: string[] = [];
  if (app && args) {
    const { nextSteps } = await import('../commands/next-steps.ts');
    const io = toolsOf(args);
    steps = nextSteps(app.spec, app.snapshot.workspace, app.backendDir, progressOf(state), io.tools, io.invoked);
  }
  return report.resultJson({
    command: state.command,
    exitCode,
    dryRun: args?.dryRun ?? false,
    plan: app ? { app, written: true } : undefined,
    steps: state.steps,
    nextSteps: steps,
    error: message,
  });
}

/** Runs the CLI; returns the exit code. */
export async function session(argv: string[]): Promise<number> {
  if (!process.stdout.listeners('error').includes(ignoreEpipe)) process.stdout.on('error', ignoreEpipe);
  const wantsJson = argv.includes('--json');
  const c = colours(process.stderr);
  const co = colours(process.stdout);
  const state: RunState = { command: isCommand(argv[0]) ? argv[0] : 'new', steps: [], promptMs: 0 };
  // Ctrl-C: the command stops at its next safe point and the tools it runs are stopped; a second
  // Ctrl-C does not wait for that.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  };
  let args: ParsedArgs | undefined;
  try {
    args = parseCliArgs(argv, { runner: shellWords(launcherWords(packageManager(undefined), process.argv[1])) });
    if (args.help) out(helpText(args.command, shellWords(launcherWords(packageManager(args), process.argv[1]))));
    else if (args.version) out(VERSION);
    else {
      // SIGTERM and SIGHUP stop a run as Ctrl-C does; a commit in progress finishes first.
      for (const s of STOP_SIGNALS) process.on(s, onSigint);
      await run(args, c, co, state, interrupt.signal);
    }
    return state.exitCode ?? 0;
  } catch (caught) {
    let e = isPromptExit(caught) ? new CancelledError() : asUserError(caught);
    if (e instanceof InterruptedError || (interrupt.signal.aborted && e instanceof UserError)) e = new InterruptedError(await interruptedMessage(args, state, e instanceof InterruptedError ? undefined : (e as UserError).message));
    if (e instanceof UserError) {
      // What a failed tool printed, kept folded until now.
      if (e instanceof ToolError && e.output.trim() && !args?.verbose) err(e.output.replace(/\s+$/, ''));
      // A cancellation is the user's choice, not an error.
      err(e instanceof CancelledError ? e.message : `${c.red('error:')} ${e.message}`);
      if (wantsJson) out(JSON.stringify(await failureJson(args, state, e.message, e.exitCode), null, 2));
      return e.exitCode;
    }
    err(`${c.red('create-ovu-app crashed')} (this is a bug, please report it with the trace below):`);
    err((e as Error)?.stack ?? String(e));
    if (wantsJson) out(JSON.stringify(await failureJson(args, state, `create-ovu-app crashed: ${String((e as Error)?.message ?? e)}`, 1), null, 2));
    return 1;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSigint);
  }
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
