/**
 * Whether git would keep a file out of a commit: the workspace's .gitignore rules read the way git
 * reads them (a workspace that is not a git repository yet has only those), and, in a repository,
 * git itself (`git check-ignore`, `git ls-files`), which also knows .git/info/exclude, the global
 * excludes file and what is already tracked.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

interface Rule {
  re: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/** One .gitignore pattern as a regular expression over paths relative to that file's directory. */
function ruleOf(raw: string): Rule | undefined {
  let line = raw.replace(/(?<!\\)\s+$/, '');
  if (line === '' || line.startsWith('#')) return undefined;
  let negate = false;
  if (line.startsWith('!')) {
    negate = true;
    line = line.slice(1);
  }
  let dirOnly = false;
  if (line.endsWith('/')) {
    dirOnly = true;
    line = line.slice(0, -1);
  }
  // A pattern with a slash before its end is relative to the .gitignore's directory; one without
  // matches a name at any depth below it.
  const anchored = line.includes('/');
  if (line.startsWith('/')) line = line.slice(1);
  let re = '';
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i]!;
    if (ch === '*') {
      if (line[i + 1] === '*') {
        const atStart = i === 0 || line[i - 1] === '/';
        const atEnd = i + 2 === line.length || line[i + 2] === '/';
        if (atStart && atEnd) {
          // `**/` any leading directories, `/**` everything inside.
          if (i + 2 === line.length) re += '.*';
          else {
            re += '(?:.*/)?';
            i += 1;
          }
          i += 1;
          continue;
        }
      }
      re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '\\' && i + 1 < line.length) {
      i += 1;
      re += line[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (ch === '[') {
      const close = line.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        re += `[${line.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return { re: new RegExp(anchored ? `^${re}$` : `(?:^|/)${re}$`), negate, dirOnly };
}

/** Last matching rule of one .gitignore for `rel` (relative to its directory): true ignore, false re-include. */
function verdict(rules: Rule[], rel: string, isDir: boolean): boolean | undefined {
  let result: boolean | undefined;
  for (const r of rules) {
    if (r.dirOnly && !isDir) continue;
    if (r.re.test(rel)) result = !r.negate;
  }
  return result;
}

/**
 * Whether the .gitignore files from `root` down to the file's directory ignore `rel` (a path
 * relative to `root`, `/`-separated or not). A file inside an ignored directory is ignored: git
 * cannot re-include it. `isDirectory`: `rel` names a directory. `read` gives a file's text (undefined when it does not exist).
 */
export function ignoredByRules(root: string, rel: string, read: (file: string) => string | undefined, isDirectory = false): boolean {
  const parts = rel.split(/[\\/]/).filter(Boolean);
  const cache = new Map<string, Rule[]>();
  const rulesIn = (dirParts: string[]): Rule[] => {
    const key = dirParts.join('/');
    if (!cache.has(key)) {
      const text = read(path.join(root, ...dirParts, '.gitignore'));
      cache.set(key, (text ?? '').split(/\r?\n/).flatMap((l) => ruleOf(l) ?? []));
    }
    return cache.get(key)!;
  };
  for (let depth = 1; depth <= parts.length; depth += 1) {
    const isDir = depth < parts.length || isDirectory;
    let ignored = false;
    // Deeper .gitignore files override shallower ones.
    for (let g = 0; g < depth; g += 1) {
      const v = verdict(rulesIn(parts.slice(0, g)), parts.slice(g, depth).join('/'), isDir);
      if (v !== undefined) ignored = v;
    }
    if (ignored) return true;
  }
  return false;
}

/**
 * Whether `dir` may be inside a git work tree: a `.git` in it or above it (or GIT_DIR set). Outside
 * any, git would only fail with "not a git repository": no process is started to learn that.
 */
function mayBeInWorkTree(dir: string): boolean {
  if (process.env['GIT_DIR']) return true;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return true;
    if (path.dirname(d) === d) return false;
  }
}

function git(root: string, args: string[], input?: string): { ok: boolean; out: string } {
  if (!mayBeInWorkTree(root)) return { ok: false, out: '' };
  try {
    return {
      ok: true,
      out: execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024, ...(input === undefined ? {} : { input }) }),
    };
  } catch (err) {
    const e = err as { status?: number; stdout?: string };
    return { ok: false, out: typeof e.stdout === 'string' ? e.stdout : '' };
  }
}

/** git tracks `file` (absolute): whatever .gitignore says, a commit takes its changes. */
export function gitTracks(root: string, file: string): boolean {
  return git(root, ['ls-files', '--error-unmatch', '--', path.relative(root, file)]).ok;
}

/** The workspace is inside a git work tree (and git is installed). */
export function isGitRepo(root: string): boolean {
  const r = git(root, ['rev-parse', '--is-inside-work-tree']);
  return r.ok && r.out.trim() === 'true';
}

/**
 * Which of `files` (absolute) git ignores, as git decides (a tracked file is not ignored, whatever
 * the rules say: it is committed).
 */
export function gitIgnored(root: string, files: string[]): Set<string> {
  if (files.length === 0) return new Set();
  // Exit 1 when none is ignored; the ignored ones are printed either way.
  const r = git(root, ['check-ignore', '-z', '--stdin'], files.map((f) => `${path.relative(root, f)}\0`).join(''));
  return new Set(r.out.split('\0').filter(Boolean).map((f) => path.resolve(root, f)));
}

/** Files under `root` that git tracks or would add (`git add .`), absolute. */
export function gitCommittable(root: string): string[] {
  const r = git(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  return [...new Set(r.out.split('\0').filter(Boolean))].map((f) => path.resolve(root, f));
}
