/**
 * deploy/k8s/poolers.yaml (a DERIVED kind): for each app created with --pgbouncer, two
 * CloudNativePG `Pooler`s in transaction mode, `<app>-pooler-rw` in front of the primary (the
 * app's DATABASE_URL) and `<app>-pooler-ro` in front of the replicas (its DATABASE_READ_URL), as
 * ovu-pgbouncer is in compose. One Pooler per app and type, because PgBouncer's pool size is a
 * setting of the whole PgBouncer: each app's is its pool size + overflow (default_pool_size, capped
 * by max_db_connections), as in pgbouncer/pgbouncer.ini. PgBouncer logs in with CloudNativePG's
 * auth_query user, so no password or verifier is in any file.
 */
import type { AppSpec } from '../../app/spec.ts';
import { pgbouncerPoolSize } from '../../database/budget.ts';
import { MAX_CLIENT_CONN } from '../pgbouncer/index.ts';
import type { DerivedContext, DerivedFile } from '../derived.ts';
import { POOLER } from './budget.ts';
import { DERIVED_NOTE, crudWithManifests, manifestsFile, poolerName } from './names.ts';

export const POOLERS_FILE = 'poolers.yaml';
const CLUSTER = 'ovu-postgres'; // k8s.ts CLUSTER_NAME (not imported: k8s.ts imports this module)

export function poolerManifest(spec: AppSpec, type: 'rw' | 'ro') {
  const size = String(pgbouncerPoolSize(spec.settings.pool));
  return {
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Pooler',
    metadata: { name: poolerName(spec, type), labels: { 'app.kubernetes.io/name': spec.names.slug, 'app.kubernetes.io/component': 'pooler', 'app.kubernetes.io/part-of': 'ovu-platform' } },
    spec: {
      cluster: { name: CLUSTER },
      instances: POOLER.instances,
      type,
      // The login's CONNECTION LIMIT counts each PgBouncer pod's pool: a rollout replaces one pod
      // at a time and never adds one (workspace/k8s/budget.ts).
      deploymentStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: POOLER.maxSurge, maxUnavailable: POOLER.maxUnavailable } },
      monitoring: { enablePodMonitor: true },
      pgbouncer: {
        poolMode: 'transaction',
        parameters: { default_pool_size: size, max_db_connections: size, max_client_conn: String(MAX_CLIENT_CONN), reserve_pool_size: '0' },
      },
    },
  };
}

export const poolerKind = (ctx: DerivedContext): DerivedFile[] => {
  const specs = crudWithManifests(ctx).map((a) => a.spec).filter((s) => s.settings.pgbouncer);
  const text = specs.length
    ? manifestsFile(
        [
          ...DERIVED_NOTE,
          'PgBouncer (transaction pooling) for the apps created with --pgbouncer: <app>-pooler-rw writes to the',
          "primary, <app>-pooler-ro reads from the replicas. Each pod's server pool is the app's pool size + overflow.",
        ],
        specs.flatMap((s) => [poolerManifest(s, 'rw'), poolerManifest(s, 'ro')]),
      )
    : undefined;
  return [{ path: `deploy/k8s/${POOLERS_FILE}`, text }];
};
