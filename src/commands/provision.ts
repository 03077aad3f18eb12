/** `create-ovu-app provision <app>`: the app's database and login on a server, now. */
import fs from 'node:fs';
import path from 'node:path';
import { readVerifier, VERIFIERS_ENV_FILE, writeVerifier } from '../workspace/verifiers.ts';
import { CancelledError, UsageError, UserError } from '../errors.ts';
import { ANSWERS_FILE, parseAnswersFile } from '../app/answers-file.ts';
import { deriveNames } from '../app/names.ts';
import { specFromAnswers, type AppSpec } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { readEnvVar, setEnvVar } from '../workspace/env-file.ts';
import { findWorkspace, readIfExists, type Workspace } from '../workspace/workspace.ts';
import { findAppPassword } from '../workspace/app-env.ts';
import { APP_COMPOSE_FILE } from '../workspace/compose/index.ts';
import { USERLIST_FILE } from '../workspace/pgbouncer/index.ts';
import { databaseServiceName } from '../workspace/compose/db-service-name.ts';
import { holdWorkspace } from './open-workspace.ts';
import { Plan } from '../plan/plan.ts';
import { migrateTask, provisionTask, runTasks, type ReportLine, type Task, type TaskOutcome } from './tasks.ts';
import { adminUrlForApp, LOCAL_DEFAULT_ADMIN_URL } from '../database/admin-url.ts';
import { stageServerRecord } from '../database/server-record.ts';
import { PASSWORD_FIX, passwordProblem, passwordUrlProblem } from '../database/passwords.ts';
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

/**
 * One verifier per role: ovu-db-init/verifiers/.env (init-db.sql; .env in a workspace made before 0.4),
 * PgBouncer's userlist.txt and the server all hold the same string. The stored one is kept when it
 * belongs to the password (provision gives it to the role); otherwise a new one is written to the
 * verifiers file and the userlist in the same plan.
 */
function workspaceVerifier(plan: Plan, ws: Workspace, spec: AppSpec, password: string): { verifier: string; stored: string | undefined } {
  const stored = readVerifier(plan.read.bind(plan), ws.root, spec.names.verifierVar);
  return { verifier: stored && verifierMatches(password, stored) ? stored : scramVerifier(password), stored };
}

function syncVerifier(plan: Plan, ws: Workspace, spec: AppSpec, verifier: string, stored: string | undefined, dryRun: boolean): ReportLine[] {
  const { verifierVar, passwordVar, slug, user } = spec.names;
  const lines: ReportLine[] = [];
  if (stored !== verifier) {
    const what = stored ? `${verifierVar} in ${VERIFIERS_ENV_FILE} (it did not match ${passwordVar} in ${slug}/.env)` : `${verifierVar} to ${VERIFIERS_ENV_FILE} (init-db.sql reads it)`;
    if (dryRun) lines.push({ mark: 'warning', text: `would ${stored ? 'replace' : 'add'} ${what}` });
    else {
      writeVerifier(plan, ws.root, verifierVar, verifier, `${slug}: SCRAM-SHA-256 verifier of ${passwordVar} (${slug}/.env) for ovu-db-init; it cannot log in`, `${slug}: `);
      lines.push({ mark: 'added', text: `${stored ? 'replaced' : 'added'} ${what}` });
    }
  }
  const userlist = path.join(ws.root, USERLIST_FILE);
  const text = plan.read(userlist);
  const entry = new RegExp(`^"${user}" "([^"\n]*)"$`, 'm');
  const current = text === undefined ? undefined : entry.exec(text)?.[1];
  if (text !== undefined && current !== undefined && current !== verifier) {
    if (dryRun) lines.push({ mark: 'warning', text: `would set ${user}'s verifier in ${USERLIST_FILE} to the one in ${VERIFIERS_ENV_FILE}` });
    else {
      plan.write(userlist, text.replace(entry, `"${user}" "${verifier}"`), { mode: 0o644, secret: true });
      lines.push({ mark: 'added', text: `${USERLIST_FILE}: ${user}'s verifier is the one in ${VERIFIERS_ENV_FILE} and on the server` });
    }
  }
  return lines;
}

/** backend/.env follows the server the app was provisioned on (host and port) and the password in <app>/.env. */
function syncBackendEnv(plan: Plan, file: string, report: ProvisionReport, password: string, dryRun: boolean): ReportLine | undefined {
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
  const moved = !(u.hostname === host && (u.port || '5432') === port);
  // An old password must not stay behind after the role's was set to <app>/.env's.
  const stale = decodeURIComponent(u.password) !== password;
  if (!moved && !stale) return undefined;
  const before = `${u.hostname}:${u.port || '5432'}`;
  u.hostname = host;
  u.port = port;
  u.password = encodeURIComponent(password);
  const texts = {
    dry: [moved ? `backend/.env points at ${before}; provisioning would point its DATABASE_URL at ${report.server.where}` : '', stale ? "backend/.env's DATABASE_URL has another password than the app's .env; provisioning would write that one there" : ''],
    done: [moved ? `backend/.env: DATABASE_URL now points at ${report.server.where} (was ${before})` : '', stale ? "backend/.env: DATABASE_URL has the password in the app's .env (the old one is gone)" : ''],
  };
  const text = (dryRun ? texts.dry : texts.done).filter(Boolean).join('; ');
  if (dryRun) return { mark: 'warning', text };
  plan.write(file, setEnvVar(source, 'DATABASE_URL', u.toString()), { mode: 0o600, secret: true });
  return { mark: 'added', text };
}

/** The workspace's crud apps (directory and login): databases they own are this workspace's to harden. */
export function workspaceApps(root: string): { slug: string; user: string }[] {
  const apps: { slug: string; user: string }[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !fs.existsSync(path.join(root, entry.name, ANSWERS_FILE))) continue;
    try {
      const spec = readApp(root, entry.name);
      if (spec.settings.kind === 'crud' && spec.names.slug === entry.name) apps.push({ slug: spec.names.slug, user: spec.names.user });
    } catch {
      // One whose answers file cannot be read: its database is not counted as ours.
    }
  }
  return apps.sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
}

export function workspaceRoles(root: string): string[] {
  return workspaceApps(root).map((a) => a.user);
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
  const again = `run provision again (with --reset-password if the role exists)`;
  const weak = passwordProblem(password, names.passwordVar);
  if (weak) throw new UserError(`${weak} in ${found.file}: ${PASSWORD_FIX}, and ${again}.`);
  // The same passwords new refuses: backend/.env and Compose put it into a URL as it is.
  const unsafe = passwordUrlProblem(password, names.passwordVar, path.relative(ws.root, found.file));
  if (unsafe) throw new UserError(`${unsafe}: replace it with 32+ such characters (e.g. the output of \`openssl rand -hex 24\`), and ${again}.`);
  const backendDir = path.join(ws.root, names.slug, 'backend');
  // --migrate runs the app's own migration tool: without it installed, stop before the server is touched.
  const stack = STACKS[spec.settings.stack];
  if (args.given.migrate && !stack.installed(backendDir)) {
    const rel = path.relative(process.cwd(), backendDir);
    const install = `${rel ? `cd ${rel} && ` : ''}${installHint(stack, io.tools)}`;
    const retry = suggestCommand(io.invoked, ['provision', names.slug, '--migrate'], { adminUrl: true });
    throw new UsageError(`${names.slug}'s dependencies are not installed, so --migrate cannot run (drop it to provision only); install them with \`${install}\`, then run: ${retry}`);
  }
  const adminUrl = adminUrlForApp(args.given.adminUrl, process.env, { root: ws.root, slug: names.slug }, (t) => io.notice(t));
  // What provision changes in the workspace's files goes through one plan and its journal.
  const plan = new Plan(readIfExists, ws.root);
  const { verifier, stored } = workspaceVerifier(plan, ws, spec, password);
  const base = {
    adminUrl,
    password,
    verifier,
    resetPassword: args.resetPassword,
    workspaceRoles: workspaceRoles(ws.root),
    revokeMemberships: args.options['revoke-memberships'] === true,
    dbService: databaseServiceName(ws.root, readIfExists),
  };
  // Server-wide changes (closing databases this workspace's apps do not own) only with consent:
  // --yes, or yes to the plan in a terminal. Without either, provision does the app-local part.
  let serverWide = args.yes;

  // A plan first: --dry-run prints it; an interactive run shows it and asks, unless --yes.
  if (args.dryRun || (io.interactive && !args.yes)) {
    const [planned] = await runTasks([provisionTask(spec, { ...base, serverWide: args.yes || io.interactive, dryRun: true })], io);
    const report = planned!.outcome.json as ProvisionReport;
    const files = [...syncVerifier(plan, ws, spec, verifier, stored, true), syncBackendEnv(plan, path.join(backendDir, '.env'), report, password, true)];
    if (args.dryRun) return { spec, root: ws.root, dryRun: true, outcome: planned!.outcome, report, files: files.filter((l): l is ReportLine => l !== undefined) };
    if (!(await io.confirm({ command: 'provision', plan: report }))) throw new CancelledError('Cancelled: nothing was changed on the server.');
    serverWide = true;
  }

  const tasks: Task[] = [provisionTask(spec, { ...base, serverWide })];
  if (args.given.migrate) tasks.push(migrateTask(spec, { adminUrl, password, backendDir }));
  const outcomes = await runTasks(tasks, io);
  const provisioned = outcomes[0]!.outcome;
  const report = provisioned.json as ProvisionReport;
  const files = [...syncVerifier(plan, ws, spec, verifier, stored, false), syncBackendEnv(plan, path.join(backendDir, '.env'), report, password, false)];
  stageServerRecord(plan, path.join(ws.root, names.slug), adminUrl, adminUrl === LOCAL_DEFAULT_ADMIN_URL);
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
