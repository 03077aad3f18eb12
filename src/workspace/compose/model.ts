/**
 * What create-ovu-app puts into compose files (an app's service, a postgres service) and the
 * facts a run reads from a parsed one (services, published ports, the ULM token variable, the
 * postgres service).
 */
import { CONTAINER_PORT, type AppSpec } from '../../app/spec.ts';
import { FlowList, Quoted, type YMap } from './render.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const INITDB_DIR = '/docker-entrypoint-initdb.d';
export const INITDB_MOUNT = `./init-db.sql:${INITDB_DIR}/init-db.sql`;
export const DEFAULT_TOKEN_VAR = 'ULM_SERVICE_TOKEN';
export const PG_DATA_VOLUME = 'postgres_data';
/** Each app's own compose file, in its directory; the workspace's compose file includes it. */
export const APP_COMPOSE_FILE = 'compose.yaml';

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
    // Relative to the app's own compose file, which sits in the app's directory.
    build: './backend',
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
