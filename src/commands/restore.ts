/**
 * `create-ovu-app restore <app> <file>`: brings a dump (from `backup` or `remove`) back into the
 * app's existing database, owned by the app's login. What the dump holds replaces what is there
 * (tables of the same name are dropped and created again); tables the dump does not have stay.
 * The database keeps its owner and its privileges (PUBLIC stays revoked).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CancelledError, UsageError } from '../errors.ts';
import type { AppSpec } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { findWorkspace } from '../workspace/workspace.ts';
import { adminUrlForApp } from '../database/admin-url.ts';
import { AdminSession, assertAppDatabase, dumpTables, restoreArgs, restoreDatabase, tableCounts, type AppDatabaseState } from '../database/app-database.ts';
import { findPgTool } from '../database/pg-tools.ts';
import { openWorkspace } from './open-workspace.ts';
import { crudApp } from './backup.ts';
import { suggestCommand } from './suggest.ts';
import type { Io } from './io.ts';

export interface RestorePlan {
  file: string;
  /** Tables in the dump. */
  dumpTables: string[];
  /** Tables in the database now, with their rows (undefined: they could not be counted, and why). */
  current: { table: string; rows: number }[] | undefined;
  countsUnavailable: string | undefined;
  /** The command that runs (no secret in it). */
  command: string;
  server: { where: string; version: string; admin: string };
}

export interface RestoreResult {
  spec: AppSpec;
  root: string;
  dryRun: boolean;
  plan: RestorePlan;
  /** After the restore: the tables and their rows, the database's owner, PUBLIC's privileges. */
  after?: { tables: { table: string; rows: number }[] | undefined; owner: string | null; publicRevoked: boolean };
}

/** Without a terminal a destructive command runs only with --yes (exit 2 otherwise). */
export function requireYes(args: ParsedArgs, io: Io, command: string, what: string, words: string[]): void {
  if (args.dryRun || args.yes || io.interactive) return;
  const again = suggestCommand(io.invoked, [command, ...words, '--yes'], { adminUrl: true });
  throw new UsageError(`${command} ${what} and there is no terminal to confirm it: run \`${again}\` (or --dry-run to see what it would do).`);
}

/** The plan as lines, for the confirmation and --dry-run. */
export function restoreLines(p: RestorePlan, db: string): string[] {
  const inDump = new Set(p.dumpTables);
  const lines = [`${p.file} holds ${p.dumpTables.length} table(s): ${p.dumpTables.join(', ') || 'none'}.`];
  if (p.current === undefined) lines.push(`Tables in ${db} now: not counted (${p.countsUnavailable}).`);
  else {
    const replaced = p.current.filter((t) => inDump.has(t.table));
    const kept = p.current.filter((t) => !inDump.has(t.table));
    lines.push(replaced.length ? `Replaced (dropped, then created from the dump):` : `No table of ${db} is replaced.`);
    for (const t of replaced) lines.push(`  ${t.table}  ${t.rows} row(s) now`);
    if (kept.length) lines.push(`Left as they are (not in the dump): ${kept.map((t) => `${t.table} (${t.rows} row(s))`).join(', ')}`);
  }
  lines.push(`Runs: ${p.command}`);
  return lines;
}

export async function runRestore(args: ParsedArgs, io: Io): Promise<RestoreResult> {
  const [name, given] = args.positionals;
  if (!given) throw new UsageError(`Missing the dump file: run \`${suggestCommand(io.invoked, ['restore', name ?? '<app-name>', '<file.dump>'])}\`.`);
  const file = path.resolve(process.cwd(), given);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw new UsageError(`${given} is not a file: pass a dump made by create-ovu-app backup (backups/<app>/<app>_db-….dump).`);
  const ws = findWorkspace(args.workspace, process.cwd());
  const spec = crudApp(ws.root, name, 'restore', io);
  requireYes(args, io, 'restore', `replaces what ${spec.names.db} holds`, [spec.names.slug, given]);
  const adminUrl = adminUrlForApp(args.given.adminUrl, process.env, { root: ws.root, slug: spec.names.slug }, (t) => io.notice(t));
  const lock = args.dryRun ? undefined : await openWorkspace(ws.root, io);
  let session: AdminSession | undefined;
  let state: AppDatabaseState | undefined;
  try {
    const { tables, tool } = await dumpTables(file, io.signal);
    session = await AdminSession.open(adminUrl, io.signal);
    state = await session.state(spec);
    assertAppDatabase(state, spec.names.slug);
    const plan: RestorePlan = {
      file,
      dumpTables: tables,
      current: undefined,
      countsUnavailable: undefined,
      command: `${path.basename(tool.path)} ${restoreArgs(session, state, file).join(' ')}`,
      server: { where: state.where, version: state.version, admin: state.admin },
    };
    // A non-superuser admin reads the app's tables only as the app, a membership that only a
    // real run grants itself: a dry run changes nothing on the server.
    if (state.superuser || !args.dryRun) {
      if (!args.dryRun) await session.takeRole(state);
      plan.current = await tableCounts(session, state, io.signal);
    } else plan.countsUnavailable = `admin ${state.admin} is not a superuser and a dry run does not grant it ${state.role}`;
    if (args.dryRun) return { spec, root: ws.root, dryRun: true, plan };
    if (io.interactive && !args.yes && io.confirmDestructive) {
      const ok = await io.confirmDestructive({
        title: `restore ${path.basename(file)} into ${spec.names.db} at ${state.where} (PostgreSQL ${state.version}, admin ${state.admin}):`,
        lines: restoreLines(plan, spec.names.db),
        question: `Replace what ${spec.names.db} holds with the dump?`,
      });
      if (!ok) throw new CancelledError('Cancelled: nothing was changed on the server.');
    }
    // pg_restore of the server's own major: pg_restore 17 sets transaction_timeout, which older servers refuse.
    await restoreDatabase(session, state, file, await findPgTool('pg_restore', state.major, state.version), io.signal);
    const now = await session.state(spec);
    return {
      spec,
      root: ws.root,
      dryRun: false,
      plan,
      after: { tables: await tableCounts(session, state, io.signal), owner: now.dbOwner, publicRevoked: now.publicRevoked },
    };
  } finally {
    await session?.close(state);
    lock?.release();
  }
}
