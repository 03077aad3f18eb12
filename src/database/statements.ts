/**
 * The PostgreSQL statements create-ovu-app runs, defined once as data, with two renderers:
 *
 *  - psql (init-db.sql, run by the postgres image's entrypoint): every statement becomes
 *    `SELECT format('<sql with %I/%L>', <args>) [FROM …] WHERE <guard> \gexec`, so PostgreSQL's own
 *    format() does the quoting and the password arrives as a psql variable (`:'var'`), never as text
 *    in the file;
 *  - node-postgres (provision): the guard runs as a query, and for each row it returns the statement
 *    is rendered with the client's escapeIdentifier / escapeLiteral.
 *
 * Template syntax: `{name:ident}` is an identifier, `{name:literal}` a string literal. `sql` is the
 * statement; `when` (a SQL boolean), `from` and `columns` (SQL expressions) are plain SQL fragments
 * that may use the same placeholders. A placeholder listed in `columns` takes its value per row of
 * `from` (set-based statements such as the platform hardening); all others take fixed values.
 */
import type { AppSpec } from '../app/spec.ts';

export type PlaceholderKind = 'ident' | 'literal';

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

/** What node-postgres' Client offers for quoting; a Client satisfies it. */
export interface Escaper {
  escapeIdentifier(value: string): string;
  escapeLiteral(value: string): string;
}

/** Names we generate and put into SQL: lower-case identifiers PostgreSQL never needs to quote. */
export const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]*$/;
/** PostgreSQL truncates identifiers longer than NAMEDATALEN-1 = 63 bytes. */
export const MAX_IDENTIFIER_LENGTH = 63;

export function assertIdentifier(name: string, what = 'identifier'): string {
  if (!IDENTIFIER_PATTERN.test(name) || name.length > MAX_IDENTIFIER_LENGTH) {
    throw new Error(
      `invalid ${what} ${JSON.stringify(name)}: must match [a-z_][a-z0-9_]* and be at most ${MAX_IDENTIFIER_LENGTH} characters`,
    );
  }
  return name;
}

// ---------------------------------------------------------------------------------------------
// The statements
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*):(ident|literal)\}/g;
const PSQL_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Replace every placeholder in `template` with what `render` returns for it. */
function substitute(template: string, render: (name: string, kind: PlaceholderKind) => string): string {
  return template.replace(PLACEHOLDER, (_match, name: string, kind: PlaceholderKind) => render(name, kind));
}

/** Placeholder names used by a template, in order (with repeats). */
export function placeholders(template: string): { name: string; kind: PlaceholderKind }[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({ name: m[1] as string, kind: m[2] as PlaceholderKind }));
}

function valueOf(values: SqlValues, name: string): SqlValue {
  const value = values[name];
  if (value === undefined) throw new Error(`no value for SQL placeholder {${name}}`);
  return value;
}

/** A standard SQL string literal; only used for values already checked against IDENTIFIER_PATTERN. */
function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A fixed value as psql source text: a psql variable as `:'var'` (psql quotes it), a plain string
 * (only identifiers we generated are allowed) as a quoted literal. `kind` ident in a fragment gives
 * a double-quoted identifier.
 */
function psqlValue(value: SqlValue, kind: PlaceholderKind): string {
  if (typeof value !== 'string') {
    if (!PSQL_VARIABLE.test(value.psqlVar)) throw new Error(`invalid psql variable name ${JSON.stringify(value.psqlVar)}`);
    if (kind === 'ident') return `:"${value.psqlVar}"`;
    return `:'${value.psqlVar}'`;
  }
  assertIdentifier(value, 'value rendered into init-db.sql');
  return kind === 'ident' ? `"${value}"` : quoteLiteral(value);
}

/** Render a SQL fragment (when/from/column expression) for psql. */
function psqlFragment(fragment: string, values: SqlValues): string {
  return substitute(fragment, (name, kind) => psqlValue(valueOf(values, name), kind));
}

/**
 * One statement as a psql line: `SELECT format('…', args) [FROM …] WHERE guard \gexec`.
 * Identifiers go to format() as literals and come out through %I; literals through %L.
 */
export function renderPsql(statement: SqlStatement, values: SqlValues): string {
  const columns = statement.columns ?? {};
  const args: string[] = [];
  const formatString = substitute(statement.sql.replace(/%/g, '%%'), (name, kind) => {
    const column = columns[name];
    args.push(column !== undefined ? psqlFragment(column, values) : psqlValue(valueOf(values, name), 'literal'));
    return kind === 'ident' ? '%I' : '%L';
  });
  const parts = [`SELECT format(${[quoteSqlText(formatString), ...args].join(', ')})`];
  if (statement.from !== undefined) parts.push(`FROM ${psqlFragment(statement.from, values)}`);
  parts.push(`WHERE ${psqlFragment(statement.when, values)}`);
  return `${parts.join(' ')} \\gexec`;
}

/** SQL text (our own templates) as a string literal for format(). */
function quoteSqlText(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function nodeValue(value: SqlValue, kind: PlaceholderKind, esc: Escaper): string {
  if (typeof value !== 'string') throw new Error(`psql variable :${value.psqlVar} cannot be used with node-postgres`);
  return kind === 'ident' ? esc.escapeIdentifier(value) : esc.escapeLiteral(value);
}

/**
 * The guard as a query for node-postgres: returns one row per time the statement must run, with a
 * column per placeholder listed in `columns` (named after the placeholder).
 */
export function renderNodeProbe(statement: SqlStatement, values: SqlValues, esc: Escaper): string {
  const fragment = (text: string): string =>
    substitute(text, (name, kind) => nodeValue(valueOf(values, name), kind, esc));
  const columns = Object.entries(statement.columns ?? {}).map(
    ([name, expression]) => `${fragment(expression)} AS ${esc.escapeIdentifier(name)}`,
  );
  const select = columns.length > 0 ? columns.join(', ') : '1 AS needed';
  const from = statement.from !== undefined ? ` FROM ${fragment(statement.from)}` : '';
  return `SELECT ${select}${from} WHERE ${fragment(statement.when)}`;
}

/** The statement itself for node-postgres, `row` holding the probe's column values. */
export function renderNode(
  statement: SqlStatement,
  values: SqlValues,
  esc: Escaper,
  row: Record<string, unknown> = {},
): string {
  return substitute(statement.sql, (name, kind) => {
    if (statement.columns?.[name] !== undefined) {
      const value = row[name];
      if (typeof value !== 'string') throw new Error(`probe for ${statement.id} returned no ${name}`);
      return nodeValue(value, kind, esc);
    }
    return nodeValue(valueOf(values, name), kind, esc);
  });
}

/** The report label of a statement run, `{name}` filled from values and the probe row. */
export function renderLabel(statement: SqlStatement, values: SqlValues, row: Record<string, unknown> = {}): string {
  return statement.label.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (match, name: string) => {
    const fromRow = row[name];
    if (typeof fromRow === 'string') return fromRow;
    const value = values[name];
    return typeof value === 'string' ? value : match;
  });
}

/** Render a standalone query (such as LOST_PUBLIC_ACCESS_QUERY) for node-postgres. */
export function renderNodeQuery(template: string, values: SqlValues, esc: Escaper): string {
  return substitute(template, (name, kind) => nodeValue(valueOf(values, name), kind, esc));
}
