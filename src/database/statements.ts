/**
 * The PostgreSQL statements create-ovu-app runs, defined once as data. render.ts turns them into
 * psql lines for init-db.sql and into node-postgres queries for provision, so both run the same SQL.
 *
 * Template syntax: `{name:ident}` is an identifier, `{name:literal}` a string literal, `{name:int}` a
 * whole number. `sql` is the statement; `when` (a SQL boolean), `from` and `columns` (SQL
 * expressions) are plain SQL fragments that may use the same placeholders. A placeholder listed in
 * `columns` takes its value per row of `from` (set-based statements such as the platform
 * hardening); all others take fixed values.
 *
 * Every guard is written so that it also answers correctly before the role or database exists
 * (`provision --dry-run` evaluates them on the server as it is): "needed unless it is already so".
 *
 * The admin may be a superuser or, as managed PostgreSQL gives (RDS, Cloud SQL, Azure), a role with
 * only CREATEROLE and CREATEDB. Such an admin needs the app role's privileges to create a database
 * owned by it and to change that database; it grants itself the role for the run (PG16+: WITH
 * INHERIT TRUE, SET TRUE, since CREATEROLE alone gives only ADMIN OPTION there) and takes it back at
 * the end (`admin-membership-end`). For a superuser those statements never run.
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
  /** Undone later in the same run (the admin's membership in the app role): not reported as a change. */
  transient?: boolean;
  /** Shown by --dry-run whenever the statement with this id is (it undoes that one). */
  undoes?: string;
}

/** A value for a placeholder: a plain string, or (psql only) a psql variable such as the verifier. */
export type SqlValue = string | { psqlVar: string };
export type SqlValues = Record<string, SqlValue>;

/** Per-role session defaults every app login gets (milliseconds). */
export const ROLE_TIMEOUTS = {
  /** A runaway query is cancelled after a minute; a migration can `SET statement_timeout = 0` for itself. */
  statementTimeoutMs: 60_000,
  /** A session that sits in an open transaction (holding locks and a connection) for a minute is ended. */
  idleInTransactionTimeoutMs: 60_000,
} as const;

/** The advisory lock every provision and every init-db.sql block holds while it changes the server. */
export const PROVISION_LOCK_KEY = 7_304_821_016;

/** Is the current user a superuser, or a member of the app role with its privileges? (false before the role exists) */
export const ADMIN_HAS_ROLE =
  "(EXISTS (SELECT FROM pg_roles WHERE rolname = current_user AND rolsuper) OR EXISTS (SELECT FROM pg_roles r WHERE r.rolname = {role:literal} AND pg_has_role(r.oid, 'USAGE')))";

/** The database still needs work only its owner can do (create it owned by the role, revoke, grant, open). */
const DATABASE_MISSING = 'NOT EXISTS (SELECT FROM pg_database WHERE datname = {db:literal})';
const PUBLIC_NOT_REVOKED =
  "NOT EXISTS (SELECT FROM pg_database d WHERE d.datname = {db:literal} AND NOT (has_database_privilege('public', d.oid, 'CONNECT') OR has_database_privilege('public', d.oid, 'TEMPORARY') OR has_database_privilege('public', d.oid, 'CREATE')))";
const OWNER_LACKS_CONNECT =
  "EXISTS (SELECT FROM pg_roles r JOIN pg_database d ON d.datname = {db:literal} WHERE r.rolname = {role:literal} AND NOT (has_database_privilege(r.oid, d.oid, 'CONNECT') AND has_database_privilege(r.oid, d.oid, 'TEMPORARY')))";
const NOT_OPEN = 'NOT EXISTS (SELECT FROM pg_database WHERE datname = {db:literal} AND datallowconn)';
/** Only then does a CREATEROLE admin need the app role's privileges. */
const OWNER_WORK_PENDING = `(${DATABASE_MISSING} OR ${PUBLIC_NOT_REVOKED} OR ${OWNER_LACKS_CONNECT} OR ${NOT_OPEN})`;

/** A role setting (ALTER ROLE … SET name = value) in place for every database. */
function roleSettingIs(name: string, placeholder: string): string {
  return `EXISTS (SELECT FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = {role:literal} AND s.setdatabase = 0 AND '${name}=' || {${placeholder}:int} = ANY (s.setconfig))`;
}

/** Per app, in order. Values: role, db, verifier, connLimit, statementTimeoutMs, idleTimeoutMs. */
export const APP_STATEMENTS: readonly SqlStatement[] = [
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
    // An existing role is adopted only if it is no more than an app login: no attribute that
    // reaches beyond its own database, no predefined role (pg_read_server_files, pg_execute_server_program, …).
    id: 'role-safe',
    kind: 'assert',
    label: 'role {role} has privileges an app login must not have',
    sql: 'DO $ovu$BEGIN RAISE EXCEPTION USING MESSAGE = {message:literal}; END$ovu$',
    from: 'pg_roles r',
    when: "r.rolname = {role:literal} AND (r.rolsuper OR r.rolreplication OR r.rolbypassrls OR r.rolcreatedb OR r.rolcreaterole OR EXISTS (SELECT FROM pg_roles p WHERE starts_with(p.rolname, 'pg_') AND p.oid <> r.oid AND pg_has_role(r.oid, p.oid, 'MEMBER')))",
    columns: {
      message:
        "format('role %s already exists with %s; create-ovu-app does not adopt a role that can reach beyond its own database: remove that (ALTER ROLE %s NOSUPERUSER NOREPLICATION NOBYPASSRLS NOCREATEDB NOCREATEROLE, REVOKE pg_... FROM %s), or drop the role', r.rolname, concat_ws(', ', CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolreplication THEN 'REPLICATION' END, CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END, CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, (SELECT 'membership in ' || string_agg(p.rolname, ', ' ORDER BY p.rolname) FROM pg_roles p WHERE NOT r.rolsuper AND starts_with(p.rolname, 'pg_') AND p.oid <> r.oid AND pg_has_role(r.oid, p.oid, 'MEMBER'))), r.rolname, r.rolname)",
    },
  },
  {
    // The password arrives as a SCRAM-SHA-256 verifier computed on the client (scram.ts): the
    // server stores it as it is, and no plaintext password is ever in a statement or a log.
    id: 'create-role',
    kind: 'ddl',
    label: 'created role {role}',
    sql: 'CREATE ROLE {role:ident} LOGIN PASSWORD {verifier:literal} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
    when: 'NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {role:literal})',
  },
  {
    id: 'admin-membership',
    kind: 'ddl',
    label: 'granted {role} to the admin for this run',
    sql: 'GRANT {role:ident} TO CURRENT_USER',
    when: `current_setting('server_version_num')::int < 160000 AND NOT ${ADMIN_HAS_ROLE} AND ${OWNER_WORK_PENDING}`,
    transient: true,
  },
  {
    id: 'admin-membership-16',
    kind: 'ddl',
    label: 'granted {role} to the admin for this run',
    // Explicit options: on 16+ a grant's INHERIT defaults to the member's own INHERIT attribute,
    // and the admin needs both (SET for CREATE DATABASE … OWNER, INHERIT to act as the owner).
    sql: 'GRANT {role:ident} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE',
    when: `current_setting('server_version_num')::int >= 160000 AND NOT ${ADMIN_HAS_ROLE} AND ${OWNER_WORK_PENDING}`,
    transient: true,
  },
  {
    // PG15: public schema belongs to pg_database_owner, so the owner can create tables there;
    // GRANT ALL ON DATABASE alone cannot. Created closed (ALLOW_CONNECTIONS false) and opened only
    // after PUBLIC's privileges are gone, so it is never open to every login, not even briefly.
    id: 'create-database',
    kind: 'ddl',
    label: 'created database {db} owned by {role}',
    sql: 'CREATE DATABASE {db:ident} OWNER {role:ident} ALLOW_CONNECTIONS false',
    when: DATABASE_MISSING,
  },
  {
    id: 'revoke-public',
    kind: 'ddl',
    label: 'revoked all PUBLIC privileges on database {db}',
    sql: 'REVOKE ALL ON DATABASE {db:ident} FROM PUBLIC',
    when: PUBLIC_NOT_REVOKED,
  },
  {
    // The owner normally holds these already (and the guard then skips it); this keeps the
    // grant explicit if an owner's own privileges were ever revoked.
    id: 'grant-connect',
    kind: 'ddl',
    label: 'granted CONNECT, TEMPORARY on database {db} to {role}',
    sql: 'GRANT CONNECT, TEMPORARY ON DATABASE {db:ident} TO {role:ident}',
    when: OWNER_LACKS_CONNECT,
  },
  {
    id: 'allow-connections',
    kind: 'ddl',
    label: 'opened database {db} for connections',
    sql: 'ALTER DATABASE {db:ident} ALLOW_CONNECTIONS true',
    when: NOT_OPEN,
  },
  {
    // One app must not take every connection of the server: the limit comes from its pool
    // settings and process count (budget.ts).
    id: 'connection-limit',
    kind: 'ddl',
    label: 'set CONNECTION LIMIT {connLimit} on role {role}',
    sql: 'ALTER ROLE {role:ident} CONNECTION LIMIT {connLimit:int}',
    when: 'NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {role:literal} AND rolconnlimit = {connLimit:int})',
  },
  {
    id: 'statement-timeout',
    kind: 'ddl',
    label: 'set statement_timeout = {statementTimeoutMs} ms for role {role}',
    sql: 'ALTER ROLE {role:ident} SET statement_timeout = {statementTimeoutMs:int}',
    when: `NOT ${roleSettingIs('statement_timeout', 'statementTimeoutMs')}`,
  },
  {
    id: 'idle-timeout',
    kind: 'ddl',
    label: 'set idle_in_transaction_session_timeout = {idleTimeoutMs} ms for role {role}',
    sql: 'ALTER ROLE {role:ident} SET idle_in_transaction_session_timeout = {idleTimeoutMs:int}',
    when: `NOT ${roleSettingIs('idle_in_transaction_session_timeout', 'idleTimeoutMs')}`,
  },
  {
    // Takes back what admin-membership granted: only the membership the admin granted itself.
    id: 'admin-membership-end',
    kind: 'ddl',
    label: 'took back {role} from the admin',
    sql: 'REVOKE {role:ident} FROM CURRENT_USER',
    when: 'EXISTS (SELECT FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles me ON me.oid = m.member WHERE r.rolname = {role:literal} AND me.rolname = current_user AND m.grantor = me.oid)',
    transient: true,
    undoes: 'admin-membership',
  },
];

/**
 * Platform hardening, once per server, after every database exists. PostgreSQL gives PUBLIC CONNECT
 * and TEMPORARY on each new database, so any login role can connect anywhere; revoke that on every
 * database that accepts connections, template1 included (template0 has datallowconn = false).
 * Superusers, owners and roles granted CONNECT explicitly keep access. Database ACLs are not copied
 * from the template, so databases created later still start open: rerun this (provision does).
 *
 * Only on databases whose owner's privileges the current user has (pg_has_role … 'USAGE': always
 * true for a superuser). A CREATEROLE-only admin cannot revoke on the others (often `postgres`,
 * `template1`, ULM's): STILL_OPEN_QUERY lists them, with the statement their owner must run.
 */
export const PLATFORM_STATEMENTS: readonly SqlStatement[] = [
  {
    id: 'harden-databases',
    kind: 'ddl',
    label: 'revoked PUBLIC CONNECT, TEMPORARY on database {db}',
    sql: 'REVOKE CONNECT, TEMPORARY ON DATABASE {db:ident} FROM PUBLIC',
    from: 'pg_database d',
    when: "d.datallowconn AND (has_database_privilege('public', d.oid, 'CONNECT') OR has_database_privilege('public', d.oid, 'TEMPORARY')) AND pg_has_role(d.datdba, 'USAGE')",
    columns: { db: 'd.datname' },
  },
];

/** Databases owned by one of {owners:literal} (a comma-separated list of this workspace's app logins). */
const WORKSPACE_OWNED = "pg_get_userbyid(d.datdba) = ANY (string_to_array({owners:literal}, ','))";

/**
 * provision's hardening, in two parts: the databases this workspace's apps own (app-local, always)
 * and every other database (server-wide: another team's, `postgres`, `template1`; only with consent).
 * Placeholder: {owners:literal}.
 */
export const WORKSPACE_HARDENING: SqlStatement = {
  ...PLATFORM_STATEMENTS[0]!,
  id: 'harden-workspace-databases',
  when: `${PLATFORM_STATEMENTS[0]!.when} AND ${WORKSPACE_OWNED}`,
};
export const SERVER_HARDENING: SqlStatement = {
  ...PLATFORM_STATEMENTS[0]!,
  id: 'harden-databases',
  when: `${PLATFORM_STATEMENTS[0]!.when} AND NOT ${WORKSPACE_OWNED}`,
};

/** Databases that stay open to PUBLIC because the current user cannot revoke there; with what to run. */
export const STILL_OPEN_QUERY = `SELECT d.datname AS database, pg_get_userbyid(d.datdba) AS owner,
  format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC;', d.datname) AS statement
FROM pg_database d
WHERE d.datallowconn
  AND (has_database_privilege('public', d.oid, 'CONNECT') OR has_database_privilege('public', d.oid, 'TEMPORARY'))
  AND NOT pg_has_role(d.datdba, 'USAGE')
ORDER BY d.datname`;

/**
 * Login roles (not superusers) that can connect to a database today only because PUBLIC may:
 * they are not its owner, not granted CONNECT, and not members of a role that is. The platform
 * hardening takes that access away (only on databases the current user can change, as it does).
 * Placeholder: {exclude:literal}, a role to leave out.
 */
export const LOST_PUBLIC_ACCESS_QUERY = `SELECT r.rolname AS role, d.datname AS database, pg_get_userbyid(d.datdba) AS owner
FROM pg_database d CROSS JOIN pg_roles r
WHERE d.datallowconn
  AND r.rolcanlogin AND NOT r.rolsuper
  AND r.rolname <> {exclude:literal}
  AND has_database_privilege('public', d.oid, 'CONNECT')
  AND pg_has_role(d.datdba, 'USAGE')
  AND NOT EXISTS (
    SELECT FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
    WHERE a.privilege_type = 'CONNECT' AND a.grantee <> 0 AND pg_has_role(r.oid, a.grantee, 'USAGE'))
ORDER BY d.datname, r.rolname`;

/** Per-app numbers the statements need beside the names. */
export interface RoleLimits {
  connLimit: number;
}

/** Fixed values for one app; the verifier is given by the caller (a psql variable or the real one). */
export function appValues(spec: AppSpec, verifier: SqlValue, limits: RoleLimits): SqlValues {
  return {
    role: assertIdentifier(spec.names.user, 'role name'),
    db: assertIdentifier(spec.names.db, 'database name'),
    verifier,
    connLimit: String(limits.connLimit),
    statementTimeoutMs: String(ROLE_TIMEOUTS.statementTimeoutMs),
    idleTimeoutMs: String(ROLE_TIMEOUTS.idleInTransactionTimeoutMs),
  };
}

/** The psql variable an app's verifier is read into (`\getenv <this> <VERIFIER_VAR>`). */
export function psqlVerifierVar(spec: AppSpec): string {
  return `${assertIdentifier(spec.names.snake, 'app name')}_db_verifier`;
}
