/**
 * What create-ovu-app puts into a compose file, and how it writes YAML, without the `yaml`
 * package: the services an app adds, the facts a run reads from a parsed file (services, ports,
 * the ULM token variable, the postgres service), and a small emitter for block lines.
 *
 * The emitter writes the scalars our fragments use (names, URLs, `${VAR}` references, numbers,
 * forced-quoted ports) exactly as the `yaml` package would; for anything else it throws
 * NotSimple and the caller uses compose-edit.ts, which renders such scalars through `yaml`. Both
 * paths go through blockLines, so a fragment is byte-identical whichever one writes it.
 */
import { CONTAINER_PORT, type AppSpec } from '../../app/spec.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const INITDB_DIR = '/docker-entrypoint-initdb.d';
export const INITDB_MOUNT = `./init-db.sql:${INITDB_DIR}/init-db.sql`;
export const DEFAULT_TOKEN_VAR = 'ULM_SERVICE_TOKEN';
export const PG_DATA_VOLUME = 'postgres_data';

/** How a file writes its YAML, so added lines look like the lines around them. */
export interface Style {
  /** Indentation added per nesting level of block mappings. */
  step: number;
  /** Columns between a key and the `-` of a block sequence under it (0 = not indented). */
  seqOffset: number;
  singleQuote: boolean;
  flowPadding: boolean;
  eol: string;
}

export const DEFAULT_STYLE: Style = { step: 2, seqOffset: 2, singleQuote: false, flowPadding: false, eol: '\n' };

// ---------------------------------------------------------------------------------------------
// Values to write
// ---------------------------------------------------------------------------------------------

/** A string always written quoted, in the file's quote style (ports: "8001:8000"). */
export class Quoted {
  constructor(readonly value: string) {}
}

/** A list written in flow style on one line: `[a, b]`. */
export class FlowList {
  constructor(readonly items: Y[]) {}
}

export type Y = string | number | boolean | null | Quoted | FlowList | Y[] | YMap;

export interface YMap {
  [key: string]: Y;
}

export function isYMap(v: Y | undefined): v is YMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Quoted) && !(v instanceof FlowList);
}

export function yToJS(v: Y): unknown {
  if (v instanceof Quoted) return v.value;
  if (v instanceof FlowList) return v.items.map(yToJS);
  if (Array.isArray(v)) return v.map(yToJS);
  if (isYMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, yToJS(x)]));
  return v;
}

// ---------------------------------------------------------------------------------------------
// Emitting
// ---------------------------------------------------------------------------------------------

/** A scalar the built-in emitter does not write; compose-edit.ts writes it through `yaml`. */
export class NotSimple extends Error {
  constructor(value: unknown) {
    super(`not a simple scalar: ${JSON.stringify(value)}`);
  }
}

/** Renders one scalar on one line, as a block value or inside a flow collection. */
export interface ScalarRenderer {
  block(v: Y, style: Style): string;
  flow(v: Y, style: Style): string;
}

/** Printable ASCII that needs no escape in either quote style. */
const QUOTABLE = /^[\x20-\x21\x23-\x26\x28-\x5b\x5d-\x7e]*$/;
/** Plain in block context: starts like a word, a path or a `${VAR}`; no spaces, quotes, `#`, `,`, `[`, `]`. */
const PLAIN_BLOCK = /^(?:[A-Za-z/$]|\.\/)[A-Za-z0-9_./:@${}=%+-]*$/;
const PLAIN_FLOW = /^[A-Za-z][A-Za-z0-9_./-]*$/;
/** Words the YAML 1.2 core schema reads as booleans or null, in any letter case. */
const KEYWORD = /^(?:true|false|null)$/i;
/** Durations like 5s, 10m: plain in `yaml`'s output. */
const DURATION = /^[0-9]+(?:ms|s|m|h)$/;

function quote(s: string, style: Style): string {
  return style.singleQuote ? `'${s}'` : `"${s}"`;
}

function simpleScalar(v: Y, style: Style, inFlow: boolean): string {
  if (v instanceof Quoted) {
    if (QUOTABLE.test(v.value)) return quote(v.value, style);
  } else if (typeof v === 'boolean') return String(v);
  else if (v === null) return 'null';
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) return String(v);
  } else if (typeof v === 'string') {
    // Digits alone would read as a number: `yaml` quotes them in the file's preferred style.
    if (/^[0-9]+$/.test(v)) return quote(v, style);
    if (DURATION.test(v)) return v;
    if ((inFlow ? PLAIN_FLOW : PLAIN_BLOCK).test(v) && !KEYWORD.test(v) && !v.endsWith(':')) return v;
  }
  throw new NotSimple(v instanceof Quoted ? v.value : v);
}

/** The built-in renderer: simple scalars only, NotSimple for the rest. */
export const simpleScalars: ScalarRenderer = {
  block: (v, style) => simpleScalar(v, style, false),
  flow(v, style) {
    if (v instanceof FlowList || Array.isArray(v)) {
      const items = v instanceof FlowList ? v.items : v;
      if (items.length === 0) return '[]';
      const pad = style.flowPadding ? ' ' : '';
      return `[${pad}${items.map((i) => simpleScalars.flow(i, style)).join(', ')}${pad}]`;
    }
    if (isYMap(v)) throw new NotSimple(v);
    return simpleScalar(v, style, true);
  },
};

export function renderKey(key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(key);
  return plain ? key : JSON.stringify(key);
}

export function renderFlowPair(key: string, v: Y, style: Style, r: ScalarRenderer = simpleScalars): string {
  return `${renderKey(key)}: ${r.flow(v, style)}`;
}

/** Block lines (no end of line) for the pairs of `map`, keys at column `col`. */
export function blockLines(map: YMap, col: number, style: Style, r: ScalarRenderer = simpleScalars): string[] {
  const pad = ' '.repeat(col);
  const out: string[] = [];
  for (const [k, v] of Object.entries(map)) {
    const key = `${pad}${renderKey(k)}:`;
    if (Array.isArray(v)) {
      if (v.length === 0) out.push(`${key} []`);
      else {
        out.push(key);
        out.push(...seqLines(v, col + style.seqOffset, style, r));
      }
    } else if (isYMap(v)) {
      if (Object.keys(v).length === 0) out.push(`${key} {}`);
      else out.push(key, ...blockLines(v, col + style.step, style, r));
    } else if (v === null) out.push(key);
    else if (v instanceof FlowList) out.push(`${key} ${r.flow(v, style)}`);
    else out.push(`${key} ${r.block(v, style)}`);
  }
  return out;
}

/** Block sequence lines with the `-` at column `col` (scalar items only). */
export function seqLines(items: Y[], col: number, style: Style, r: ScalarRenderer = simpleScalars): string[] {
  return items.map((item) => {
    if (Array.isArray(item) || isYMap(item) || item instanceof FlowList) return `${' '.repeat(col)}- ${r.flow(item, style)}`;
    return `${' '.repeat(col)}- ${r.block(item, style)}`;
  });
}

// ---------------------------------------------------------------------------------------------
// What an app adds
// ---------------------------------------------------------------------------------------------

export function appService(spec: AppSpec, pgName: string | undefined, tokenVar: string): YMap {
  const { names, settings } = spec;
  const env: YMap = {};
  if (pgName !== undefined) {
    env['DATABASE_URL'] = `postgresql://${names.user}:\${${names.passwordVar}}@${pgName}:5432/${names.db}`;
    env['DB_POOL_SIZE'] = String(settings.pool.size);
    env['DB_MAX_OVERFLOW'] = String(settings.pool.maxOverflow);
    env['DB_POOL_TIMEOUT'] = String(settings.pool.timeout);
  }
  env['ULM_BASE_URL'] = settings.ulmUrl;
  env['ULM_SERVICE_TOKEN'] = `\${${tokenVar}}`;
  const svc: YMap = {
    build: `./${names.slug}/backend`,
    environment: env,
    ports: [new Quoted(`${settings.port}:${CONTAINER_PORT}`)],
  };
  if (pgName !== undefined) svc['depends_on'] = { [pgName]: { condition: 'service_healthy' } };
  return svc;
}

export function healthcheck(user: string): YMap {
  return {
    test: new FlowList([new Quoted('CMD-SHELL'), new Quoted(`pg_isready -U ${user}`)]),
    interval: '5s',
    timeout: '5s',
    retries: 10,
  };
}

export function newPostgres(spec: AppSpec): YMap {
  const v = spec.names.passwordVar;
  return {
    image: 'postgres:15',
    environment: { POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'postgres', [v]: `\${${v}}` },
    ports: [new Quoted('5432:5432')],
    volumes: [`${PG_DATA_VOLUME}:/var/lib/postgresql/data`, INITDB_MOUNT],
    healthcheck: healthcheck('postgres'),
  };
}

// ---------------------------------------------------------------------------------------------
// Facts read from a parsed file
// ---------------------------------------------------------------------------------------------

export interface ComposeInfo {
  services: string[];
  /** Host ports published by any service, in file order, without duplicates. */
  hostPorts: number[];
  /** Each published host port and the (first) service publishing it. */
  portOwners: Map<number, string>;
  ulmTokenVar: string | undefined;
}

/** Services, published host ports and the ULM token variable of a parsed (valid) file. */
export function composeInfo(js: Obj): ComposeInfo {
  const services = isObj(js['services']) ? js['services'] : {};
  const portOwners = new Map<number, string>();
  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc) || !Array.isArray(svc['ports'])) continue;
    for (const p of svc['ports']) {
      for (const port of publishedPorts(p)) if (!portOwners.has(port)) portOwners.set(port, name);
    }
  }
  return {
    services: Object.keys(services),
    hostPorts: [...portOwners.keys()],
    portOwners,
    ulmTokenVar: findTokenVar(services, undefined),
  };
}

/** `${VAR}`, `${VAR:-default}` → its default (or ''), for reading port numbers. */
function interpolateDefaults(s: string): string {
  return s.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?:(:?[-?+])([^}]*))?\}/g, (_m, op: string | undefined, arg: string | undefined) =>
    op && op.endsWith('-') ? (arg ?? '') : 'x',
  );
}

function expandRange(spec: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec.trim());
  if (!m) return [];
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (to < from || to - from > 1000) return from > 0 && from < 65536 ? [from] : [];
  const out: number[] = [];
  for (let p = from; p <= to; p++) if (p > 0 && p < 65536) out.push(p);
  return out;
}

/** Host ports a `ports:` entry publishes (none for `- 8000`, which picks a random host port). */
function publishedPorts(entry: unknown): number[] {
  if (isObj(entry)) {
    const pub = entry['published'];
    if (typeof pub === 'number') return expandRange(String(pub));
    if (typeof pub === 'string') return expandRange(interpolateDefaults(pub));
    return [];
  }
  if (typeof entry !== 'string') return [];
  let s = interpolateDefaults(entry).replace(/\/(tcp|udp|sctp)$/i, '');
  s = s.replace(/^\[[^\]]*\]:/, 'ip:'); // [::1]:8080:80
  const parts = s.split(':');
  if (parts.length === 2) return expandRange(parts[0]!);
  if (parts.length === 3) return expandRange(parts[1]!);
  return [];
}

function tokenVarIn(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?+-][^}]*)?\}$/.exec(value) ?? /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  return m?.[1];
}

/** The variable a file's services read ULM_SERVICE_TOKEN from, if any. */
export function tokenVarOf(js: Obj): string | undefined {
  return findTokenVar(isObj(js['services']) ? js['services'] : {}, undefined);
}

/** The variable other services' ULM_SERVICE_TOKEN reads (`${ULM_TOKEN}` → 'ULM_TOKEN'). */
export function findTokenVar(services: Obj, exclude: string | undefined): string | undefined {
  for (const [name, svc] of Object.entries(services)) {
    if (name === exclude || !isObj(svc)) continue;
    const env = svc['environment'];
    let value: unknown;
    if (isObj(env)) value = env['ULM_SERVICE_TOKEN'];
    else if (Array.isArray(env)) {
      const item = env.find((e) => typeof e === 'string' && e.startsWith('ULM_SERVICE_TOKEN='));
      value = typeof item === 'string' ? item.slice('ULM_SERVICE_TOKEN='.length) : undefined;
    }
    const found = tokenVarIn(value);
    if (found) return found;
  }
  return undefined;
}

export function envHas(env: unknown, name: string): boolean {
  if (isObj(env)) return name in env;
  if (Array.isArray(env)) return env.some((e) => e === name || (typeof e === 'string' && e.startsWith(`${name}=`)));
  return false;
}

function envValue(env: unknown, name: string): unknown {
  if (isObj(env)) return env[name];
  if (Array.isArray(env)) {
    const item = env.find((e) => typeof e === 'string' && e.startsWith(`${name}=`));
    return typeof item === 'string' ? item.slice(name.length + 1) : undefined;
  }
  return undefined;
}

/** The user pg_isready should use: POSTGRES_USER as written, or the container's own variable. */
export function pgUser(env: unknown): string {
  const value = envValue(env, 'POSTGRES_USER');
  if (value === undefined || value === null || value === '') return 'postgres';
  const s = String(value);
  return /^[A-Za-z0-9_.-]+$/.test(s) ? s : '$${POSTGRES_USER}';
}

export function mountsInitDir(volumes: unknown): boolean {
  if (!Array.isArray(volumes)) return false;
  return volumes.some((v) => {
    let target: unknown;
    if (typeof v === 'string') target = v.split(':')[1];
    else if (isObj(v)) target = v['target'];
    if (typeof target !== 'string') return false;
    const t = target.replace(/\/+$/, '');
    return t === INITDB_DIR || t.startsWith(`${INITDB_DIR}/`);
  });
}

const POSTGRES_IMAGE = /^(?:[^/\s]+\/)*postgres(?::[\w.-]+)?(?:@sha256:[0-9a-f]+)?$/;

/** The service apps connect to: one named postgres, else the first running a postgres image. */
export function findPostgres(services: Obj, exclude: string): string | undefined {
  if ('postgres' in services && exclude !== 'postgres') return 'postgres';
  for (const [name, svc] of Object.entries(services)) {
    if (name !== exclude && isObj(svc) && typeof svc['image'] === 'string' && POSTGRES_IMAGE.test(svc['image'])) return name;
  }
  return undefined;
}
