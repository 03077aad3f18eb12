import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { commitJournaled, type Staged } from './journal.ts';

/**
 * Plain code-point order: stable across machines and locales, and it does not start ICU's
 * collator, which alone costs a few milliseconds of a run.
 */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One file the plan will write. `before` is undefined for a new file. */
export interface FileChange {
  path: string;
  before: string | undefined;
  after: string;
  /** File mode for a new file (an updated file keeps its own). */
  mode?: number;
  /** Holds a secret: never print its content or a diff of it. */
  secret?: boolean;
  /** Written with `mode` even though it exists (a mode change: doctor --fix's chmod 600). */
  setMode?: boolean;
}

/**
 * Every write the generator will make, computed in memory first (like Nx's Tree or Angular's
 * schematics), so that validation happens before anything touches the disk and --dry-run can show
 * exactly what a real run would do. `commit()` applies it through the journal (journal.ts): all of
 * it, or none of it, also across a crash.
 */
export class Plan {
  private readonly changes = new Map<string, FileChange>();
  /** Directories created whole by this plan (the app directory). */
  private readonly newDirs = new Set<string>();
  private readonly removals = new Set<string>();
  /** Directories moved whole, from → to. */
  private readonly moves = new Map<string, string>();

  /**
   * `source` gives a file's text before the plan (the run's workspace snapshot reads each file
   * once); `root` is the workspace, where the commit keeps its journal.
   */
  constructor(
    private readonly source: (file: string) => string | undefined,
    private readonly root: string,
    /** A file's permission bits before the plan (undefined: missing); the snapshot's, so planning reads no disk. */
    private readonly modeOf: (file: string) => number | undefined = diskMode,
  ) {}

  /** Content as the plan will leave it: staged if the plan changes it, else what the source has. */
  read(file: string): string | undefined {
    const abs = path.resolve(file);
    const staged = this.changes.get(abs);
    if (staged) return staged.after;
    if (this.insideNewDir(abs) || this.removals.has(abs) || this.insideMoved(abs)) return undefined;
    return this.source(abs);
  }

  /** Declares a directory the plan creates whole; it must not exist when the plan commits. */
  createDir(dir: string): void {
    this.newDirs.add(path.resolve(dir));
  }

  /**
   * Writes a file: creates it, or replaces its content keeping what the plan read as `before`.
   * A file that exists must be writable: a read-only one is the user's decision, never overridden.
   */
  write(file: string, after: string, opts: { mode?: number; secret?: boolean } = {}): void {
    const abs = path.resolve(file);
    const previous = this.changes.get(abs);
    // A file staged twice keeps what it was before the plan (undefined: new), not the first staging.
    const before = previous ? previous.before : this.read(abs);
    // A mode change staged earlier (setMode) stays with the file whatever its content becomes.
    const keepMode = previous?.setMode ? { mode: previous.mode!, setMode: true } : {};
    if (before === after && !this.insideNewDir(abs) && !previous?.setMode) {
      this.changes.delete(abs);
      return;
    }
    if (before !== undefined) assertWritable(abs, this.modeOf);
    this.changes.set(abs, { path: abs, before, after, ...opts, ...keepMode });
  }

  /** Gives an existing file `mode`, its content as the plan leaves it (rewritten through the journal). */
  setMode(file: string, mode: number): void {
    const abs = path.resolve(file);
    const previous = this.changes.get(abs);
    const text = this.read(abs);
    if (text === undefined) throw new Error(`internal error: setMode on ${abs}, which the plan does not have`);
    this.changes.set(abs, { ...(previous ?? { path: abs, before: text, after: text }), mode, setMode: true });
  }

  /** Removes a file that exists. */
  remove(file: string): void {
    const abs = path.resolve(file);
    assertWritable(abs, this.modeOf);
    this.changes.delete(abs);
    this.removals.add(abs);
  }

  /**
   * Moves a directory whole to `to` (inside the workspace's state directory, so on the same file
   * system: one rename, journaled like every other step). Nothing else in the plan may write there.
   */
  moveDir(dir: string, to: string): void {
    const abs = path.resolve(dir);
    assertWritable(abs, this.modeOf);
    for (const p of this.changes.keys()) if (p.startsWith(abs + path.sep)) this.changes.delete(p);
    this.moves.set(abs, path.resolve(to));
  }

  /** The directories the plan moves, with where each goes. */
  moved(): { from: string; to: string }[] {
    return [...this.moves].map(([from, to]) => ({ from, to })).sort((a, b) => byCodePoint(a.from, b.from));
  }

  private insideMoved(abs: string): boolean {
    for (const dir of this.moves.keys()) if (abs === dir || abs.startsWith(dir + path.sep)) return true;
    return false;
  }

  list(): FileChange[] {
    return [...this.changes.values()].sort((a, b) => byCodePoint(a.path, b.path));
  }

  removed(): string[] {
    return [...this.removals].sort(byCodePoint);
  }

  private insideNewDir(abs: string): string | undefined {
    for (const dir of this.newDirs) {
      if (abs === dir || abs.startsWith(dir + path.sep)) return dir;
    }
    return undefined;
  }

  /**
   * Writes everything. It is synchronous: a signal that arrives meanwhile (SIGINT, SIGTERM, SIGHUP,
   * each with a listener while it runs, so none ends the process) is handled once it is done. The
   * commit finishes, or fails and is undone; a crash in between is the journal's to roll back.
   */
  async commit(): Promise<void> {
    const hold = (): void => {};
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, hold);
    try {
      const dirs = [...this.newDirs].map((d) => ({ path: d, files: [] as Staged[] }));
      const files: Staged[] = [];
      for (const c of this.changes.values()) {
        const inDir = this.insideNewDir(c.path);
        const staged = { path: c.path, content: c.after, mode: modeFor(c) };
        if (inDir) dirs.find((d) => d.path === inDir)!.files.push(staged);
        else files.push(staged);
      }
      commitJournaled({ root: this.root, dirs, files, removals: [...this.removals], moves: this.moved() });
      pruneEmptyDirs(this.root, [...this.removals]);
    } finally {
      for (const s of signals) process.off(s, hold);
    }
  }
}

/**
 * The directories the removed files leave empty (monitoring/ once the last app has gone), up to the
 * workspace root: a directory that still holds anything stays.
 */
function pruneEmptyDirs(root: string, removed: string[]): void {
  const top = path.resolve(root);
  const dirs = new Set(removed.map((f) => path.dirname(f)));
  for (const start of [...dirs].sort((a, b) => b.length - a.length)) {
    for (let dir = start; dir !== top && dir.startsWith(top + path.sep); dir = path.dirname(dir)) {
      try {
        fs.rmdirSync(dir);
      } catch {
        break; // not empty (or already gone): what is above it is not empty either
      }
    }
  }
}

/** A new file's mode as asked; an existing file keeps its own, less group and other for a secret. */
function modeFor(c: FileChange): number {
  if (c.setMode && c.mode !== undefined) return c.mode;
  if (c.before === undefined) return c.mode ?? 0o644;
  const mode = fs.statSync(c.path).mode & 0o777;
  return c.secret ? mode & 0o700 : mode;
}

function diskMode(file: string): number | undefined {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat && stat.mode & 0o777;
}

function assertWritable(file: string, modeOf: (file: string) => number | undefined): void {
  const mode = modeOf(file);
  if (mode !== undefined && (mode & 0o222) === 0) {
    throw new UserError(`${file} is read-only: make it writable (chmod u+w ${file}) and run again; nothing was written.`);
  }
}
