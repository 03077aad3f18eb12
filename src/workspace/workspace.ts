import fs from 'node:fs';
import path from 'node:path';
import { UsageError, UserError } from '../errors.ts';

/** Compose file names in the order `docker compose` looks for them. */
export const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export interface Workspace {
  root: string;
  /** The compose file to edit; it may not exist yet (then docker-compose.yml is created). */
  composeFile: string;
  initDbFile: string;
  envFile: string;
  envExampleFile: string;
  gitignoreFile: string;
}

function composeIn(dir: string): string | undefined {
  return COMPOSE_FILES.map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
}

function at(root: string): Workspace {
  return {
    root,
    composeFile: composeIn(root) ?? path.join(root, 'docker-compose.yml'),
    initDbFile: path.join(root, 'init-db.sql'),
    envFile: path.join(root, '.env'),
    envExampleFile: path.join(root, '.env.example'),
    gitignoreFile: path.join(root, '.gitignore'),
  };
}

/** --workspace, else the nearest ancestor of cwd with a compose file, else cwd. */
export function findWorkspace(flag: string | undefined, cwd: string): Workspace {
  if (flag !== undefined) {
    const root = path.resolve(cwd, flag);
    // A mistyped path must not start a new platform: the directory has to exist (empty is fine).
    const stat = fs.statSync(root, { throwIfNoEntry: false });
    if (!stat) throw new UsageError(`--workspace ${flag} does not exist: pass the platform root, or create it first (mkdir -p ${flag}) to start a new platform.`);
    if (!stat.isDirectory()) throw new UsageError(`--workspace ${flag} is not a directory: pass the platform root.`);
    return at(root);
  }
  const clone = enclosingClone(cwd);
  if (clone) {
    throw new UsageError(`${clone} is create-ovu-app's own source, not a platform workspace: pass --workspace <dir> (e.g. \`mkdir -p ../ovu-platform\` and --workspace ../ovu-platform).`);
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    // An app's own compose.yaml is not a workspace: its directory has the app's answers file.
    if (composeIn(dir) && !fs.existsSync(path.join(dir, '.ovu-app.json'))) return at(dir);
    if (path.dirname(dir) === dir) return at(path.resolve(cwd));
  }
}

/** The create-ovu-app package (a clone of its repository) `cwd` is in, if any: never a workspace by default. */
function enclosingClone(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'templates'))) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'create-ovu-app') return dir;
      } catch {
        // Not ours.
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

// ignoreBOM: a byte-order mark stays in the text (the decoder would drop it), so a rewrite keeps every byte.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads a workspace file, undefined when it does not exist. A file that is not UTF-8 is refused:
 * rewriting it would replace what the decoder could not read.
 */
export function readIfExists(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new UserError(`${file} is not valid UTF-8: convert it (e.g. iconv -t UTF-8) and run again; create-ovu-app will not rewrite it.`);
  }
}
