/**
 * The documents of one compose file merged the way Compose merges project files (`-f a -f b`, and
 * the `---` documents of one file): mappings key by key, a later scalar replacing an earlier one,
 * `command`/`entrypoint`/a healthcheck's `test` replaced whole, other lists (ports, volumes,
 * include, …) joined without duplicates, `environment` and `labels` merged by name whichever form
 * (list or mapping) each document writes them in.
 */
import { isObj, type Obj } from './model.ts';

const REPLACED = new Set(['command', 'entrypoint', 'test']);
const BY_NAME = new Set(['environment', 'labels', 'annotations']);

/** `KEY=value` list entries (or `KEY` alone: null) as a mapping. */
function byName(v: unknown): Obj {
  if (isObj(v)) return v;
  const out: Obj = {};
  for (const e of Array.isArray(v) ? v : []) {
    const s = String(e);
    const at = s.indexOf('=');
    out[at === -1 ? s : s.slice(0, at)] = at === -1 ? null : s.slice(at + 1);
  }
  return out;
}

function merge(a: unknown, b: unknown, key: string | undefined): unknown {
  if (key !== undefined && BY_NAME.has(key) && (Array.isArray(a) || Array.isArray(b)) && a !== undefined) return { ...byName(a), ...byName(b) };
  if (isObj(a) && isObj(b)) {
    const out: Obj = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v, k) : v;
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b) && !(key !== undefined && REPLACED.has(key))) {
    const seen = new Set(a.map((x) => JSON.stringify(x)));
    return [...a, ...b.filter((x) => !seen.has(JSON.stringify(x)))];
  }
  return b;
}

export function mergeDocuments(values: Obj[]): Obj {
  return values.slice(1).reduce<Obj>((acc, v) => merge(acc, v, undefined) as Obj, values[0]!);
}
