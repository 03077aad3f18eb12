/**
 * Create an app's role and database on a running PostgreSQL (the same statements as its init-db.sql
 * block, from sql.ts), harden the server, and verify the result from the app user's side.
 *
 * `pg` is loaded with a dynamic import inside provision() so that `--help` and every command that
 * never talks to PostgreSQL do not load it.
 */
import { randomBytes } from 'node:crypto';
import type { Client, ClientConfig } from 'pg';
import { UserError } from '../errors.ts';
import {
  APP_STATEMENTS,
  LOST_PUBLIC_ACCESS_QUERY,
  PLATFORM_STATEMENTS,
  type SqlStatement,
  type SqlValues,
  appValues,
  renderLabel,
  renderNode,
  renderNodeProbe,
  renderNodeQuery,
} from './statements.ts';
import type { AppSpec } from '../app/spec.ts';

export interface ProvisionOptions {
  /** Admin connection URL; default resolveAdminUrl(undefined, env). */
  adminUrl?: string;
  /** Environment for the PG* fallback (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The app user's password (the value of its <SNAKE>_DB_PASSWORD in .env). */
  password: string;
  /** If the role exists and `password` does not log in, set the role's password to it. */
  resetPassword?: boolean;
  /** Called before each step with a short label (progress output; tests use it to inject failures). */
  onStep?: (label: string) => void;
  /** Connect timeout in milliseconds (default 5000). */
  connectTimeoutMs?: number;
}

export interface ProvisionReport {
  /** What this run created. */
  created: { role: boolean; database: boolean };
  /** Every change this run made, one line each; empty when everything was already in place. */
  changed: string[];
  /** The checks run after the changes, from the app user's side. */
  verified: { label: string; ok: boolean }[];
  /** Login roles that could reach a database only through PUBLIC, which this run revoked. */
  lostPublicAccess: { role: string; database: string }[];
}

export const DEFAULT_ADMIN_URL = 'postgresql://postgres:postgres@localhost:5432/postgres';
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** --admin-url, else the libpq PG* variables (missing parts from the default), else the default URL. */
export function resolveAdminUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined && flag !== '') {
    parseAdminUrl(flag);
    return flag;
  }
  const keys = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'] as const;
  if (!keys.some((k) => env[k])) return DEFAULT_ADMIN_URL;
  const host = env.PGHOST || 'localhost';
  const port = env.PGPORT || '5432';
  const user = env.PGUSER || 'postgres';
  const password = env.PGPASSWORD ?? (env.PGUSER ? '' : 'postgres');
  const database = env.PGDATABASE || 'postgres';
  const hostPart = host.startsWith('/') ? encodeURIComponent(host) : host.includes(':') ? `[${host}]` : host;
  const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
  return `postgresql://${auth}@${hostPart}:${port}/${encodeURIComponent(database)}`;
}

function parseAdminUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--admin-url is not a URL (${redactUrl(url)}); use postgresql://user:password@host:5432/postgres`);
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new UserError(`--admin-url must start with postgresql:// (got ${parsed.protocol}//…)`);
  }
  return parsed;
}

/** The URL with its password (userinfo and ?password=) replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString().replace(/password=%2A%2A%2A/g, 'password=***');
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(password=)[^&\s]*/gi, '$1***');
  }
}

type Pg = typeof import('pg').default;

interface Target {
  host: string;
  port: number;
  user: string;
  /** "host:port" for messages. */
  where: string;
}

/** One line, no secrets. */
function oneLine(message: string, secrets: string[]): string {
  let text = message;
  for (const secret of secrets) {
    if (secret.length >= 3) text = text.split(secret).join('***');
  }
  return text.replace(/\s+/g, ' ').trim();
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isTimeout(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ETIMEDOUT' || /timeout|timed out/i.test(errorMessage(error));
}

function connectError(error: unknown, target: Target, timeoutMs: number, secrets: string[]): UserError {
  const code = errorCode(error);
  const hint = 'start it with `docker compose up -d postgres` or pass --admin-url';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOENT') {
    return new UserError(`cannot reach PostgreSQL at ${target.where} (${code}); ${hint}`);
  }
  if (code === '28P01') {
    return new UserError(`authentication failed for user ${target.user} at ${target.where}; check --admin-url or PGPASSWORD`);
  }
  if (isTimeout(error)) {
    return new UserError(`timed out after ${Math.round(timeoutMs / 1000)}s connecting to PostgreSQL at ${target.where}; is it running and reachable? ${hint}`);
  }
  if (code === '3D000') {
    return new UserError(`the admin database in --admin-url does not exist at ${target.where}: ${oneLine(errorMessage(error), secrets)}`);
  }
  return new UserError(
    `cannot connect to PostgreSQL at ${target.where} as ${target.user}: ${oneLine(errorMessage(error), secrets)}${code ? ` (${code})` : ''}`,
  );
}

async function connect(pg: Pg, config: ClientConfig): Promise<Client> {
  const client = new pg.Client(config);
  // A connection that dies later must not crash the process; the next query reports it.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

async function probeRows(client: Client, statement: SqlStatement, values: SqlValues): Promise<Record<string, unknown>[]> {
  const result = await client.query(renderNodeProbe(statement, values, client));
  return result.rows as Record<string, unknown>[];
}

/** Run a statement where its guard says so; returns the report labels of what it changed. */
async function apply(client: Client, statement: SqlStatement, values: SqlValues): Promise<string[]> {
  const changed: string[] = [];
  for (const row of await probeRows(client, statement, values)) {
    if (statement.kind === 'assert') {
      throw new UserError(String(row.message ?? renderLabel(statement, values, row)));
    }
    await client.query(renderNode(statement, values, client, row));
    changed.push(renderLabel(statement, values, row));
  }
  return changed;
}

function statement(list: readonly SqlStatement[], id: string): SqlStatement {
  const found = list.find((s) => s.id === id);
  if (!found) throw new Error(`no SQL statement ${id}`);
  return found;
}

export async function provision(spec: AppSpec, opts: ProvisionOptions): Promise<ProvisionReport> {
  const { default: pg } = await import('pg');
  const env = opts.env ?? process.env;
  const adminUrl = opts.adminUrl ?? resolveAdminUrl(undefined, env);
  const parsed = parseAdminUrl(adminUrl);
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const { user: role, db, passwordVar } = spec.names;
  const values = appValues(spec, opts.password);
  const step = (label: string): void => opts.onStep?.(label);
  if (opts.password === '') throw new UserError(`${passwordVar} is empty; set it in .env`);

  const adminPassword = decodeURIComponent(parsed.password) || env.PGPASSWORD || '';
  const secrets = [adminPassword, opts.password];
  const probe = new pg.Client({ connectionString: adminUrl });
  const target: Target = {
    host: probe.host,
    port: probe.port,
    user: probe.user ?? 'postgres',
    where: `${probe.host}:${probe.port}`,
  };
  /** Connection settings for the app user on the same server (TLS settings from the admin URL). */
  const appConfig = (database: string, password: string): ClientConfig => {
    const u = new URL(adminUrl);
    u.username = encodeURIComponent(role);
    u.password = encodeURIComponent(password);
    u.pathname = `/${encodeURIComponent(database)}`;
    u.searchParams.delete('password');
    u.searchParams.delete('user');
    return { connectionString: u.toString(), connectionTimeoutMillis: timeoutMs };
  };

  const report: ProvisionReport = {
    created: { role: false, database: false },
    changed: [],
    verified: [],
    lostPublicAccess: [],
  };

  step(`connect to ${redactUrl(adminUrl)}`);
  let admin: Client;
  try {
    admin = await connect(pg, { connectionString: adminUrl, connectionTimeoutMillis: timeoutMs });
  } catch (error) {
    throw connectError(error, target, timeoutMs, secrets);
  }

  let temporaryMembership = false;
  try {
    step('check admin privileges');
    const me = (
      await admin.query<{ name: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean }>(
        'SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user',
      )
    ).rows[0];
    if (!me) throw new UserError(`cannot read the attributes of the admin user at ${target.where}`);
    if (!me.rolsuper && !(me.rolcreaterole && me.rolcreatedb)) {
      const missing = [me.rolcreaterole ? '' : 'CREATEROLE', me.rolcreatedb ? '' : 'CREATEDB'].filter(Boolean).join(' and ');
      throw new UserError(
        `admin user ${me.name} at ${target.where} lacks ${missing}; connect as a superuser (e.g. postgres) with --admin-url or PGUSER`,
      );
    }

    const existing = (
      await admin.query<{ role_exists: boolean; db_exists: boolean; rolsuper: boolean | null }>(
        `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = ${admin.escapeLiteral(role)}) AS role_exists,
                EXISTS (SELECT FROM pg_database WHERE datname = ${admin.escapeLiteral(db)}) AS db_exists,
                (SELECT rolsuper FROM pg_roles WHERE rolname = ${admin.escapeLiteral(role)}) AS rolsuper`,
      )
    ).rows[0];
    if (!existing) throw new Error('no row from the existence query');
    if (!me.rolsuper && existing.rolsuper) {
      throw new UserError(`role ${role} is a superuser; only a superuser admin can manage it`);
    }

    // Refuse a database that belongs to someone else before changing anything.
    step(`check owner of ${db}`);
    await apply(admin, statement(APP_STATEMENTS, 'database-owner'), values);

    if (existing.role_exists) {
      step(`check the password of ${role}`);
      const login = await passwordLogsIn(pg, appConfig(db, opts.password));
      if (login !== true) {
        if (login !== '28P01') {
          throw new UserError(`role ${role} exists but cannot log in at ${target.where}: ${oneLine(login, secrets)}`);
        }
        if (!opts.resetPassword) {
          throw new UserError(
            `role ${role} exists but the password in .env (${passwordVar}) does not log in; rerun with --reset-password to set it to the .env value`,
          );
        }
        step(`reset the password of ${role}`);
        await admin.query(`ALTER ROLE ${admin.escapeIdentifier(role)} PASSWORD ${admin.escapeLiteral(opts.password)}`);
        report.changed.push(`set the password of role ${role} to the .env value`);
      }
    }

    // Who loses access when PUBLIC's CONNECT goes (computed before anything is revoked).
    step('list roles that only reach a database through PUBLIC');
    report.lostPublicAccess = (
      await admin.query<{ role: string; database: string }>(
        renderNodeQuery(LOST_PUBLIC_ACCESS_QUERY, { exclude: role }, admin),
      )
    ).rows.map((r) => ({ role: r.role, database: r.database }));

    try {
      step(`create role ${role}`);
      const roleChanges = await apply(admin, statement(APP_STATEMENTS, 'create-role'), values);
      report.created.role = roleChanges.length > 0;
      report.changed.push(...roleChanges);

      // PG15: only members of a role may create a database owned by it or grant on its behalf; a
      // CREATEROLE (non-superuser) admin gets that membership for this run only.
      if (!me.rolsuper) {
        const member = (
          await admin.query<{ m: boolean }>(`SELECT pg_has_role(${admin.escapeLiteral(role)}, 'MEMBER') AS m`)
        ).rows[0];
        if (!member?.m) {
          await admin.query(`GRANT ${admin.escapeIdentifier(role)} TO CURRENT_USER`);
          temporaryMembership = true;
        }
      }

      step(`create database ${db}`);
      const dbChanges = await apply(admin, statement(APP_STATEMENTS, 'create-database'), values);
      report.created.database = dbChanges.length > 0;
      report.changed.push(...dbChanges);

      step(`restrict ${db} to ${role}`);
      report.changed.push(...(await apply(admin, statement(APP_STATEMENTS, 'revoke-public'), values)));
      report.changed.push(...(await apply(admin, statement(APP_STATEMENTS, 'grant-connect'), values)));

      if (temporaryMembership) {
        await admin.query(`REVOKE ${admin.escapeIdentifier(role)} FROM CURRENT_USER`);
        temporaryMembership = false;
      }

      step('revoke PUBLIC CONNECT, TEMPORARY on every database');
      for (const s of PLATFORM_STATEMENTS) report.changed.push(...(await apply(admin, s, {})));

      step('verify');
      report.verified = await verify(pg, admin, spec, opts.password, appConfig);
      const failed = report.verified.filter((v) => !v.ok);
      if (failed.length > 0) {
        throw new UserError(`verification failed for ${role}: ${failed.map((f) => f.label).join('; ')}`);
      }
    } catch (error) {
      const undo = await rollback(admin, report, role, db, temporaryMembership);
      temporaryMembership = false;
      if (error instanceof UserError) {
        throw new UserError(oneLine(`${error.message}${undo}`, secrets), error.exitCode);
      }
      const code = errorCode(error);
      throw new UserError(
        oneLine(`provisioning ${db} failed at ${target.where}: ${errorMessage(error)}${code ? ` (${code})` : ''}${undo}`, secrets),
      );
    }
    return report;
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = errorCode(error);
    throw new UserError(
      oneLine(`provisioning ${db} failed at ${target.where}: ${errorMessage(error)}${code ? ` (${code})` : ''}`, secrets),
    );
  } finally {
    if (temporaryMembership) {
      await admin.query(`REVOKE ${admin.escapeIdentifier(role)} FROM CURRENT_USER`).catch(() => {});
    }
    await admin.end().catch(() => {});
  }
}

/** true if the password logs in (also when the database then refuses or is missing), else the error code/message. */
async function passwordLogsIn(pg: Pg, config: ClientConfig): Promise<true | string> {
  try {
    const client = await connect(pg, config);
    await client.end().catch(() => {});
    return true;
  } catch (error) {
    const code = errorCode(error);
    // Authentication happens before the CONNECT privilege and database checks.
    if (code === '42501' || code === '3D000') return true;
    if (code === '28P01') return code;
    return `${errorMessage(error)}${code ? ` (${code})` : ''}`;
  }
}

/** Drop what this run created (database first, then role); returns a note for the error message. */
async function rollback(admin: Client, report: ProvisionReport, role: string, db: string, membership: boolean): Promise<string> {
  const undone: string[] = [];
  const failed: string[] = [];
  if (membership) {
    await admin.query(`REVOKE ${admin.escapeIdentifier(role)} FROM CURRENT_USER`).catch(() => {});
  }
  if (report.created.database) {
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(db)} WITH (FORCE)`);
      undone.push(`database ${db}`);
    } catch (error) {
      failed.push(`database ${db} (${errorMessage(error)})`);
    }
  }
  if (report.created.role) {
    try {
      await admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(role)}`);
      undone.push(`role ${role}`);
    } catch (error) {
      failed.push(`role ${role} (${errorMessage(error)})`);
    }
  }
  let note = '';
  if (undone.length > 0) note += ` (dropped what this run created: ${undone.join(', ')})`;
  if (failed.length > 0) note += ` (could not drop ${failed.join(', ')}: drop them by hand)`;
  return note;
}

/** Check the result from the app user's side. */
async function verify(
  pg: Pg,
  admin: Client,
  spec: AppSpec,
  password: string,
  appConfig: (database: string, password: string) => ClientConfig,
): Promise<{ label: string; ok: boolean }[]> {
  const { user: role, db } = spec.names;
  const results: { label: string; ok: boolean }[] = [];

  // 1. Logs in to its own database and can create (and drop) a table.
  const table = `ovu_provision_check_${randomBytes(4).toString('hex')}`;
  let ownOk = false;
  try {
    const client = await connect(pg, appConfig(db, password));
    try {
      await client.query(`CREATE TABLE ${client.escapeIdentifier(table)} (id integer)`);
      await client.query(`DROP TABLE ${client.escapeIdentifier(table)}`);
      ownOk = true;
    } finally {
      await client.end().catch(() => {});
    }
  } catch {
    ownOk = false;
  }
  results.push({ label: `${role} logs in to ${db} and can create a table`, ok: ownOk });

  // 2. Refused CONNECT to every other database that accepts connections.
  const others = (
    await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datallowconn AND datname <> ${admin.escapeLiteral(db)} ORDER BY datname`,
    )
  ).rows.map((r) => r.datname);
  const refused = await mapLimit(others, 4, async (other) => {
    try {
      const client = await connect(pg, appConfig(other, password));
      await client.end().catch(() => {});
      return false;
    } catch (error) {
      return errorCode(error) === '42501';
    }
  });
  others.forEach((other, i) => {
    results.push({ label: `${role} is refused CONNECT to ${other}`, ok: refused[i] === true });
  });

  // 3. No dangerous attributes.
  const attrs = (
    await admin.query<{ rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean }>(
      `SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = ${admin.escapeLiteral(role)}`,
    )
  ).rows[0];
  results.push({ label: `${role} is not a superuser`, ok: attrs?.rolsuper === false });
  results.push({ label: `${role} cannot create databases`, ok: attrs?.rolcreatedb === false });
  results.push({ label: `${role} cannot create roles`, ok: attrs?.rolcreaterole === false });
  return results;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}
