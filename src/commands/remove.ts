/**
 * `create-ovu-app remove <app>`: takes the app out of the workspace, and (unless --keep-db) its
 * database and login off the server, after a dump of the database.
 *
 * The workspace: apps.compose.yaml and every derived file are written again from the apps that
 * stay, the app's init-db.sql block and its lines in .env/.env.example go, and its directory is
 * moved aside into `.create-ovu-app/removed/<app>-<timestamp>/` (ignored by git), all in one
 * journaled commit. The server, in this order, which is the point of the design:
 *
 *   1. the login is closed (NOLOGIN) and its sessions ended, so nothing is written after the dump;
 *   2. `pg_dump -Fc` to backups/<app>/…dump, written whole or not at all. If it fails, the login
 *      is opened again and nothing else happens;
 *   3. DROP DATABASE, DROP ROLE: only once the dump is on disk;
 *   4. the workspace commit.
 *
 * Dropping before the workspace commit (not after) keeps every failure re-runnable: a drop that
 * fails (a privilege, a session the admin cannot end) leaves the workspace as it was and the app
 * can be removed again once that is fixed; a commit that fails after the drop is rolled back by
 * the journal, and `remove` run again finds no database (nothing left to dump or lose) and
 * finishes the workspace. The other order would leave a server-side database that no workspace
 * names any more. In no order is data dropped without a whole dump on disk.
 */
import path from 'node:path';
import { CancelledError, UsageError, UserError } from '../errors.ts';
import type { AppSpec } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { Plan } from '../plan/plan.ts';
import { STATE_DIR } from '../plan/journal.ts';
import { removeAppFromCompose } from '../workspace/compose/index.ts';
import { onlyWhatWeWroteForNoApp, removeInitDbBlock } from '../workspace/init-db.ts';
import { removeEnvVar } from '../workspace/env-file.ts';
import { stageDbInitEnv, stageDerived } from '../workspace/derived.ts';
import { deleteVerifier } from '../workspace/verifiers.ts';
import { ciWorkflowPath } from '../stacks/render.ts';
import { appsForDerivedFiles, readSnapshot, requireReadableApps, type WorkspaceSnapshot } from '../workspace/snapshot.ts';
import { findWorkspace } from '../workspace/workspace.ts';
import { adminUrlForApp } from '../database/admin-url.ts';
import {
  AdminSession,
  backupFile,
  dropAll,
  dropStatements,
  dumpArgs,
  dumpDatabase,
  dumpTool,
  fileTimestamp,
  lockOut,
  type AppDatabaseState,
  type DumpResult,
  type PlannedSql,
} from '../database/app-database.ts';
import { holdWorkspace } from './open-workspace.ts';
import { readApp } from './provision.ts';
import { ignoreBackups } from './backup.ts';
import { requireYes } from './restore.ts';
import { clearClosed, noteClosed, readClosed } from './closed-login.ts';
import { suggestCommand } from './suggest.ts';
import type { Io } from './io.ts';

export interface RemoveServerPlan {
  where: string;
  version: string;
  admin: string;
  superuser: boolean;
  /** The dump's file (absent: the database does not exist, nothing to dump). */
  dumpFile: string | undefined;
  dumpCommand: string | undefined;
  lockOut: PlannedSql[];
  drop: PlannedSql[];
  /** The login is NOLOGIN since an interrupted remove (closed-login.ts). */
  leftClosed: boolean;
}

export interface RemoveResult {
  spec: AppSpec;
  root: string;
  dryRun: boolean;
  plan: Plan;
  snapshot: WorkspaceSnapshot;
  /** Where the app's directory goes. */
  movedTo: string;
  notes: string[];
  /** undefined: readonly app, or --keep-db. */
  server: RemoveServerPlan | undefined;
  keepDb: boolean;
  dump: DumpResult | undefined;
  dropped: string[];
}

/** Every workspace change of the removal, computed from the snapshot. */
function planRemoval(snapshot: WorkspaceSnapshot, spec: AppSpec, stamp: string): { plan: Plan; movedTo: string; notes: string[] } {
  const ws = snapshot.workspace;
  const { names } = spec;
  const plan = new Plan(snapshot.read, ws.root, snapshot.mode);
  const notes: string[] = [];
  const compose = removeAppFromCompose(snapshot.compose, names.slug);
  plan.write(path.join(ws.root, compose.appsFile.name), compose.appsFile.text);
  stageDbInitEnv(plan, ws.root, compose.dbInitEnv);
  notes.push(`${compose.appsFile.name} no longer includes ${names.slug}/compose.yaml`, ...compose.notes);

  const initDb = removeInitDbBlock(plan.read(ws.initDbFile), names.slug);
  if (initDb.text === undefined) {
    if (plan.read(ws.initDbFile) !== undefined) plan.remove(ws.initDbFile);
  } else plan.write(ws.initDbFile, initDb.text);
  notes.push(...initDb.notes);

  // The verifier, and the password where a 0.1 workspace kept it, with create-ovu-app's comments.
  const comment = `${names.slug}: `;
  deleteVerifier(plan, ws.root, names.verifierVar, comment);
  const env = [names.verifierVar, names.passwordVar].reduce<string | undefined>((t, key) => removeEnvVar(t, key, comment), plan.read(ws.envFile));
  if (env !== undefined) plan.write(ws.envFile, env, { mode: 0o600, secret: true });
  const example = [names.verifierVar, names.passwordVar].reduce<string | undefined>((t, key) => removeEnvVar(t, key, comment), plan.read(ws.envExampleFile));
  if (example !== undefined) plan.write(ws.envExampleFile, example);

  const others = appsForDerivedFiles(snapshot.apps, names.slug);
  stageDerived(plan, { root: ws.root, apps: others, database: compose.dbInit, changed: names.slug });
  // The derived kinds take their own blocks out of init-db.sql (monitoring's, when no database app is left).
  const initDbAfter = plan.read(ws.initDbFile);
  if (initDbAfter !== undefined && onlyWhatWeWroteForNoApp(initDbAfter)) {
    plan.remove(ws.initDbFile);
    if (!notes.includes('removed init-db.sql (no app block is left in it)')) notes.push('removed init-db.sql (no app block is left in it)');
  }

  // The app's CI workflow (at the root, where GitHub reads it) leaves with the app.
  const workflow = path.join(ws.root, ciWorkflowPath(names.slug));
  if (plan.read(workflow) !== undefined) {
    plan.remove(workflow);
    notes.push(`removed ${ciWorkflowPath(names.slug)}, the app's CI workflow`);
  }

  const movedTo = path.join(ws.root, STATE_DIR, 'removed', `${names.slug}-${stamp}`);
  plan.moveDir(path.join(ws.root, names.slug), movedTo);
  return { plan, movedTo, notes };
}

/** The whole removal as lines: what the confirmation and --dry-run show. */
export function removeLines(r: Pick<RemoveResult, 'spec' | 'root' | 'plan' | 'movedTo' | 'server' | 'keepDb'>): string[] {
  const rel = (p: string): string => path.relative(r.root, p);
  const lines: string[] = [];
  const s = r.server;
  if (s) {
    lines.push(`On ${s.where} (PostgreSQL ${s.version}, admin ${s.admin}${s.superuser ? ', superuser' : ''}):`);
    if (s.leftClosed) lines.push(`  (${r.spec.names.user} has been NOLOGIN since an interrupted remove: this run finishes the removal, or opens the login again if the dump fails or you decline)`);
    for (const q of s.lockOut) lines.push(`  ${q.sql};  -- ${q.label}`);
    if (s.dumpFile) lines.push(`  ${s.dumpCommand}  -- dump ${r.spec.names.db} to ${rel(s.dumpFile)} (mode 600); if it fails, nothing is dropped`);
    else lines.push(`  (no database ${r.spec.names.db}: nothing to dump)`);
    for (const q of s.drop) lines.push(`  ${q.sql};  -- ${q.label}`);
    if (s.lockOut.length === 0 && s.drop.length === 0) lines.push('  nothing: the app has no role or database there');
  } else if (r.keepDb) lines.push(`Server: nothing (--keep-db: ${r.spec.names.db} and ${r.spec.names.user} stay).`);
  else lines.push('Server: nothing (a readonly app has no database).');
  lines.push('Workspace:');
  for (const m of r.plan.moved()) lines.push(`  move ${rel(m.from)}/ → ${rel(m.to)}/`);
  for (const c of r.plan.list()) lines.push(`  ${c.before === undefined ? 'create' : 'change'} ${rel(c.path)}`);
  for (const p of r.plan.removed()) lines.push(`  remove ${rel(p)}`);
  return lines;
}

export async function runRemove(args: ParsedArgs, io: Io): Promise<RemoveResult> {
  const name = args.given.name;
  if (!name) throw new UsageError(`Missing the app name: run \`${suggestCommand(io.invoked, ['remove', '<app-name>'])}\`.`);
  const keepDb = args.options['keep-db'] === true;
  const ws = findWorkspace(args.workspace, process.cwd());
  const spec = readApp(ws.root, name);
  requireYes(args, io, 'remove', `deletes ${spec.names.slug}${spec.settings.kind === 'crud' && !keepDb ? ` and drops ${spec.names.db}` : ''}`, [spec.names.slug]);
  const crud = spec.settings.kind === 'crud';
  const adminUrl = crud && !keepDb ? adminUrlForApp(args.given.adminUrl, process.env, { root: ws.root, slug: spec.names.slug }, (t) => io.notice(t)) : undefined;
  // A dry run changes nothing, so it neither waits for nor blocks another run.
  const lock = await holdWorkspace(ws.root, io, args.dryRun);
  let session: AdminSession | undefined;
  let state: AppDatabaseState | undefined;
  try {
    const snapshot = readSnapshot(ws);
    requireReadableApps(snapshot.apps, spec.names.slug);
    const now = new Date();
    const { plan, movedTo, notes } = planRemoval(snapshot, spec, fileTimestamp(now));
    const result: RemoveResult = { spec, root: ws.root, dryRun: args.dryRun, plan, snapshot, movedTo, notes, server: undefined, keepDb, dump: undefined, dropped: [] };

    let statements: { lockOut: PlannedSql[]; drop: PlannedSql[] } = { lockOut: [], drop: [] };
    if (adminUrl) {
      try {
        session = await AdminSession.open(adminUrl, io.signal);
      } catch (error) {
        // The server may be gone for good: the app's files can still go.
        if (error instanceof UserError && !(error instanceof CancelledError)) throw new UserError(`${error.message.replace(/\.$/, '')}; or pass --keep-db to remove only the app's files (its database stays wherever it is).`);
        throw error;
      }
      state = await session.state(spec);
      if (state.dbExists && state.dbOwner !== state.role) {
        throw new UserError(`${state.db} at ${state.where} is owned by ${state.dbOwner}, not ${state.role}: remove will not drop a database create-ovu-app did not make; pass --keep-db to remove only the app's files.`);
      }
      statements = dropStatements(session, state);
      const leftClosed = readClosed(ws.root, spec.names.slug) !== undefined && state.roleExists && !state.canLogin;
      const dumpFile = state.dbExists ? backupFile(ws.root, spec, now) : undefined;
      result.server = {
        where: state.where,
        version: state.version,
        admin: state.admin,
        superuser: state.superuser,
        dumpFile,
        dumpCommand: dumpFile ? `pg_dump ${dumpArgs(session, state, dumpFile).join(' ')}` : undefined,
        ...statements,
        leftClosed,
      };
      if (dumpFile) ignoreBackups(plan, ws);
    }
    if (args.dryRun) return result;

    if (io.interactive && !args.yes) {
      const ok = await io.confirm({
        command: 'remove',
        plan: {
        title: `remove ${spec.names.slug} from ${ws.root}:`,
        lines: removeLines(result),
        question: `Remove ${spec.names.slug}${result.server?.drop.length ? ` and drop its database and login` : ''}?`,
        },
      });
      if (!ok) {
        await reopenLeftClosed(ws.root, spec.names.slug, session, state);
        throw new CancelledError('Cancelled: nothing was changed.');
      }
    }

    if (session && state && result.server) {
      // Refused before the login is closed: a pg_dump older than the server cannot dump it.
      const tool = state.dbExists ? await dumpTool(state).catch(async (error: unknown) => {
        await reopenLeftClosed(ws.root, spec.names.slug, session!, state!);
        throw error;
      }) : undefined;
      // Noted before the login is closed, so a kill during the dump leaves a way back (closed-login.ts).
      const closedBefore = result.server.leftClosed;
      if (state.roleExists) noteClosed(ws.root, { app: spec.names.slug, role: state.role, where: state.where, since: new Date().toISOString() });
      const lockedOut = await lockOut(session, state, statements.lockOut, closedBefore).catch((error: unknown) => {
        clearClosed(ws.root, spec.names.slug);
        throw error;
      });
      const reopen = async (): Promise<void> => {
        await lockedOut();
        clearClosed(ws.root, spec.names.slug);
      };
      try {
        if (tool && result.server.dumpFile) result.dump = await dumpDatabase(session, state, result.server.dumpFile, tool, io.signal);
      } catch (error) {
        await reopen();
        throw error instanceof UserError ? new UserError(`${error.message}; nothing was dropped and ${spec.names.slug} is still in the workspace`, error.exitCode) : error;
      }
      try {
        result.dropped = await dropAll(session, state, statements.drop);
        clearClosed(ws.root, spec.names.slug);
      } catch (error) {
        // The database is still there when its drop failed: let the app log in again.
        if (!result.dropped.length) await reopen();
        const kept = result.dump ? ` The dump is at ${path.relative(process.cwd(), result.dump.file)}.` : '';
        throw new UserError(`${(error as Error).message}; ${spec.names.slug} is still in the workspace: fix that and run remove again.${kept}`);
      }
    }
    try {
      await plan.commit();
    } catch (error) {
      if (result.dropped.length === 0) throw error;
      const again = suggestCommand(io.invoked, ['remove', spec.names.slug, '--yes']);
      throw new UserError(`${result.dropped.join(', ')}${result.dump ? ` (dump at ${result.dump.file})` : ''}, but the workspace files could not be changed (${(error as Error).message}): they are as they were; run \`${again}\` to finish.`);
    }
    return result;
  } finally {
    await session?.close(state);
    lock?.release();
  }
}

/** Declined or stopped before the dump: a login an interrupted remove left closed is opened again. */
async function reopenLeftClosed(root: string, slug: string, session: AdminSession | undefined, state: AppDatabaseState | undefined): Promise<void> {
  if (!session || !state || !state.roleExists || state.canLogin || !readClosed(root, slug)) return;
  await session.client.query(`ALTER ROLE ${session.client.escapeIdentifier(state.role)} LOGIN`).catch(() => {});
  clearClosed(root, slug);
}
