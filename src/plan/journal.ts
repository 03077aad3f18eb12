/**
 * The journaled commit. Everything a plan writes is first put in the workspace's own
 * `.create-ovu-app/txn/` (ignored by git, so a secret in it is never committed), and the journal
 * lists the steps; then each step is one rename (a file moved aside, the new one moved in). A
 * failure undoes the steps done; a crash (SIGKILL, power cut) leaves the journal, and the next run
 * of any command rolls the steps back from what it finds on disk. Like git's lock files or
 * SQLite's rollback journal: the workspace is always either as it was or as the plan made it.
 */
import fs from 'node:fs';
import path from 'node:path';

export const STATE_DIR = '.create-ovu-app';
const TXN = 'txn';
const JOURNAL = 'journal.json';

export type Step =
  /** A new directory, staged whole. */
  | { kind: 'dir'; path: string; next: string }
  /** A file created or replaced; `old` holds the replaced one once moved aside. */
  | { kind: 'file'; path: string; next: string; old: string | undefined }
  /** A file written through a symbolic link, in place: `old` keeps a copy of what it held. */
  | { kind: 'through-link'; path: string; target: string; next: string; old: string }
  /** A file removed (moved aside into `old`). */
  | { kind: 'remove'; path: string; old: string }
  /** A directory moved whole to `to` (an app taken out of the workspace, kept aside). */
  | { kind: 'move'; path: string; to: string };

interface Journal {
  pid: number;
  steps: Step[];
  /** Directories the commit created for new files, removed again on rollback when empty. */
  madeDirs: string[];
  done: boolean;
}

export interface Staged {
  path: string;
  content: string;
  mode: number;
}

const stateDir = (root: string): string => path.join(root, STATE_DIR);
const journalFile = (root: string): string => path.join(stateDir(root), JOURNAL);

function writeJournal(root: string, journal: Journal): void {
  const file = journalFile(root);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(journal));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function removeState(root: string): void {
  fs.rmSync(path.join(stateDir(root), TXN), { recursive: true, force: true });
  fs.rmSync(journalFile(root), { force: true });
  fs.rmSync(`${journalFile(root)}.tmp`, { force: true });
  removeIfEmpty(stateDir(root)); // unless a run's lock is in it
}

/** Removes `dir` if it has nothing in it but its own .gitignore. */
export function removeIfEmpty(dir: string): void {
  try {
    if (fs.readdirSync(dir).every((e) => e === '.gitignore')) fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // gone already, or not ours to remove
  }
}

/**
 * The state directory, ignoring itself: git skips what is in it (a staged .env included) even
 * before the workspace's .gitignore has its line.
 */
export function makeStateDir(root: string): string {
  const dir = stateDir(root);
  // Only the run that makes the directory writes its .gitignore: one that finds it leaves it be.
  if (fs.mkdirSync(dir, { recursive: true, mode: 0o700 }) === undefined) return dir;
  const ignore = path.join(dir, '.gitignore');
  if (!exists(ignore)) fs.writeFileSync(ignore, '# create-ovu-app: a run\'s lock and journal; never commit them\n*\n');
  return dir;
}

const exists = (p: string): boolean => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;

/** Undoes whatever part of each step is done, last step first, from what is on disk. */
function rollBack(journal: Journal): void {
  for (const step of [...journal.steps].reverse()) {
    switch (step.kind) {
      case 'dir':
        if (!exists(step.next) && exists(step.path)) fs.rmSync(step.path, { recursive: true, force: true });
        break;
      case 'file':
        if (step.old !== undefined && exists(step.old)) fs.renameSync(step.old, step.path);
        else if (step.old === undefined && !exists(step.next)) fs.rmSync(step.path, { force: true });
        break;
      case 'through-link':
        if (exists(step.old)) fs.copyFileSync(step.old, step.target);
        break;
      case 'remove':
        if (exists(step.old)) fs.renameSync(step.old, step.path);
        break;
      case 'move':
        if (exists(step.to) && !exists(step.path)) fs.renameSync(step.to, step.path);
        break;
    }
  }
  for (const dir of [...journal.madeDirs].reverse()) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // not empty (something else is in it) or gone: leave it
    }
  }
}

/** Whether an earlier run left a commit behind (its journal, or only its temporary files). */
export function leftBehind(root: string): boolean {
  return exists(journalFile(root)) || exists(path.join(stateDir(root), TXN));
}

/**
 * The workspace paths an unfinished commit was changing, from its journal (empty when there is none
 * or it cannot be read): what a command that cannot roll it back must not show as whole.
 */
export function interruptedPaths(root: string): string[] {
  try {
    const journal = JSON.parse(fs.readFileSync(journalFile(root), 'utf8')) as Journal;
    return journal.done ? [] : journal.steps.map((s) => s.path);
  } catch {
    return [];
  }
}

/**
 * After a crash: rolls back an interrupted commit, or finishes cleaning up one that had completed.
 * Says which, or returns undefined when there was nothing to do.
 */
export function recover(root: string): string | undefined {
  const file = journalFile(root);
  let journal: Journal;
  try {
    journal = JSON.parse(fs.readFileSync(file, 'utf8')) as Journal;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // A crash before the journal was written: only temporary files to remove.
      if (!exists(path.join(stateDir(root), TXN))) return undefined;
      removeState(root);
      return 'removed the temporary files of an earlier run that was interrupted before it changed anything';
    }
    throw err;
  }
  if (journal.done) {
    removeState(root);
    return `finished cleaning up after an earlier run (pid ${journal.pid}) that had completed its changes`;
  }
  rollBack(journal);
  removeState(root);
  return `rolled back an earlier run (pid ${journal.pid}) that was interrupted while writing: the workspace is as it was before it`;
}

export interface Commit {
  root: string;
  /** New directories with their files (relative paths inside each). */
  dirs: { path: string; files: Staged[] }[];
  files: Staged[];
  removals: string[];
  /** Directories moved whole, each to a path that must not exist yet (on the same file system). */
  moves?: { from: string; to: string }[];
}

/** Applies a commit. Throws after undoing everything when any step fails. */
export function commitJournaled(c: Commit): void {
  const txn = path.join(stateDir(c.root), TXN);
  if (exists(journalFile(c.root))) throw new Error(`${journalFile(c.root)} exists: an earlier commit was not recovered`);
  fs.rmSync(txn, { recursive: true, force: true });
  makeStateDir(c.root);
  fs.mkdirSync(txn, { mode: 0o700 });
  const journal: Journal = { pid: process.pid, steps: [], madeDirs: [], done: false };
  let n = 0;
  const slot = (): string => path.join(txn, String(n++));
  /** The user's file the current step is for: an error names it, not our temporary one. */
  let current = c.root;
  const named = (err: unknown): unknown => {
    if (err && typeof (err as NodeJS.ErrnoException).path === 'string') (err as NodeJS.ErrnoException).path = current;
    return err;
  };
  try {
    // 1. Everything new, written where only this commit looks.
    for (const d of c.dirs) {
      current = d.path;
      const next = slot();
      for (const f of d.files) {
        const dest = path.join(next, path.relative(d.path, f.path));
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.writeFileSync(dest, f.content, { mode: f.mode });
      }
      if (d.files.length === 0) fs.mkdirSync(next);
      journal.steps.push({ kind: 'dir', path: d.path, next });
    }
    for (const f of c.files) {
      current = f.path;
      const next = slot();
      fs.writeFileSync(next, f.content, { mode: f.mode });
      fs.chmodSync(next, f.mode); // writeFileSync's mode is subject to the umask
      const stat = fs.lstatSync(f.path, { throwIfNoEntry: false });
      if (stat?.isSymbolicLink()) journal.steps.push({ kind: 'through-link', path: f.path, target: fs.realpathSync(f.path), next, old: slot() });
      else journal.steps.push({ kind: 'file', path: f.path, next, old: stat ? slot() : undefined });
      // Parents first, each once: several new files may share new directories (deploy/k8s/).
      const missing: string[] = [];
      for (let dir = path.dirname(f.path); !exists(dir); dir = path.dirname(dir)) missing.unshift(dir);
      for (const dir of missing) if (!journal.madeDirs.includes(dir)) journal.madeDirs.push(dir);
    }
    // Several files may share new directories (monitoring/grafana/…): each once, parents first.
    journal.madeDirs.sort((a, b) => a.split(path.sep).length - b.split(path.sep).length);
    for (const p of c.removals) journal.steps.push({ kind: 'remove', path: p, old: slot() });
    for (const m of c.moves ?? []) {
      current = m.from;
      if (exists(m.to)) throw new Error(`${m.to} exists already`);
      fs.mkdirSync(path.dirname(m.to), { recursive: true, mode: 0o700 });
      journal.steps.push({ kind: 'move', path: m.from, to: m.to });
    }
  } catch (err) {
    removeState(c.root);
    throw named(err);
  }
  writeJournal(c.root, journal);

  // 2. One rename per step (a copy for a file behind a link).
  try {
    for (const dir of journal.madeDirs) fs.mkdirSync(dir);
    for (const step of journal.steps) {
      current = step.path;
      switch (step.kind) {
        case 'dir':
          if (exists(step.path)) throw new Error(`${step.path} appeared while the plan was being written`);
          fs.renameSync(step.next, step.path);
          break;
        case 'file':
          if (step.old !== undefined) fs.renameSync(step.path, step.old);
          fs.renameSync(step.next, step.path);
          break;
        case 'through-link':
          fs.copyFileSync(step.target, step.old);
          fs.copyFileSync(step.next, step.target);
          break;
        case 'remove':
          fs.renameSync(step.path, step.old);
          break;
        case 'move':
          if (exists(step.to)) throw new Error(`${step.to} appeared while the plan was being written`);
          fs.renameSync(step.path, step.to);
          break;
      }
    }
  } catch (err) {
    try {
      rollBack(journal);
      removeState(c.root);
    } catch {
      // The journal stays: the next run rolls back what is left. The original error is the news.
    }
    throw named(err);
  }
  journal.done = true;
  writeJournal(c.root, journal);
  removeState(c.root);
}
