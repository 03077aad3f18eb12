/** `create-ovu-app [new] <app>`: plan the app from the workspace snapshot, commit it, run its tasks. */
import { CancelledError, UserError } from '../errors.ts';
import { deriveNames } from '../app/names.ts';
import { specFromAnswers } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { findWorkspace, type Workspace } from '../workspace/workspace.ts';
import { openWorkspace } from './open-workspace.ts';
import { shellWords } from '../stacks/stack.ts';
import { STACKS } from '../stacks/index.ts';
import { installHint } from '../stacks/tools.ts';
import path from 'node:path';
import { readSnapshot } from '../workspace/snapshot.ts';
import { checkCollisions, planNewApp, workspaceFacts, type NewApp } from './new-plan.ts';
import { nextSteps, type Progress } from './next-steps.ts';
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
  // A dry run changes nothing, so it neither waits for nor blocks another run.
  const lock = args.dryRun ? undefined : await openWorkspace(ws.root, io);
  try {
    return await planAndApply(ws, args, io);
  } finally {
    lock?.release();
  }
}

async function planAndApply(ws: Workspace, args: ParsedArgs, io: Io): Promise<NewResult> {
  const snapshot = readSnapshot(ws, { dbService: args.given.dbService });
  const answers = await io.answers(args.given, workspaceFacts(snapshot, io.interactive, ownService(args)));
  const spec = specFromAnswers(answers);
  checkCollisions(snapshot, spec, args.force);
  // A bad admin URL stops the run before anything is written.
  const adminUrl = answers.createDb ? (await import('../database/admin-url.ts')).resolveAdminUrl(answers.adminUrl, process.env) : undefined;
  const app = await planNewApp(snapshot, answers, { force: args.force, dbHost: adminUrl ? hostOf(adminUrl) : 'localhost:5432', ...(adminUrl ? { adminUrl } : {}) });

  const done: Progress = { installed: false, provisioned: false, migrated: false };
  const result = (dryRun: boolean, outcomes: NewResult['outcomes']): NewResult => ({
    app,
    dryRun,
    outcomes,
    done,
    nextSteps: nextSteps(spec, snapshot.workspace, app.backendDir, dryRun ? { installed: answers.install, provisioned: false, migrated: false } : done),
  });
  if (args.dryRun) return result(true, []);
  if (io.interactive && !(await io.confirm(app))) throw new CancelledError();
  await app.plan.commit();

  const outcomes = await runTasks(app.tasks, io, (task, err) => {
    if (io.signal.aborted) {
      return new UserError(`Stopped by ${String(io.signal.reason)} after writing ${spec.names.slug}'s files, before ${task.label.toLowerCase()}. Continue with: ${task.id === 'install' ? `cd ${shellWords([path.relative(process.cwd(), app.backendDir) || '.'])} && ${installHint(STACKS[spec.settings.stack])}` : continueCommand(args, spec.names.slug, answers)}`, 130);
    }
    if (!(err instanceof UserError) || task.id === 'install') return err; // install says how to retry itself
    return new UserError(`${err.message} The app's files were written; once fixed, run: ${continueCommand(args, spec.names.slug, answers)}`, err.exitCode);
  });
  done.installed = outcomes.some((o) => o.id === 'install');
  done.provisioned = outcomes.some((o) => o.id === 'provision');
  done.migrated = outcomes.some((o) => o.id === 'migrate');
  return result(false, outcomes);
}

/** What finishes the run's tasks once its files are written. */
function continueCommand(args: ParsedArgs, slug: string, answers: { migrate: boolean }): string {
  return `npx create-ovu-app provision ${slug}${answers.migrate ? ' --migrate' : ''}${args.workspace ? ` --workspace ${shellWords([args.workspace])}` : ''}`;
}
