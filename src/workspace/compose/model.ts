/**
 * What create-ovu-app puts into compose files (an app's service, a postgres service) and the
 * facts a run reads from a parsed one (services, published ports, the ULM token variable, the
 * postgres service).
 */
import { CONTAINER_PORT, type AppSpec } from '../../app/spec.ts';
import { FlowList, Quoted, type YMap } from './render.ts';
import { STACKS } from '../../stacks/index.ts';
import { ULM_DEV_SERVICE, usesUlmDev } from '../ulm-dev/names.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const DEFAULT_TOKEN_VAR = 'ULM_SERVICE_TOKEN';
export const PG_DATA_VOLUME = 'postgres_data';
/** Each app's own compose file, in its directory: the team's to edit. */
export const APP_COMPOSE_FILE = 'compose.yaml';
/** The file create-ovu-app writes from the workspace's apps; the workspace's compose file includes it. */
export const APPS_COMPOSE_FILE = 'apps.compose.yaml';
/** The one-shot service in it that runs init-db.sql against the database service. */
export const DB_INIT_SERVICE = 'ovu-db-init';
/** The workspace's PgBouncer (workspace/pgbouncer/), for the apps that chose --pgbouncer. */
export const PGBOUNCER_SERVICE = 'ovu-pgbouncer';
export const PGBOUNCER_PORT = 6432;

// ---------------------------------------------------------------------------------------------
// What an app adds
// ---------------------------------------------------------------------------------------------

export function appService(spec: AppSpec, pgName: string | undefined, tokenVar: string): YMap {
  const { names, settings } = spec;
  const env: YMap = {};
  if (pgName !== undefined) {
    if (settings.pgbouncer) {
      // Transaction pooling: the app's code turns off what needs one server session (prepared
      // statement caches) when DB_PGBOUNCER is set; a stack may need more in the URL (StackDef.pgbouncerUrlQuery).
      const query = STACKS[settings.stack].pgbouncerUrlQuery;
      env['DATABASE_URL'] = `postgresql://${names.user}:\${${names.passwordVar}}@${PGBOUNCER_SERVICE}:${PGBOUNCER_PORT}/${names.db}${query}`;
      env['DB_PGBOUNCER'] = new Quoted('true');
    } else env['DATABASE_URL'] = `postgresql://${names.user}:\${${names.passwordVar}}@${pgName}:5432/${names.db}`;
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
    // The same check as the image's HEALTHCHECK: ready means its database (or ULM) answers.
    healthcheck: {
      test: new FlowList(['CMD', ...STACKS[settings.stack].readyCheck(CONTAINER_PORT)].map((a) => new Quoted(a))),
      interval: '10s',
      timeout: '5s',
      retries: 5,
      start_period: '10s',
    },
  };
  // The database service is up and the app's database exists once ovu-db-init has finished.
  // The development ULM (workspace/ulm-dev/) starts with the app: `up <app>` answers requests.
  const ulmDev: YMap = usesUlmDev(settings.ulmUrl) ? { [ULM_DEV_SERVICE]: { condition: 'service_healthy' } } : {};
  if (pgName !== undefined) {
    svc['depends_on'] = { [DB_INIT_SERVICE]: { condition: 'service_completed_successfully' }, ...(settings.pgbouncer ? { [PGBOUNCER_SERVICE]: { condition: 'service_started' } } : {}), ...ulmDev };
  } else if (Object.keys(ulmDev).length) svc['depends_on'] = ulmDev;
  return svc;
}

/** The names a service's `networks:` (a list or a mapping) joins. */
export function networkNames(nets: unknown): string[] {
  return Array.isArray(nets) ? nets.filter((n): n is string => typeof n === 'string') : isObj(nets) ? Object.keys(nets) : [];
}

/**
 * What a service needs to reach the database service however the project connects them, and to
 * exist where it does: the same named networks and profiles.
 */
export function reachOf(db: Obj): YMap {
  const out: YMap = {};
  const nets = networkNames(db['networks']);
  if (nets.length) out['networks'] = nets;
  if (Array.isArray(db['profiles'])) out['profiles'] = db['profiles'].map(String);
  return out;
}

/**
 * The server settings monitoring needs (workspace/monitoring/): pg_stat_statements, which only
 * works when the server loads it at start, tracking nested statements too (functions, DO blocks).
 */
export const PG_STAT_STATEMENTS_COMMAND = ['postgres', '-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'];

/** The database service for a workspace that has none (ADR-002's, with pg_stat_statements loaded). */
export function newPostgres(): YMap {
  return {
    image: 'postgres:15',
    command: [...PG_STAT_STATEMENTS_COMMAND],
    environment: { POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'postgres' },
    ports: [new Quoted('5432:5432')],
    volumes: [`${PG_DATA_VOLUME}:/var/lib/postgresql/data`],
    healthcheck: {
      test: new FlowList([new Quoted('CMD-SHELL'), new Quoted('pg_isready -U postgres')]),
      interval: '5s',
      timeout: '5s',
      retries: 10,
    },
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

/** The value a service's `environment:` (mapping or list) gives `name`, as written. */
export function envValue(env: unknown, name: string): unknown {
  if (isObj(env)) return env[name];
  if (Array.isArray(env)) {
    const item = env.find((e) => typeof e === 'string' && (e === name || e.startsWith(`${name}=`)));
    return typeof item === 'string' ? (item.includes('=') ? item.slice(name.length + 1) : null) : undefined;
  }
  return undefined;
}
