/**
 * `create-ovu-app restore <app> <file>`: brings a dump (from `backup` or `remove`) back into the
 * app's existing database, logged in as the app's own login (restore-dump.ts says why). What the
 * dump holds replaces what is there (tables of the same name are dropped and created again);
 * tables the dump does not have stay. The database keeps its owner and its privileges (PUBLIC
 * stays revoked). A dump of another database is refused unless --from-db names it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CancelledError, UsageError, UserError } from '../errors.ts';
import type { AppSpec } from '../app/spec.ts';
import type { ParsedArgs } from '../cli/args.ts';
import { findWorkspace } from '../workspace/workspace.ts';
import { adminUrlForApp } from '../database/admin-url.ts';
import { AdminSession, assertAppDatabase, type AppDatabaseState } from '../database/app-database.ts';
import { appLogin, assertSource, checkLogin, readDump, restoreArgs, restoreDatabase, sizeText, tableCounts } from '../database/restore-dump.ts';
import { findPgTool } from '../database/pg-tools.ts';
import { readIfExists } from '../workspace/workspace.ts';
import { findAppPassword } from '../workspace/app-env.ts';
import { PASSWORD_FIX } from '../database/passwords.ts';
import { holdWorkspace } from './open-workspace.ts';
import { crudApp } from './backup.ts';
import { suggestCommand } from './suggest.ts';
import type { Io } from './io.ts';

export interface RestorePlan {
  file: string;
  /** The dump's header: the database it was taken from, when, its size. */
  source: { database: string; created: string; bytes: number; fromServer: string | undefined; named: boolean };
  /** The login pg_restore runs as (the app's own). */
  as: string;
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
  const s = p.source;
  const lines = [
    `${p.file}: a dump of database ${s.database}${s.fromServer ? ` (PostgreSQL ${s.fromServer})` : ''}, taken ${s.created}, ${sizeText(s.bytes)}${s.database === db ? '' : s.named ? `; not ${db}: restored because --from-db names it` : ''}.`,
    `It holds ${p.dumpTables.length} table(s): ${p.dumpTables.join(', ') || 'none'}.`,
  ];
  if (p.current === undefined) lines.push(`Tables in ${db} now: not counted (${p.countsUnavailable}).`);
  else {
    const replaced = p.current.filter((t) => inDump.has(t.table));
    const kept = p.current.filter((t) => !inDump.has(t.table));
    lines.push(replaced.length ? `Replaced (dropped, then created from the dump):` : `No table of ${db} is replaced.`);
    for (const t of replaced) lines.push(`  ${t.table}  ${t.rows} row(s) now`);
    if (kept.length) lines.push(`Left as they are (not in the dump): ${kept.map((t) => `${t.table} (${t.rows} row(s))`).join(', ')}`);
  }
  lines.push(`Runs, logged in as ${p.as} (the app's own login; nothing in the dump runs as the admin): ${p.command}`);
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
  const fromDb = typeof args.options['from-db'] === 'string' ? args.options['from-db'] : undefined;
  const adminUrl = adminUrlForApp(args.given.adminUrl, process.env, { root: ws.root, slug: spec.names.slug }, (t) => io.notice(t));
  // The app's own password: pg_restore logs in as the app, never as the admin.
  const password = findAppPassword(readIfExists, ws, spec.names);
  if (!password.value) {
    throw new UserError(`restore logs in as ${spec.names.user}, the app's own login, and needs its password: ${spec.names.passwordVar} is not set in ${path.relative(process.cwd(), password.file) || password.file} (${PASSWORD_FIX}, then create-ovu-app provision ${spec.names.slug} --reset-password); nothing was changed.`);
  }
  const lock = await holdWorkspace(ws.root, io, args.dryRun);
  let session: AdminSession | undefined;
  let state: AppDatabaseState | undefined;
  try {
    const dump = await readDump(file, given, io.signal);
    assertSource(dump, spec.names.db, fromDb, given);
    session = await AdminSession.open(adminUrl, io.signal);
    state = await session.state(spec);
    assertAppDatabase(state, spec.names.slug);
    const login = appLogin(session, state, password.value);
    await checkLogin(login, io.signal);
    const plan: RestorePlan = {
      file,
      source: { database: dump.sourceDb, created: dump.created, bytes: dump.bytes, fromServer: dump.fromServer, named: fromDb !== undefined },
      as: login.role,
      dumpTables: dump.tables,
      current: await tableCounts(login, io.signal),
      countsUnavailable: undefined,
      command: `${path.basename(dump.tool.path)} ${restoreArgs(login, file).join(' ')}`,
      server: { where: state.where, version: state.version, admin: state.admin },
    };
    if (args.dryRun) return { spec, root: ws.root, dryRun: true, plan };
    if (io.interactive && !args.yes) {
      const ok = await io.confirm({
        command: 'restore',
        plan: {
        title: `restore ${path.basename(file)} into ${spec.names.db} at ${state.where} (PostgreSQL ${state.version}), as ${login.role}:`,
        lines: restoreLines(plan, spec.names.db),
        question: `Replace what ${spec.names.db} holds with the dump?`,
        },
      });
      if (!ok) throw new CancelledError('Cancelled: nothing was changed on the server.');
    }
    // pg_restore of the server's own major: pg_restore 17 sets transaction_timeout, which older servers refuse.
    await restoreDatabase(login, file, await findPgTool('pg_restore', state.major, state.version), io.signal);
    const now = await session.state(spec);
    return {
      spec,
      root: ws.root,
      dryRun: false,
      plan,
      after: { tables: await tableCounts(appLogin(session, state, password.value), io.signal), owner: now.dbOwner, publicRevoked: now.publicRevoked },
    };
  } finally {
    await session?.close(state);
    lock?.release();
  }
}
