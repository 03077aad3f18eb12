/**
 * monitoring/grafana/dashboards/<app>.json: one Grafana dashboard per app database, with ADR-002's
 * list (connections, query duration p50/p95/p99, slow queries, table sizes, index usage), reading
 * only the metrics of monitoring/queries.yaml through the provisioned Prometheus data source.
 */
import type { AppSpec } from '../../app/spec.ts';
import { SLOW_SECONDS, TOP_STATEMENTS } from './queries.ts';

export const DATASOURCE_UID = 'ovu-prometheus';

interface Target {
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  format?: 'time_series' | 'table';
}

interface Panel {
  title: string;
  type: 'timeseries' | 'stat' | 'table' | 'bargauge';
  description: string;
  unit?: string;
  targets: Target[];
  w: number;
  h: number;
}

/** Grafana's uid: at most 40 characters of [A-Za-z0-9_-]. */
export function dashboardUid(slug: string): string {
  const uid = `ovu-db-${slug}`;
  return uid.length <= 40 ? uid : uid.slice(0, 40);
}

/** The panels of the app's dashboard; every expr reads only queries.yaml's metrics. */
export function dashboardPanels(db: string): Panel[] {
  const sel = `datname="${db}"`;
  const q = (p: number): Target => ({ expr: `histogram_quantile(${p}, sum by (le) (ovu_calls_by_mean_seconds_bucket{${sel}}))`, legendFormat: `p${Math.round(p * 100)}` });
  const ms = SLOW_SECONDS * 1000;
  return [
    {
      title: 'Connections by state',
      type: 'timeseries',
      description: "Backends connected to the database, by state (pg_stat_activity). The owner's CONNECTION LIMIT is the app's budget.",
      targets: [
        { expr: `sum by (state) (ovu_connections_count{${sel}})`, legendFormat: '{{state}}' },
        { expr: `max(ovu_database_owner_conn_limit{${sel}})`, legendFormat: 'connection limit' },
      ],
      w: 12,
      h: 8,
    },
    {
      title: 'Query duration p50 / p95 / p99 (statement means, weighted by calls)',
      type: 'timeseries',
      unit: 's',
      description:
        "pg_stat_statements keeps each statement's calls and mean time, not single calls: these are quantiles of the statements' mean times with each call counted at its statement's mean, since the statistics were last reset (pg_stat_statements_reset()). A statement whose calls vary widely hides its slow calls in its mean. 'mean (5m)' is the true mean over the last 5 minutes.",
      targets: [
        q(0.5),
        q(0.95),
        q(0.99),
        { expr: `sum(rate(ovu_statements_total_seconds{${sel}}[5m])) / sum(rate(ovu_statements_calls{${sel}}[5m]))`, legendFormat: 'mean (5m)' },
      ],
      w: 12,
      h: 8,
    },
    {
      title: `Slow statements (mean > ${ms} ms)`,
      type: 'stat',
      description: `Distinct statements whose mean execution time is above ${ms} ms, and their calls (pg_stat_statements).`,
      targets: [
        { expr: `sum(ovu_statements_slow{${sel}})`, legendFormat: 'statements', instant: true },
        { expr: `sum(ovu_statements_slow_calls{${sel}})`, legendFormat: 'calls', instant: true },
      ],
      w: 6,
      h: 8,
    },
    {
      title: `Slowest statements (mean > ${ms} ms)`,
      type: 'table',
      unit: 's',
      description: `Of the ${TOP_STATEMENTS} statements with the most total time, those whose mean is above ${ms} ms, with their mean execution time.`,
      targets: [{ expr: `max by (queryid, query) (ovu_statement_mean_seconds{${sel}}) > ${SLOW_SECONDS}`, instant: true, format: 'table' }],
      w: 18,
      h: 8,
    },
    {
      title: 'Statements per second',
      type: 'timeseries',
      unit: 'ops',
      description: 'Statements executed per second (pg_stat_statements), and transactions committed per second.',
      targets: [
        { expr: `sum(rate(ovu_statements_calls{${sel}}[5m]))`, legendFormat: 'statements' },
        { expr: `sum(rate(ovu_database_xact_commit{${sel}}[5m]))`, legendFormat: 'commits' },
      ],
      w: 12,
      h: 8,
    },
    {
      title: 'Database size',
      type: 'stat',
      unit: 'bytes',
      description: 'pg_database_size of the database.',
      targets: [{ expr: `max(ovu_database_size_bytes{${sel}})`, instant: true }],
      w: 12,
      h: 8,
    },
    {
      title: 'Table sizes',
      type: 'bargauge',
      unit: 'bytes',
      description: 'Each table with its indexes and TOAST (pg_total_relation_size).',
      targets: [{ expr: `sum by (schemaname, relname) (ovu_table_bytes{${sel}})`, legendFormat: '{{schemaname}}.{{relname}}', instant: true }],
      w: 12,
      h: 10,
    },
    {
      title: 'Index usage (index scans / all scans, 5m)',
      type: 'timeseries',
      unit: 'percentunit',
      description: 'Per table, the share of scans that used an index (idx_scan vs seq_scan of pg_stat_user_tables). A large table near 0 is read by sequential scans.',
      targets: [
        {
          expr: `sum by (relname) (rate(ovu_table_idx_scan{${sel}}[5m])) / (sum by (relname) (rate(ovu_table_idx_scan{${sel}}[5m])) + sum by (relname) (rate(ovu_table_seq_scan{${sel}}[5m])) > 0)`,
          legendFormat: '{{relname}}',
        },
      ],
      w: 12,
      h: 10,
    },
    {
      title: 'Index scans per index (since reset)',
      type: 'table',
      description: 'Scans of each index (pg_stat_user_indexes) and its size: an index with 0 scans costs writes and space for nothing.',
      targets: [{ expr: `max by (relname, indexrelname) (ovu_index_idx_scan{${sel}})`, instant: true, format: 'table' }],
      w: 24,
      h: 8,
    },
  ];
}

/** The dashboard's JSON text for one app. */
export function dashboardJson(spec: AppSpec): string {
  const { slug, title, db } = spec.names;
  let x = 0;
  let y = 0;
  let rowH = 0;
  const panels = dashboardPanels(db).map((p, i) => {
    if (x + p.w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const gridPos = { x, y, w: p.w, h: p.h };
    x += p.w;
    rowH = Math.max(rowH, p.h);
    return {
      id: i + 1,
      type: p.type,
      title: p.title,
      description: p.description,
      datasource: { type: 'prometheus', uid: DATASOURCE_UID },
      gridPos,
      fieldConfig: { defaults: p.unit ? { unit: p.unit } : {}, overrides: [] },
      options: {},
      targets: p.targets.map((t, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: { type: 'prometheus', uid: DATASOURCE_UID },
        expr: t.expr,
        ...(t.legendFormat ? { legendFormat: t.legendFormat } : {}),
        ...(t.instant ? { instant: true, range: false } : { range: true }),
        ...(t.format ? { format: t.format } : {}),
      })),
    };
  });
  const dashboard = {
    uid: dashboardUid(slug),
    title: `${title}: database ${db}`,
    description: `PostgreSQL metrics of ${db} (ADR-002). Written by create-ovu-app from the apps in this workspace; do not edit (copy it under another uid to change it).`,
    tags: ['ovu', 'postgresql', slug],
    editable: false,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    templating: { list: [] },
    annotations: { list: [] },
    links: [],
    panels,
  };
  return JSON.stringify(dashboard, null, 2) + '\n';
}
