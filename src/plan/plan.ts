import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

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
}

/**
 * Every write the generator will make, computed in memory first (like Nx's Tree or Angular's
 * schematics), so that validation happens before anything touches the disk and --dry-run can show
 * exactly what a real run would do.
 *
 * The app directory is staged as a unit: written to a hidden temporary sibling and renamed into
 * place, so a crash mid-write can't leave half an app. Workspace files are each written to a
 * temporary file and renamed over the original; if any rename fails, the ones already done are
 * restored from the contents the plan read.
 */
export class Plan {
  private readonly changes = new Map<string, FileChange>();
  /** Directories created whole by this plan (the app directory), replaced if `force`. */
  private readonly newDirs = new Map<string, { replace: boolean }>();

  /** `source` gives a file's text before the plan (the run's workspace snapshot reads each file once). */
  constructor(private readonly source: (file: string) => string | undefined) {}

  /** Content as the plan will leave it: staged if the plan changes it, else what the source has. */
  read(file: string): string | undefined {
    const abs = path.resolve(file);
    const staged = this.changes.get(abs);
    if (staged) return staged.after;
    if (this.insideNewDir(abs)) return undefined;
    return this.source(abs);
  }

  /** Declares a directory the plan creates whole; `replace` allows an existing one (--force). */
  createDir(dir: string, opts: { replace: boolean }): void {
    this.newDirs.set(path.resolve(dir), opts);
  }

  /** Writes a file: creates it, or replaces its content keeping what the plan read as `before`. */
  write(file: string, after: string, opts: { mode?: number; secret?: boolean } = {}): void {
    const abs = path.resolve(file);
    const before = this.changes.get(abs)?.before ?? this.read(abs);
    if (before === after && !this.insideNewDir(abs)) {
      this.changes.delete(abs);
      return;
    }
    this.changes.set(abs, { path: abs, before, after, ...opts });
  }

  list(): FileChange[] {
    return [...this.changes.values()].sort((a, b) => byCodePoint(a.path, b.path));
  }

  private insideNewDir(abs: string): string | undefined {
    for (const dir of this.newDirs.keys()) {
      if (abs === dir || abs.startsWith(dir + path.sep)) return dir;
    }
    return undefined;
  }

  /**
   * Writes everything. SIGINT is held off while it runs: the whole commit takes milliseconds, and
   * an interrupted rename sequence is the one thing that could leave the workspace inconsistent.
   */
  commit(): void {
    const hold = (): void => {};
    process.on('SIGINT', hold);
    try {
      this.commitUnguarded();
    } finally {
      process.off('SIGINT', hold);
    }
  }

  private commitUnguarded(): void {
    const tag = `create-ovu-app-${process.pid}-${randomBytes(4).toString('hex')}`;
    const staged: { dir: string; tmp: string; replace: boolean }[] = [];
    const files: { change: FileChange; tmp: string }[] = [];
    const cleanupTemps = (): void => {
      for (const s of staged) fs.rmSync(s.tmp, { recursive: true, force: true });
      for (const f of files) fs.rmSync(f.tmp, { force: true });
    };

    let writing: string | undefined;
    try {
      // 1. Write everything to temporary names next to its destination (same filesystem, so the
      //    renames below are atomic).
      for (const [dir, opts] of this.newDirs) {
        writing = dir;
        const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.${tag}`);
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        fs.mkdirSync(tmp);
        staged.push({ dir, tmp, replace: opts.replace });
      }
      for (const change of this.changes.values()) {
        writing = change.path;
        const inDir = this.insideNewDir(change.path);
        if (inDir) {
          const s = staged.find((x) => x.dir === inDir)!;
          const dest = path.join(s.tmp, path.relative(inDir, change.path));
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          fs.writeFileSync(dest, change.after, { mode: change.mode ?? 0o644 });
        } else {
          const tmp = `${change.path}.${tag}.tmp`;
          fs.mkdirSync(path.dirname(change.path), { recursive: true });
          const mode = change.before === undefined ? (change.mode ?? 0o644) : fs.statSync(change.path).mode & 0o777;
          fs.writeFileSync(tmp, change.after, { mode });
          files.push({ change, tmp });
        }
      }
    } catch (err) {
      cleanupTemps();
      // Name the file the user knows, not our temporary one.
      if (writing && typeof (err as NodeJS.ErrnoException).path === 'string') (err as NodeJS.ErrnoException).path = writing;
      throw err;
    }

    // 2. Swap them in. Keep enough to undo each step if a later one fails.
    const undo: (() => void)[] = [];
    const oldDirs: string[] = [];
    try {
      for (const s of staged) {
        if (fs.existsSync(s.dir)) {
          if (!s.replace) throw new Error(`${s.dir} appeared while the plan was being written`);
          const old = path.join(path.dirname(s.dir), `.${path.basename(s.dir)}.${tag}.old`);
          fs.renameSync(s.dir, old);
          oldDirs.push(old);
          undo.push(() => fs.renameSync(old, s.dir));
        }
        fs.renameSync(s.tmp, s.dir);
        undo.push(() => fs.rmSync(s.dir, { recursive: true, force: true }));
      }
      for (const f of files) {
        fs.renameSync(f.tmp, f.change.path);
        const { before, path: p } = f.change;
        undo.push(() => (before === undefined ? fs.rmSync(p, { force: true }) : fs.writeFileSync(p, before)));
      }
    } catch (err) {
      for (const step of undo.reverse()) {
        try {
          step();
        } catch {
          // Keep undoing the rest; the original error is what the user needs to see.
        }
      }
      cleanupTemps();
      throw err;
    }
    for (const old of oldDirs) fs.rmSync(old, { recursive: true, force: true });
  }
}
