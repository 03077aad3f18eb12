/**
 * Monitoring per app database, with the real parts: a workspace the built CLI writes, resolved by
 * the real Docker Compose with the `monitoring` profile; its ovu-db-init run against a real
 * PostgreSQL that loads pg_stat_statements; the real postgres exporter (Debian's
 * prometheus-postgres-exporter, 0.11.1 as the image pinned; .ci/run installs it) run with the
 * exporter service's own environment and queries file, logged in as ovu_monitor; its /metrics
 * scraped. The dashboards' PromQL may only name metrics that scrape exported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPassword, runCli, tempDir } from '../helpers/cli.ts';
import { freePort, startTestPostgres, urlFor, withClient, type TestPostgres } from '../helpers/postgres.ts';
import { composeConfig, runDbInit } from '../helpers/compose.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';
import { deriveNames } from '../../src/app/names.ts';

const EXPORTER = process.env.OVU_POSTGRES_EXPORTER ?? '/usr/bin/prometheus-postgres-exporter';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, samples only. */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Metric names a PromQL expression reads: every identifier followed by a label selector or a range. */
function promqlMetrics(expr: string): string[] {
  const names = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) => m[1]!);
  return [...new Set(names)];
}

let pg: TestPostgres;
const ws = tempDir();
const apps = ['inventory', 'orders'];
let exporter: ResultPromise | undefined;
let exporterLog = '';
let samples: Sample[] = [];
let metricsText = '';

beforeAll(async () => {
  pg = await startTestPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } });
  for (const [i, app] of apps.entries()) {
    const r = await runCli([app, '--yes', '--workspace', ws, ...(i === 1 ? ['--stack', 'typescript'] : [])]);
    expect(r.exitCode, r.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  exporter?.kill('SIGTERM');
  await exporter?.catch(() => {});
  await pg?.stop();
});

describe('monitoring with the real postgres exporter', () => {
  it('a plain `docker compose up` has no monitoring service; the profile adds the exporter, Prometheus and Grafana', async () => {
    const plain = await composeConfig(ws);
    // (ovu-ulm-dev, the development ULM of a workspace without ULM, runs without a profile.)
    expect(Object.keys(plain.services).filter((s) => s.startsWith('ovu-') && !['ovu-db-init', 'ovu-ulm-dev'].includes(s))).toEqual([]);
    const withProfile = await composeConfig(ws, 'docker-compose.yml', ['monitoring']);
    expect(Object.keys(withProfile.services)).toEqual(expect.arrayContaining(['ovu-postgres-exporter', 'ovu-prometheus', 'ovu-grafana']));
    // The database service loads pg_stat_statements.
    expect(withProfile.services.postgres.command).toEqual(['postgres', '-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all']);
  });

  it('ovu-db-init makes ovu_monitor (pg_monitor, not a superuser) and pg_stat_statements; it reads no app table', async () => {
    const project = await composeConfig(ws, 'docker-compose.yml', ['monitoring']);
    for (let run = 0; run < 2; run++) {
      const r = await runDbInit(project.services['ovu-db-init'], pg.adminUrl);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const env = fs.readFileSync(path.join(ws, '.env'), 'utf8');
    const monitorPw = readEnvVar(fs.readFileSync(path.join(ws, 'monitoring', '.env'), 'utf8'), 'OVU_MONITOR_DB_PASSWORD')!;
    expect(monitorPw.length).toBeGreaterThanOrEqual(32);
    expect(env).not.toContain(monitorPw);
    const role = await withClient(pg.adminUrl, async (c) => (await c.query("SELECT rolsuper, rolcreaterole, rolcreatedb, pg_has_role(oid, 'pg_monitor', 'MEMBER') AS monitor FROM pg_roles WHERE rolname = 'ovu_monitor'")).rows[0]);
    expect(role).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, monitor: true });
    const ext = await withClient(pg.adminUrl, async (c) => (await c.query("SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_stat_statements'")).rows[0].n);
    expect(ext).toBe(1);

    // The app's own table, made as the app, is not readable by the monitor role.
    const names = deriveNames('inventory');
    const appUrl = urlFor(pg.adminUrl, names.user, appPassword(ws, names.slug)!, names.db);
    await withClient(appUrl, (c) => c.query('CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL); INSERT INTO widgets (name) SELECT md5(g::text) FROM generate_series(1, 2000) g'));
    const denied = await withClient(urlFor(pg.adminUrl, 'ovu_monitor', monitorPw, names.db), (c) => c.query('SELECT * FROM widgets').then(() => 'read', (e: Error) => e.message));
    expect(denied).toMatch(/permission denied/);
    // ulm_db-like databases of others stay closed to it.
    await withClient(pg.adminUrl, (c) => c.query('CREATE DATABASE other_db'));
    await withClient(pg.adminUrl, (c) => c.query('REVOKE ALL ON DATABASE other_db FROM PUBLIC'));
    const other = await withClient(urlFor(pg.adminUrl, 'ovu_monitor', monitorPw, 'other_db'), async () => 'connected').catch((e: Error) => e.message);
    expect(other).toMatch(/permission denied|CONNECT privilege/);
  }, 120_000);

  it("the exporter, with the service's environment and queries, exports the app database's connections, tables and statements", async () => {
    const project = await composeConfig(ws, 'docker-compose.yml', ['monitoring']);
    const svc = project.services['ovu-postgres-exporter'];
    const env = Object.fromEntries(Object.entries(svc.environment as Record<string, string>).map(([k, v]) => [k, String(v)]));
    // The compose host and port become the test server's.
    env.DATA_SOURCE_NAME = env.DATA_SOURCE_NAME!.replace('@postgres:5432/', `@${pg.host}:${pg.port}/`);
    const queries = (svc.volumes as { source: string; target: string }[]).find((v) => v.target === env.PG_EXPORTER_EXTEND_QUERY_PATH)!;
    env.PG_EXPORTER_EXTEND_QUERY_PATH = queries.source;

    // Work in the app's database, as the app: index scans, sequential scans, a slow statement; one connection stays open.
    const names = deriveNames('inventory');
    const appUrl = urlFor(pg.adminUrl, names.user, appPassword(ws, names.slug)!, names.db);
    const { default: pgLib } = await import('pg');
    const held = new pgLib.Client({ connectionString: appUrl });
    await held.connect();
    try {
      for (let i = 1; i <= 50; i++) await held.query('SELECT name FROM widgets WHERE id = $1', [i]);
      for (let i = 0; i < 5; i++) await held.query("SELECT count(*) FROM widgets WHERE name LIKE 'a%'");
      await held.query('SELECT pg_sleep(0.15)');
      // A backend reports its table statistics when idle, at most once a second: ask for it now.
      await held.query('SELECT pg_stat_force_next_flush()');
      await held.query('SELECT 1');

      const port = await freePort();
      exporter = execa(EXPORTER, [...(svc.command as string[]), `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { env, extendEnv: false, reject: false, all: true });
      exporter.all?.on('data', (d: Buffer) => (exporterLog += d.toString()));
      // Bounded wait for the exporter to listen (not a timing assertion).
      for (let i = 0; i < 100 && !metricsText.includes('ovu_table_bytes'); i++) {
        metricsText = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
        if (!metricsText.includes('ovu_table_bytes')) await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await held.end();
    }
    samples = parseMetrics(metricsText);
    if (process.env.OVU_MONITORING_DUMP) fs.writeFileSync(process.env.OVU_MONITORING_DUMP, metricsText);
    const find = (name: string, labels: Record<string, string | RegExp>): Sample[] =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => (typeof v === 'string' ? s.labels[k] === v : v.test(s.labels[k] ?? ''))));

    expect(metricsText, exporterLog).toContain('ovu_');
    // No query of the file failed.
    expect(find('pg_exporter_user_queries_load_error', {}).every((s) => s.value === 0), exporterLog).toBe(true);
    expect(find('pg_exporter_last_scrape_error', {}).map((s) => s.value), exporterLog).toEqual([0]);
    expect(exporterLog).not.toMatch(/level=error/);

    // Per-database connections: the app's one open connection, not the exporter's own.
    expect(find('ovu_connections_count', { datname: 'inventory_db' }).map((s) => [s.labels.state, s.value])).toEqual([['idle', 1]]);
    expect(find('ovu_database_owner_conn_limit', { datname: 'inventory_db' })[0]?.value).toBe(11);
    // The app's table, its size and its scans; the other app's database has its own series.
    const bytes = find('ovu_table_bytes', { datname: 'inventory_db', relname: 'widgets' });
    expect(bytes).toHaveLength(1);
    expect(bytes[0]!.value).toBeGreaterThan(8192);
    expect(find('ovu_table_idx_scan', { datname: 'inventory_db', relname: 'widgets' })[0]!.value).toBeGreaterThanOrEqual(50);
    expect(find('ovu_table_seq_scan', { datname: 'inventory_db', relname: 'widgets' })[0]!.value).toBeGreaterThanOrEqual(5);
    expect(find('ovu_index_idx_scan', { datname: 'inventory_db', indexrelname: 'widgets_pkey' })[0]!.value).toBeGreaterThanOrEqual(50);
    expect(find('ovu_database_size_bytes', { datname: 'orders_db' })).toHaveLength(1);
    // Nothing of databases that are not the apps'.
    expect(samples.filter((s) => s.labels.datname !== undefined && !["inventory_db", "orders_db"].includes(s.labels.datname)).map((s) => `${s.name} ${JSON.stringify(s.labels)}`)).toEqual([]);
    // The app's statements from pg_stat_statements, its slow one counted.
    const stmt = find('ovu_statement_calls', { datname: 'inventory_db', query: /FROM widgets WHERE id = \$1/ });
    expect(stmt).toHaveLength(1);
    expect(stmt[0]!.value).toBe(50);
    expect(find('ovu_statements_slow', { datname: 'inventory_db' })[0]!.value).toBeGreaterThanOrEqual(1);
    const inf = find('ovu_calls_by_mean_seconds_bucket', { datname: 'inventory_db', le: '+Inf' })[0]!.value;
    const fast = find('ovu_calls_by_mean_seconds_bucket', { datname: 'inventory_db', le: '0.1' })[0]!.value;
    expect(inf).toBe(find('ovu_statements_calls', { datname: 'inventory_db' })[0]!.value);
    expect(fast).toBeLessThan(inf);
    // No dump yet: the backups' metric is 0, which OvuBackupTooOld counts as never.
    expect(find('ovu_backup_last_success_timestamp_seconds', {}).map((x) => [x.labels.datname, x.value]).sort()).toEqual([
      ['inventory_db', 0],
      ['orders_db', 0],
    ]);
    // Every ovu_* metric an alerting rule reads is one this scrape exported.
    const alerts = fs.readFileSync(path.join(ws, 'monitoring', 'alerts.yml'), 'utf8');
    const named = [...alerts.matchAll(/\(cnpg_\)\?(ovu_\w+)/g)].map((x) => x[1]!);
    expect(named.length).toBeGreaterThan(4);
    for (const name of named) expect(find(name, {}).length, name).toBeGreaterThan(0);
  }, 120_000);

  it('each app has a provisioned dashboard whose PromQL reads only metrics the exporter exported', () => {
    expect(samples.length).toBeGreaterThan(0);
    const exported = new Set(samples.map((s) => s.name));
    const provider = fs.readFileSync(path.join(ws, 'monitoring/grafana/provisioning/dashboards/ovu.yaml'), 'utf8');
    expect(provider).toContain('path: /etc/ovu/dashboards');
    const datasource = fs.readFileSync(path.join(ws, 'monitoring/grafana/provisioning/datasources/prometheus.yaml'), 'utf8');
    const uids = new Set<string>();
    for (const app of apps) {
      const { db } = deriveNames(app);
      const dash = JSON.parse(fs.readFileSync(path.join(ws, `monitoring/grafana/dashboards/${app}.json`), 'utf8'));
      expect(dash.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
      expect(uids.has(dash.uid)).toBe(false);
      uids.add(dash.uid);
      expect(typeof dash.title).toBe('string');
      expect(dash.schemaVersion).toBeGreaterThan(30);
      const titles = dash.panels.map((p: { title: string }) => p.title).join(' | ');
      for (const topic of [/Connections/, /p50 \/ p95 \/ p99/, /Slow/, /Table sizes/, /Index usage/]) expect(titles).toMatch(topic);
      const ids = new Set<number>();
      for (const panel of dash.panels) {
        expect(ids.has(panel.id)).toBe(false);
        ids.add(panel.id);
        expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
        expect(datasource).toContain(`uid: ${panel.datasource.uid}`);
        expect(panel.targets.length).toBeGreaterThan(0);
        for (const t of panel.targets) {
          expect(t.datasource.uid).toBe(panel.datasource.uid);
          const names = promqlMetrics(t.expr);
          expect(names.length, t.expr).toBeGreaterThan(0);
          for (const name of names) expect(exported.has(name), `${name} in ${t.expr}`).toBe(true);
          // Every selector is this app's database.
          expect([...t.expr.matchAll(/\{([^}]*)\}/g)].every((m) => m[1] === `datname="${db}"`), t.expr).toBe(true);
        }
      }
    }
  });
});
