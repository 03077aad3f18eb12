/**
 * The database settings of a crud app, and the bounds on every database operation.
 *
 * Deadlines, all in seconds, all configurable, so a frozen or overloaded database costs a
 * request seconds, never minutes:
 * - DB_CONNECT_TIMEOUT   opening a new connection (a frozen server accepts none);
 * - DB_POOL_TIMEOUT      waiting for a pooled connection when all are busy;
 * - DB_STATEMENT_TIMEOUT the server cancels a statement that runs longer (`statement_timeout`);
 * - DB_LOCK_TIMEOUT      the server gives up waiting for a lock (`lock_timeout`);
 * - DB_QUERY_TIMEOUT     the client gives up on an answer (node-postgres `query_timeout`): what
 *                        ends a query when the server cannot even cancel it (frozen, cut off).
 */
import { boolean, integer, optionalText, seconds, text, type Env } from './env.js';

export interface DatabaseConfig {
  /** This app's own database (ADR-002): {{app.db}}, login {{app.user}}. */
  url: string;
  /** A read replica (optional): read-only routes use it, writes and read-your-own-writes the primary. */
  readUrl: string | undefined;
  /** DB_POOL_SIZE and DB_MAX_OVERFLOW: node-postgres has a single limit, its `max` is their sum. */
  poolSize: number;
  maxOverflow: number;
  poolTimeout: number;
  connectTimeout: number;
  statementTimeout: number;
  lockTimeout: number;
  queryTimeout: number;
  /** Behind PgBouncer (transaction pooling): no session settings in the startup packet. */
  pgbouncer: boolean;
}

export interface KindConfig {
  database: DatabaseConfig;
}

export function readKindConfig(env: Env): KindConfig {
  const statementTimeout = seconds(env, 'DB_STATEMENT_TIMEOUT', 5);
  return {
    database: {
      url: text(env, 'DATABASE_URL', 'postgresql://{{app.user}}@localhost:5432/{{app.db}}'),
      readUrl: optionalText(env, 'DATABASE_READ_URL'),
      poolSize: integer(env, 'DB_POOL_SIZE', {{pool.size}}, 1),
      maxOverflow: integer(env, 'DB_MAX_OVERFLOW', {{pool.maxOverflow}}, 0),
      poolTimeout: seconds(env, 'DB_POOL_TIMEOUT', {{pool.timeout}}),
      connectTimeout: seconds(env, 'DB_CONNECT_TIMEOUT', 3),
      statementTimeout,
      lockTimeout: seconds(env, 'DB_LOCK_TIMEOUT', 2),
      // A little longer than the server's own bound, so that the server's cancel (a clear
      // error, the statement stopped) normally comes first.
      queryTimeout: seconds(env, 'DB_QUERY_TIMEOUT', statementTimeout + 1),
      pgbouncer: boolean(env, 'DB_PGBOUNCER', false),
    },
  };
}
