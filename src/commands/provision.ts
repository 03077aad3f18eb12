/** `create-ovu-app provision <app>`: the app's database and login on a server, now. */
import path from 'node:path';
import { CancelledError, UsageError, UserError } from '../errors.ts';
import { ANSWERS_FILE, parseAnswersFile } from '../app/answers-file.ts';
import { deriveNames } from '../app/names.ts';
import { specFromAnswers, type AppSpec } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { readEnvVar, setEnvVar } from '../workspace/env-file.ts';
import { findWorkspace, readIfExists, type Workspace } from '../workspace/workspace.ts';
import { findAppPassword } from '../workspace/app-env.ts';
import { APP_COMPOSE_FILE } from '../workspace/compose/index.ts';
import { holdWorkspace } from './open-workspace.ts';
import { Plan } from '../plan/plan.ts';
import { migrateTask, provisionTask, runTasks, type ReportLine, type Task, type TaskOutcome } from './tasks.ts';
import { resolveAdminUrl } from '../database/admin-url.ts';
import { PASSWORD_FIX, passwordProblem } from '../database/passwords.ts';
import { scramVerifier, verifierMatches } from '../database/scram.ts';
import type { ProvisionReport } from '../database/provision.ts';
import type { Io } from './io.ts';
import { STACKS } from '../stacks/index.ts';
import { installHint } from '../stacks/tools.ts';
import { suggestCommand } from './suggest.ts';

export interface ProvisionResult {
  spec: AppSpec;
  /** The workspace root. */
  root: string;
  dryRun: boolean;
  outcome: TaskOutcome;
  /** The provision report (planned SQL on a dry run). */
  report: ProvisionReport;
  /** What provision changed (or on a dry run would change) in the workspace's files. */
  files: ReportLine[];
}

/** The app's spec, its names from its directory; an answers file that names another app is refused. */
export function readApp(root: string, name: string): AppSpec {
  const names = deriveNames(name);
  const answersPath = path.join(root, names.slug, ANSWERS_FILE);
  const saved = readIfExists(answersPath);
  if (saved === undefined) {
    throw new UserError(`No app "${names.slug}" in ${root} (${path.relative(root, answersPath)} is missing): generate it first, or pass --workspace.`);
  }
  const { answers } = parseAnswersFile(saved, answersPath);
  if (deriveNames(answers.name).slug !== names.slug) {
    throw new UserError(`${answersPath} names the app "${answers.name}", not "${names.slug}": restore it from git.`);
  }
  const spec = specFromAnswers({ ...answers, name: names.slug });
  if (spec.settings.kind === 'crud') checkComposeNames(root, names);
  return { ...spec, names };
}

/**
 * The app's compose service must log in as the login provision creates, to the database it
 * creates: a hand-edited DATABASE_URL naming another app's would have provision prepare one
 * database while the app uses another's.
 */
function checkComposeNames(root: string, names: AppSpec['names']): void {
  const file = path.join(root, names.slug, APP_COMPOSE_FILE);
  const text = readIfExists(file);
  if (text === undefined) return;
  const rel = path.relative(root, file);
  // The line create-ovu-app wrote, however the team formatted the rest (no full compose parse here).
  const m = /^\s*-?\s*["']?DATABASE_URL["']?\s*[:=]\s*["']?[a-z+]+:\/\/([^:@/\s]+)(?::[^@\s]*)?@[^/\s]+\/([A-Za-z0-9_]+)/m.exec(text);
  if (m && (m[1] !== names.user || m[2] !== names.db)) {
    throw new UserError(`${rel}: ${names.service}'s DATABASE_URL logs in as ${m[1]} to ${m[2]}, not ${names.user} to ${names.db}, which provision creates: restore it from git.`);
  }
}

/** .env keeps the password's verifier for init-db.sql; write it when it is missing or belongs to another password. */
function syncVerifier(plan: Plan, envFile: string, spec: AppSpec, password: string, dryRun: boolean): ReportLine | undefined {
  const source = plan.read(envFile);
  const { verifierVar, passwordVar, slug } = spec.names;
  const current = readEnvVar(source, verifierVar);
  if (current && verifierMatches(password, current)) return undefined;
  const what = current ? `${verifierVar} in .env (it did not match ${passwordVar} in ${slug}/.env)` : `${verifierVar} to .env (init-db.sql reads it)`;
  if (dryRun) return { mark: 'warning', text: `would ${current ? 'replace' : 'add'} ${what}` };
  plan.write(envFile, setEnvVar(source, verifierVar, scramVerifier(password), `${slug}: SCRAM-SHA-256 verifier of ${passwordVar} (${slug}/.env) for ovu-db-init; it cannot log in`), { mode: 0o600, secret: true });
  return { mark: 'added', text: `${current ? 'replaced' : 'added'} ${what}` };
}

/** backend/.env follows the server the app was provisioned on: its DATABASE_URL host and port. */
function syncBackendEnv(plan: Plan, file: string, report: ProvisionReport, dryRun: boolean): ReportLine | undefined {
  const source = plan.read(file);
  const url = readEnvVar(source, 'DATABASE_URL');
  if (!source || !url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { mark: 'warning', text: `${file}: DATABASE_URL is not a URL; point it at ${report.server.where}` };
  }
  const host = report.server.host.includes(':') ? `[${report.server.host}]` : report.server.host;
  const port = String(report.server.port);
  if (u.hostname === host && (u.port || '5432') === port) return undefined;
  const before = `${u.hostname}:${u.port || '5432'}`;
  u.hostname = host;
  u.port = port;
  if (dryRun) return { mark: 'warning', text: `backend/.env points at ${before}; provisioning would point its DATABASE_URL at ${report.server.where}` };
  plan.write(file, setEnvVar(source, 'DATABASE_URL', u.toString()), { mode: 0o600, secret: true });
  return { mark: 'added', text: `backend/.env: DATABASE_URL now points at ${report.server.where} (was ${before})` };
}

export async function runProvision(args: ParsedArgs, io: Io): Promise<ProvisionResult> {
  if (!args.given.name) throw new UsageError(`Missing the app name: run \`${suggestCommand(io.invoked, ['provision', '<app-name>'])}\`.`);
  const ws = findWorkspace(args.workspace, process.cwd());
  // A dry run changes nothing, so it neither waits for nor blocks another run.
  const lock = await holdWorkspace(ws.root, io, args.dryRun);
  try {
    return await provisionApp(ws, args.given.name, args, io);
  } finally {
    lock?.release();
  }
}

async function provisionApp(ws: Workspace, name: string, args: ParsedArgs, io: Io): Promise<ProvisionResult> {
  const spec = readApp(ws.root, name);
  const { names } = spec;
  if (spec.settings.kind !== 'crud') throw new UsageError(`${names.slug} is a readonly app: it has no database to provision.`);
  const found = findAppPassword(readIfExists, ws, names);
  const password = found.value;
  if (password === undefined) {
    throw new UserError(`${names.passwordVar} is not set in ${found.file}: ${PASSWORD_FIX}, and run provision again.`);
  }
  const weak = passwordProblem(password, names.passwordVar);
  if (weak) throw new UserError(`${weak} in ${found.file}: ${PASSWORD_FIX}, and run provision again (with --reset-password if the role exists).`);
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
  const base = { adminUrl, password, resetPassword: args.resetPassword };
  // What provision changes in the workspace's files goes through one plan and its journal.
  const plan = new Plan(readIfExists, ws.root);

  // A plan first: --dry-run prints it; an interactive run shows it and asks, unless --yes.
  if (args.dryRun || (io.interactive && !args.yes)) {
    const [planned] = await runTasks([provisionTask(spec, { ...base, dryRun: true })], io);
    const report = planned!.outcome.json as ProvisionReport;
    const files = [syncVerifier(plan, ws.envFile, spec, password, true), syncBackendEnv(plan, path.join(backendDir, '.env'), report, true)];
    if (args.dryRun) return { spec, root: ws.root, dryRun: true, outcome: planned!.outcome, report, files: files.filter((l): l is ReportLine => l !== undefined) };
    if (!(await io.confirm({ command: 'provision', plan: report }))) throw new CancelledError('Cancelled: nothing was changed on the server.');
  }

  const tasks: Task[] = [provisionTask(spec, base)];
  if (args.given.migrate) tasks.push(migrateTask(spec, { adminUrl, password, backendDir }));
  const outcomes = await runTasks(tasks, io);
  const provisioned = outcomes[0]!.outcome;
  const report = provisioned.json as ProvisionReport;
  const files = [syncVerifier(plan, ws.envFile, spec, password, false), syncBackendEnv(plan, path.join(backendDir, '.env'), report, false)];
  await plan.commit();
  const written = files.filter((l): l is ReportLine => l !== undefined);
  return {
    spec,
    root: ws.root,
    dryRun: false,
    report,
    files: written,
    outcome: { ...provisioned, json: { ...report, files: written.map((l) => l.text), migrated: Boolean(args.given.migrate) } },
  };
}
