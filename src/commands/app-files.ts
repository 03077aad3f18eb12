/**
 * The app directory's files in the plan. A new app's directory is created whole. With --force
 * over an existing one, the answers file's record of what the generator wrote (each file's
 * SHA-256) decides, file by file: a generated file nobody changed is replaced (or removed when the
 * templates no longer have it); a file the team changed or added, and the dependency folders, are
 * kept and listed. Never does --force delete the team's work.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Plan } from '../plan/plan.ts';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Folders of installed dependencies and caches: the team's machine state, never walked or touched. */
const DEPENDENCY_DIRS = new Set(['.venv', 'venv', 'node_modules', '__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache', 'dist', 'coverage', '.git']);

export interface AppFile {
  /** Relative to the app directory, `/`-separated. */
  rel: string;
  content: string;
  mode?: number;
  secret?: boolean;
}

export interface AppFilesOutcome {
  /** Relative paths kept as they are, with why: what --force leaves alone. */
  kept: string[];
}

function walk(dir: string, rel = ''): { files: string[]; deps: string[] } {
  const out = { files: [] as string[], deps: [] as string[] };
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (DEPENDENCY_DIRS.has(e.name)) out.deps.push(`${r}/`);
      else {
        const sub = walk(dir, r);
        out.files.push(...sub.files);
        out.deps.push(...sub.deps);
      }
    } else out.files.push(r);
  }
  return out;
}

/**
 * Puts the app's files into the plan. `recorded` is the previous answers file's record (undefined
 * when there is none or the app was made before records existed: then every existing file that
 * differs from the new one counts as the team's).
 */
export function planAppFiles(plan: Plan, appDir: string, files: AppFile[], recorded: Record<string, string> | undefined): AppFilesOutcome {
  if (!fs.existsSync(appDir)) {
    plan.createDir(appDir);
    for (const f of files) plan.write(path.join(appDir, f.rel), f.content, f);
    return { kept: [] };
  }
  const kept: string[] = [];
  const on = walk(appDir);
  const rendered = new Set(files.map((f) => f.rel));
  const untouched = (rel: string, text: string): boolean => recorded?.[rel] === sha256(text);
  for (const f of files) {
    const file = path.join(appDir, f.rel);
    const current = plan.read(file);
    if (current === undefined || current === f.content || untouched(f.rel, current)) plan.write(file, f.content, f);
    else kept.push(`${f.rel} (changed since it was generated: yours is kept)`);
  }
  for (const rel of on.files) {
    if (rendered.has(rel)) continue;
    const current = plan.read(path.join(appDir, rel));
    if (current !== undefined && untouched(rel, current)) plan.remove(path.join(appDir, rel));
    else kept.push(`${rel} (not generated: kept)`);
  }
  for (const dep of on.deps) kept.push(`${dep} (installed dependencies: kept)`);
  return { kept };
}
