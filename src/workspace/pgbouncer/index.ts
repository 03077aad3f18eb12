/**
 * The workspace's PgBouncer (ADR-002: "Connection Pooling … Mitigation: Use PgBouncer"), a derived
 * kind (workspace/derived.ts): once one crud app chose --pgbouncer, pgbouncer/compose.yaml (the
 * ovu-pgbouncer service, included from apps.compose.yaml), pgbouncer/pgbouncer.ini (transaction
 * pooling, one entry per such app's database) and pgbouncer/userlist.txt (each such app's login
 * with its SCRAM-SHA-256 verifier from ovu-db-init/verifiers/.env). The choice is per app: an app reaches PgBouncer only
 * when its code is set for transaction pooling (DB_PGBOUNCER, see the stacks' templates), so the
 * others keep their direct connection.
 *
 * Authentication: the userlist holds the same verifier init-db.sql creates the role from, so a
 * client that logs in to PgBouncer with SCRAM lets PgBouncer log in to the server with the keys
 * of that exchange (PgBouncer 1.14+); no password is stored anywhere but the app's own .env.
 */
import path from 'node:path';
import { readVerifier, VERIFIERS_ENV_FILE } from '../verifiers.ts';
import { parse } from 'yaml';
import type { DerivedContext, DerivedFile } from '../derived.ts';
import { APPS_COMPOSE_FILE, DB_INIT_SERVICE, PGBOUNCER_PORT, PGBOUNCER_SERVICE, isObj, type Obj } from '../compose/model.ts';
import { DEFAULT_STYLE, blockLines, type YMap } from '../compose/render.ts';
import { ensureLine } from '../env-file.ts';
import { pgbouncerPoolSize } from '../../database/budget.ts';
import type { AppSpec } from '../../app/spec.ts';

export const PGBOUNCER_DIR = 'pgbouncer';
export const PGBOUNCER_COMPOSE_FILE = `${PGBOUNCER_DIR}/compose.yaml`;
export const USERLIST_FILE = `${PGBOUNCER_DIR}/userlist.txt`;
/** Pinned; its entrypoint runs pgbouncer on /etc/pgbouncer/pgbouncer.ini when that file exists. */
export const PGBOUNCER_IMAGE = 'edoburu/pgbouncer:v1.23.1-p3';

/** Client connections PgBouncer accepts in all (cheap: a client holds a server connection only inside a transaction). */
export const MAX_CLIENT_CONN = 1000;

export function pgbouncerApps(apps: { spec: AppSpec }[]): AppSpec[] {
  return apps.map((a) => a.spec).filter((s) => s.settings.kind === 'crud' && s.settings.pgbouncer);
}

/** apps.compose.yaml includes pgbouncer/compose.yaml exactly when pgbouncerKind writes it. */
export function includesPgbouncer(hasDatabase: boolean, apps: { spec: AppSpec }[]): boolean {
  return hasDatabase && pgbouncerApps(apps).length > 0;
}

function databaseOf(ctx: DerivedContext): { host: string; port: string; networks: string[]; profiles: string[] } | undefined {
  if ('database' in ctx) return ctx.database;
  const text = ctx.read(path.join(ctx.root, APPS_COMPOSE_FILE));
  if (text === undefined) return undefined;
  const js = parse(text) as Obj | null;
  const init = isObj(js) && isObj(js['services']) ? js['services'][DB_INIT_SERVICE] : undefined;
  if (!isObj(init) || !isObj(init['environment'])) return undefined;
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  return { host: String(init['environment']['PGHOST']), port: String(init['environment']['PGPORT'] ?? '5432'), networks: list(init['networks']), profiles: list(init['profiles']) };
}

const HEADER = (file: string, comment = '#'): string => `${comment} ${file}: written by create-ovu-app from the apps in this workspace; do not edit.`;

/** pgbouncer.ini for `specs`, the server at host:port. */
export function pgbouncerIni(specs: AppSpec[], host: string, port: string | number, listenPort: number = PGBOUNCER_PORT): string {
  const dbs = specs.map((s) => {
    const size = pgbouncerPoolSize(s.settings.pool);
    return `${s.names.db} = host=${host} port=${port} dbname=${s.names.db} pool_size=${size} max_db_connections=${size}`;
  });
  return [
    HEADER(`${PGBOUNCER_DIR}/pgbouncer.ini`, ';'),
    "; One entry per app that reaches its database through PgBouncer: its pool on the server is the app's",
    '; pool size + overflow (pool_size, and max_db_connections caps it), however many processes the app runs.',
    '[databases]',
    ...dbs,
    '',
    '[pgbouncer]',
    'listen_addr = 0.0.0.0',
    `listen_port = ${listenPort}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    'auth_file = /etc/pgbouncer/userlist.txt',
    '; A server connection is a client\'s only for one transaction: the apps turn off prepared statement',
    '; caches (DB_PGBOUNCER) and use no session state (SET, advisory locks, LISTEN) outside a transaction.',
    'pool_mode = transaction',
    `max_client_conn = ${MAX_CLIENT_CONN}`,
    'default_pool_size = 5',
    'reserve_pool_size = 0',
    'server_reset_query =',
    'ignore_startup_parameters = extra_float_digits',
    '',
  ].join('\n');
}

/** userlist.txt: each app login and its SCRAM verifier (the server's own). */
export function userlist(specs: AppSpec[], verifierOf: (s: AppSpec) => string): string {
  const q = (v: string): string => `"${v.replace(/"/g, '""')}"`;
  return [HEADER(`${PGBOUNCER_DIR}/userlist.txt`, ';'), ...specs.map((s) => `${q(s.names.user)} ${q(verifierOf(s))}`), ''].join('\n');
}

function composeText(db: { networks: string[]; profiles: string[] }): string {
  const svc: YMap = {
    image: PGBOUNCER_IMAGE,
    volumes: ['./pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini:ro', './userlist.txt:/etc/pgbouncer/userlist.txt:ro'],
    depends_on: { [DB_INIT_SERVICE]: { condition: 'service_completed_successfully' } },
    ...(db.networks.length ? { networks: db.networks } : {}),
    ...(db.profiles.length ? { profiles: db.profiles } : {}),
  };
  return [
    HEADER(PGBOUNCER_COMPOSE_FILE),
    `# The apps created with --pgbouncer reach their database here (${PGBOUNCER_SERVICE}:${PGBOUNCER_PORT}), in transaction pooling mode.`,
    ...blockLines({ services: { [PGBOUNCER_SERVICE]: svc } }, 0, DEFAULT_STYLE),
  ].join('\n') + '\n';
}

export function pgbouncerKind(ctx: DerivedContext): DerivedFile[] {
  const specs = pgbouncerApps(ctx.apps);
  const db = specs.length ? databaseOf(ctx) : undefined;
  const files = [PGBOUNCER_COMPOSE_FILE, `${PGBOUNCER_DIR}/pgbouncer.ini`, `${PGBOUNCER_DIR}/userlist.txt`];
  if (!db) return files.map((p): DerivedFile => ({ path: p, text: undefined }));
  const verifierOf = (s: AppSpec): string => {
    const v = readVerifier(ctx.read, ctx.root, s.names.verifierVar);
    if (!v) throw new Error(`internal error: ${VERIFIERS_ENV_FILE} has no ${s.names.verifierVar} for pgbouncer/userlist.txt`);
    return v;
  };
  // The verifiers stay out of git, as .env does.
  const gitignore = ensureLine(ctx.read(path.join(ctx.root, '.gitignore')), `/${PGBOUNCER_DIR}/userlist.txt`, [`${PGBOUNCER_DIR}/userlist.txt`]);
  return [
    { path: '.gitignore', text: gitignore },
    { path: PGBOUNCER_COMPOSE_FILE, text: composeText(db) },
    { path: `${PGBOUNCER_DIR}/pgbouncer.ini`, text: pgbouncerIni(specs, db.host, db.port) },
    // Readable by the container's pgbouncer user, which does not own the bind-mounted file. It holds
    // SCRAM verifiers, not passwords: a verifier does not log in to PostgreSQL (the client proof
    // needs the password's ClientKey, which the verifier does not contain).
    { path: `${PGBOUNCER_DIR}/userlist.txt`, text: userlist(specs, verifierOf), mode: 0o644, secret: true },
  ];
}
