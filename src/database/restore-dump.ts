/**
 * What restore reads and runs. A dump is the app's data and also code: its CHECK constraints,
 * defaults, domains and functions run while its rows are loaded, with the rights of the session
 * that loads them. `pg_restore --role` only issues SET ROLE, which a function in the dump can
 * RESET back to the admin (and then make the app's login a superuser). So the restore session
 * *is* the app's own login, with its password from `<app>/.env`: whatever the dump does, it does
 * with no more than the app could do itself. The admin only looks (state, owner, PUBLIC);
 * nothing from the dump ever runs in an admin session, and the counts are read as the app too.
 *
 * Before that, the dump's header says which database it was taken from, when, and by what:
 * restore shows it, and refuses a dump of another database unless the person names it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { connect, type Pg } from './connection.ts';
import { errorMessage, oneLine } from './error-text.ts';
import { findPgTool, runPgTool, toolConnection, type FoundTool } from './pg-tools.ts';
import type { AdminSession, AppDatabaseState } from './app-database.ts';

const CONNECT_TIMEOUT_MS = 5000;

/** What `pg_restore --list` says of an archive: its source, its date, its tables. */
export interface DumpInfo {
  file: string;
  bytes: number;
  /** The database pg_dump read (the header's `dbname:`). */
  sourceDb: string;
  /** "2026-12-07 16:10:12 UTC", as the header has it. */
  created: string;
  /** CUSTOM or TAR (a directory dump is not a file). */
  format: string;
  /** e.g. "15.10", the server the dump was taken from. */
  fromServer: string | undefined;
  tables: string[];
  tool: FoundTool;
}

/** The header and tables of a pg_dump archive; a plain-SQL file or anything else is refused in one line. */
export async function readDump(file: string, given: string, signal?: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<DumpInfo> {
  const tool = await findPgTool('pg_restore', undefined, '', env);
  let stdout: string;
  try {
    ({ stdout } = await runPgTool(tool, ['--list', file], { env: {}, signal, secrets: [], what: `reading ${given}` }));
  } catch (error) {
    if (!(error instanceof UserError) || signal?.aborted) throw error;
    const plain = /text format dump/.test(error.message) || /^\s*(--|SET |CREATE |SELECT )/m.test(fs.readFileSync(file, { encoding: 'latin1' }).slice(0, 4096));
    if (plain) throw new UserError(`${given} is a plain-SQL dump: restore takes only a pg_dump archive (pg_dump -Fc, what create-ovu-app backup makes), whose source it can read and whose statements it can run as the app's login; nothing was changed.`);
    // Archive format versions are 1.x: a header that says otherwise is not pg_dump's.
    const bogusVersion = /unsupported version \((\d+)\./.exec(error.message);
    if (/does not appear to be a valid archive|could not read input file|input file is too short|did not find magic string/.test(error.message) || (bogusVersion && bogusVersion[1] !== '1')) {
      throw new UserError(`${given} is not a pg_dump archive: pass a dump made by create-ovu-app backup (backups/<app>/<app>_db-….dump); nothing was changed.`);
    }
    throw error;
  }
  const header = (key: string): string | undefined => new RegExp(`^;\\s+${key}:\\s*(.*)$`, 'm').exec(stdout)?.[1]?.trim();
  const created = /^;\s+Archive created at (.+)$/m.exec(stdout)?.[1]?.trim();
  const sourceDb = header('dbname');
  if (sourceDb === undefined || created === undefined) throw new UserError(`${given} has no pg_dump archive header (dbname, date): pass a dump made by create-ovu-app backup; nothing was changed.`);
  const tables: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\d+;\s+\d+\s+\d+\s+TABLE\s+(?!DATA\s)(\S+)\s+(\S+)\s/.exec(line);
    if (m) tables.push(`${m[1]}.${m[2]}`);
  }
  return {
    file,
    bytes: fs.statSync(file).size,
    sourceDb,
    created,
    format: header('Format') ?? 'unknown',
    fromServer: header('Dumped from database version'),
    tables: tables.sort(),
    tool,
  };
}

/** Refuses a dump of another database than the app's, unless `named` (--from-db) is that database. */
export function assertSource(dump: DumpInfo, appDb: string, named: string | undefined, given: string): void {
  if (named !== undefined && named !== dump.sourceDb) {
    throw new UserError(`${given} was taken from database ${JSON.stringify(dump.sourceDb)}, not ${JSON.stringify(named)} as --from-db says: check the file; nothing was changed.`);
  }
  if (dump.sourceDb !== appDb && named === undefined) {
    throw new UserError(
      `${given} was taken from database ${JSON.stringify(dump.sourceDb)}, not ${appDb}: restore refuses another database's dump unless you name it (--from-db ${dump.sourceDb}); nothing was changed.`,
    );
  }
}

/** "1.2 MB" */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The app's own login on the admin's server (host, port, TLS settings from the admin URL). */
export interface AppLogin {
  role: string;
  db: string;
  /** libpq URL without the password. */
  url: string;
  password: string;
  where: string;
}

export function appLogin(session: AdminSession, state: AppDatabaseState, password: string): AppLogin {
  const u = new URL(session.adminUrl);
  u.username = encodeURIComponent(state.role);
  u.password = '';
  u.searchParams.delete('password');
  u.searchParams.delete('user');
  u.pathname = `/${encodeURIComponent(state.db)}`;
  return { role: state.role, db: state.db, url: u.toString(), password, where: state.where };
}

async function loginClient(login: AppLogin, signal?: AbortSignal): Promise<import('pg').Client> {
  const { default: pg } = (await import('pg')) as { default: Pg };
  try {
    const u = new URL(login.url);
    u.password = encodeURIComponent(login.password);
    return await connect(pg, { connectionString: u.toString(), connectionTimeoutMillis: CONNECT_TIMEOUT_MS }, signal);
  } catch (error) {
    throw new UserError(
      oneLine(
        `restore runs as ${login.role}, the app's own login, and it could not log in at ${login.where} (${errorMessage(error)}): check the password in the app's .env (create-ovu-app provision --reset-password sets it) and that the login is open; nothing was changed`,
        [login.password],
      ),
    );
  }
}

/** Checks the app's login works before anything is planned or changed. */
export async function checkLogin(login: AppLogin, signal?: AbortSignal): Promise<void> {
  const client = await loginClient(login, signal);
  await client.end().catch(() => {});
}

/** The tables in the app's database with exact row counts, read as the app in a read-only transaction. */
export async function tableCounts(login: AppLogin, signal?: AbortSignal): Promise<{ table: string; rows: number }[]> {
  const client = await loginClient(login, signal);
  try {
    await client.query('BEGIN READ ONLY');
    const tables = (
      await client.query<{ s: string; t: string }>(
        "SELECT schemaname AS s, tablename AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
      )
    ).rows;
    const out: { table: string; rows: number }[] = [];
    for (const { s, t } of tables) {
      const n = (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${client.escapeIdentifier(s)}.${client.escapeIdentifier(t)}`)).rows[0]!.n;
      out.push({ table: `${s}.${t}`, rows: Number(n) });
    }
    await client.query('ROLLBACK');
    return out;
  } finally {
    await client.end().catch(() => {});
  }
}

/** pg_restore's command line: into the existing database, logged in as the app, all or nothing. */
export function restoreArgs(login: AppLogin, file: string): string[] {
  return ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--exit-on-error', `--dbname=${toolConnection(login.url, login.db, '').dbname}`, file];
}

/**
 * Replaces what the dump holds in the app's database, in one transaction (a failure leaves the
 * database as it was), in a session that is the app's login: no SET ROLE to undo.
 */
export async function restoreDatabase(login: AppLogin, file: string, tool: FoundTool, signal?: AbortSignal): Promise<void> {
  // A running app holding a lock would make the restore wait forever: give up after a minute.
  await runPgTool(tool, restoreArgs(login, file), {
    env: { ...toolConnection(login.url, login.db, login.password).env, PGOPTIONS: '-c lock_timeout=60000' },
    signal,
    secrets: [login.password],
    what: `pg_restore of ${path.basename(file)} into ${login.db} as ${login.role} (nothing was changed: it runs in one transaction)`,
  });
}
