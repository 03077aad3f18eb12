/**
 * Plain data (maps, lists, strings, numbers, booleans) as YAML text, the way the `yaml` package's
 * Document.toString({ lineWidth: 0 }) writes it, without building a Document: the derived files
 * (deploy/k8s/) are written on every `new` with one entry per app, and a Document of 200 apps'
 * roles cost more than all the rest of a run. test/unit/workspace/yaml-text.test.ts holds it to
 * the package's output byte for byte.
 */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

/** Words of these characters, single spaces between, not ending in `:`, are written as they are… */
const PLAIN = /^(?:[\w./]|-(?=[^\s]))(?:[\w./@%+=,:#-]*[\w./@%+=,#-])?(?: [\w./@%+=,-](?:[\w./@%+=,:#-]*[\w./@%+=,#-])?)*$/;
/** …unless YAML 1.2's core schema would read them as something else than a string. */
const CORE = [
  /^(?:~|[Nn]ull|NULL)$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];

/**
 * `v` as a block mapping value when it needs no quotes (undefined: it may, ask the `yaml` package):
 * a fast path for the compose files' names, numbers and `${VAR}` references.
 */
export function plainScalar(v: unknown): string | undefined {
  if (typeof v === 'boolean' || (typeof v === 'number' && Number.isSafeInteger(v))) return String(v);
  if (typeof v !== 'string') return undefined;
  if (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v)) return v;
  return PLAIN.test(v) && !CORE.some((re) => re.test(v)) ? v : undefined;
}

function scalar(v: string | number | boolean | null, column0 = false): string {
  if (v === null) return 'null';
  if (typeof v !== 'string') return String(v);
  if (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v)) return v;
  // A document marker (--- or ...) at the start of a line would end the document.
  if (PLAIN.test(v) && !(column0 && /^(?:---|\.\.\.)/.test(v)) && !CORE.some((re) => re.test(v))) return v;
  return JSON.stringify(v);
}

function isBlock(v: Plain): v is Plain[] | { [key: string]: Plain } {
  return typeof v === 'object' && v !== null && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
}

function empty(v: Plain[] | { [key: string]: Plain }): string {
  return Array.isArray(v) ? '[]' : '{}';
}

function lines(value: Plain, indent: string, out: string[], lead: string): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isBlock(item)) {
        const sub: string[] = [];
        lines(item, indent + '  ', sub, '');
        out.push(`${indent}- ${sub[0]!.trimStart()}`, ...sub.slice(1));
      } else out.push(`${indent}- ${typeof item === 'object' && item !== null ? empty(item) : scalar(item)}`);
    }
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const key = scalar(k, indent === '');
      if (isBlock(v)) {
        out.push(`${indent}${key}:`);
        lines(v, indent + '  ', out, '');
      } else out.push(`${indent}${key}: ${typeof v === 'object' && v !== null ? empty(v) : scalar(v)}`);
    }
    return;
  }
  out.push(`${indent}${lead}${scalar(value)}`);
}

/** A YAML document: `header` as `#` comment lines, a blank line, then `value`. */
export function yamlText(header: string[], value: Plain): string {
  const out = header.map((l) => (l ? `# ${l}` : ''));
  if (out.length) out.push('');
  if (typeof value === 'object' && value !== null && !isBlock(value)) out.push(empty(value));
  else lines(value, '', out, '');
  return out.join('\n') + '\n';
}
