/**
 * Prisma's migration state: the directories in backend/prisma/migrations that hold a migration.sql
 * against what the app's database records in _prisma_migrations.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MigrationQuery, MigrationState } from '../stack.ts';

export const MIGRATIONS_DIR = 'prisma/migrations';

/** Prisma's migrations: the directories that hold a migration.sql, in name (= time) order. */
export function prismaMigrations(dir: string): string[] {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return entries
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort();
}

export async function prismaState(query: MigrationQuery, dir: string, where: string): Promise<MigrationState> {
  const names = prismaMigrations(dir);
  if (names.length === 0) return { atHead: true, message: `${where} has no migrations` };
  const recorded = await query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
    'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations',
  );
  if (recorded === undefined) return { atHead: false, message: `no migration has run (${names.length} in ${where})` };
  const failed = recorded.filter((r) => r.finished_at === null && r.rolled_back_at === null).map((r) => r.migration_name);
  if (failed.length > 0) return { atHead: false, message: `migration ${failed.join(', ')} failed and is not rolled back` };
  const done = new Set(recorded.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => r.migration_name));
  const pending = names.filter((n) => !done.has(n));
  if (pending.length > 0) return { atHead: false, message: `${pending.length} of ${names.length} not applied: ${pending.join(', ')}` };
  return { atHead: true, message: `all ${names.length} applied (newest ${names[names.length - 1]})` };
}
