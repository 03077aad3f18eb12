/**
 * The workspace as one run sees it: each file read once, the compose project parsed once, the apps
 * known from their answers files. Everything a run decides (defaults, collisions, the plan) is
 * computed from this snapshot.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ANSWERS_FILE, parseAnswersFile, type AnswersFile } from '../app/answers-file.ts';
import { specFromAnswers, type AppSpec } from '../app/spec.ts';
import { UserError } from '../errors.ts';
import { APP_COMPOSE_FILE, readComposeProject, type ComposeProject } from './compose/index.ts';
import { listInitDbApps } from './init-db.ts';
import { readIfExists, type Workspace } from './workspace.ts';
import { STATE_DIR } from '../plan/journal.ts';

/**
 * An app of the workspace (`dir`: its directory under the root): its answers file and the spec
 * they make (computed once, here), or why the file could not be read.
 */
export type WorkspaceApp = { dir: string; record: AnswersFile; spec: AppSpec } | { dir: string; record: { error: string }; spec?: undefined };

export interface WorkspaceSnapshot {
  workspace: Workspace;
  /** A file's text as this run first read it (undefined: missing). */
  read(file: string): string | undefined;
  apps: WorkspaceApp[];
  compose: ComposeProject;
  /** Apps that have a block in init-db.sql. */
  initDbApps: string[];
  /** The workspace directory is empty: this run starts a new platform. */
  empty: boolean;
  /** The apps whose answers file could be read, with their specs, by directory: computed once here. */
  specs: { dir: string; spec: AppSpec }[];
  /** Whether a path exists (a file or a directory), as this run first saw it. */
  exists(file: string): boolean;
  /** A file's permission bits as this run first saw them (undefined: missing). */
  mode(file: string): number | undefined;
  /** The directory the run was started in, for the paths messages show. */
  cwd: string;
}

function entriesOf(root: string): fs.Dirent[] {
  try {
    return fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * The workspace's apps: each directory with an answers file, read (or why not), by directory name.
 * Without the compose project, which commands that audit a workspace whose compose files may be
 * broken (doctor) read on their own.
 */
export function readApps(root: string, read: (file: string) => string | undefined, entries: fs.Dirent[] = entriesOf(root)): WorkspaceApp[] {
  const apps: WorkspaceApp[] = [];
  const dirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  for (const dir of dirs) {
    const file = path.join(root, dir, ANSWERS_FILE);
    const name = path.join(dir, ANSWERS_FILE);
    let text: string | undefined;
    try {
      text = read(file);
    } catch (err) {
      // Unreadable (permissions, a directory, not UTF-8): an app all the same, one we cannot read.
      const e = err as NodeJS.ErrnoException;
      apps.push({ dir, record: { error: err instanceof UserError ? err.message : `${name} cannot be read (${e.code ?? e.message}): make it readable, or restore it from git.` } });
      continue;
    }
    if (text === undefined) continue;
    try {
      const record = parseAnswersFile(text, name);
      // An answers file about another app (copied, or tampered with) would put that app's service,
      // roles and entries in this directory's place.
      const spec = specFromAnswers(record.answers);
      if (spec.names.slug !== dir) apps.push({ dir, record: { error: `${name} names the app "${record.answers.name}", not "${dir}": restore it from git.` } });
      else apps.push({ dir, record, spec });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      apps.push({ dir, record: { error: err.message } });
    }
  }
  return apps;
}

/**
 * The workspace's apps for a command that writes the files computed from all of them
 * (apps.compose.yaml, pgbouncer/, deploy/k8s/, monitoring/): every app but `except` (the one the
 * command adds, replaces or removes). One whose answers file cannot be read stops the command: the
 * files written without it would drop that app's service, roles and dashboards.
 */
export function appsForDerivedFiles(apps: WorkspaceApp[], except?: string): { dir: string; spec: AppSpec }[] {
  requireReadableApps(apps, except);
  return apps.flatMap((a) => (a.spec && a.dir !== except ? [{ dir: a.dir, spec: a.spec }] : []));
}

/** Throws, naming the file and what to do, when an app's answers file (other than `except`'s) cannot be read. */
export function requireReadableApps(apps: WorkspaceApp[], except?: string): void {
  const broken = apps.find((a) => 'error' in a.record && a.dir !== except);
  if (!broken || !('error' in broken.record)) return;
  throw new UserError(
    `${broken.record.error.replace(/\.$/, '')}. create-ovu-app writes apps.compose.yaml, pgbouncer/, deploy/k8s/ and monitoring/ from every app's answers file and will not leave ${broken.dir} out of them: nothing was written.`,
  );
}

/** `dbService`: --db-service, the database service named. */
export function readSnapshot(workspace: Workspace, opts: { dbService?: string | undefined } = {}): WorkspaceSnapshot {
  const texts = new Map<string, string | undefined>();
  const read = (file: string): string | undefined => {
    const abs = path.resolve(file);
    if (!texts.has(abs)) texts.set(abs, readIfExists(abs));
    return texts.get(abs);
  };
  // The run's own lock does not make a workspace non-empty.
  const entries = entriesOf(workspace.root).filter((e) => e.name !== STATE_DIR);
  const apps = readApps(workspace.root, read, entries);
  const stats = new Map<string, fs.Stats | undefined>();
  const stat = (file: string): fs.Stats | undefined => {
    const abs = path.resolve(file);
    if (!stats.has(abs)) stats.set(abs, fs.statSync(abs, { throwIfNoEntry: false }));
    return stats.get(abs);
  };
  const exists = (file: string): boolean => stat(file) !== undefined;
  const specs = apps.flatMap((a) => (a.spec ? [{ dir: a.dir, spec: a.spec }] : []));
  const known = specs.map((a) => ({ ...a, hasComposeFile: exists(path.join(workspace.root, a.dir, APP_COMPOSE_FILE)) }));
  const composeName = path.basename(workspace.composeFile);
  const compose = readComposeProject(workspace.root, composeName, read(workspace.composeFile), known, read, opts.dbService);
  const initDb = read(workspace.initDbFile);
  return {
    workspace,
    read,
    apps,
    compose,
    initDbApps: initDb === undefined ? [] : listInitDbApps(initDb),
    empty: entries.length === 0,
    specs,
    exists,
    mode: (file) => {
      const s = stat(file);
      return s && s.mode & 0o777;
    },
    cwd: process.cwd(),
  };
}
