/**
 * The PostgreSQL statements create-ovu-app runs, defined once as data. render.ts turns them into
 * psql lines for init-db.sql and into node-postgres queries for provision, so both run the same SQL.
 *
 * Template syntax: `{name:ident}` is an identifier, `{name:literal}` a string literal. `sql` is the
 * statement; `when` (a SQL boolean), `from` and `columns` (SQL expressions) are plain SQL fragments
 * that may use the same placeholders. A placeholder listed in `columns` takes its value per row of
 * `from` (set-based statements such as the platform hardening); all others take fixed values.
 */
import { assertIdentifier } from './identifiers.ts';
import type { AppSpec } from '../app/spec.ts';

export interface SqlStatement {
  /** Stable id (tests and reports refer to it). */
  id: string;
  /** `ddl` runs `sql`; `assert` stops with the message in `sql`'s {message:literal} (init-db) or a UserError (provision). */
  kind: 'ddl' | 'assert';
  /** What a run of it changed, for reports; `{name}` is replaced by the value (plain text, not SQL). */
  label: string;
  /** The statement, with placeholders. */
  sql: string;
  /** SQL boolean: the statement runs only when it is true (once, or once per row of `from`). */
  when: string;
  /** Optional FROM clause; the statement then runs once per matching row. */
  from?: string;
  /** Placeholders whose value comes from a SQL expression over `from` (or over nothing). */
  columns?: Record<string, string>;
}

/** A value for a placeholder: a plain string, or (psql only) a psql variable such as the password. */
export type SqlValue = string | { psqlVar: string };
export type SqlValues = Record<string, SqlValue>;

/** Per app, in order. Values: role, db, password. */
export const APP_STATEMENTS: readonly SqlStatement[] = [
  {
    id: 'create-role',
    kind: 'ddl',
    label: 'created role {role}',
    sql: 'CREATE ROLE {role:ident} LOGIN PASSWORD {password:literal} NOSUPERUSER NOCREATEDB NOCREATEROLE',
    when: 'NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {role:literal})',
  },
  {
    id: 'database-owner',
    kind: 'assert',
    label: 'database {db} belongs to another role',
    sql: 'DO $ovu$BEGIN RAISE EXCEPTION USING MESSAGE = {message:literal}; END$ovu$',
    from: 'pg_database d',
    when: 'd.datname = {db:literal} AND d.datdba IS DISTINCT FROM (SELECT oid FROM pg_roles WHERE rolname = {role:literal})',
    columns: {
      message:
        "format('database %s already exists and is owned by %s, not %s; drop it, give it to %s (ALTER DATABASE %s OWNER TO %s), or choose another app name', d.datname, pg_get_userbyid(d.datdba), {role:literal}, {role:literal}, d.datname, {role:literal})",
    },
  },
  {
    // PG15: public schema belongs to pg_database_owner, so the owner can create tables there;
    // GRANT ALL ON DATABASE alone cannot.
    id: 'create-database',
    kind: 'ddl',
    label: 'created database {db} owned by {role}',
    sql: 'CREATE DATABASE {db:ident} OWNER {role:ident}',
    when: 'NOT EXISTS (SELECT FROM pg_database WHERE datname = {db:literal})',
  },
  {
    id: 'revoke-public',
    kind: 'ddl',
    label: 'revoked all PUBLIC privileges on database {db}',
    sql: 'REVOKE ALL ON DATABASE {db:ident} FROM PUBLIC',
    when:
      "EXISTS (SELECT FROM pg_database WHERE datname = {db:literal} AND (has_database_privilege('public', oid, 'CONNECT') OR has_database_privilege('public', oid, 'TEMPORARY') OR has_database_privilege('public', oid, 'CREATE')))",
  },
  {
    // The owner normally holds these already (and the guard then skips it); this keeps the
    // grant explicit if an owner's own privileges were ever revoked.
    id: 'grant-connect',
    kind: 'ddl',
    label: 'granted CONNECT, TEMPORARY on database {db} to {role}',
    sql: 'GRANT CONNECT, TEMPORARY ON DATABASE {db:ident} TO {role:ident}',
    when: "NOT (has_database_privilege({role:literal}, {db:literal}, 'CONNECT') AND has_database_privilege({role:literal}, {db:literal}, 'TEMPORARY'))",
  },
];

/**
 * Platform hardening, once per server, after every database exists. PostgreSQL gives PUBLIC CONNECT
 * and TEMPORARY on each new database, so any login role can connect anywhere; revoke that on every
 * database that accepts connections, template1 included (template0 has datallowconn = false).
 * Superusers, owners and roles granted CONNECT explicitly keep access. Database ACLs are not copied
 * from the template, so databases created later still start open: rerun this (provision does).
 */
export const PLATFORM_STATEMENTS: readonly SqlStatement[] = [
  {
    id: 'harden-databases',
    kind: 'ddl',
    label: 'revoked PUBLIC CONNECT, TEMPORARY on database {db}',
    sql: 'REVOKE CONNECT, TEMPORARY ON DATABASE {db:ident} FROM PUBLIC',
    from: 'pg_database d',
    // pg_has_role(owner, 'MEMBER') is always true for a superuser; it keeps a CREATEROLE-only
    // admin (provision) from "revoking" on databases it cannot change (a no-op with a warning).
    when: "d.datallowconn AND (has_database_privilege('public', d.oid, 'CONNECT') OR has_database_privilege('public', d.oid, 'TEMPORARY')) AND pg_has_role(d.datdba, 'MEMBER')",
    columns: { db: 'd.datname' },
  },
];

/**
 * Login roles (not superusers) that can connect to a database today only because PUBLIC may:
 * they are not its owner, not granted CONNECT, and not members of a role that is. The platform
 * hardening takes that access away (only on databases the current user can change, as it does).
 * Placeholder: {exclude:literal}, a role to leave out.
 */
export const LOST_PUBLIC_ACCESS_QUERY = `SELECT r.rolname AS role, d.datname AS database
FROM pg_database d CROSS JOIN pg_roles r
WHERE d.datallowconn
  AND r.rolcanlogin AND NOT r.rolsuper
  AND r.rolname <> {exclude:literal}
  AND has_database_privilege('public', d.oid, 'CONNECT')
  AND pg_has_role(d.datdba, 'MEMBER')
  AND NOT EXISTS (
    SELECT FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
    WHERE a.privilege_type = 'CONNECT' AND a.grantee <> 0 AND pg_has_role(r.oid, a.grantee, 'USAGE'))
ORDER BY d.datname, r.rolname`;

/** Fixed values for one app; the password is given by the caller (a psql variable or the real one). */
export function appValues(spec: AppSpec, password: SqlValue): SqlValues {
  return {
    role: assertIdentifier(spec.names.user, 'role name'),
    db: assertIdentifier(spec.names.db, 'database name'),
    password,
  };
}

/** The psql variable an app's password is read into (`\getenv <this> <PASSWORD_VAR>`). */
export function psqlPasswordVar(spec: AppSpec): string {
  return `${assertIdentifier(spec.names.snake, 'app name')}_db_password`;
}
