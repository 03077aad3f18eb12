/**
 * Kubernetes manifests on CloudNativePG, as kustomizations. Each app has its own in
 * `<app>/deploy/k8s/` (templates/deploy/, rendered with the app's files: the team's to edit); the
 * workspace's `deploy/k8s/` is computed whole from the set of apps (a DERIVED kind): the one
 * PostgreSQL `Cluster`, whose managed roles are the crud apps' logins with their connection
 * limits, and the kustomization that lists every app's directory and the workspace's other
 * files, each a DERIVED kind of its own under k8s/ (Poolers, backups, the PrometheusRule).
 *
 * Roles are `Cluster.spec.managed.roles` entries rather than per-app `DatabaseRole` resources:
 * every CloudNativePG release since 1.20 has them, while DatabaseRole exists only in operator
 * builds after v1.30 (the CRDs in test/fixtures/cloudnative-pg/ come from such a build).
 */
import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_RESERVED_CONNECTIONS, ULM_ASSUMED_CONNECTIONS, budgetTotal } from '../database/budget.ts';
import { STACKS } from '../stacks/index.ts';
import type { DerivedApp, DerivedContext, DerivedFile } from './derived.ts';
import { appRollout, k8sConnectionLimit } from './k8s/budget.ts';
import { listedIn, poolerName } from './k8s/names.ts';
import { clusterBackup, clusterMonitoring, k8sResources } from './k8s/resources.ts';
import { yamlText, type Plain } from './yaml-text.ts';
import { ULM_DEFAULT_URL, usesUlmDev } from './ulm-dev/names.ts';

/** Where the manifests are: `<app>/deploy/k8s/` and the workspace's own `deploy/k8s/`. */
export const K8S_DIR = 'deploy/k8s';
export const KUSTOMIZATION = 'kustomization.yaml';
export const CLUSTER_FILE = 'cluster.yaml';
/** The CloudNativePG Cluster every app's database lives in; its primary's Service is `<name>-rw`. */
export const CLUSTER_NAME = 'ovu-postgres';
/** Images are pushed there by the team; each app's kustomization names its own (`images:`). */
export const IMAGE_REGISTRY = 'registry.example.invalid/ovu';
/** The Secret (key `token`) with the Bearer token apps send to ULM; made by the team, not generated. */
export const ULM_TOKEN_SECRET = 'ulm-service-token';
/** The `app.kubernetes.io/part-of` label of everything (the templates write it as it is). */
export const PART_OF = 'ovu-platform';
/**
 * Connections CloudNativePG itself opens beside the apps (its instance manager, the metrics
 * exporter, an operator's psql): max_connections leaves room for them. Streaming replicas use
 * WAL senders, which PostgreSQL counts apart from max_connections.
 */
export const OPERATOR_CONNECTIONS = 10;

/** The app's `kubernetes.io/basic-auth` Secret: `username` is its login, `password` its password. */
export const dbSecretName = (spec: AppSpec): string => `${spec.names.slug}-db-credentials`;

/**
 * The backend's database URLs: DATABASE_URL to the primary (through the app's Pooler for a
 * --pgbouncer app), DATABASE_READ_URL to the replicas (the Cluster's `-ro` Service, or the
 * Pooler that reaches it). $(DB_PASSWORD) is expanded by Kubernetes from the Secret.
 */
export function k8sDatabaseUrls(spec: AppSpec): { write: string; read: string } {
  const { names, settings } = spec;
  const url = (host: string, query = ''): string => `postgresql://${names.user}:$(DB_PASSWORD)@${host}:5432/${names.db}${query}`;
  if (!settings.pgbouncer) return { write: url(`${CLUSTER_NAME}-rw`), read: url(`${CLUSTER_NAME}-ro`) };
  const query = settings.stack === 'typescript' ? '?pgbouncer=true' : '';
  return { write: url(poolerName(spec, 'rw'), query), read: url(poolerName(spec, 'ro'), query) };
}

/** What the app's templates under templates/deploy/ interpolate. */
export function k8sValues(spec: AppSpec) {
  const stack = STACKS[spec.settings.stack];
  const rollout = appRollout(spec);
  const urls = k8sDatabaseUrls(spec);
  return {
    image: `${IMAGE_REGISTRY}/${spec.names.service}`,
    runAsUser: stack.imageUid,
    // A YAML flow sequence, as a reader would write it.
    migrateCommand: `[${stack.migrate.inImage.map((a) => JSON.stringify(a)).join(', ')}]`,
    // Each replica is one process with its own pool, which the login's CONNECTION LIMIT counts; a
    // readonly app is not asked (it has no pool to budget): one, for the team to scale.
    replicas: rollout.replicas,
    // Explicit, because the login's CONNECTION LIMIT counts the surge pods (k8s/budget.ts).
    maxSurge: rollout.maxSurge,
    maxUnavailable: rollout.maxUnavailable,
    cluster: CLUSTER_NAME,
    // Migrations go to the primary directly (Prisma Migrate takes a session advisory lock).
    dbHost: `${CLUSTER_NAME}-rw`,
    dbUrl: urls.write,
    dbReadUrl: urls.read,
    pgbouncer: String(spec.settings.pgbouncer),
    dbSecret: dbSecretName(spec),
    ulmTokenSecret: ULM_TOKEN_SECRET,
    // The development ULM (workspace/ulm-dev/) never reaches a cluster: there the apps call ULM.
    ulmUrl: usesUlmDev(spec.settings.ulmUrl) ? ULM_DEFAULT_URL : spec.settings.ulmUrl,
  };
}

/** max_connections that holds every crud app's limit, ULM, the reserved slots and the operator's own. */
export function clusterMaxConnections(specs: AppSpec[]): number {
  const apps = specs.map((s) => ({ role: s.names.user, limit: k8sConnectionLimit(s) }));
  const needed = budgetTotal({ maxConnections: 0, reserved: DEFAULT_RESERVED_CONNECTIONS, ulm: ULM_ASSUMED_CONNECTIONS, apps }) + OPERATOR_CONNECTIONS;
  return Math.max(DEFAULT_MAX_CONNECTIONS, needed);
}

/** A YAML file with a comment on top. */
function yamlFile(header: string[], value: Plain): string {
  return yamlText(header, value);
}

const GENERATED = [
  'Written by create-ovu-app from the workspace\'s apps; every `new` and `remove` writes it again.',
  'Change it through an overlay of your own (resources: [../k8s] plus patches), not here.',
];

/** The workspace's CloudNativePG Cluster, for its crud apps. */
export function clusterManifest(crud: AppSpec[]): string {
  const roles = crud.map((s) => ({
    name: s.names.user,
    ensure: 'present',
    comment: `create-ovu-app: ${s.names.slug}`,
    login: true,
    superuser: false,
    createdb: false,
    createrole: false,
    replication: false,
    bypassrls: false,
    inherit: true,
    connectionLimit: k8sConnectionLimit(s),
    passwordSecret: { name: dbSecretName(s) },
  }));
  // ADR-002: a login reaches its own database only, and no other login reaches it (PUBLIC can
  // connect to every database otherwise). CloudNativePG puts these lines before its default rule;
  // its own connections (local peer, certificates) come before them.
  const pgHba = crud.flatMap((s) => [
    `host ${s.names.db} ${s.names.user} all scram-sha-256`,
    `host ${s.names.db} all all reject`,
    `host all ${s.names.user} all reject`,
  ]);
  return yamlFile(
    [
      ...GENERATED,
      'One PostgreSQL for every app (ADR-002): each crud app\'s login is a managed role with its',
      'CONNECTION LIMIT (pool size + max overflow) x (replicas + rollout surge) + 1 for a migration + 1 for',
      'the nightly dump (x the Pooler\'s pods instead for a --pgbouncer app), its password from the app\'s Secret;',
      `max_connections holds them all with ULM (${ULM_ASSUMED_CONNECTIONS}), ${DEFAULT_RESERVED_CONNECTIONS} reserved and ${OPERATOR_CONNECTIONS} for the operator.`,
    ],
    {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      metadata: { name: CLUSTER_NAME, labels: { 'app.kubernetes.io/part-of': PART_OF } },
      spec: {
        instances: 3,
        storage: { size: '10Gi' },
        enableSuperuserAccess: false,
        postgresql: {
          // pg_stat_statements.*: CloudNativePG then loads the library (the slow query metrics).
          parameters: { max_connections: String(clusterMaxConnections(crud)), 'pg_stat_statements.track': 'all' },
          pg_hba: pgHba,
        },
        managed: { roles },
        backup: clusterBackup(),
        monitoring: clusterMonitoring(),
      },
    },
  );
}

/** The workspace's kustomization: the Cluster (when an app needs it) and each app's directory. */
export function workspaceKustomization(apps: DerivedApp[], without: DerivedApp[], cluster: boolean, more: string[] = []): string {
  const header = [
    ...GENERATED,
    'kubectl apply -k deploy/k8s   (CloudNativePG installed; each app\'s Secret made first:',
    'see its deploy/k8s/kustomization.yaml). The token apps send to ULM, if ULM wants one:',
    `  kubectl create secret generic ${ULM_TOKEN_SECRET} --from-file=token=<(printf %s "$(sed -n 's/^ULM_SERVICE_TOKEN=//p' .env)")`,
  ];
  for (const a of without) header.push(`${a.dir}: has no ${K8S_DIR}/${KUSTOMIZATION} (made before create-ovu-app wrote them), so it is not listed.`);
  return yamlFile(header, {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [...(cluster ? [CLUSTER_FILE] : []), ...more, ...apps.map((a) => `../../${a.dir}/${K8S_DIR}`)],
  });
}

/** The DERIVED kind: `deploy/k8s/` from the workspace's apps; gone with the last app. */
export function k8sWorkspaceFiles(ctx: DerivedContext): DerivedFile[] {
  // A run that changes one app looks at that app's manifests only: the others are listed as the
  // kustomization it wrote last lists them (doctor, which changes none, looks at every app's).
  const before = ctx.changed === undefined ? undefined : listedIn(ctx.read(path.join(ctx.root, K8S_DIR, KUSTOMIZATION)));
  const hasOwn = (a: DerivedApp): boolean =>
    before !== undefined && a.dir !== ctx.changed ? before.has(a.dir) : ctx.read(path.join(ctx.root, a.dir, K8S_DIR, KUSTOMIZATION)) !== undefined;
  const listed = ctx.apps.filter(hasOwn);
  const without = ctx.apps.filter((a) => !listed.includes(a));
  const crud = listed.filter((a) => a.spec.settings.kind === 'crud').map((a) => a.spec);
  return [
    { path: `${K8S_DIR}/${KUSTOMIZATION}`, text: ctx.apps.length ? workspaceKustomization(listed, without, crud.length > 0, k8sResources(crud)) : undefined },
    { path: `${K8S_DIR}/${CLUSTER_FILE}`, text: crud.length ? clusterManifest(crud) : undefined },
  ];
}
