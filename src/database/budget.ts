/**
 * Connections: each app login gets a CONNECTION LIMIT from its pool settings and process count,
 * and the limits of every app, plus ULM and the reserved slots, must fit the server's
 * max_connections, or one app's pools can lock every other app (and ULM) out.
 */
import type { AppSettings, PoolSettings } from '../app/spec.ts';

/** One connection beyond the pools: a migration or an operator's psql next to the running app. */
export const EXTRA_CONNECTIONS = 1;

/** What ULM is counted as when ulm_user has no CONNECTION LIMIT: the ADR's pool, 20 + 10, one process. */
export const ULM_ASSUMED_CONNECTIONS = 30;
export const ULM_ROLE = 'ulm_user';

/** PostgreSQL's defaults, for when the server is not known yet (generating). */
export const DEFAULT_MAX_CONNECTIONS = 100;
export const DEFAULT_RESERVED_CONNECTIONS = 3;

/** An app login's limit: every pool at its fullest in every process, plus EXTRA_CONNECTIONS. */
export function connectionLimit(pool: PoolSettings, processes: number): number {
  return (pool.size + pool.maxOverflow) * processes + EXTRA_CONNECTIONS;
}

/**
 * The server connections an app takes: through PgBouncer, its pool there (pool size + overflow,
 * pgbouncer's pool_size and max_db_connections for the database) however many processes share it,
 * plus EXTRA_CONNECTIONS; directly, connectionLimit. It is the login's CONNECTION LIMIT either way.
 */
export function serverConnectionLimit(settings: Pick<AppSettings, 'pool' | 'processes' | 'pgbouncer'>): number {
  return settings.pgbouncer ? pgbouncerPoolSize(settings.pool) + EXTRA_CONNECTIONS : connectionLimit(settings.pool, settings.processes);
}

/** PgBouncer's server connections for an app's database: one app process's pool at its fullest. */
export function pgbouncerPoolSize(pool: PoolSettings): number {
  return pool.size + pool.maxOverflow;
}

export interface Budget {
  maxConnections: number;
  /** superuser_reserved_connections + reserved_connections (PG16+). */
  reserved: number;
  /** ULM's limit, or ULM_ASSUMED_CONNECTIONS when it has none (0 when there is no ULM role). */
  ulm: number;
  /** Every other login with a CONNECTION LIMIT (the other apps), and the new or changed one last. */
  apps: { role: string; limit: number }[];
}

export function budgetTotal(b: Budget): number {
  return b.reserved + b.ulm + b.apps.reduce((sum, a) => sum + a.limit, 0);
}

/** A refusal naming the numbers and the choices, or undefined when the budget fits. */
export function budgetProblem(b: Budget, where: string, raiseHow = 'on the server'): string | undefined {
  const total = budgetTotal(b);
  if (total <= b.maxConnections) return undefined;
  const apps = b.apps.map((a) => `${a.role} ${a.limit}`).join(' + ');
  return (
    `connection budget exceeded at ${where}: ${b.reserved} reserved + ULM ${b.ulm} + apps ${apps || '0'} = ${total} connections, ` +
    `but max_connections is ${b.maxConnections}; use smaller pools (--db-pool-size, --db-max-overflow) or fewer --processes, ` +
    `raise max_connections ${raiseHow}, or put PgBouncer in front of it`
  );
}
