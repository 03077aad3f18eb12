/**
 * Compose indexes kept between runs, by the SHA-256 of the file's exact text (and of this build),
 * in the user's cache directory: outside the workspace, so nothing in it needs committing or
 * ignoring. Reading is a hash and one small file; a missing, unreadable or foreign entry is a
 * miss, and a miss only costs the parse the index saves. Writing is best effort, atomic (a
 * temporary file renamed into place) and keeps the newest entries only.
 *
 * OVU_CACHE_DIR moves the cache; OVU_CACHE_DIR=off turns it off. Unbundled sources (tests,
 * plop, tsx) use it only when OVU_CACHE_DIR says where: their code changes without a build id.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ComposeIndex } from './compose-index.ts';
import { VERSION } from './version.ts';

// The bundler sets __OVU_BUILD_ID__ to a hash of the sources, so a rebuilt CLI never reads an
// index an older build wrote; unbundled sources (tests) use their own key space.
declare const __OVU_BUILD_ID__: string | undefined;
const BUILD = typeof __OVU_BUILD_ID__ === 'string' ? __OVU_BUILD_ID__ : 'source';
const FORMAT = 'compose-index-1';
const KEEP = 32;

export function cacheDir(env: NodeJS.ProcessEnv = process.env, build = BUILD): string | undefined {
  const override = env['OVU_CACHE_DIR'];
  if (override !== undefined) return override === '' || /^(off|0|false|no)$/i.test(override) ? undefined : path.resolve(override);
  if (build === 'source') return undefined;
  let home: string;
  try {
    home = os.homedir();
  } catch {
    return undefined; // no home directory: run without the cache
  }
  if (process.platform === 'win32') return path.join(env['LOCALAPPDATA'] ?? path.join(home, 'AppData', 'Local'), 'create-ovu-app', 'Cache');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'create-ovu-app');
  return path.join(env['XDG_CACHE_HOME'] || path.join(home, '.cache'), 'create-ovu-app');
}

function entryFile(dir: string, text: string): { file: string; key: string } {
  const key = createHash('sha256').update(`${FORMAT}\0${VERSION}\0${BUILD}\0`).update(text).digest('hex');
  return { file: path.join(dir, 'compose', `${key.slice(0, 40)}.json`), key };
}

export function loadIndex(text: string): ComposeIndex | undefined {
  const dir = cacheDir();
  if (dir === undefined) return undefined;
  const { file, key } = entryFile(dir, text);
  try {
    const entry = JSON.parse(fs.readFileSync(file, 'utf8')) as { key?: unknown; index?: unknown };
    return entry.key === key && isIndex(entry.index, text) ? entry.index : undefined;
  } catch {
    return undefined;
  }
}

export function saveIndex(text: string, index: ComposeIndex): void {
  const dir = cacheDir();
  if (dir === undefined) return;
  const { file, key } = entryFile(dir, text);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, JSON.stringify({ key, index }), { mode: 0o600 });
    fs.renameSync(tmp, file);
    prune(path.dirname(file));
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/** The shape of an index whose offsets are line starts of `text`: anything else is a miss. */
function isIndex(x: unknown, text: string): x is ComposeIndex {
  const o = x as ComposeIndex | null;
  const lineStart = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) > 0 && (n as number) <= text.length && text[(n as number) - 1] === '\n';
  const col = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;
  const style = o?.style;
  return (
    typeof o?.js === 'object' && o.js !== null && typeof o.js['services'] === 'object' && o.js['services'] !== null &&
    typeof style === 'object' && style !== null && col(style.step) && col(style.seqOffset) &&
    typeof style.singleQuote === 'boolean' && typeof style.flowPadding === 'boolean' && (style.eol === '\n' || style.eol === '\r\n') &&
    typeof o.services === 'object' && o.services !== null && col(o.services.col) && typeof o.services.blank === 'boolean' && lineStart(o.services.at) &&
    (o.postgres === null ||
      (typeof o.postgres === 'object' && typeof o.postgres.name === 'string' && col(o.postgres.envCol) && lineStart(o.postgres.envAt) && o.postgres.envAt <= o.services.at))
  );
}

/** Keeps the KEEP newest entries: a workspace needs one, the one its compose file has now. */
function prune(dir: string): void {
  const entries = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (entries.length <= KEEP) return;
  const byAge = entries
    .map((f) => ({ f, t: fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of byAge.slice(KEEP)) fs.rmSync(path.join(dir, f), { force: true });
}
