/**
 * Create an app's role and database on a running PostgreSQL (the same statements as its init-db.sql
 * block, from statements.ts), harden the server, verify the result from the app user's side
 * (verify.ts), and drop what this run created if a step fails or the run is cancelled.
 *
 * The admin is a superuser or a CREATEROLE + CREATEDB role (managed PostgreSQL), on 15 to 18. The
 * password never reaches the server: roles get a SCRAM-SHA-256 verifier computed here (scram.ts).
 * Provisions serialise on an advisory lock (PROVISION_LOCK_KEY), which init-db.sql blocks take too.
 *
 * `pg` is loaded with a dynamic import inside provision() so that `--help` and every command that
 * never talks to PostgreSQL do not load it.
 */
import type { Client } from 'pg';
import { CancelledError, UserError } from '../errors.ts';
import { parseAdminUrl, redactUrl, resolveAdminUrl } from './admin-url.ts';
import { apply, plan, statement, type Applied } from './apply.ts';
import { type Budget, budgetProblem, serverConnectionLimit, ULM_ASSUMED_CONNECTIONS, ULM_ROLE } from './budget.ts';
import { adminTarget, appUserConfig, connect, connectError, passwordLogsIn } from './connection.ts';
import { errorCode, errorMessage, messageWithCode, oneLine } from './error-text.ts';
import { PASSWORD_FIX, passwordProblem } from './passwords.ts';
import { renderNode, renderNodeQuery } from './render.ts';
import { scramVerifier } from './scram.ts';
import {
  ADMIN_HAS_ROLE,
  APP_STATEMENTS,
  LOST_PUBLIC_ACCESS_QUERY,
  PLATFORM_STATEMENTS,
  PROVISION_LOCK_KEY,
  STILL_OPEN_QUERY,
  appValues,
  type SqlStatement,
  type SqlValues,
} from './statements.ts';
import { type Check, verify } from './verify.ts';
import type { AppSpec } from '../app/spec.ts';

export interface ProvisionOptions {
  /** Admin connection URL; default resolveAdminUrl(undefined, env). */
  adminUrl?: string;
  /** Environment for the PG* fallback (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The app user's password (the value of its <SNAKE>_DB_PASSWORD in <app>/.env). */
  password: string;
  /** If the role exists and `password` does not log in, set the role's password to it. */
  resetPassword?: boolean;
  /** Change nothing: run the checks and return the statements a run would execute (report.planned). */
  dryRun?: boolean;
  /** Aborting it (Ctrl-C) stops the run at the next step and drops what it created. */
  signal?: AbortSignal;
  /** Called before each step with a short label (progress output; tests use it to inject failures). */
  onStep?: (label: string) => void;
  /** Connect timeout in milliseconds (default 5000). */
  connectTimeoutMs?: number;
  /** How long to wait for another provision holding the lock (default 60000). */
  lockTimeoutMs?: number;
}

/** A database that stays open to PUBLIC because this admin cannot revoke there. */
export interface StillOpen {
  database: string;
  owner: string;
  /** What its owner (or a superuser) must run. */
  statement: string;
}

export interface PlannedStatement {
  id: string;
  label: string;
  /** The SQL, the password's verifier replaced by '***'. */
  sql: string;
  /** Changes a database or role other than the app's own (the platform hardening). */
  serverWide: boolean;
}

export interface ProvisionReport {
  dryRun: boolean;
  /** Where it ran: host:port, the server's version, the admin. */
  server: { where: string; host: string; port: number; version: string; admin: string; superuser: boolean };
  /** What this run created. */
  created: { role: boolean; database: boolean };
  /** Every change this run made, one line each; empty when everything was already in place (and on a dry run). */
  changed: string[];
  /** Dry run: every statement a run would execute now, in order. */
  planned: PlannedStatement[];
  /** The checks run after the changes, from the app user's side. */
  verified: Check[];
  /** Login roles that could reach a database only through PUBLIC, which this run revoked (or would). */
  lostPublicAccess: { role: string; database: string }[];
  /** Databases still open to PUBLIC that this admin could not close. */
  stillOpen: StillOpen[];
  /** The app login's CONNECTION LIMIT and the server's connection budget with it. */
  connectionLimit: number;
  budget: Budget;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

export async function provision(spec: AppSpec, opts: ProvisionOptions): Promise<ProvisionReport> {
  const env = opts.env ?? process.env;
  const adminUrl = opts.adminUrl ?? resolveAdminUrl(undefined, env);
  const parsed = parseAdminUrl(adminUrl);
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const { user: role, db, passwordVar } = spec.names;
  const weak = passwordProblem(opts.password, passwordVar);
  if (weak) throw new UserError(`${weak}; ${PASSWORD_FIX}.`);
  const dryRun = opts.dryRun === true;
  const step = (label: string): void => {
    if (opts.signal?.aborted) throw new CancelledError(`Cancelled during provisioning of ${db}.`);
    opts.onStep?.(label);
  };

  const { default: pg } = await import('pg');
  const adminPassword = decodeURIComponent(parsed.password) || env.PGPASSWORD || '';
  const target = adminTarget(pg, adminUrl);
  const appConfig = appUserConfig(adminUrl, role, timeoutMs);
  const limit = serverConnectionLimit(spec.settings);
  const verifier = scramVerifier(opts.password);
  const values = appValues(spec, verifier, { connLimit: limit });
  const secrets = [adminPassword, opts.password, verifier];
  const shown: SqlValues = { ...values, verifier: '***' };
  /** An unexpected error as a one-line UserError without secrets or a raw SQLSTATE. */
  const failure = (error: unknown, undo = ''): UserError =>
    new UserError(oneLine(`provisioning ${db} failed at ${target.where}: ${messageWithCode(error)}${undo}`, secrets));

  step(`connect to ${redactUrl(adminUrl)}`);
  let admin: Client;
  try {
    admin = await connect(pg, { connectionString: adminUrl, connectionTimeoutMillis: timeoutMs }, opts.signal);
  } catch (error) {
    if (opts.signal?.aborted) throw new CancelledError(`Cancelled while connecting to ${target.where}: nothing was changed.`);
    throw connectError(error, target, timeoutMs, secrets);
  }

  // Ctrl-C while a statement runs (CREATE DATABASE waiting for template1, the lock wait): cancel
  // it from a second connection, so the run stops now and rolls back instead of waiting.
  const backendPid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').catch(() => ({ rows: [] as { pid: number }[] }))).rows[0]?.pid;
  let cancelling = false;
  const onAbort = (): void => {
    if (backendPid === undefined || cancelling) return;
    cancelling = true;
    void (async () => {
      const other = await connect(pg, { connectionString: adminUrl, connectionTimeoutMillis: timeoutMs }).catch(() => undefined);
      if (!other) return;
      await other.query('SELECT pg_cancel_backend($1)', [backendPid]).catch(() => {});
      await other.end().catch(() => {});
    })();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const report: ProvisionReport = {
    dryRun,
    server: { where: target.where, host: target.host, port: target.port, version: '', admin: target.user, superuser: false },
    created: { role: false, database: false },
    changed: [],
    planned: [],
    verified: [],
    lostPublicAccess: [],
    stillOpen: [],
    connectionLimit: limit,
    budget: { maxConnections: 0, reserved: 0, ulm: 0, apps: [] },
  };
  /** Statements that ran for the app and are not yet undone (the admin's membership). */
  let membershipHeld = false;

  /** Run one app statement; a permission error says what the admin lacks. */
  const run = async (s: SqlStatement): Promise<Applied[]> => {
    try {
      const done = await apply(admin, s, values, shown);
      if (done.length > 0 && s.id.startsWith('admin-membership') && s.id !== 'admin-membership-end') membershipHeld = true;
      if (s.id === 'admin-membership-end' && done.length > 0) membershipHeld = false;
      for (const d of done) if (!d.transient) report.changed.push(d.label);
      return done;
    } catch (error) {
      throw explainPermission(error, s, role, report.server.admin, report.server.where);
    }
  };

  try {
    step('check admin privileges');
    const me = (
      await admin.query<{ name: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; version: string }>(
        "SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, current_setting('server_version') AS version FROM pg_roles WHERE rolname = current_user",
      )
    ).rows[0];
    if (!me) throw new UserError(`cannot read the attributes of the admin user at ${target.where}`);
    report.server = { ...report.server, admin: me.name, superuser: me.rolsuper, version: me.version };
    if (!me.rolsuper && !(me.rolcreaterole && me.rolcreatedb)) {
      const missing = [me.rolcreaterole ? '' : 'CREATEROLE', me.rolcreatedb ? '' : 'CREATEDB'].filter(Boolean).join(' and ');
      throw new UserError(
        `admin user ${me.name} at ${target.where} lacks ${missing}; connect as a superuser (e.g. postgres) or a role with CREATEROLE and CREATEDB, with --admin-url or PGUSER`,
      );
    }

    if (!dryRun) {
      // One provision (or init-db.sql block) at a time on this server: concurrent GRANT/REVOKE
      // on the same catalog rows fail with "tuple concurrently updated".
      step('wait for other provisions on this server');
      await lock(admin, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, target.where);
    }

    const existing = (
      await admin.query<{ role_exists: boolean; limit: number | null }>(
        `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = ${admin.escapeLiteral(role)}) AS role_exists,
                (SELECT rolconnlimit FROM pg_roles WHERE rolname = ${admin.escapeLiteral(role)}) AS limit`,
      )
    ).rows[0];
    if (!existing) throw new Error('no row from the existence query');

    // Refuse a database that belongs to someone else, or a role with more than an app login's
    // privileges, before changing anything.
    step(`check owner of ${db} and attributes of ${role}`);
    await plan(admin, statement(APP_STATEMENTS, 'database-owner'), values, shown);
    await plan(admin, statement(APP_STATEMENTS, 'role-safe'), values, shown);

    step('check the connection budget');
    report.budget = await readBudget(admin, { role, limit });
    const overBudget = budgetProblem(report.budget, target.where);
    // Refused when this run would take more than the role has now: a new role, or a higher limit
    // (an existing role without a limit, -1, only gets safer). Rerunning an app in place is not.
    const grows = !existing.role_exists || (existing.limit !== null && existing.limit >= 0 && existing.limit < limit);
    if (overBudget && grows) throw new UserError(overBudget);

    let resetPassword = false;
    if (existing.role_exists) {
      step(`check the password of ${role}`);
      const login = await passwordLogsIn(pg, appConfig(db, opts.password));
      if (login !== true) {
        if (login !== '28P01') {
          throw new UserError(`role ${role} exists but cannot log in at ${target.where}: ${oneLine(login, secrets)}`);
        }
        if (!opts.resetPassword) {
          throw new UserError(
            `role ${role} exists but the password in ${spec.names.slug}/.env (${passwordVar}) does not log in; rerun with --reset-password to set it to that value`,
          );
        }
        resetPassword = true;
      }
    }

    // Who loses access when PUBLIC's CONNECT goes (computed before anything is revoked).
    step('list roles that only reach a database through PUBLIC');
    report.lostPublicAccess = (
      await admin.query<{ role: string; database: string }>(renderNodeQuery(LOST_PUBLIC_ACCESS_QUERY, { exclude: role }, admin))
    ).rows.map((r) => ({ role: r.role, database: r.database }));

    if (dryRun) {
      report.planned = await planAll(admin, values, shown, resetPassword ? resetStatement(admin, role) : undefined);
      report.stillOpen = await stillOpen(admin);
      return report;
    }

    try {
      if (resetPassword) {
        step(`reset the password of ${role}`);
        try {
          await admin.query(`ALTER ROLE ${admin.escapeIdentifier(role)} PASSWORD ${admin.escapeLiteral(verifier)}`);
        } catch (error) {
          throw explainPermission(error, { id: 'reset-password' } as SqlStatement, role, me.name, target.where);
        }
        report.changed.push(`set the password of role ${role} to the value in ${spec.names.slug}/.env`);
      }
      for (const s of APP_STATEMENTS) {
        if (s.kind === 'assert') continue;
        step(labelFor(s, role, db));
        const done = await run(s);
        if (s.id === 'create-role') report.created.role = done.length > 0;
        if (s.id === 'create-database') report.created.database = done.length > 0;
      }

      step('revoke PUBLIC CONNECT, TEMPORARY on every database');
      for (const s of PLATFORM_STATEMENTS) for (const d of await apply(admin, s, {})) report.changed.push(d.label);
      report.stillOpen = await stillOpen(admin);

      step('verify');
      report.verified = await verify(pg, admin, spec, opts.password, appConfig, { stillOpen: report.stillOpen, connectionLimit: limit });
      const failed = report.verified.filter((v) => v.status === 'failed');
      if (failed.length > 0) {
        throw new UserError(`verification failed for ${role}: ${failed.map((f) => f.label).join('; ')}`);
      }
    } catch (caught) {
      const error = opts.signal?.aborted && !(caught instanceof CancelledError) ? new CancelledError(`Cancelled during provisioning of ${db}.`) : caught;
      const undo = await rollback(admin, report, role, db, values);
      membershipHeld = false;
      if (error instanceof UserError) {
        error.message = oneLine(`${error.message}${undo}`, secrets);
        throw error;
      }
      throw failure(error, undo);
    }
    return report;
  } catch (error) {
    if (error instanceof UserError) throw error;
    if (opts.signal?.aborted) throw new CancelledError(`Cancelled during provisioning of ${db}.`);
    throw failure(error);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (membershipHeld) await apply(admin, statement(APP_STATEMENTS, 'admin-membership-end'), values).catch(() => {});
    await admin.end().catch(() => {});
  }
}

function labelFor(s: SqlStatement, role: string, db: string): string {
  switch (s.id) {
    case 'create-role':
      return `create role ${role}`;
    case 'create-database':
      return `create database ${db}`;
    case 'revoke-public':
      return `restrict ${db} to ${role}`;
    default:
      return s.id.replace(/-/g, ' ');
  }
}

function resetStatement(admin: Client, role: string): string {
  return `ALTER ROLE ${admin.escapeIdentifier(role)} PASSWORD '***'`;
}

/** Take the provisioning lock, waiting at most `timeoutMs`. */
export async function lock(admin: Client, timeoutMs: number, where: string): Promise<void> {
  await admin.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await admin.query(`SELECT pg_advisory_lock(${PROVISION_LOCK_KEY})`);
  } catch (error) {
    if (errorCode(error) === '55P03') {
      throw new UserError(
        `another create-ovu-app provision (or init-db.sql run) has held the provisioning lock at ${where} for over ${Math.round(timeoutMs / 1000)}s; wait for it to finish and run provision again`,
      );
    }
    throw error;
  } finally {
    await admin.query('RESET lock_timeout').catch(() => {});
  }
}

/** Every statement a run would execute now (the admin's membership grant shown with its undo). */
async function planAll(admin: Client, values: SqlValues, shown: SqlValues, reset: string | undefined): Promise<PlannedStatement[]> {
  const out: PlannedStatement[] = [];
  if (reset) out.push({ id: 'reset-password', label: "set the password to the value in the app's .env", sql: reset, serverWide: false });
  const shownIds = new Set<string>();
  for (const s of APP_STATEMENTS) {
    if (s.kind === 'assert') continue;
    let rows = await plan(admin, s, values, shown);
    if (rows.length === 0 && s.undoes !== undefined && [...shownIds].some((id) => id.startsWith(s.undoes!))) {
      rows = [{ id: s.id, label: s.label, sql: `REVOKE ${admin.escapeIdentifier(values.role as string)} FROM CURRENT_USER`, transient: true }];
    }
    for (const r of rows) {
      shownIds.add(s.id);
      out.push({ id: r.id, label: r.label, sql: r.sql, serverWide: false });
    }
  }
  for (const s of PLATFORM_STATEMENTS) {
    for (const r of await plan(admin, s, {})) out.push({ id: r.id, label: r.label, sql: r.sql, serverWide: true });
  }
  return out;
}

export async function stillOpen(admin: Client): Promise<StillOpen[]> {
  return (await admin.query<StillOpen>(STILL_OPEN_QUERY)).rows.map((r) => ({ database: r.database, owner: r.owner, statement: r.statement }));
}

/** The server's connection budget with this app's login at `limit` (without `app`: as the server has it). */
export async function readBudget(admin: Client, app?: { role: string; limit: number }): Promise<Budget> {
  const role = app?.role ?? '';
  const row = (
    await admin.query<{ max: number; reserved: number; ulm: number | null }>(
      `SELECT current_setting('max_connections')::int AS max,
              current_setting('superuser_reserved_connections')::int + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
              (SELECT rolconnlimit FROM pg_roles WHERE rolname = ${admin.escapeLiteral(ULM_ROLE)}) AS ulm`,
    )
  ).rows[0]!;
  const others = (
    await admin.query<{ role: string; limit: number }>(
      `SELECT rolname AS role, rolconnlimit AS limit FROM pg_roles
       WHERE rolcanlogin AND NOT rolsuper AND rolconnlimit >= 0 AND rolname NOT IN (${admin.escapeLiteral(role)}, ${admin.escapeLiteral(ULM_ROLE)})
       ORDER BY rolname`,
    )
  ).rows;
  const ulm = row.ulm === null ? 0 : row.ulm < 0 ? ULM_ASSUMED_CONNECTIONS : row.ulm;
  return { maxConnections: row.max, reserved: row.reserved, ulm, apps: app ? [...others, app] : others };
}

/** A permission error on one of our statements, as what the admin lacks and how to fix it. */
function explainPermission(error: unknown, s: SqlStatement, role: string, admin: string, where: string): unknown {
  if (errorCode(error) !== '42501') return error;
  const reason = errorMessage(error);
  const managed =
    `on PostgreSQL 16 and later a CREATEROLE admin manages only the roles it created or holds ADMIN OPTION on: ` +
    `have a superuser run GRANT ${role} TO ${admin} WITH ADMIN OPTION, or provision as a superuser`;
  if (s.id.startsWith('admin-membership') || s.id === 'reset-password' || s.id.endsWith('-timeout') || s.id === 'connection-limit') {
    return new UserError(`admin ${admin} at ${where} may not change role ${role} (${reason}); ${managed}`);
  }
  return new UserError(`admin ${admin} at ${where} lacks a privilege for "${s.id}" (${reason}); provision as a superuser, or as the role that created ${role}`);
}

/** Run `fn`; once more if a cancel sent on Ctrl-C arrived just as it started (57014). */
async function again<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (errorCode(error) !== '57014') throw error;
    return fn();
  }
}

/** Drop what this run created (database first, while the admin still holds the role, then the role). */
async function rollback(admin: Client, report: ProvisionReport, role: string, db: string, values: SqlValues): Promise<string> {
  const undone: string[] = [];
  const failed: string[] = [];
  // A CREATEROLE admin drops the database only with the owner's privileges: take the role again
  // if this run already gave it back (guarded: nothing happens for a superuser).
  const membership = report.created.database || report.created.role;
  if (membership) {
    await again(async () => {
      const row = (
        await admin.query<{ v16: boolean; has: boolean }>(
          `SELECT current_setting('server_version_num')::int >= 160000 AS v16, ${renderNodeQuery(ADMIN_HAS_ROLE, values, admin)} AS has`,
        )
      ).rows[0];
      if (row && !row.has) await admin.query(renderNode(statement(APP_STATEMENTS, row.v16 ? 'admin-membership-16' : 'admin-membership'), values, admin));
    }).catch(() => {});
  }
  if (report.created.database) {
    try {
      await again(() => admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(db)} WITH (FORCE)`));
      undone.push(`database ${db}`);
    } catch (error) {
      failed.push(`database ${db} (${errorMessage(error)})`);
    }
  }
  if (membership) {
    await again(() => apply(admin, statement(APP_STATEMENTS, 'admin-membership-end'), values)).catch(() => {});
  }
  if (report.created.role) {
    try {
      await again(() => admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(role)}`));
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
