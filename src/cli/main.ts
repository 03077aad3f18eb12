// The entry point, and the only code that prints. It loads only what --help and --version need;
// everything else (templates, YAML, JSON Schema, prompts, pg) is imported when a run needs it, so
// `--help` costs little more than starting node.
import { parseCliArgs, helpText, type ParsedArgs } from './args.ts';
import { UserError, CancelledError } from '../errors.ts';
import { isPromptExit } from './collect-answers.ts';
import { colours, renderDryRun, type Colours } from './output.ts';
import * as report from './report.ts';
import type { Io } from '../commands/io.ts';
import type { NewApp } from '../commands/new-plan.ts';
import type { Invocation } from '../commands/suggest.ts';
import { detectPackageManager, runnerWords, type PackageManager } from '../stacks/package-managers.ts';
import { pythonInstaller } from '../stacks/python-installer.ts';
import type { Toolchain } from '../stacks/stack.ts';
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

/** --package-manager, else the one that ran us (`pnpm create ovu-app` says so in npm_config_user_agent). */
function packageManager(args: ParsedArgs | undefined): PackageManager {
  const detected = detectPackageManager(process.env.npm_config_user_agent);
  if (!args?.packageManager) return detected;
  return args.packageManager === detected.name ? detected : { name: args.packageManager };
}

/** What the run has done so far: what its result, an error or an interruption reports. */
interface RunState {
  command: 'new' | 'provision';
  /** The new app once its plan is on disk. */
  committed?: NewApp;
  steps: report.StepRecord[];
}

function makeIo(args: ParsedArgs, c: Colours, state: RunState): Io {
  const interactive = !args.yes && !args.json && Boolean(process.stdin.isTTY) && !isCI();
  const pm = packageManager(args);
  const tools: Toolchain = { pm, python: pythonInstaller(process.env) };
  const invoked: Invocation = { pm, workspace: args.workspace, adminUrl: args.given.adminUrl };
  return {
    interactive,
    json: args.json,
    tools,
    invoked,
    async answers(given, facts) {
      const { collectAnswers } = await import('./collect-answers.ts');
      return collectAnswers({ given, facts, interactive, invoked });
    },
    async confirm(app) {
      err(report.planSummary(app, c).join('\n'));
      const { confirmPlan } = await import('./prompts.ts');
      return confirmPlan();
    },
    committed(app) {
      state.committed = app;
    },
    step(label, id) {
      const started = Date.now();
      if (!args.json) err(c.dim(`… ${label}`));
      return (ok, outcome) => {
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        state.steps.push({ id, ok, seconds });
        if (args.json) return;
        const detail = outcome?.detail ? `: ${outcome.detail}` : '';
        err(`${ok ? c.green('✔') : c.red('✖')} ${label}${detail} ${c.dim(`(${seconds.toFixed(1)}s)`)}`);
        for (const l of outcome?.lines ?? []) err(report.reportLine(l, c));
      };
    },
  };
}

/** `c` colours stderr (progress, the plan, errors), `co` stdout (the result): each stream decides for itself. */
async function run(args: ParsedArgs, c: Colours, co: Colours, state: RunState): Promise<void> {
  const io = makeIo(args, c, state);
  if (args.command === 'provision') {
    const { runProvision } = await import('../commands/provision.ts');
    const r = await runProvision(args, io);
    if (args.json) out(JSON.stringify(report.provisionJson(r, state.steps), null, 2));
    else out(`${co.green('✔')} ${r.spec.names.db} is ready for ${r.spec.names.user}.`);
    return;
  }
  const started = Date.now();
  const { runNew } = await import('../commands/new.ts');
  const r = await runNew(args, io);
  if (args.json) out(JSON.stringify(report.newJson(r, state.steps), null, 2));
  else if (r.dryRun) out(renderDryRun(r.app.plan, r.app.snapshot.workspace.root, co));
  else {
    out(report.newSummary(r, co, !io.interactive));
    out(co.dim(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)}s.`));
  }
}

/** The --json result of a run that stopped: what it had written, and how to go on from there. */
async function failureJson(args: ParsedArgs | undefined, state: RunState, message: string, exitCode: number): Promise<report.ResultJson> {
  const app = state.committed;
  let steps: string[] = [];
  if (app && args) {
    const { nextSteps } = await import('../commands/next-steps.ts');
    const io = makeIo(args, colours({}), state);
    const done = (id: string) => state.steps.some((s) => s.id === id && s.ok);
    steps = nextSteps(app.spec, app.snapshot.workspace, app.backendDir, { installed: done('install'), provisioned: done('provision'), migrated: done('migrate') }, io.tools, io.invoked);
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
export async function main(argv: string[]): Promise<number> {
  if (!process.stdout.listeners('error').includes(ignoreEpipe)) process.stdout.on('error', ignoreEpipe);
  const wantsJson = argv.includes('--json');
  const c = colours(process.stderr);
  const co = colours(process.stdout);
  const state: RunState = { command: argv[0] === 'provision' ? 'provision' : 'new', steps: [] };
  let args: ParsedArgs | undefined;
  try {
    args = parseCliArgs(argv, { runner: runnerWords(packageManager(undefined)).join(' ') });
    if (args.help) out(helpText(args.command, runnerWords(packageManager(args)).join(' ')));
    else if (args.version) out(VERSION);
    else await run(args, c, co, state);
    return 0;
  } catch (caught) {
    const e = isPromptExit(caught) ? new CancelledError() : asUserError(caught);
    if (e instanceof UserError) {
      // A cancellation is the user's choice, not an error.
      err(e instanceof CancelledError ? e.message : `${c.red('error:')} ${e.message}`);
      if (wantsJson) out(JSON.stringify(await failureJson(args, state, e.message, e.exitCode), null, 2));
      return e.exitCode;
    }
    err(`${c.red('create-ovu-app crashed')} (this is a bug, please report it with the trace below):`);
    err((e as Error)?.stack ?? String(e));
    if (wantsJson) out(JSON.stringify(await failureJson(args, state, `create-ovu-app crashed: ${String((e as Error)?.message ?? e)}`, 1), null, 2));
    return 1;
  }
}
