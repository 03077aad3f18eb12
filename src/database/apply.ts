/** Run the statements of statements.ts through node-postgres: each guard as a query, then the statement per row. */
import type { Client } from 'pg';
import { UserError } from '../errors.ts';
import { renderLabel, renderNode, renderNodeProbe } from './render.ts';
import type { SqlStatement, SqlValues } from './statements.ts';

async function probeRows(client: Client, statement: SqlStatement, values: SqlValues): Promise<Record<string, unknown>[]> {
  const result = await client.query(renderNodeProbe(statement, values, client));
  return result.rows as Record<string, unknown>[];
}

/** What one statement run did (or, planned, would do). */
export interface Applied {
  id: string;
  label: string;
  /** The SQL as run, with `shown` values (the verifier redacted). */
  sql: string;
  transient: boolean;
}

/**
 * Run a statement where its guard says so; returns what it ran. An assert whose guard holds
 * throws its message as a UserError.
 */
export async function apply(client: Client, statement: SqlStatement, values: SqlValues, shown: SqlValues = values): Promise<Applied[]> {
  const done: Applied[] = [];
  for (const row of await probeRows(client, statement, values)) {
    if (statement.kind === 'assert') throw new UserError(String(row.message ?? renderLabel(statement, values, row)));
    await client.query(renderNode(statement, values, client, row));
    done.push(applied(client, statement, shown, row));
  }
  return done;
}

/** Like apply, but only says what would run (asserts still throw: they are checks, not changes). */
export async function plan(client: Client, statement: SqlStatement, values: SqlValues, shown: SqlValues = values): Promise<Applied[]> {
  const rows = await probeRows(client, statement, values);
  if (statement.kind === 'assert') {
    const row = rows[0];
    if (row) throw new UserError(String(row.message ?? renderLabel(statement, values, row)));
    return [];
  }
  return rows.map((row) => applied(client, statement, shown, row));
}

function applied(client: Client, statement: SqlStatement, shown: SqlValues, row: Record<string, unknown>): Applied {
  return {
    id: statement.id,
    label: renderLabel(statement, shown, row),
    sql: renderNode(statement, shown, client, row),
    transient: statement.transient === true,
  };
}

/** The statement with this id; a missing one is a programming error. */
export function statement(list: readonly SqlStatement[], id: string): SqlStatement {
  const found = list.find((s) => s.id === id);
  if (!found) throw new Error(`no SQL statement ${id}`);
  return found;
}
