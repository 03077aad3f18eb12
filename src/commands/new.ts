/** `create-ovu-app [new] <app>`: plan the app from the workspace snapshot, commit it, run its tasks. */
import { CancelledError, InterruptedError, UsageError, UserError } from '../errors.ts';
import { deriveNames } from '../app/names.ts';
import { specFromAnswers } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { findWorkspace, readIfExists } from '../workspace/workspace.ts';
import { Plan } from '../plan/plan.ts';
import { DatabaseAmbiguity } from '../workspace/compose/database-service.ts';
import { QUESTIONS, validateAnswer, type Answers, type WorkspaceFacts } from '../app/questions.ts';
import { openWorkspace, settleInterrupted } from './open-workspace.ts';
import { readSnapshot, type WorkspaceSnapshot } from '../workspace/snapshot.ts';
import { checkCollisions, planNewApp, workspaceFacts, type NewApp } from './new-plan.ts';
import { nextSteps, type Progress } from './next-steps.ts';
import { hostPorts } from '../host/ports.ts';
import { suggestCommand } from './suggest.ts';
import { hostOf, runTasks, type TaskOutcome } from './tasks.ts';
import type { Io } from './io.ts';

export interface NewResult {
  app: NewApp;
  dryRun: boolean;
  outcomes: { id: string; outcome: TaskOutcome }[];
  done: Progress;
  nextSteps: string[];
}

/** The service --force may take over: the named app's own, when the name is valid. */
function ownService(args: ParsedArgs): string | undefined {
  if (!args.force || args.given.name === undefined) return undefined;
  try {
    return deriveNames(args.given.name).service;
  } catch {
    return undefined; // the name question reports it
  }
}

export async function runNew(args: ParsedArgs, io: Io): Promise<NewResult> {
  const ws = findWorkspace(args.workspace, process.cwd());
  const given = { ...args.given };
  args = { ...args, given };
  const read = () => readSnapshot(ws, { dbService: given.dbService });
  // A dry run changes nothing, so it neither waits for nor blocks another run.
  if (args.dryRun) {
    await settleInterrupted(ws.root, io);
    const snapshot = read();
    return planAndApply(snapshot, await io.answers(args.given, await factsOf(snapshot, args, io), ws), args, io);
  }
  if (!io.interactive) {
    const lock = await openWorkspace(ws.root, io);
    try {
      const snapshot = read();
      return await planAndApply(snapshot, await io.answers(args.given, await factsOf(snapshot, args, io), ws), args, io);
    } finally {
      lock.release();
    }
  }
  // A person answers without holding the workspace (a teammate's run need not wait for them);
  // then, holding it, what is on disk now is read again and the answers checked against it.
  await settleInterrupted(ws.root, io);
  const first = read();
  const answers = await io.answers(args.given, await factsOf(first, args, io), ws);
  // A crud app needs to know the database; when the compose project cannot say, the person can.
  const unclear = first.compose.postgresProblem;
  if (answers.kind === 'crud' && unclear instanceof DatabaseAmbiguity && io.chooseDatabase) {
    given.dbService = answers.dbService = await io.chooseDatabase(unclear.candidates, unclear.message);
  }
  const lock = await openWorkspace(ws.root, io);
  try {
    const snapshot = read();
    const facts = await factsOf(snapshot, args, io);
    for (const q of QUESTIONS) {
      const value = (answers as unknown as Record<string, unknown>)[q.key];
      if (value === undefined || q.skip?.(answers)) continue;
      const problem = validateAnswer(q, value, answers, facts);
      if (problem) throw new UsageError(`${problem} (the workspace changed while you answered; nothing was written)`);
    }
    return await planAndApply(snapshot, answers, args, io);
  } finally {
    lock.release();
  }
}

/** What the questions may look at: the snapshot's ports and services, and the host's listening ports. */
async function factsOf(snapshot: WorkspaceSnapshot, args: ParsedArgs, io: Io): Promise<WorkspaceFacts> {
  const facts = workspaceFacts(snapshot, io.interactive, ownService(args));
  // The ports a default may pick (the first twenty not in compose) and the one given.
  const candidates = [args.given.port ?? 8001];
  for (let p = 8001; candidates.length < 21 && p < 65536; p++) if (!facts.usedPorts.has(p)) candidates.push(p);
  facts.hostPorts = await hostPorts(candidates);
  return facts;
}

async function planAndApply(snapshot: WorkspaceSnapshot, answers: Answers, args: ParsedArgs, io: Io): Promise<NewResult> {
  const spec = specFromAnswers(answers);
  checkCollisions(snapshot, spec, args.force);
  // A bad admin URL stops the run before anything is written.
  const admin = answers.createDb ? (await import('../database/admin-url.ts')).resolveAdmin(answers.adminUrl, process.env, { localDefault: true }) : undefined;
  const adminUrl = admin?.url;
  // --yes is consent to server-wide changes only on a server the person named: the local default
  // may be a machine's shared PostgreSQL, whose other databases nobody here asked to close.
  const serverWide = args.yes && admin?.source !== 'default';
  const app = await planNewApp(snapshot, answers, { force: args.force, tools: io.tools, dbHost: adminUrl ? hostOf(adminUrl) : 'localhost:5432', ...(adminUrl ? { adminUrl, serverWide } : {}) });
  for (const w of app.warnings) io.notice(w);

  const done: Progress = { installed: false, provisioned: false, migrated: false };
  const result = (dryRun: boolean, outcomes: NewResult['outcomes']): NewResult => ({
    app,
    dryRun,
    outcomes,
    done,
    nextSteps: nextSteps(spec, snapshot.workspace, app.backendDir, dryRun ? { installed: answers.install, provisioned: false, migrated: false } : done, io.tools, io.invoked),
  });
  if (args.dryRun) return result(true, []);
  if (io.interactive && !(await io.confirm({ command: 'new', plan: app }))) throw new CancelledError();
  // Ctrl-C while planning: stop before the write. The write itself is one synchronous step.
  if (io.signal.aborted) throw new CancelledError();
  await app.plan.commit();
  io.committed(app);

  const outcomes = await runTasks(app.tasks, io, (task, err) => {
    // install says how to retry itself; the CLI says how to go on after Ctrl-C.
    if (!(err instanceof UserError) || err instanceof InterruptedError || task.id === 'install') return err;
    const retry = suggestCommand(io.invoked, ['provision', spec.names.slug, ...(answers.migrate ? ['--migrate'] : [])], { adminUrl: true });
    return new UserError(`${err.message} The app's files were written; once fixed, run: ${retry}`, err.exitCode);
  });
  done.installed = outcomes.some((o) => o.id === 'install');
  done.provisioned = outcomes.some((o) => o.id === 'provision');
  if (done.provisioned && adminUrl) await recordServer(app.snapshot.workspace.root, app.appDir, adminUrl);
  done.migrated = outcomes.some((o) => o.id === 'migrate');
  return result(false, outcomes);
}

/** Later commands (doctor, backup, restore, remove) go to the server the app was provisioned on. */
async function recordServer(root: string, appDir: string, adminUrl: string): Promise<void> {
  const { stageServerRecord } = await import('../database/server-record.ts');
  const { LOCAL_DEFAULT_ADMIN_URL } = await import('../database/admin-url.ts');
  const plan = new Plan(readIfExists, root);
  if (stageServerRecord(plan, appDir, adminUrl, adminUrl === LOCAL_DEFAULT_ADMIN_URL)) await plan.commit();
}
