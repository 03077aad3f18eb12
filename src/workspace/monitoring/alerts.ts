/**
 * The alerting rules, one set for both stacks: monitoring/alerts.yml for the compose Prometheus
 * and the same groups in a `PrometheusRule` on Kubernetes (workspace/k8s/monitoring.ts). They cover
 * ADR-002's metrics and what the platform promises: each login within its CONNECTION LIMIT, no
 * burst of slow (> 100 ms) statements, no database growing fast, replicas close behind, a backup
 * of every app and of the Cluster within a day, no client waiting in PgBouncer.
 *
 * The ovu_* metrics are monitoring/queries.yaml's: the compose exporter exports them as they are,
 * CloudNativePG's exporter (the same queries, as the Cluster's custom queries) prefixes them with
 * `cnpg_`; the rules select both spellings by name. The cnpg_* metrics exist only on Kubernetes
 * (replication lag, the Cluster's last backup, the Poolers' PgBouncer), so those rules stay silent
 * in compose.
 */
import { stringify } from 'yaml';
import { SLOW_SECONDS } from './queries.ts';

/** An ovu_* metric as either exporter names it. */
const ovu = (metric: string): string => `{__name__=~"(cnpg_)?${metric}"}`;

/** Share of a login's CONNECTION LIMIT in use that warns. */
export const NEAR_LIMIT = 0.8;
/** Calls of slow statements in 10 minutes that warn. */
export const SLOW_CALLS = 10;
/** Seconds without a successful backup that warn: a day and an hour (the dumps run daily). */
export const BACKUP_MAX_AGE = 90_000;
/** Replication lag (seconds) that warns. */
export const LAG_SECONDS = 30;
/** Growth in a day that warns: half the size of a day ago, and at least this many bytes. */
export const GROWTH_MIN_BYTES = 256 * 1024 * 1024;

export interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: 'warning' | 'critical' };
  annotations: { summary: string; description: string };
}

export function alertRules(): { name: string; rules: Rule[] }[] {
  const size = (offset = ''): string => `max by (datname) (${ovu('ovu_database_size_bytes')}${offset})`;
  const growth = `(${size()} - ${size(' offset 1d')})`;
  return [
    {
      name: 'ovu-databases',
      rules: [
        {
          alert: 'OvuLoginNearConnectionLimit',
          expr: `max by (datname) (${ovu('ovu_database_numbackends')}) / max by (datname) (${ovu('ovu_database_owner_conn_limit')} > 0) > ${NEAR_LIMIT}`,
          for: '5m',
          labels: { severity: 'warning' },
          annotations: {
            summary: '{{ $labels.datname }}: its login is near its CONNECTION LIMIT',
            description: `{{ $labels.datname }} has {{ $value | humanizePercentage }} of its owner's CONNECTION LIMIT in use (over ${NEAR_LIMIT * 100}% for 5 minutes): at the limit new connections fail with "too many connections for role". Raise the pool budget (create-ovu-app update) or find the leak.`,
          },
        },
        {
          alert: 'OvuSlowQueries',
          expr: `sum by (datname) (delta(${ovu('ovu_statements_slow_calls')}[10m])) > ${SLOW_CALLS}`,
          labels: { severity: 'warning' },
          annotations: {
            summary: `{{ $labels.datname }}: slow statements (mean > ${SLOW_SECONDS * 1000} ms)`,
            description: `{{ $labels.datname }} ran {{ $value }} calls of statements whose mean time is above ${SLOW_SECONDS * 1000} ms in the last 10 minutes (ADR-002's slow query threshold). Its dashboard lists the statements.`,
          },
        },
        {
          alert: 'OvuDatabaseGrowingFast',
          expr: `${growth} > 0.5 * ${size(' offset 1d')} and ${growth} > ${GROWTH_MIN_BYTES}`,
          labels: { severity: 'warning' },
          annotations: {
            summary: '{{ $labels.datname }} grew by more than half in a day',
            description: '{{ $labels.datname }} grew by {{ $value | humanize1024 }}B in the last 24 hours, more than half its size a day ago.',
          },
        },
        {
          alert: 'OvuBackupTooOld',
          expr: `time() - max by (datname) (${ovu('ovu_backup_last_success_timestamp_seconds')}) > ${BACKUP_MAX_AGE}`,
          labels: { severity: 'critical' },
          annotations: {
            summary: '{{ $labels.datname }} has no successful backup in the last day',
            description: '{{ $labels.datname }} was last dumped {{ $value | humanizeDuration }} ago (never, if that is decades): check the ovu-backup service or the <app>-db-backup CronJob.',
          },
        },
      ],
    },
    {
      name: 'ovu-cluster',
      rules: [
        {
          alert: 'OvuReplicationLag',
          expr: `max by (pod) (cnpg_pg_replication_lag) > ${LAG_SECONDS}`,
          for: '5m',
          labels: { severity: 'warning' },
          annotations: {
            summary: 'replica {{ $labels.pod }} lags behind the primary',
            description: `{{ $labels.pod }} is {{ $value }} s behind the primary (over ${LAG_SECONDS} s for 5 minutes): reads through DATABASE_READ_URL see older data.`,
          },
        },
        {
          alert: 'OvuClusterBackupTooOld',
          expr: `time() - max(cnpg_collector_last_available_backup_timestamp) > ${BACKUP_MAX_AGE}`,
          labels: { severity: 'critical' },
          annotations: {
            summary: "the Cluster's last base backup is more than a day old",
            description: 'The newest base backup in the object store is {{ $value | humanizeDuration }} old: check the ScheduledBackup and the barmanObjectStore credentials.',
          },
        },
        {
          alert: 'OvuPgbouncerClientsWaiting',
          expr: 'sum by (database) (cnpg_pgbouncer_pools_cl_waiting) > 0',
          for: '2m',
          labels: { severity: 'warning' },
          annotations: {
            summary: '{{ $labels.database }}: clients wait for a server connection in PgBouncer',
            description: "{{ $value }} clients of {{ $labels.database }} have waited in PgBouncer for 2 minutes: the app's pool there is full.",
          },
        },
      ],
    },
  ];
}

export const ALERTS_FILE = 'monitoring/alerts.yml';

/** monitoring/alerts.yml: Prometheus' rule file format. */
export function alertsYaml(): string {
  return `# ${ALERTS_FILE}: written by create-ovu-app; do not edit (the same rules are deploy/k8s/monitoring.yaml's PrometheusRule).\n${stringify({ groups: alertRules() }, { lineWidth: 0 })}`;
}
