/**
 * monitoring/queries.yaml: the postgres exporter's custom queries (its `--extend.query-path`),
 * computed from the workspace's app databases. The exporter runs with its default metrics off, so
 * every metric the dashboards read is one of these; each carries a `datname` label, and every
 * query names the app databases it reports on, so nothing else on the server (ULM, the team's own
 * databases) is exported.
 *
 * The exporter connects to the `postgres` database (the master DSN, where init-db.sql creates the
 * pg_stat_statements extension) and, with auto-discovery limited to the app databases, to each of
 * them. `master: true` queries read cluster-wide views (pg_stat_activity, pg_stat_database,
 * pg_stat_statements) once, from `postgres`; the others read per-database views
 * (pg_stat_user_tables, pg_stat_user_indexes) in each app database.
 *
 * A metric is `<query name>_<column>`: ovu_connections_count, ovu_table_bytes, …
 */
import { stringify } from 'yaml';
import { quoteLiteral } from '../../database/render.ts';
import { MONITOR_ROLE } from './init-db-block.ts';
import { BACKUP_MARK_PREFIX } from '../backup/scripts.ts';

/** Mean execution time above which a statement counts as slow (ADR-002: "Slow queries (> 100ms)"). */
export const SLOW_SECONDS = 0.1;

/**
 * Upper bounds (seconds) of the buckets of ovu_calls_by_mean_seconds_bucket. pg_stat_statements
 * keeps per statement its calls and mean/stddev/min/max time, not a distribution of single calls,
 * so this "histogram" counts each statement's calls in the bucket of that statement's mean time:
 * histogram_quantile over it gives the p50/p95/p99 of calls under the assumption that every call of
 * a statement took that statement's mean. It is cumulative since the statistics were last reset.
 */
export const MEAN_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Statements exported one by one per database (the rest are in the per-database totals). */
export const TOP_STATEMENTS = 20;

type Usage = 'LABEL' | 'GAUGE' | 'COUNTER';
export interface Query {
  query: string;
  master?: boolean;
  metrics: Record<string, { usage: Usage; description: string }>[];
}

const m = (name: string, usage: Usage, description: string): Record<string, { usage: Usage; description: string }> => ({ [name]: { usage, description } });

/**
 * A database name that stands for the list of app databases while the YAML is made: the YAML
 * library then formats a text of a fixed size, and the list goes in after (`withDatabases`), so
 * the cost does not grow with the number of apps. Its quoted form and the list's are alike to YAML
 * (quotes, commas, no line break), so the text is the same as with the list made in place.
 */
export const DATABASES_PLACEHOLDER = 'ovu_databases_placeholder_db';

/** `text` with the placeholder put back as `dbs`: in an SQL list (`'a_db', 'b_db'`), and as a YAML list item, one line each. */
export function withDatabases(text: string, dbs: string[]): string {
  const quoted = quoteLiteral(DATABASES_PLACEHOLDER);
  return text
    .replace(new RegExp(`^( *- )${DATABASES_PLACEHOLDER}$`, 'gm'), (_, item: string) => dbs.map((db) => item + db).join('\n'))
    .replaceAll(quoted, dbs.map(quoteLiteral).join(', '));
}

/** The queries.yaml text for the app databases `dbs` (sorted, non-empty). */
export function queriesYaml(dbs: string[]): string {
  return withDatabases(HEADER.join('\n') + '\n' + stringify(exporterQueries(), { lineWidth: 0 }), dbs);
}

const HEADER = [
  '# monitoring/queries.yaml: written by create-ovu-app from the apps in this workspace; do not edit.',
  "# The postgres exporter's custom queries (default metrics are off): one datname label per app database.",
  '# Query durations come from pg_stat_statements, which keeps per statement its calls and mean time,',
  '# not single calls: ovu_calls_by_mean_seconds_bucket counts each call at its statement\'s mean, so',
  '# the dashboards\' p50/p95/p99 are quantiles of statement means weighted by calls, not of single calls.',
];

/** The queries by name, for the placeholder database (`withDatabases` puts the list in). */
export function exporterQueries(): Record<string, Query> {
  const list = quoteLiteral(DATABASES_PLACEHOLDER);
  const buckets = [...MEAN_BUCKETS.map((b) => `(${quoteLiteral(String(b))}, ${b}::float8)`), `('+Inf', 'Infinity'::float8)`].join(', ');
  const queries: Record<string, Query> = {
    ovu_connections: {
      master: true,
      query: [
        "SELECT datname, coalesce(state, 'unknown') AS state, count(*)::float8 AS count",
        'FROM pg_stat_activity',
        // The exporter's own connections are not the app's.
        `WHERE datname IN (${list}) AND usename IS DISTINCT FROM ${quoteLiteral(MONITOR_ROLE)}`,
        'GROUP BY datname, state',
      ].join('\n'),
      metrics: [m('datname', 'LABEL', 'Database'), m('state', 'LABEL', 'Connection state (active, idle, idle in transaction, …)'), m('count', 'GAUGE', 'Connections to the database in this state')],
    },
    ovu_database: {
      master: true,
      query: [
        'SELECT d.datname, s.numbackends::float8 AS numbackends, r.rolconnlimit::float8 AS owner_conn_limit,',
        '  s.xact_commit::float8 AS xact_commit, s.xact_rollback::float8 AS xact_rollback,',
        '  s.blks_read::float8 AS blks_read, s.blks_hit::float8 AS blks_hit, s.deadlocks::float8 AS deadlocks,',
        '  pg_database_size(d.oid)::float8 AS size_bytes',
        'FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid JOIN pg_roles r ON r.oid = d.datdba',
        `WHERE d.datname IN (${list})`,
      ].join('\n'),
      metrics: [
        m('datname', 'LABEL', 'Database'),
        m('numbackends', 'GAUGE', 'Backends connected to the database'),
        m('owner_conn_limit', 'GAUGE', "CONNECTION LIMIT of the database's owner, the app login (-1: none)"),
        m('xact_commit', 'COUNTER', 'Transactions committed'),
        m('xact_rollback', 'COUNTER', 'Transactions rolled back'),
        m('blks_read', 'COUNTER', 'Disk blocks read'),
        m('blks_hit', 'COUNTER', 'Disk blocks found in the buffer cache'),
        m('deadlocks', 'COUNTER', 'Deadlocks detected'),
        m('size_bytes', 'GAUGE', 'Size of the database'),
      ],
    },
    ovu_statements: {
      master: true,
      query: [
        'SELECT d.datname, coalesce(sum(s.calls), 0)::float8 AS calls,',
        '  coalesce(sum(s.total_exec_time), 0)::float8 / 1000 AS total_seconds,',
        `  count(DISTINCT s.queryid) FILTER (WHERE s.mean_exec_time > ${SLOW_SECONDS * 1000})::float8 AS slow,`,
        `  coalesce(sum(s.calls) FILTER (WHERE s.mean_exec_time > ${SLOW_SECONDS * 1000}), 0)::float8 AS slow_calls`,
        'FROM pg_database d LEFT JOIN pg_stat_statements s ON s.dbid = d.oid',
        `WHERE d.datname IN (${list})`,
        'GROUP BY d.datname',
      ].join('\n'),
      metrics: [
        m('datname', 'LABEL', 'Database'),
        m('calls', 'COUNTER', 'Statements executed (pg_stat_statements)'),
        m('total_seconds', 'COUNTER', 'Time spent executing statements'),
        m('slow', 'GAUGE', `Distinct statements whose mean execution time is above ${SLOW_SECONDS * 1000} ms`),
        m('slow_calls', 'GAUGE', `Calls of statements whose mean execution time is above ${SLOW_SECONDS * 1000} ms`),
      ],
    },
    ovu_calls_by_mean_seconds: {
      master: true,
      query: [
        "SELECT d.datname, b.le, coalesce(sum(s.calls) FILTER (WHERE s.mean_exec_time / 1000 <= b.bound), 0)::float8 AS bucket",
        'FROM pg_database d',
        `CROSS JOIN (VALUES ${buckets}) AS b(le, bound)`,
        'LEFT JOIN pg_stat_statements s ON s.dbid = d.oid',
        `WHERE d.datname IN (${list})`,
        'GROUP BY d.datname, b.le, b.bound',
      ].join('\n'),
      metrics: [
        m('datname', 'LABEL', 'Database'),
        m('le', 'LABEL', 'Upper bound of the statement mean time (seconds)'),
        m('bucket', 'GAUGE', "Calls of statements whose mean execution time is <= le (each call counted at its statement's mean)"),
      ],
    },
    ovu_statement: {
      master: true,
      query: [
        'SELECT datname, queryid, query, calls, total_seconds, mean_seconds, rows FROM (',
        "  SELECT d.datname, s.queryid::text AS queryid, left(regexp_replace(min(s.query), '\\s+', ' ', 'g'), 160) AS query,",
        '    sum(s.calls)::float8 AS calls, sum(s.total_exec_time)::float8 / 1000 AS total_seconds,',
        '    (sum(s.total_exec_time) / nullif(sum(s.calls), 0))::float8 / 1000 AS mean_seconds, sum(s.rows)::float8 AS rows,',
        '    row_number() OVER (PARTITION BY d.datname ORDER BY sum(s.total_exec_time) DESC) AS rank',
        '  FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid',
        `  WHERE d.datname IN (${list}) AND s.queryid IS NOT NULL`,
        '  GROUP BY d.datname, s.queryid',
        `) top WHERE rank <= ${TOP_STATEMENTS}`,
      ].join('\n'),
      metrics: [
        m('datname', 'LABEL', 'Database'),
        m('queryid', 'LABEL', 'pg_stat_statements queryid'),
        m('query', 'LABEL', 'Normalised statement text (first 160 characters)'),
        m('calls', 'COUNTER', 'Times the statement was executed'),
        m('total_seconds', 'COUNTER', 'Time spent executing the statement'),
        m('mean_seconds', 'GAUGE', 'Mean execution time of the statement'),
        m('rows', 'COUNTER', 'Rows retrieved or affected'),
      ],
    },
    // The backup jobs record each database's last successful dump as its comment (backup/scripts.ts).
    ovu_backup: {
      master: true,
      query: [
        `SELECT d.datname, coalesce(substring(shobj_description(d.oid, 'pg_database') FROM ${quoteLiteral(`^${BACKUP_MARK_PREFIX}([0-9]+)$`)})::float8, 0) AS last_success_timestamp_seconds`,
        'FROM pg_database d',
        `WHERE d.datname IN (${list})`,
      ].join('\n'),
      metrics: [m('datname', 'LABEL', 'Database'), m('last_success_timestamp_seconds', 'GAUGE', 'When the last dump of the database succeeded (Unix time; 0: none recorded)')],
    },
    ovu_table: {
      query: [
        'SELECT current_database() AS datname, schemaname, relname,',
        '  pg_total_relation_size(relid)::float8 AS bytes, n_live_tup::float8 AS live_rows, n_dead_tup::float8 AS dead_rows,',
        '  seq_scan::float8 AS seq_scan, coalesce(idx_scan, 0)::float8 AS idx_scan',
        'FROM pg_stat_user_tables',
        `WHERE current_database() IN (${list})`,
      ].join('\n'),
      metrics: [
        m('datname', 'LABEL', 'Database'),
        m('schemaname', 'LABEL', 'Schema'),
        m('relname', 'LABEL', 'Table'),
        m('bytes', 'GAUGE', 'Size of the table with its indexes and TOAST'),
        m('live_rows', 'GAUGE', 'Estimated live rows'),
        m('dead_rows', 'GAUGE', 'Estimated dead rows'),
        m('seq_scan', 'COUNTER', 'Sequential scans of the table'),
        m('idx_scan', 'COUNTER', 'Index scans of the table'),
      ],
    },
    ovu_index: {
      query: [
        'SELECT current_database() AS datname, schemaname, relname, indexrelname,',
        '  idx_scan::float8 AS idx_scan, pg_relation_size(indexrelid)::float8 AS bytes',
        'FROM pg_stat_user_indexes',
        `WHERE current_database() IN (${list})`,
      ].join('\n'),
      metrics: [
        m('datname', 'LABEL', 'Database'),
        m('schemaname', 'LABEL', 'Schema'),
        m('relname', 'LABEL', 'Table'),
        m('indexrelname', 'LABEL', 'Index'),
        m('idx_scan', 'COUNTER', 'Scans of the index'),
        m('bytes', 'GAUGE', 'Size of the index'),
      ],
    },
  };
  return queries;
}
