/**
 * `create-ovu-app backup <app>`: a `pg_dump -Fc` of the app's database to
 * `backups/<app>/<app>_db-<UTC timestamp>.dump` in the workspace (ignored by git: `/backups/`).
 * With --keep N it then deletes that app's oldest dumps beyond the newest N, which is what a
 * nightly cron entry needs for retention.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import type { AppSpec } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { ensureLine } from '../workspace/env-file.ts';
import { findWorkspace, readIfExists, type Workspace } from '../workspace/workspace.ts';
import { Plan } from '../plan/plan.ts';
import { adminUrlForApp } from '../database/admin-url.ts';
import { AdminSession, assertAppDatabase, backupFile, dumpDatabase, dumpTool, type AppDatabaseState, type DumpResult } from '../database/app-database.ts';
import { openWorkspace } from './open-workspace.ts';
import { readApp } from './provision.ts';
import { suggestCommand } from './suggest.ts';
import type { Io } from './io.ts';

export const BACKUPS_DIR = 'backups';
export const BACKUPS_IGNORE = `/${BACKUPS_DIR}/`;

export interface BackupResult {
  spec: AppSpec;
  root: string;
  dump: DumpResult;
  /** Where the server is (host:port) and its version. */
  server: { where: string; version: string };
  /** Older dumps deleted by --keep. */
  pruned: string[];
}

/** The workspace .gitignore keeps dumps (the apps' data) out of git. */
export function ignoreBackups(plan: Plan, ws: Workspace): void {
  plan.write(ws.gitignoreFile, ensureLine(plan.read(ws.gitignoreFile), BACKUPS_IGNORE, [BACKUPS_DIR, `${BACKUPS_DIR}/`, `/${BACKUPS_DIR}`]));
}

/** The app's spec when it has a database; a readonly app has none. */
export function crudApp(root: string, name: string | undefined, command: string, io: Io): AppSpec {
  if (!name) throw new UsageError(`Missing the app name: run \`${suggestCommand(io.invoked, [command, '<app-name>'])}\`.`);
  const spec = readApp(root, name);
  if (spec.settings.kind !== 'crud') throw new UsageError(`${spec.names.slug} is a readonly app: it has no database to ${command === 'backup' ? 'back up' : command}.`);
  return spec;
}

function keepCount(args: ParsedArgs): number | undefined {
  const raw = args.options['keep'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`--keep takes a whole number of dumps to keep, 1 or more (got "${String(raw)}").`);
  return Number(raw);
}

/** The app's dumps in its backups directory, oldest first (the UTC timestamp sorts as text). */
export function listDumps(root: string, spec: AppSpec): string[] {
  const dir = path.join(root, BACKUPS_DIR, spec.names.slug);
  const pattern = new RegExp(`^${spec.names.db}-(\\d{8}T\\d{6}Z)(?:-(\\d+))?\\.dump$`);
  // By time, then by the -N a second dump in the same second gets.
  const key = (f: string): string => {
    const m = pattern.exec(f)!;
    return `${m[1]}-${(m[2] ?? '1').padStart(6, '0')}`;
  };
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => pattern.test(f))
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

export async function runBackup(args: ParsedArgs, io: Io): Promise<BackupResult> {
  const keep = keepCount(args);
  const ws = findWorkspace(args.workspace, process.cwd());
  const spec = crudApp(ws.root, args.given.name, 'backup', io);
  const adminUrl = adminUrlForApp(args.given.adminUrl, process.env, { root: ws.root, slug: spec.names.slug }, (t) => io.notice(t));
  const lock = await openWorkspace(ws.root, io);
  let session: AdminSession | undefined;
  let state: AppDatabaseState | undefined;
  try {
    session = await AdminSession.open(adminUrl, io.signal);
    state = await session.state(spec);
    assertAppDatabase(state, spec.names.slug);
    const tool = await dumpTool(state);
    const plan = new Plan(readIfExists, ws.root);
    ignoreBackups(plan, ws);
    const dump = await dumpDatabase(session, state, backupFile(ws.root, spec), tool, io.signal);
    // After the dump: an interrupted or failed one leaves the workspace as it was.
    await plan.commit();
    const pruned: string[] = [];
    if (keep !== undefined) {
      const dumps = listDumps(ws.root, spec);
      for (const old of dumps.slice(0, Math.max(0, dumps.length - keep))) {
        fs.rmSync(old, { force: true });
        pruned.push(old);
      }
    }
    return { spec, root: ws.root, dump, server: { where: state.where, version: state.version }, pruned };
  } finally {
    await session?.close(state);
    lock.release();
  }
}
