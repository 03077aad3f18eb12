/**
 * Backups on Kubernetes (ADR-002: a daily dump per database, uploaded to object storage), a
 * DERIVED kind writing deploy/k8s/backups.yaml (what the apps share) and deploy/k8s/backups/<app>.yaml
 * (each crud app's CronJobs, so adding or removing an app writes that app's file only):
 *
 * - the Cluster's own physical backups: `clusterBackup()` (barmanObjectStore: base backups and WAL
 *   to s3://ovu-backups/cluster, credentials by reference to the Secret ovu-backup-s3) and a daily
 *   `ScheduledBackup`, for restoring the whole server to a point in time;
 * - per crud app, a daily `CronJob` `<app>-db-backup`: `pg_dump -Fc` of `<app>_db` as the app's own
 *   login (its password from the app's Secret, in PGPASSWORD), uploaded to
 *   s3://ovu-backups/<app>/ keeping the newest 30, then recorded as the database's comment (the
 *   metric ovu_backup_last_success_timestamp_seconds);
 * - per crud app, a suspended `CronJob` `<app>-db-restore`, never scheduled, run by hand
 *   (`kubectl create job --from=cronjob/<app>-db-restore …`): the newest dump (or RESTORE_KEY)
 *   restored as the app's own login, as `create-ovu-app restore` does locally.
 *
 * The scripts are backup/scripts.ts's, mounted from a ConfigMap; nothing secret is in any file.
 */
import type { AppSpec } from '../../app/spec.ts';
import path from 'node:path';
import type { DerivedContext, DerivedFile } from '../derived.ts';
import { K8S_SCRIPTS, S3_KEEP } from '../backup/scripts.ts';
import { perAppFiles } from '../per-app-files.ts';
import { BACKUP_BUCKET, BACKUP_S3_SECRET, DERIVED_NOTE, manifestsFile, crudWithManifests } from './names.ts';

export const BACKUPS_FILE = 'backups.yaml';
/** Each crud app's CronJobs, in deploy/k8s/backups/<app>.yaml (the kustomization lists each). */
export const APP_BACKUPS_DIR = 'backups';
export const appBackupsFile = (slug: string): string => `${APP_BACKUPS_DIR}/${slug}.yaml`;
const CLUSTER = 'ovu-postgres'; // k8s.ts CLUSTER_NAME (not imported: k8s.ts imports this module)
const SCRIPTS_CONFIGMAP = 'ovu-backup-scripts';
const SETTINGS_CONFIGMAP = 'ovu-backup-settings';

/**
 * Pinned images: pg_dump and pg_restore of PostgreSQL 18, the newest major (a pg_dump must be at
 * least the server's major; CloudNativePG's default image is 18), and the AWS CLI v2. Both run as
 * the postgres image's uid 70.
 */
export const BACKUP_IMAGES = { postgres: 'postgres:18-alpine', awsCli: 'amazon/aws-cli:2.17.0' } as const;
const UID = 70;

/** The daily dumps run at 03:30 UTC, the Cluster's base backup at 02:00. */
export const DUMP_SCHEDULE = '30 3 * * *';
export const CLUSTER_BACKUP_SCHEDULE = '0 0 2 * * *';

const secretRef = (key: string) => ({ name: BACKUP_S3_SECRET, key });

/** Cluster.spec.backup: base backups and WAL archiving to the bucket, kept 30 days. */
export function clusterBackup() {
  return {
    retentionPolicy: '30d',
    barmanObjectStore: {
      destinationPath: `s3://${BACKUP_BUCKET}/cluster`,
      s3Credentials: { accessKeyId: secretRef('ACCESS_KEY_ID'), secretAccessKey: secretRef('ACCESS_SECRET_KEY') },
      wal: { compression: 'gzip' },
      data: { compression: 'gzip' },
    },
  };
}

const labels = (spec: AppSpec | undefined, component: string) => ({
  ...(spec ? { 'app.kubernetes.io/name': spec.names.slug } : {}),
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/part-of': 'ovu-platform',
});

const container = (name: string, image: string, script: string, env: unknown[], extra: Record<string, unknown> = {}) => ({
  name,
  image,
  command: ['sh', `/scripts/${script}`],
  env,
  ...extra,
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  volumeMounts: [
    { name: 'scripts', mountPath: '/scripts', readOnly: true },
    { name: 'work', mountPath: '/work' },
    { name: 'tmp', mountPath: '/tmp' },
  ],
});

/** The app's login, from its basic-auth Secret, for pg_dump, psql and pg_restore. */
function pgEnv(spec: AppSpec) {
  const secret = `${spec.names.slug}-db-credentials`;
  return [
    { name: 'PGHOST', value: `${CLUSTER}-rw` },
    { name: 'PGPORT', value: '5432' },
    { name: 'PGDATABASE', value: spec.names.db },
    { name: 'PGUSER', valueFrom: { secretKeyRef: { name: secret, key: 'username' } } },
    { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } },
  ];
}

function s3Env(spec: AppSpec) {
  return [
    { name: 'OVU_BACKUP_APP', value: spec.names.slug },
    { name: 'PGDATABASE', value: spec.names.db },
    { name: 'HOME', value: '/tmp' },
    { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: secretRef('ACCESS_KEY_ID') } },
    { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: secretRef('ACCESS_SECRET_KEY') } },
  ];
}

function podSpec(initContainers: unknown[], containers: unknown[]) {
  return {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: UID, runAsGroup: UID, fsGroup: UID, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers,
    containers,
    volumes: [
      { name: 'scripts', configMap: { name: SCRIPTS_CONFIGMAP } },
      { name: 'work', emptyDir: { sizeLimit: '10Gi' } },
      { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } },
    ],
  };
}

const envFrom = [{ configMapRef: { name: SETTINGS_CONFIGMAP } }];

export function dumpCronJob(spec: AppSpec) {
  const pod = podSpec(
    [container('dump', BACKUP_IMAGES.postgres, 'dump.sh', pgEnv(spec)), container('upload', BACKUP_IMAGES.awsCli, 'upload.sh', s3Env(spec), { envFrom })],
    [container('mark', BACKUP_IMAGES.postgres, 'mark.sh', pgEnv(spec))],
  );
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: `${spec.names.slug}-db-backup`, labels: labels(spec, 'backup') },
    spec: {
      schedule: DUMP_SCHEDULE,
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 86400, template: { metadata: { labels: labels(spec, 'backup') }, spec: pod } } },
    },
  };
}

export function restoreCronJob(spec: AppSpec) {
  const restoreEnv = [...pgEnv(spec), { name: 'PGOPTIONS', value: '-c lock_timeout=60000' }];
  const pod = podSpec(
    [container('fetch', BACKUP_IMAGES.awsCli, 'fetch.sh', [...s3Env(spec), { name: 'RESTORE_KEY', value: '' }], { envFrom })],
    [container('restore', BACKUP_IMAGES.postgres, 'restore.sh', restoreEnv)],
  );
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: `${spec.names.slug}-db-restore`, labels: labels(spec, 'restore') },
    spec: {
      // Never runs on its own: `kubectl create job --from=cronjob/<name>` runs it once.
      suspend: true,
      schedule: '0 0 1 1 *',
      concurrencyPolicy: 'Forbid',
      jobTemplate: { spec: { backoffLimit: 0, activeDeadlineSeconds: 3600, template: { metadata: { labels: labels(spec, 'restore') }, spec: pod } } },
    },
  };
}

/** The file's shared manifests: the scripts, the settings, the Cluster's ScheduledBackup. */
function sharedManifests(): unknown[] {
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: SCRIPTS_CONFIGMAP, labels: labels(undefined, 'backup') }, data: K8S_SCRIPTS },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: SETTINGS_CONFIGMAP, labels: labels(undefined, 'backup') },
      // An empty endpoint is AWS S3 itself; any S3-compatible store's URL otherwise.
      data: { OVU_BACKUP_S3_BUCKET: BACKUP_BUCKET, OVU_BACKUP_S3_ENDPOINT: '', OVU_BACKUP_S3_KEEP: String(S3_KEEP), AWS_DEFAULT_REGION: 'us-east-1' },
    },
    {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'ScheduledBackup',
      metadata: { name: `${CLUSTER}-daily`, labels: labels(undefined, 'backup') },
      spec: { schedule: CLUSTER_BACKUP_SCHEDULE, cluster: { name: CLUSTER }, method: 'barmanObjectStore', backupOwnerReference: 'self', immediate: true },
    },
  ];
}

/** An app's file: its dump CronJob and its suspended restore CronJob. */
function appBackups(spec: AppSpec): string {
  const { slug } = spec.names;
  return manifestsFile(
    [
      ...DERIVED_NOTE,
      `${slug}'s pg_dump -Fc (CronJob ${slug}-db-backup, ${DUMP_SCHEDULE} UTC) to s3://${BACKUP_BUCKET}/${slug}/ as its own login, and its`,
      `restore: kubectl create job ${slug}-restore-1 --from=cronjob/${slug}-db-restore (the scripts and settings are in ../${BACKUPS_FILE}).`,
    ],
    [dumpCronJob(spec), restoreCronJob(spec)],
  );
}

export const backupsKind = (ctx: DerivedContext): DerivedFile[] => {
  const crud = crudWithManifests(ctx);
  const header = [
    ...DERIVED_NOTE,
    `Backups: the Cluster's base backups and WAL (ScheduledBackup, daily); each app's pg_dump -Fc CronJob is in`,
    `backups/<app>.yaml. Before applying, the bucket's credentials (the bucket and endpoint are in the ConfigMap ${SETTINGS_CONFIGMAP}):`,
    `  kubectl create secret generic ${BACKUP_S3_SECRET} --from-literal=ACCESS_KEY_ID=<key id> --from-file=ACCESS_SECRET_KEY=<file holding the secret key>`,
    'Restore one app from its newest dump (another: kubectl set env cronjob/<app>-db-restore -c fetch RESTORE_KEY=<app>/<file>.dump):',
    '  kubectl create job <app>-restore-1 --from=cronjob/<app>-db-restore',
  ];
  const shared = `deploy/k8s/${BACKUPS_FILE}`;
  const previous = ctx.read(path.join(ctx.root, shared));
  const files: DerivedFile[] = [{ path: shared, text: crud.length ? manifestsFile(header, sharedManifests()) : undefined }];
  // A workspace made before 0.5 has every app's CronJobs in backups.yaml: each app gets its own file, once.
  const before05 = previous !== undefined && /^kind: CronJob$/m.test(previous);
  files.push(...perAppFiles(ctx, crud, `deploy/k8s/${APP_BACKUPS_DIR}`, '.yaml', appBackups, before05));
  return files;
};
