import path from 'node:path';
import { byCodePoint, type FileChange, type Plan } from '../plan/plan.ts';
import { unifiedDiff } from './diff.ts';

/**
 * Whether to colour what goes to `stream`, by the conventions Node.js itself follows
 * (tty.getColorDepth): FORCE_COLOR decides when set (0 or false: never; 1, 2, 3, true or empty:
 * always, even into a pipe); otherwise NO_COLOR (no-color.org: set and not empty),
 * NODE_DISABLE_COLORS or TERM=dumb turn colour off, and only a terminal gets it.
 * Only the 16 basic colours are used, so depths 1 to 3 look alike.
 */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  if (env.NO_COLOR || env.NODE_DISABLE_COLORS !== undefined || env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}

/** ANSI colours for one stream: stdout and stderr decide each for themselves. */
export function colours(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env) {
  const on = useColour(stream, env);
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

export type Colours = ReturnType<typeof colours>;

export interface Grouped {
  created: string[];
  changed: string[];
}

/** Workspace-relative paths, split into created and changed. */
export function groupChanges(plan: Plan, root: string): Grouped {
  const created: string[] = [];
  const changed: string[] = [];
  for (const c of plan.list()) (c.before === undefined ? created : changed).push(path.relative(root, c.path));
  return { created, changed };
}

/**
 * A tree of paths, collapsing the app's many files under their directory:
 *   inventory/
 *   ├─ .ovu-app.json
 *   └─ backend/ (31 files)
 */
export function pathTree(paths: string[], collapseDeeperThan = 2): string[] {
  type Node = Map<string, Node>;
  const root: Node = new Map();
  for (const p of paths) {
    let node = root;
    for (const part of p.split(path.sep)) {
      if (!node.has(part)) node.set(part, new Map());
      node = node.get(part)!;
    }
  }
  const count = (n: Node): number => (n.size === 0 ? 1 : [...n.values()].reduce((s, c) => s + count(c), 0));
  const lines: string[] = [];
  const walk = (n: Node, prefix: string, depth: number): void => {
    const entries = [...n.entries()].sort(([a, x], [b, y]) => Number(y.size > 0) - Number(x.size > 0) || byCodePoint(a, b));
    entries.forEach(([name, child], i) => {
      const last = i === entries.length - 1;
      const branch = depth === 0 ? '' : last ? '└─ ' : '├─ ';
      if (child.size > 0 && depth + 1 >= collapseDeeperThan) {
        lines.push(`${prefix}${branch}${name}/ (${count(child)} files)`);
      } else {
        lines.push(`${prefix}${branch}${name}${child.size > 0 ? '/' : ''}`);
        if (child.size > 0) walk(child, depth === 0 ? prefix : prefix + (last ? '   ' : '│  '), depth + 1);
      }
    });
  };
  walk(root, '', 0);
  return lines;
}

/** --dry-run: every file, with a diff for edits; what --force keeps. Secrets never appear. */
export function renderDryRun(plan: Plan, root: string, c: Colours, kept: string[] = []): string {
  const out: string[] = [c.bold('Dry run: nothing was written. The run would make these changes:'), ''];
  const changes = plan.list();
  for (const ch of changes) {
    const rel = path.relative(root, ch.path);
    out.push(ch.before === undefined ? c.green(`+ create ${rel}`) : c.yellow(`~ update ${rel}`));
  }
  for (const p of plan.removed()) out.push(c.red(`- remove ${path.relative(root, p)} (generated, unchanged, no longer in the templates)`));
  for (const k of kept) out.push(c.cyan(`= keep ${k}`));
  for (const ch of changes.filter((x: FileChange) => x.before !== undefined)) {
    const rel = path.relative(root, ch.path);
    out.push('');
    if (ch.secret) {
      out.push(c.dim(`${rel}: contents hidden (holds secrets)`));
      continue;
    }
    for (const line of unifiedDiff(ch.before!, ch.after, rel).split('\n')) {
      out.push(line.startsWith('+') ? c.green(line) : line.startsWith('-') ? c.red(line) : line.startsWith('@@') ? c.cyan(line) : line);
    }
  }
  return out.join('\n');
}
