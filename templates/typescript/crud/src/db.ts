/**
 * This app's own database ({{app.db}}), through Prisma ORM on a `pg` pool (@prisma/adapter-pg).
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
import type { DatabaseConfig } from './config.js';
import type { Outage } from './errors.js';
import { PrismaClient } from './generated/prisma/client.js';
import { prismaItemStore, type ItemStore } from './items.js';

/** What the routes use; tests pass an in-memory stand-in. */
export interface Database {
  items: ItemStore;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PrismaDatabase extends Database {
  prisma: PrismaClient;
  pool: pg.Pool;
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
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`DATABASE_URL: ?schema= must be a plain identifier (letters, digits, _), got "${schema}"`);
  }
  return { url: url.toString(), schema };
}

/** The pg pool settings for `config` (exported for tests). */
export function poolConfig(config: DatabaseConfig): pg.PoolConfig {
  const { url, schema } = splitSchema(config.url);
  return {
    connectionString: url,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    max: config.poolSize + config.maxOverflow,
    min: config.poolSize,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: Math.round(config.poolTimeout * 1000),
  };
}

/** Creates the pool and the Prisma client. Nothing connects until the first query. */
export function createDatabase(config: DatabaseConfig, options: { log?: (message: string) => void } = {}): PrismaDatabase {
  const pool = new pg.Pool(poolConfig(config));
  // An idle connection that dies (database restart) must not crash the process.
  pool.on('error', (error) => options.log?.(`Idle database connection failed: ${error.message}`));
  // Prisma qualifies its tables with the adapter's schema (default "public"): the same as the pool's.
  const { schema } = splitSchema(config.url);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, schema ? { schema } : {}) });
  let closed = false;
  return {
    prisma,
    pool,
    items: prismaItemStore(prisma),
    async ping() {
      await prisma.$queryRaw`SELECT 1`;
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      // The adapter does not end a pool it was given: we own it.
      await pool.end();
    },
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

/** pg's own messages for the pool timing out and the server going away. */
const OUTAGE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|connection (was )?closed|Can't reach database server|the database system is (starting up|shutting down)/i;

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
