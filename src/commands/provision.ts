/** `create-ovu-app provision <app>`: the app's database and login on a server, now. */
import path from 'node:path';
import { UsageError, UserError } from '../errors.ts';
import { ANSWERS_FILE, parseAnswersFile } from '../app/answers-file.ts';
import { deriveNames } from '../app/names.ts';
import { specFromAnswers, type AppSpec } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { readEnvVar } from '../workspace/env-file.ts';
import { findWorkspace, readIfExists, type Workspace } from '../workspace/workspace.ts';
import { openWorkspace } from './open-workspace.ts';
import type { AppNames } from '../app/spec.ts';
import { migrateTask, provisionTask, runTasks, type Task, type TaskOutcome } from './tasks.ts';
import { resolveAdminUrl } from '../database/admin-url.ts';
import type { Io } from './io.ts';
import { STACKS } from '../stacks/index.ts';
import { installHint } from '../stacks/tools.ts';
import { suggestCommand } from './suggest.ts';

export interface ProvisionResult {
  spec: AppSpec;
  /** The workspace root. */
  root: string;
  outcome: TaskOutcome;
}

export async function runProvision(args: ParsedArgs, io: Io): Promise<ProvisionResult> {
  if (!args.given.name) throw new UsageError(`Missing the app name: run \`${suggestCommand(io.invoked, ['provision', '<app-name>'])}\`.`);
  const ws = findWorkspace(args.workspace, process.cwd());
  const names = deriveNames(args.given.name);
  const lock = await openWorkspace(ws.root, io);
  try {
    return await provisionApp(ws, names, args, io);
  } finally {
    lock.release();
  }
}

async function provisionApp(ws: Workspace, names: AppNames, args: ParsedArgs, io: Io): Promise<ProvisionResult> {
  const answersPath = path.join(ws.root, names.slug, ANSWERS_FILE);
  const saved = readIfExists(answersPath);
  if (saved === undefined) {
    throw new UserError(`No app "${names.slug}" in ${ws.root} (${path.relative(ws.root, answersPath)} is missing): generate it first, or pass --workspace.`);
  }
  const { answers } = parseAnswersFile(saved, answersPath);
  // The names come from the app's directory: an answers file naming another app is not followed.
  if (deriveNames(answers.name).slug !== names.slug) {
    throw new UserError(`${answersPath} names the app "${answers.name}", not "${names.slug}": restore it from git.`);
  }
  const spec = specFromAnswers(answers);
  if (spec.settings.kind !== 'crud') throw new UsageError(`${names.slug} is a readonly app: it has no database to provision.`);
  const password = readEnvVar(readIfExists(ws.envFile), names.passwordVar);
  if (!password) {
    throw new UserError(`${names.passwordVar} is not set in ${ws.envFile}: add it (32+ random URL-safe characters) and run provision again.`);
  }
  const backendDir = path.join(ws.root, names.slug, 'backend');
  // --migrate runs the app's own migration tool: without it installed, stop before the server is touched.
  const stack = STACKS[spec.settings.stack];
  if (args.given.migrate && !stack.installed(backendDir)) {
    const rel = path.relative(process.cwd(), backendDir);
    const install = `${rel ? `cd ${rel} && ` : ''}${installHint(stack, io.tools)}`;
    const again = suggestCommand(io.invoked, ['provision', names.slug, '--migrate'], { adminUrl: true });
    throw new UsageError(`${names.slug}'s dependencies are not installed, so --migrate cannot run (drop it to provision only); install them with \`${install}\`, then run: ${again}`);
  }
  const adminUrl = resolveAdminUrl(args.given.adminUrl, process.env);
  const tasks: Task[] = [provisionTask(spec, { adminUrl, password, resetPassword: args.resetPassword })];
  if (args.given.migrate) tasks.push(migrateTask(spec, { adminUrl, password, backendDir }));
  const outcomes = await runTasks(tasks, io);
  const provisioned = outcomes[0]!.outcome;
  return { spec, root: ws.root, outcome: { ...provisioned, json: { ...(provisioned.json as object), migrated: Boolean(args.given.migrate) } } };
}
