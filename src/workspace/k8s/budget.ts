/**
 * The connection budget on Kubernetes, from the same numbers the manifests are written with: a
 * login's CONNECTION LIMIT must hold every state a rollout passes through, not only the steady one.
 * A Deployment's rolling update runs `maxSurge` extra pods beside `replicas` (the default is 25%,
 * rounded up: one more pod for 1 to 4 replicas), each with its whole pool; a login limited to the
 * steady state refused connections during every rollout (measured: 503s on 11-12% of requests).
 *
 * So the manifests say their strategy explicitly (ROLLOUT: one pod more, none fewer, so a rollout
 * never drops capacity), and the limit is pool × (replicas + surge) + the connections beside the
 * pods: the migration Job (EXTRA_CONNECTIONS) and the nightly dump (DUMP_CONNECTIONS). An app
 * behind its Pooler reaches the server only through the Pooler's instances, each opening at most
 * the app's pool (default_pool_size = max_db_connections); the Pooler never surges (POOLER).
 *
 * doctor (doctor/k8s-budget.ts) reads the same quantities back from the manifests on disk.
 */
import type { AppSpec } from '../../app/spec.ts';
import { EXTRA_CONNECTIONS, pgbouncerPoolSize } from '../../database/budget.ts';

/** pg_dump -Fc without --jobs: one connection, as the app's login, once a night. */
export const DUMP_CONNECTIONS = 1;

/** The app Deployments' rolling update: one extra pod at a time, never one fewer. */
export const ROLLOUT = { maxSurge: 1, maxUnavailable: 0 } as const;

/** A Pooler: two PgBouncer pods, replaced one at a time without a surge pod (its pool is per pod). */
export const POOLER = { instances: 2, maxSurge: 0, maxUnavailable: 1 } as const;

export interface Rollout {
  replicas: number;
  maxSurge: number;
  maxUnavailable: number;
}

/** The app's Deployment: replicas (the --processes answer for a crud app, 1 for a readonly one) and its strategy. */
export function appRollout(spec: AppSpec): Rollout {
  return { replicas: spec.settings.kind === 'crud' ? spec.settings.processes : 1, ...ROLLOUT };
}

/** The most pods a rollout of `r` runs at once. */
export const peakPods = (r: Pick<Rollout, 'replicas' | 'maxSurge'>): number => r.replicas + r.maxSurge;

/** One process's pool at its fullest. */
export const podPool = (spec: AppSpec): number => spec.settings.pool.size + spec.settings.pool.maxOverflow;

/**
 * The login's CONNECTION LIMIT on Kubernetes: what the server can see of the app at the worst
 * moment of a rollout, plus the migration Job and the dump.
 */
export function k8sConnectionLimit(spec: AppSpec): number {
  const beside = EXTRA_CONNECTIONS + DUMP_CONNECTIONS;
  if (spec.settings.pgbouncer) return pgbouncerPoolSize(spec.settings.pool) * peakPods({ replicas: POOLER.instances, maxSurge: POOLER.maxSurge }) + beside;
  return podPool(spec) * peakPods(appRollout(spec)) + beside;
}

/**
 * A rolling update's maxSurge as Kubernetes resolves it for `replicas`: a number as it is, a
 * percentage rounded up; absent, the default 25%. Undefined when it cannot be read.
 */
export function resolveSurge(value: unknown, replicas: number): number | undefined {
  if (value === undefined || value === null) return Math.ceil(replicas * 0.25);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const m = typeof value === 'string' ? /^(\d+)%$/.exec(value) : null;
  return m ? Math.ceil((replicas * Number(m[1])) / 100) : undefined;
}
