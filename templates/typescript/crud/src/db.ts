/**
 * This app's own database ({{app.db}}), through Prisma ORM on a `pg` pool (@prisma/adapter-pg),
 * and its read replica when DATABASE_READ_URL names one.
 *
 * ADR-002: the app talks only to its own database. It never connects to ulm_db or to another
 * app's database; user data comes from the ULM API (src/clients/ulm.ts).
 *
 * The pool follows DB_POOL_SIZE / DB_MAX_OVERFLOW / DB_POOL_TIMEOUT as SQLAlchemy's does in the
 * Python stack: up to DB_POOL_SIZE + DB_MAX_OVERFLOW connections (`max`); once opened,
 * DB_POOL_SIZE of them stay open (`min`) and the overflow ones close after 10 s idle; a query
 * waits at most DB_POOL_TIMEOUT seconds for a connection (a new one, or a pooled one to become
 * free) before failing.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { DatabaseConfig } from './kind-config.js';
import type { Outage } from './errors.js';
import { PrismaClient } from './generated/prisma/client.js';
import { prismaItemStore, type ItemStore } from './items.js';

/** What the routes use; tests pass an in-memory stand-in. */
export interface Database {
  /** Items on the primary: every write, and reads that must see the caller's own writes. */
  items: ItemStore;
  /** Items for read-only routes: the replica (DATABASE_READ_URL) when there is one. */
  readItems: ItemStore;
  /** Resolves when the primary answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PrismaDatabase extends Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  /** The replica's pool, when DATABASE_READ_URL is set. */
  readPool: pg.Pool | undefined;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * DATABASE_URL without Prisma's `?schema=` parameter, and that schema (default: the login's
 * search_path). scripts/migrate.mjs reads it the same way, so the app queries the schema the
 * migrations were applied to.
 */
export function splitSchema(databaseUrl: string): { url: string; schema: string | undefined } {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  // Read by Prisma's own engine only; node-postgres would pass it on to the server.
  url.searchParams.delete('pgbouncer');
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`DATABASE_URL: ?schema= must be a plain identifier (letters, digits, _), got "${schema}"`);
  }
  return { url: url.toString(), schema };
}

const ms = (seconds: number) => Math.round(seconds * 1000);

/**
 * The pg pool settings for `config` and one of its URLs (exported for tests). Every bound of
 * src/kind-config.ts lands here: the server's own (statement_timeout, lock_timeout, sent as
 * startup options so they hold from the first query) and the client's (query_timeout, and
 * connectionTimeoutMillis, which bounds both connecting and waiting for a pooled connection).
 */
export function poolConfig(config: DatabaseConfig, databaseUrl: string = config.url): pg.PoolConfig {
  const { url, schema } = splitSchema(databaseUrl);
  const settings = [
    ...(schema ? [`search_path=${schema}`] : []),
    // PgBouncer refuses startup options: behind it the client-side bounds hold, and the
    // server-side ones are the login's (README.md, "Deadlines").
    ...(config.pgbouncer ? [] : [`statement_timeout=${ms(config.statementTimeout)}`, `lock_timeout=${ms(config.lockTimeout)}`]),
  ];
  return {
    connectionString: url,
    ...(settings.length ? { options: settings.map((s) => `-c ${s}`).join(' ') } : {}),
    max: config.poolSize + config.maxOverflow,
    min: config.poolSize,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: ms(config.poolTimeout),
    query_timeout: ms(config.queryTimeout),
  };
}

/**
 * pg-pool has one timeout for both waiting for a free connection and opening a new one; the
 * client's own connect timeout (DB_CONNECT_TIMEOUT) ends a connect to a frozen server sooner.
 */
function boundedClient(connectTimeoutMs: number): typeof pg.Client {
  return class extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionTimeoutMillis: Math.min(connectTimeoutMs, config?.connectionTimeoutMillis ?? connectTimeoutMs) });
    }
  };
}

function newPool(config: DatabaseConfig, url: string, log: ((message: string) => void) | undefined): pg.Pool {
  const pool = new pg.Pool({ ...poolConfig(config, url), Client: boundedClient(ms(config.connectTimeout)) });
  // An idle connection that dies (database restart) must not crash the process.
  pool.on('error', (error) => log?.(`Idle database connection failed: ${error.message}`));
  return pool;
}

/** Creates the pools and the Prisma clients. Nothing connects until the first query. */
export function createDatabase(config: DatabaseConfig, options: { log?: (message: string) => void } = {}): PrismaDatabase {
  // Prisma qualifies its tables with the adapter's schema (default "public"): the same as the pool's.
  const { schema } = splitSchema(config.url);
  const client = (pool: pg.Pool) => new PrismaClient({ adapter: new PrismaPg(pool, schema ? { schema } : {}) });
  const pool = newPool(config, config.url, options.log);
  const prisma = client(pool);
  const readPool = config.readUrl ? newPool(config, config.readUrl, options.log) : undefined;
  const readPrisma = readPool ? client(readPool) : undefined;
  const items = prismaItemStore(prisma);
  let closed = false;
  return {
    prisma,
    pool,
    readPool,
    items,
    readItems: readPrisma ? withFailover(prismaItemStore(readPrisma), items, options.log) : items,
    async ping() {
      await prisma.$queryRaw`SELECT 1`;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([prisma.$disconnect(), readPrisma?.$disconnect()]);
      // The adapter does not end a pool it was given: we own them.
      await Promise.all([pool.end(), readPool?.end()]);
    },
  };
}

/** How long reads skip a replica that failed, before trying it again. */
export const REPLICA_RETRY_MS = 10_000;

/**
 * Reads from the replica, or from the primary while the replica is unreachable: a replica down
 * costs one failed (bounded) attempt, then REPLICA_RETRY_MS of reads on the primary. Only an
 * outage fails over; any other error is the caller's to see.
 */
export function withFailover(replica: ItemStore, primary: ItemStore, log?: (message: string) => void, now: () => number = Date.now): ItemStore {
  let skipUntil = 0;
  const read = async <R>(query: (store: ItemStore) => Promise<R>): Promise<R> => {
    if (now() < skipUntil) return query(primary);
    try {
      return await query(replica);
    } catch (error) {
      if (!isDatabaseOutage(error)) throw error;
      skipUntil = now() + REPLICA_RETRY_MS;
      log?.(`Read replica unavailable, reading from the primary for ${REPLICA_RETRY_MS / 1000} s: ${error instanceof Error ? error.message : String(error)}`);
      return query(primary);
    }
  };
  return {
    ...primary,
    list: (page) => read((store) => store.list(page)),
    get: (id) => read((store) => store.get(id)),
  };
}

/** Seconds a client is told to wait (Retry-After) when the database is unavailable. */
export const DATABASE_RETRY_AFTER = 5;

/** Error codes that mean "the database cannot be reached or cannot take us now". */
const OUTAGE_CODES = new Set([
  // Node's socket errors (pg): refused, reset, unreachable, DNS, timeouts.
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // PostgreSQL: starting up or shutting down, too many connections, admin shutdown.
  // statement_timeout / lock_timeout (src/kind-config.ts): the database too slow to answer.
  '57014',
  '55P03',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  // Prisma: cannot reach the server, timed out, connection closed, pool timeout.
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'P2024',
]);

/** pg's own messages: connect timeout (the client's, the pool's), no answer in time, the server going away. */
const OUTAGE_MESSAGES = /^timeout expired$|timeout exceeded when trying to connect|Query read timeout|Connection terminated|connection (was )?closed|Can't reach database server|the database system is (starting up|shutting down)/i;

/** The error, its causes, and the driver adapter's error Prisma keeps in `meta`. */
function* causes(error: unknown, depth = 0): Generator<unknown> {
  if (error === undefined || error === null || depth > 8) return;
  yield error;
  if (typeof error !== 'object') return;
  const { cause, meta } = error as { cause?: unknown; meta?: { driverAdapterError?: unknown } };
  yield* causes(meta?.driverAdapterError, depth + 1);
  yield* causes(cause, depth + 1);
}

/** Whether `error` (from Prisma, the adapter or pg) means the database is unavailable. */
// pg-pool's own errors reach the routes unwrapped (a plain Error through the adapter, measured
// with the server frozen), so the codes and messages above are what says "the database"; a file
// or other error of a route's own (ENOENT, EACCES, a TypeError) is none of them and stays a 500.
export function isDatabaseOutage(error: unknown): boolean {
  for (const e of causes(error)) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, originalCode, kind, message } = e as { code?: unknown; originalCode?: unknown; kind?: unknown; message?: unknown };
    if (typeof code === 'string' && OUTAGE_CODES.has(code)) return true;
    if (typeof originalCode === 'string' && OUTAGE_CODES.has(originalCode)) return true;
    if (kind === 'DatabaseNotReachable' || kind === 'ConnectionClosed' || kind === 'SocketTimeout') return true;
    if (e instanceof AggregateError && e.errors.some(isDatabaseOutage)) return true;
    if (typeof message === 'string' && OUTAGE_MESSAGES.test(message)) return true;
  }
  return false;
}

/** For the error handler (src/errors.ts): the database down -> 503 with Retry-After. */
export function databaseOutage(error: unknown): Outage | undefined {
  if (!isDatabaseOutage(error)) return undefined;
  return { code: 'database_unavailable', detail: 'The database is unavailable, try again later.', retryAfter: DATABASE_RETRY_AFTER };
}
