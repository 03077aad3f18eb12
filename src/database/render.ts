/**
 * The two renderers of the statements in statements.ts (template syntax described there):
 *
 *  - psql (init-db.sql, run by the postgres image's entrypoint): every statement becomes
 *    `SELECT format('<sql with %I/%L>', <args>) [FROM …] WHERE <guard> \gexec`, so PostgreSQL's own
 *    format() does the quoting and the password arrives as a psql variable (`:'var'`), never as text
 *    in the file;
 *  - node-postgres (provision): the guard runs as a query, and for each row it returns the statement
 *    is rendered with the client's escapeIdentifier / escapeLiteral.
 */
import { assertIdentifier } from './identifiers.ts';
import type { SqlStatement, SqlValue, SqlValues } from './statements.ts';

type PlaceholderKind = 'ident' | 'literal' | 'int';

/** What node-postgres' Client offers for quoting; a Client satisfies it. */
export interface Escaper {
  escapeIdentifier(value: string): string;
  escapeLiteral(value: string): string;
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*):(ident|literal|int)\}/g;
const INTEGER = /^(0|[1-9][0-9]{0,17})$/;

/** A whole number's text, checked: it goes into SQL unquoted. */
function integerText(value: string): string {
  if (!INTEGER.test(value)) throw new Error(`invalid integer SQL value ${JSON.stringify(value)}`);
  return value;
}
const PSQL_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Replace every placeholder in `template` with what `render` returns for it. */
function substitute(template: string, render: (name: string, kind: PlaceholderKind) => string): string {
  return template.replace(PLACEHOLDER, (_match, name: string, kind: PlaceholderKind) => render(name, kind));
}

function valueOf(values: SqlValues, name: string): SqlValue {
  const value = values[name];
  if (value === undefined) throw new Error(`no value for SQL placeholder {${name}}`);
  return value;
}

/**
 * Text as a standard SQL string literal: quotes doubled, backslashes kept as they are
 * (standard_conforming_strings, on by default since PostgreSQL 9.1). For text we write ourselves
 * (identifiers we generated, our templates, our messages); user values go through psql variables
 * or the client's escapeLiteral.
 */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * A fixed value as psql source text: a psql variable as `:'var'` (psql quotes it), a plain string
 * (only identifiers we generated are allowed) as a quoted literal. `kind` ident in a fragment gives
 * a double-quoted identifier.
 */
function psqlValue(value: SqlValue, kind: PlaceholderKind): string {
  if (typeof value !== 'string') {
    if (!PSQL_VARIABLE.test(value.psqlVar)) throw new Error(`invalid psql variable name ${JSON.stringify(value.psqlVar)}`);
    if (kind === 'int') throw new Error(`psql variable :${value.psqlVar} cannot be an integer placeholder`);
    if (kind === 'ident') return `:"${value.psqlVar}"`;
    return `:'${value.psqlVar}'`;
  }
  if (kind === 'int') return integerText(value);
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
    if (kind === 'int') {
      args.push(column !== undefined ? psqlFragment(column, values) : psqlValue(valueOf(values, name), 'int'));
      return '%s';
    }
    args.push(column !== undefined ? psqlFragment(column, values) : psqlValue(valueOf(values, name), 'literal'));
    return kind === 'ident' ? '%I' : '%L';
  });
  const parts = [`SELECT format(${[quoteLiteral(formatString), ...args].join(', ')})`];
  if (statement.from !== undefined) parts.push(`FROM ${psqlFragment(statement.from, values)}`);
  parts.push(`WHERE ${psqlFragment(statement.when, values)}`);
  return `${parts.join(' ')} \\gexec`;
}

function nodeValue(value: SqlValue, kind: PlaceholderKind, esc: Escaper): string {
  if (typeof value !== 'string') throw new Error(`psql variable :${value.psqlVar} cannot be used with node-postgres`);
  if (kind === 'int') return integerText(value);
  return kind === 'ident' ? esc.escapeIdentifier(value) : esc.escapeLiteral(value);
}

/** Render a standalone query (such as LOST_PUBLIC_ACCESS_QUERY) or a fragment for node-postgres. */
export function renderNodeQuery(template: string, values: SqlValues, esc: Escaper): string {
  return substitute(template, (name, kind) => nodeValue(valueOf(values, name), kind, esc));
}

/**
 * The guard as a query for node-postgres: returns one row per time the statement must run, with a
 * column per placeholder listed in `columns` (named after the placeholder).
 */
export function renderNodeProbe(statement: SqlStatement, values: SqlValues, esc: Escaper): string {
  const fragment = (text: string): string => renderNodeQuery(text, values, esc);
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
      const raw = row[name];
      const value = typeof raw === 'number' ? String(raw) : raw;
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
