/**
 * Whether this Node.js can run a generated TypeScript app: its package.json's `engines.node` (read
 * from the template as rendered, so the two never disagree) against process.version. Enough of
 * semver's range grammar for what package.json files write: `||`, `^`, `~`, `>=`, `>`, `<=`, `<`,
 * `=`, bare and partial versions, `x` wildcards.
 */

type Triple = [number, number, number];

function parseVersion(v: string): { v: Triple; parts: number } | undefined {
  const m = /^v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?/.exec(v.trim());
  if (!m) return undefined;
  const nums = [m[1], m[2], m[3]].filter((p) => p !== undefined && p !== 'x' && p !== '*').map(Number);
  return { v: [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 0], parts: nums.length };
}

const cmp = (a: Triple, b: Triple): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

function comparator(version: Triple, c: string): boolean {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.+)$/.exec(c.trim());
  if (!m) return false;
  const op = m[1] ?? '';
  const parsed = parseVersion(m[2]!);
  if (!parsed) return false;
  const { v: bound, parts } = parsed;
  const d = cmp(version, bound);
  switch (op) {
    case '>=':
      return d >= 0;
    case '>':
      return d > 0;
    case '<=':
      return d <= 0;
    case '<':
      return d < 0;
    case '^':
      return d >= 0 && (bound[0] > 0 ? version[0] === bound[0] : bound[1] > 0 ? version[0] === 0 && version[1] === bound[1] : cmp(version, bound) === 0 || parts < 3);
    case '~':
      return d >= 0 && version[0] === bound[0] && (parts < 2 || version[1] === bound[1]);
    default:
      // A bare or partial version: every version it names (22 is 22.x.x).
      if (parts === 0) return true;
      return version[0] === bound[0] && (parts < 2 || version[1] === bound[1]) && (parts < 3 || version[2] === bound[2]);
  }
}

/** Whether `version` (e.g. v20.17.0) satisfies `range` (e.g. ^22.12.0 || >=24). */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return range.split('||').some((set) => {
    const cs = set.trim().split(/\s+/).filter(Boolean);
    return cs.length === 0 || cs.every((c) => comparator(v.v, c));
  });
}

/** The `engines.node` of a rendered package.json, if it has one. */
export function enginesNode(packageJson: string | undefined): string | undefined {
  if (!packageJson) return undefined;
  try {
    const range = (JSON.parse(packageJson) as { engines?: { node?: unknown } }).engines?.node;
    return typeof range === 'string' ? range : undefined;
  } catch {
    return undefined;
  }
}

/** Lines of an install's output that say the app's engines do not match (npm's EBADENGINE, yarn's and pnpm's). */
export function engineWarnings(output: string): string[] {
  return output.split(/\r?\n/).filter((l) => /EBADENGINE|engine "node" is incompatible|Unsupported engine/i.test(l)).map((l) => l.trim());
}
