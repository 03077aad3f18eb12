/**
 * An app's database as backup, restore and remove reach it: through the admin connection (as
 * provision does), with the real pg_dump and pg_restore (pg-tools.ts).
 *
 * A non-superuser admin (CREATEROLE and CREATEDB, as managed PostgreSQL gives) cannot read, drop
 * or restore into a database it does not own: it grants itself the app role for the run, as
 * provision does (PG16+: WITH INHERIT TRUE, SET TRUE, since CREATEROLE alone gives only ADMIN
 * OPTION there), and takes it back at the end. pg_dump then acts as the app role (`--role`), so
 * what it reads is what the app owns. pg_restore never runs here: a dump's code would run in the
 * admin's session, and restore logs in as the app instead (restore-dump.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import type { AppSpec } from '../app/spec.ts';
import { CancelledError, UserError } from '../errors.ts';
import { parseAdminUrl, redactUrl } from './admin-url.ts';
import { adminTarget, connect, connectError, type Pg } from './connection.ts';
import { errorMessage, messageWithCode, oneLine } from './error-text.ts';
import { apply, statement } from './apply.ts';
import { renderNodeQuery } from './render.ts';
import { ADMIN_HAS_ROLE, APP_STATEMENTS, type SqlValues } from './statements.ts';
import { findPgTool, runPgTool, toolConnection, type FoundTool } from './pg-tools.ts';

const CONNECT_TIMEOUT_MS = 5000;

/** What the server has of the app, and who the admin is there. */
export interface AppDatabaseState {
  where: string;
  version: string;
  major: number;
  admin: string;
  superuser: boolean;
  role: string;
  db: string;
  roleExists: boolean;
  dbExists: boolean;
  dbOwner: string | null;
  /** The role can log in (remove closes it before the dump and opens it again if it stops). */
  canLogin: boolean;
  /** No privilege on the database is left to PUBLIC. */
  publicRevoked: boolean;
  /** The statement the admin grants itself the role with, when it needs it (undefined: it has it). */
  membership: string | undefined;
}

/** One statement shown by --dry-run and run in order. */
export interface PlannedSql {
  sql: string;
  label: string;
}

export class AdminSession {
  private taken = false;

  private constructor(
    readonly client: Client,
    readonly adminUrl: string,
    /** The admin's password, for PGPASSWORD and for masking. */
    readonly adminPassword: string,
    readonly where: string,
  ) {}

  static async open(adminUrl: string, signal?: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<AdminSession> {
    const parsed = parseAdminUrl(adminUrl);
    const { default: pg } = (await import('pg')) as { default: Pg };
    const adminPassword = decodeURIComponent(parsed.password) || env['PGPASSWORD'] || '';
    const target = adminTarget(pg, adminUrl);
    let client: Client;
    try {
      client = await connect(pg, { connectionString: adminUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }, signal);
    } catch (error) {
      if (signal?.aborted) throw new CancelledError(`Cancelled while connecting to ${target.where}: nothing was changed.`);
      throw connectError(error, target, CONNECT_TIMEOUT_MS, [adminPassword]);
    }
    return new AdminSession(client, adminUrl, adminPassword, target.where);
  }

  get secrets(): string[] {
    return [this.adminPassword];
  }

  /** A failed statement as a one-line UserError without secrets. */
  failure(what: string, error: unknown): UserError {
    return error instanceof UserError ? error : new UserError(oneLine(`${what} failed at ${this.where}: ${messageWithCode(error)}`, this.secrets));
  }

  async state(spec: AppSpec): Promise<AppDatabaseState> {
    const { user: role, db } = spec.names;
    const c = this.client;
    const values: SqlValues = { role, db };
    const row = (
      await c.query<{
        admin: string;
        superuser: boolean;
        createrole: boolean;
        createdb: boolean;
        version: string;
        num: number;
        role_exists: boolean;
        can_login: boolean | null;
        db_owner: string | null;
        public_open: boolean | null;
        has_role: boolean;
      }>(
        `SELECT current_user AS admin, r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb,
                current_setting('server_version') AS version, current_setting('server_version_num')::int AS num,
                EXISTS (SELECT FROM pg_roles WHERE rolname = ${c.escapeLiteral(role)}) AS role_exists,
                (SELECT rolcanlogin FROM pg_roles WHERE rolname = ${c.escapeLiteral(role)}) AS can_login,
                (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = ${c.escapeLiteral(db)}) AS db_owner,
                (SELECT has_database_privilege('public', oid, 'CONNECT') OR has_database_privilege('public', oid, 'TEMPORARY') OR has_database_privilege('public', oid, 'CREATE') FROM pg_database WHERE datname = ${c.escapeLiteral(db)}) AS public_open,
                ${renderNodeQuery(ADMIN_HAS_ROLE, values, c)} AS has_role
           FROM pg_roles r WHERE r.rolname = current_user`,
      )
    ).rows[0];
    if (!row) throw new UserError(`cannot read the attributes of the admin user at ${this.where}`);
    if (!row.superuser && !(row.createrole && row.createdb)) {
      throw new UserError(`admin user ${row.admin} at ${this.where} is neither a superuser nor a role with CREATEROLE and CREATEDB; pass --admin-url for one (e.g. postgres)`);
    }
    const v16 = row.num >= 160000;
    const membership =
      row.role_exists && !row.has_role ? `GRANT ${c.escapeIdentifier(role)} TO CURRENT_USER${v16 ? ' WITH INHERIT TRUE, SET TRUE' : ''}` : undefined;
    return {
      where: this.where,
      version: row.version.split(' ')[0]!,
      major: Math.floor(row.num / 10000),
      admin: row.admin,
      superuser: row.superuser,
      role,
      db,
      roleExists: row.role_exists,
      dbExists: row.db_owner !== null,
      dbOwner: row.db_owner,
      canLogin: row.can_login === true,
      publicRevoked: row.public_open === false,
      membership,
    };
  }

  /** Grants the admin the app role for this run (when it lacks it): what owner-only work needs. */
  async takeRole(state: AppDatabaseState): Promise<void> {
    if (!state.membership || this.taken) return;
    try {
      await this.client.query(state.membership);
    } catch (error) {
      throw new UserError(
        oneLine(
          `admin ${state.admin} cannot act as ${state.role} at ${this.where} (${errorMessage(error)}): have a superuser run GRANT ${state.role} TO ${state.admin} WITH ADMIN OPTION, or pass a superuser's --admin-url`,
          this.secrets,
        ),
      );
    }
    this.taken = true;
  }

  /** Takes back only the membership this admin granted itself. */
  async giveBackRole(state: AppDatabaseState): Promise<void> {
    if (!this.taken) return;
    this.taken = false;
    await apply(this.client, statement(APP_STATEMENTS, 'admin-membership-end'), { role: state.role, db: state.db }).catch(() => {});
  }

  async close(state?: AppDatabaseState): Promise<void> {
    if (state) await this.giveBackRole(state);
    await this.client.end().catch(() => {});
  }

  /** The admin URL for the tools: `database`, no password (that goes in PGPASSWORD). */
  tool(database: string): { dbname: string; env: Record<string, string> } {
    return toolConnection(this.adminUrl, database, this.adminPassword);
  }

  toString(): string {
    return redactUrl(this.adminUrl);
  }
}

/** The app's database must be there, and the app's: a database someone else owns is not touched. */
export function assertAppDatabase(state: AppDatabaseState, slug: string): void {
  if (!state.dbExists) {
    throw new UserError(`${state.db} does not exist at ${state.where}: provision it first (create-ovu-app provision ${slug}), or pass the --admin-url of the server that has it.`);
  }
  if (state.dbOwner !== state.role) {
    throw new UserError(`${state.db} at ${state.where} is owned by ${state.dbOwner}, not ${state.role}: it is not ${slug}'s database as create-ovu-app made it; back it up and change it by hand.`);
  }
}

/** UTC, to the second, sortable and safe in a file name: 20261202T004512Z. */
export function fileTimestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/** `backups/<app>/<app>_db-<UTC timestamp>.dump` under the workspace. */
export function backupFile(root: string, spec: AppSpec, now: Date = new Date()): string {
  return path.join(root, 'backups', spec.names.slug, `${spec.names.db}-${fileTimestamp(now)}.dump`);
}

/** pg_dump's command line as shown (no secret is ever on it). */
export function dumpArgs(session: AdminSession, state: AppDatabaseState, file: string): string[] {
  return ['--format=custom', `--file=${file}`, ...(state.superuser ? [] : [`--role=${state.role}`]), `--dbname=${session.tool(state.db).dbname}`];
}

export async function dumpTool(state: AppDatabaseState): Promise<FoundTool> {
  return findPgTool('pg_dump', state.major, state.version);
}

export interface DumpResult {
  file: string;
  bytes: number;
  tool: string;
}

/**
 * `pg_dump -Fc` of the app's database to `file` (mode 0600: it holds the app's data). It is written
 * under a temporary name and renamed when pg_dump has succeeded, so a dump file is always whole.
 */
export async function dumpDatabase(session: AdminSession, state: AppDatabaseState, file: string, tool: FoundTool, signal?: AbortSignal): Promise<DumpResult> {
  await session.takeRole(state);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.partial`;
  let written = file;
  // Made 0600 before pg_dump opens it (which keeps an existing file's mode): a dump killed half-way
  // is the app's data too.
  fs.rmSync(partial, { force: true });
  fs.closeSync(fs.openSync(partial, 'wx', 0o600));
  try {
    await runPgTool(tool, dumpArgs(session, state, partial), { env: session.tool(state.db).env, signal, secrets: session.secrets, what: `pg_dump of ${state.db}` });
    fs.chmodSync(partial, 0o600);
    // Never over an earlier dump (two in the same second): link fails where rename would replace.
    for (let n = 2; ; n += 1) {
      try {
        fs.linkSync(partial, written);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        written = file.replace(/\.dump$/, `-${n}.dump`);
      }
    }
  } finally {
    fs.rmSync(partial, { force: true });
  }
  return { file: written, bytes: fs.statSync(written).size, tool: `${path.basename(tool.path)} ${tool.version}` };
}

/**
 * What remove runs on the server, in order: the admin takes the role (if it must), the login is
 * closed and its sessions ended (so nothing is written after the dump), then the database and
 * the role are dropped.
 */
export function dropStatements(session: AdminSession, state: AppDatabaseState): { lockOut: PlannedSql[]; drop: PlannedSql[] } {
  const c = session.client;
  const role = c.escapeIdentifier(state.role);
  const lockOut: PlannedSql[] = [];
  if (state.membership) lockOut.push({ sql: state.membership, label: `the admin takes ${state.role} for this run` });
  if (state.roleExists && state.canLogin) lockOut.push({ sql: `ALTER ROLE ${role} NOLOGIN`, label: `no new sessions as ${state.role}` });
  if (state.dbExists) {
    lockOut.push({
      sql: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${c.escapeLiteral(state.db)} AND pid <> pg_backend_pid()`,
      label: `end the open sessions on ${state.db}`,
    });
  }
  const drop: PlannedSql[] = [];
  if (state.dbExists) drop.push({ sql: `DROP DATABASE IF EXISTS ${c.escapeIdentifier(state.db)} WITH (FORCE)`, label: `drop database ${state.db}` });
  if (state.roleExists) drop.push({ sql: `DROP ROLE IF EXISTS ${role}`, label: `drop role ${state.role}` });
  return { lockOut, drop };
}

/** Runs the lock-out statements; the returned function undoes them (the login opened again). */
export async function lockOut(session: AdminSession, state: AppDatabaseState, statements: PlannedSql[], closedBefore = false): Promise<() => Promise<void>> {
  const c = session.client;
  await session.takeRole(state);
  // closedBefore: an interrupted remove closed it; the undo opens it as if this run had.
  let closed = closedBefore;
  const undo = async (): Promise<void> => {
    if (closed) await c.query(`ALTER ROLE ${c.escapeIdentifier(state.role)} LOGIN`).catch(() => {});
  };
  try {
    for (const s of statements) {
      if (s.sql.startsWith('GRANT ')) continue; // takeRole did it
      await c.query(s.sql);
      if (s.sql.endsWith(' NOLOGIN')) closed = true;
    }
  } catch (error) {
    await undo();
    throw session.failure(`closing ${state.role}'s sessions`, error);
  }
  return undo;
}

/** Drops what `drop` lists, in order; says what was dropped before a failure. */
export async function dropAll(session: AdminSession, state: AppDatabaseState, drop: PlannedSql[]): Promise<string[]> {
  const done: string[] = [];
  for (const s of drop) {
    try {
      await session.client.query(s.sql);
      // The admin's own membership went with the role.
      if (s.sql.startsWith('DROP ROLE')) await session.giveBackRole(state).catch(() => {});
      done.push(s.label.replace(/^drop /, 'dropped '));
    } catch (error) {
      const before = done.length ? ` (already ${done.join(', ')})` : '';
      throw new UserError(oneLine(`${s.label} failed at ${session.where}: ${messageWithCode(error)}${before}`, session.secrets));
    }
  }
  return done;
}
