/** Run the statements of statements.ts through node-postgres: each guard as a query, then the statement per row. */
import type { Client } from 'pg';
import { UserError } from '../errors.ts';
import { renderLabel, renderNode, renderNodeProbe } from './render.ts';
import type { SqlStatement, SqlValues } from './statements.ts';

async function probeRows(client: Client, statement: SqlStatement, values: SqlValues): Promise<Record<string, unknown>[]> {
  const result = await client.query(renderNodeProbe(statement, values, client));
  return result.rows as Record<string, unknown>[];
}

/** Run a statement where its guard says so; returns the report labels of what it changed. */
export async function apply(client: Client, statement: SqlStatement, values: SqlValues): Promise<string[]> {
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

/** The statement with this id; a missing one is a programming error. */
export function statement(list: readonly SqlStatement[], id: string): SqlStatement {
  const found = list.find((s) => s.id === id);
  if (!found) throw new Error(`no SQL statement ${id}`);
  return found;
}
