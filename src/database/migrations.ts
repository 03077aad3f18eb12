/**
 * Is an app's database at its newest migration? What the app's files say is newest against what
 * its own database records, read as the app's login. How each stack keeps its migrations is the
 * stack's (src/stacks/<id>/migrations.ts); this module runs the queries.
 */
import path from 'node:path';
import type { Client } from 'pg';
import type { Stack } from '../app/spec.ts';
import { STACKS } from '../stacks/index.ts';
import type { MigrationState } from '../stacks/stack.ts';
import { errorCode } from './error-text.ts';

export type { MigrationState } from '../stacks/stack.ts';
export { alembicHeads, parseAlembicRevision } from '../stacks/python/migrations.ts';
export { prismaMigrations } from '../stacks/typescript/migrations.ts';

/** The migration state of the database `client` is connected to (as the app's login). */
export async function migrationState(client: Client, stack: Stack, backendDir: string): Promise<MigrationState> {
  const { dir, state } = STACKS[stack].migrations;
  const where = path.join(path.basename(path.dirname(backendDir)), 'backend', dir);
  const query = async <T>(sql: string): Promise<T[] | undefined> => {
    try {
      return (await client.query(sql)).rows as T[];
    } catch (error) {
      if (errorCode(error) === '42P01') return undefined; // no such table: nothing has run
      throw error;
    }
  };
  return state(query, path.join(backendDir, dir), where);
}
