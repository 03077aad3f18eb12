/**
 * Create an app's role and database on a running PostgreSQL (the same statements as its init-db.sql
 * block, from statements.ts), harden the server, verify the result from the app user's side
 * (verify.ts), and drop what this run created if a step fails.
 *
 * `pg` is loaded with a dynamic import inside provision() so that `--help` and every command that
 * never talks to PostgreSQL do not load it.
 */
import type { Client } from 'pg';
import { UserError } from '../errors.ts';
import { parseAdminUrl, redactUrl, resolveAdminUrl } from './admin-url.ts';
import { apply, statement } from './apply.ts';
import { adminTarget, appUserConfig, connect, connectError, passwordLogsIn } from './connection.ts';
import { errorMessage, messageWithCode, oneLine } from './error-text.ts';
import { renderNodeQuery } from './render.ts';
import { APP_STATEMENTS, LOST_PUBLIC_ACCESS_QUERY, PLATFORM_STATEMENTS, appValues } from './statements.ts';
import { type Check, verify } from './verify.ts';
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
  verified: Check[];
  /** Login roles that could reach a database only through PUBLIC, which this run revoked. */
  lostPublicAccess: { role: string; database: string }[];
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Undo the admin's membership in the app role that a CREATEROLE (non-superuser) admin needs on PG15. */
function revokeMembership(admin: Client, role: string): Promise<unknown> {
  return admin.query(`REVOKE ${admin.escapeIdentifier(role)} FROM CURRENT_USER`);
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
  const target = adminTarget(pg, adminUrl);
  const appConfig = appUserConfig(adminUrl, role, timeoutMs);
  /** An unexpected error as a one-line UserError without secrets. */
  const failure = (error: unknown, undo = ''): UserError =>
    new UserError(oneLine(`provisioning ${db} failed at ${target.where}: ${messageWithCode(error)}${undo}`, secrets));

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

  /** Run one of APP_STATEMENTS for this app. */
  const applyApp = (id: string): Promise<string[]> => apply(admin, statement(APP_STATEMENTS, id), values);

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
    await applyApp('database-owner');

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
      const roleChanges = await applyApp('create-role');
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
      const dbChanges = await applyApp('create-database');
      report.created.database = dbChanges.length > 0;
      report.changed.push(...dbChanges);

      step(`restrict ${db} to ${role}`);
      report.changed.push(...(await applyApp('revoke-public')));
      report.changed.push(...(await applyApp('grant-connect')));

      if (temporaryMembership) {
        await revokeMembership(admin, role);
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
      throw failure(error, undo);
    }
    return report;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw failure(error);
  } finally {
    if (temporaryMembership) {
      await revokeMembership(admin, role).catch(() => {});
    }
    await admin.end().catch(() => {});
  }
}

/** Drop what this run created (database first, then role); returns a note for the error message. */
async function rollback(admin: Client, report: ProvisionReport, role: string, db: string, membership: boolean): Promise<string> {
  const undone: string[] = [];
  const failed: string[] = [];
  if (membership) {
    await revokeMembership(admin, role).catch(() => {});
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
