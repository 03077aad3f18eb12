import { deriveNames } from './names.ts';
import type { Answers } from './questions.ts';

/** The backend stacks the generator can write: the rows of src/stacks/index.ts. */
export type { Stack } from '../stacks/index.ts';
import type { Stack } from '../stacks/index.ts';

/** crud: own database and migrations. readonly: ULM client only, no database. */
export type Kind = 'crud' | 'readonly';

/** Every name derived from the one the user typed; see names.ts for the rules. */
export interface AppNames {
  /** Directory and compose slug, e.g. "inventory-service". */
  slug: string;
  /** snake_case identifier for PostgreSQL and env vars, e.g. "inventory_service". */
  snake: string;
  /** Human title, e.g. "Inventory Service". */
  title: string;
  /** Database name, `<snake>_db`. */
  db: string;
  /** Login role, `<snake>_user`. */
  user: string;
  /** Upper-case env prefix, e.g. "INVENTORY_SERVICE". */
  envPrefix: string;
  /** Env var holding the DB password, `<ENVPREFIX>_DB_PASSWORD`. */
  passwordVar: string;
  /** Env var holding the password's SCRAM-SHA-256 verifier, `<ENVPREFIX>_DB_VERIFIER` (what init-db.sql reads). */
  verifierVar: string;
  /** Compose service name, `<slug>-backend`. */
  service: string;
}

export interface PoolSettings {
  size: number;
  maxOverflow: number;
  timeout: number;
}

export interface AppSettings {
  stack: Stack;
  kind: Kind;
  /** Host port the backend is published on (the container listens on 8000). */
  port: number;
  pool: PoolSettings;
  /** How many processes (workers, replicas) of the backend run at once: each has its own pool. */
  processes: number;
  /** Through the workspace's PgBouncer in transaction pooling mode (workspace/pgbouncer/). */
  pgbouncer: boolean;
  /** ULM base URL as seen from the app container. */
  ulmUrl: string;
}

/** Everything the generator needs to know about one app. */
export interface AppSpec {
  names: AppNames;
  settings: AppSettings;
}

/** Port the backend listens on inside its container. */
export const CONTAINER_PORT = 8000;

/** The spec a set of answers describes. */
export function specFromAnswers(a: Answers): AppSpec {
  return {
    names: deriveNames(a.name),
    settings: {
      stack: a.stack,
      kind: a.kind,
      port: a.port,
      pool: { size: a.dbPoolSize, maxOverflow: a.dbMaxOverflow, timeout: a.dbPoolTimeout },
      processes: a.processes,
      pgbouncer: a.kind !== 'readonly' && a.pgbouncer === true,
      ulmUrl: a.ulmUrl,
    },
  };
}
