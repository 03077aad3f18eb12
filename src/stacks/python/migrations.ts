/**
 * Alembic's migration state: the heads of the revision graph in backend/alembic/versions against
 * what the app's database records in alembic_version.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MigrationQuery, MigrationState } from '../stack.ts';

export const MIGRATIONS_DIR = 'alembic/versions';

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

export async function alembicState(query: MigrationQuery, dir: string, where: string): Promise<MigrationState> {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.py')).map((e) => ({ name: e.name, text: fs.readFileSync(path.join(dir, e.name), 'utf8') }));
  const heads = alembicHeads(files);
  if (heads.length === 0) return { atHead: true, message: `${where} has no revisions` };
  const applied = ((await query<{ version_num: string }>('SELECT version_num FROM alembic_version')) ?? []).map((r) => r.version_num).sort();
  const pending = heads.filter((h) => !applied.includes(h));
  if (pending.length === 0 && applied.length === heads.length) return { atHead: true, message: `at head ${heads.join(', ')}` };
  if (applied.length === 0) return { atHead: false, message: `no migration has run (head is ${heads.join(', ')})` };
  return { atHead: false, message: `at ${applied.join(', ')}, but the head in ${where} is ${heads.join(', ')}` };
}
