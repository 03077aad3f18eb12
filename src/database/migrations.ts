/**
 * Is an app's database at its newest migration? What the app's files say is newest (Alembic's
 * revision graph in backend/alembic/versions, Prisma's directories in backend/prisma/migrations)
 * against what its own database records (alembic_version, _prisma_migrations), read as the app's
 * login.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import type { Stack } from '../app/spec.ts';
import { errorCode } from './error-text.ts';

/** Where each stack keeps its migrations, relative to backend/. */
export const MIGRATIONS_DIR: Record<Stack, string> = { python: 'alembic/versions', typescript: 'prisma/migrations' };

interface Revision {
  id: string;
  down: string[];
  file: string;
}

/** `revision = "…"` and `down_revision = None | "…" | ("…", "…")`, with or without a type annotation. */
export function parseAlembicRevision(text: string, file: string): Revision | undefined {
  const assignment = (name: string): string | undefined => new RegExp(`^${name}(?:\\s*:[^=\\n]+)?\\s*=\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
  const rev = assignment('revision');
  const id = rev && /^['"]([^'"]+)['"]/.exec(rev)?.[1];
  if (!id) return undefined;
  const down = [...(assignment('down_revision') ?? '').matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return { id, down, file };
}

/** The heads of Alembic's revision graph: revisions no other revision names as its down_revision. */
export function alembicHeads(files: { name: string; text: string }[]): string[] {
  const revisions = files.flatMap((f) => parseAlembicRevision(f.text, f.name) ?? []);
  const parents = new Set(revisions.flatMap((r) => r.down));
  return revisions.filter((r) => !parents.has(r.id)).map((r) => r.id).sort();
}

/** Prisma's migrations: the directories that hold a migration.sql, in name (= time) order. */
export function prismaMigrations(dir: string): string[] {
  return readDir(dir)
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort();
}

function readDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export interface MigrationState {
  /** At the newest migration the files have. */
  atHead: boolean;
  /** What is wrong, or where it stands, in one sentence. */
  message: string;
}

/** The migration state of the database `client` is connected to (as the app's login). */
export async function migrationState(client: Client, stack: Stack, backendDir: string): Promise<MigrationState> {
  const dir = path.join(backendDir, MIGRATIONS_DIR[stack]);
  const where = path.join(path.basename(path.dirname(backendDir)), 'backend', MIGRATIONS_DIR[stack]);
  const rows = async <T>(sql: string): Promise<T[] | undefined> => {
    try {
      return (await client.query(sql)).rows as T[];
    } catch (error) {
      if (errorCode(error) === '42P01') return undefined; // no such table: nothing has run
      throw error;
    }
  };
  if (stack === 'python') {
    const files = readDir(dir)
      .filter((e) => e.isFile() && e.name.endsWith('.py'))
      .map((e) => ({ name: e.name, text: fs.readFileSync(path.join(dir, e.name), 'utf8') }));
    const heads = alembicHeads(files);
    if (heads.length === 0) return { atHead: true, message: `${where} has no revisions` };
    const applied = ((await rows<{ version_num: string }>('SELECT version_num FROM alembic_version')) ?? []).map((r) => r.version_num).sort();
    const pending = heads.filter((h) => !applied.includes(h));
    if (pending.length === 0 && applied.length === heads.length) return { atHead: true, message: `at head ${heads.join(', ')}` };
    if (applied.length === 0) return { atHead: false, message: `no migration has run (head is ${heads.join(', ')})` };
    return { atHead: false, message: `at ${applied.join(', ')}, but the head in ${where} is ${heads.join(', ')}` };
  }
  const names = prismaMigrations(dir);
  if (names.length === 0) return { atHead: true, message: `${where} has no migrations` };
  const recorded = await rows<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
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
