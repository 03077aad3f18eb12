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

/** The pg pool settings for `config` (exported for tests). */
export function poolConfig(config: DatabaseConfig): pg.PoolConfig {
  return {
    connectionString: config.url,
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
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
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
