/**
 * `create-ovu-app doctor`: audits the workspace (and the server, when it can reach one) against
 * ADR-002 and against what the generator wrote. With --fix it applies the safe fixes its checks
 * name (files through one Plan and its journal, SQL as the admin), shown first as a plan, under the
 * workspace lock; then it audits again.
 */
import path from 'node:path';
import { readServerRecord } from '../database/server-record.ts';
import { describeServer } from '../database/admin-url.ts';
import { databaseServiceName } from '../workspace/compose/db-service-name.ts';
import { CancelledError, UsageError, UserError } from '../errors.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { adminUrlForApp } from '../database/admin-url.ts';
import { workspaceApps, workspaceRoles } from './provision.ts';
import { adminTarget, connect, connectError } from '../database/connection.ts';
import { oneLine, messageWithCode } from '../database/error-text.ts';
import { lock as provisionLock } from '../database/server-state.ts';
import { allHold, type DoctorCheck, type Repair } from '../doctor/check.ts';
import { auditServer } from '../doctor/server-checks.ts';
import { auditWorkspace } from '../doctor/workspace-checks.ts';
import { Plan } from '../plan/plan.ts';
import { readApps, requireReadableApps } from '../workspace/snapshot.ts';
import { findWorkspace, readIfExists, type Workspace } from '../workspace/workspace.ts';
import type { Io } from './io.ts';
import { holdWorkspace, noticeClosedLogins } from './open-workspace.ts';

/** What --fix would do (or did): each repair with the check it is for, the files, the SQL. */
export interface FixPlan {
  repairs: { id: string; repair: Repair }[];
  /** Workspace-relative paths the plan writes (content or mode). */
  files: string[];
  sql: string[];
  /** Checks that are not ok and that --fix cannot repair. */
  manual: DoctorCheck[];
  /** The SQL repairs that change databases this workspace's apps do not own (named in the plan; consent: the prompt or --yes). */
  serverWide: string[];
}

export interface DoctorResult {
  root: string;
  checks: DoctorCheck[];
  /** --fix: the plan, and whether it was applied (then `checks` are those of the audit after it). */
  fix?: { plan: FixPlan; applied: boolean };
  dryRun: boolean;
  /** 0 when every check holds (ok or warning), else 1. */
  exitCode: number;
}

export async function audit(ws: Workspace, adminUrl: string | { none: string }, io: Pick<Io, 'signal'>): Promise<DoctorCheck[]> {
  // Each file read once per audit.
  const texts = new Map<string, string | undefined>();
  const read = (file: string): string | undefined => {
    const abs = path.resolve(file);
    if (!texts.has(abs)) texts.set(abs, readIfExists(abs));
    return texts.get(abs);
  };
  const local = auditWorkspace(ws, read);
  const server = await auditServer(adminUrl, local.apps, { root: ws.root, signal: io.signal, workspaceRoles: workspaceRoles(ws.root) });
  return [...local.checks, ...server];
}

/** The fixes for what is not ok, staged on one plan. */
export function planFixes(checks: DoctorCheck[], ws: Workspace): { fix: FixPlan; plan: Plan } {
  const plan = new Plan(readIfExists, ws.root);
  const repairs = checks.filter((c) => c.status !== 'ok' && c.repair).map((c) => ({ id: c.id, repair: c.repair! }));
  const sql: string[] = [];
  for (const { repair } of repairs) {
    if (repair.kind === 'files') repair.stage(plan);
    else if (!sql.includes(repair.sql)) sql.push(repair.sql);
  }
  const files = plan.list().map((c) => path.relative(ws.root, c.path));
  const manual = checks.filter((c) => (c.status === 'failed' || c.status === 'warning') && !c.repair);
  const serverWide = repairs.flatMap(({ repair }) => (repair.kind === 'sql' && repair.serverWide ? [repair.label] : []));
  return { fix: { repairs, files, sql, manual, serverWide }, plan };
}

export async function runDoctor(args: ParsedArgs, io: Io): Promise<DoctorResult> {
  const ws = findWorkspace(args.workspace, process.cwd());
  const fixing = args.options['fix'] === true;
  if (!fixing && (args.dryRun || args.yes)) throw new UsageError(`--${args.dryRun ? 'dry-run' : 'yes'} goes with --fix: doctor alone changes nothing.`);
  if (fixing && !args.dryRun && !args.yes && !io.interactive) {
    throw new UsageError('doctor --fix changes files and the server: pass --yes to apply its fixes without a terminal, or --dry-run to see them.');
  }
  // An app whose answers file cannot be read would be dropped from every file --fix computes from
  // the apps: --fix stops before it names or touches a server.
  if (fixing) requireReadableApps(readApps(ws.root, readIfExists));
  const adminUrl = doctorAdminUrl(ws, args, io);
  // Applying fixes holds the lock from the audit to the end; an audit alone changes nothing.
  // An audit alone settles a commit an interrupted run left first (rolled back, or said why not).
  const lock = await holdWorkspace(ws.root, io, !fixing || args.dryRun);
  if (!lock) noticeClosedLogins(ws.root, io);
  try {
    const checks = await audit(ws, adminUrl, io);
    const result = (c: DoctorCheck[], fix?: DoctorResult['fix']): DoctorResult => ({ root: ws.root, checks: c, dryRun: args.dryRun, exitCode: allHold(c) ? 0 : 1, ...(fix ? { fix } : {}) });
    if (!fixing) return result(checks);
    const { fix, plan } = planFixes(checks, ws);
    if (args.dryRun || fix.repairs.length === 0) return result(checks, { plan: fix, applied: false });
    if (io.interactive && !args.yes && !(await io.confirm({ command: 'doctor', plan: fix }))) throw new CancelledError('Cancelled: nothing was changed.');
    await plan.commit();
    if (fix.sql.length > 0 && typeof adminUrl === 'string') await runSql(adminUrl, fix.sql, io.signal, databaseServiceName(ws.root, readIfExists));
    return result(await audit(ws, adminUrl, io), { plan: fix, applied: true });
  } finally {
    lock?.release();
  }
}

/** The server fixes, as the admin, one provision (or init-db.sql block) at a time. */
async function runSql(adminUrl: string, statements: string[], signal: AbortSignal, service: string | undefined): Promise<void> {
  const { default: pg } = await import('pg');
  const target = adminTarget(pg, adminUrl);
  const secrets = [decodeURIComponent(new URL(adminUrl).password)];
  let admin;
  try {
    admin = await connect(pg, { connectionString: adminUrl, connectionTimeoutMillis: 5000 }, signal);
  } catch (error) {
    throw connectError(error, target, 5000, secrets, service);
  }
  let done = 0;
  try {
    await provisionLock(admin, 60_000, target.where);
    for (const sql of statements) {
      await admin.query(sql);
      done += 1;
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(oneLine(`doctor --fix: ${statements[done]} failed at ${target.where} (${done} of ${statements.length} done; the files were fixed): ${messageWithCode(error)}`, secrets));
  } finally {
    await admin.end().catch(() => {});
  }
}

/**
 * The server doctor audits: --admin-url or PG*, else the one the workspace's apps were provisioned
 * on (the first app's record; the others are named when theirs differs). Nothing named or recorded:
 * no server is audited (doctor --fix has nothing to run SQL on), never a silent localhost.
 */
function doctorAdminUrl(ws: Workspace, args: ParsedArgs, io: Io): string | { none: string } {
  const apps = workspaceApps(ws.root).map((a) => a.slug);
  if (args.given.adminUrl !== undefined || ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'].some((k) => process.env[k])) {
    return adminUrlForApp(args.given.adminUrl, process.env, { root: ws.root, slug: apps[0] ?? '' }, (t) => io.notice(t));
  }
  const recorded = apps.filter((d) => readServerRecord(path.join(ws.root, d)));
  if (recorded.length === 0) {
    return { none: apps.length ? `no app here records the server it was provisioned on; pass --admin-url (or PG* variables)` : 'no crud app' };
  }
  const first = recorded[0]!;
  const url = adminUrlForApp(undefined, process.env, { root: ws.root, slug: first }, (t) => io.notice(t));
  const where = describeServer(url);
  const elsewhere = recorded.filter((d) => describeServer(adminUrlForApp(undefined, process.env, { root: ws.root, slug: d })) !== where);
  if (elsewhere.length) io.notice(`${elsewhere.join(', ')} ${elsewhere.length === 1 ? 'was' : 'were'} provisioned on another server: audit ${elsewhere.length === 1 ? 'it' : 'them'} with --admin-url`);
  return url;
}
