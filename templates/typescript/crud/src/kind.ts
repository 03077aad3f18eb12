/**
 * What a crud app adds to src/app.ts: its own database (src/db.ts) and the items resource.
 * The database is what /health/ready asks, and its outages are answered 503 (src/errors.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createDatabase, DATABASE_RETRY_AFTER, databaseOutage, type Database } from './db.js';
import type { Kind } from './kind-contract.js';
import { itemRoutes } from './routes/items.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's own database (src/db.ts). */
    db: Database;
  }
}

export interface KindOptions {
  /** Replaces the real database (tests). A database passed in is not closed by the app. */
  db?: Database;
}

export function registerKind(app: FastifyInstance, config: Config, options: KindOptions): Promise<Kind> {
  // The pools connect on first use; the app closes them when it closes (server shutdown).
  const db = options.db ?? createDatabase(config.database, { log: (message) => app.log.error(message) });
  app.decorate('db', db);
  if (!options.db) app.addHook('onClose', async () => db.close());
  return Promise.resolve({
    readiness: { name: 'database', check: () => db.ping(), retryAfter: DATABASE_RETRY_AFTER },
    isOutage: databaseOutage,
    routes: itemRoutes,
  });
}
