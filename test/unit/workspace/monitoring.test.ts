import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { monitoringKind } from '../../../src/workspace/monitoring/index.ts';
import { appsComposeFile } from '../../../src/workspace/compose/apps-file.ts';
import { DEFAULT_STYLE } from '../../../src/workspace/compose/render.ts';
import { editInitDb, listInitDbApps } from '../../../src/workspace/init-db.ts';
import { readEnvVar } from '../../../src/workspace/env-file.ts';
import { verifierMatches } from '../../../src/database/scram.ts';
import { Plan } from '../../../src/plan/plan.ts';
import { appSpec } from '../../helpers/spec.ts';
import type { DerivedFile } from '../../../src/workspace/derived.ts';

const ROOT = '/nonexistent-ws';
const DB = { name: 'postgres', file: 'docker-compose.yml', service: { image: 'postgres:15', environment: { POSTGRES_PASSWORD: '${PG_PW}' } }, login: { how: 'environment' as const, user: undefined, password: '${PG_PW}' } };
const inventory = appSpec('inventory');
const orders = appSpec('orders', { stack: 'typescript', port: 8002 });
const reports = appSpec('reports', { kind: 'readonly', port: 8003 });

function run(specs: ReturnType<typeof appSpec>[], files: Record<string, string>): Map<string, DerivedFile> {
  const apps = specs.map((spec) => ({ dir: spec.names.slug, spec }));
  const out = monitoringKind({ root: ROOT, apps, read: (f) => files[path.relative(ROOT, f)] });
  return new Map(out.map((f) => [f.path, f]));
}

function workspace(specs: ReturnType<typeof appSpec>[]): Record<string, string> {
  let initDb: string | undefined;
  for (const s of specs.filter((x) => x.settings.kind === 'crud')) initDb = editInitDb(initDb, s, { force: false }).text;
  const files: Record<string, string> = { 'apps.compose.yaml': appsComposeFile(specs.map((spec) => ({ dir: spec.names.slug, spec })), DB, DEFAULT_STYLE).text };
  if (initDb) files['init-db.sql'] = initDb;
  return files;
}

describe('monitoring files derived from the apps', () => {
  it('with crud apps: the compose file apps.compose.yaml includes, queries for exactly their databases, a dashboard each', () => {
    const specs = [inventory, orders, reports];
    const files = workspace(specs);
    expect(parse(files['apps.compose.yaml']!).include).toContain('monitoring/compose.yaml');
    const out = run(specs, files);
    const compose = parse(out.get('monitoring/compose.yaml')!.text!);
    const exporter = compose.services['ovu-postgres-exporter'];
    expect(exporter.profiles).toEqual(['monitoring']);
    expect(exporter.environment.PG_EXPORTER_INCLUDE_DATABASES).toBe('inventory_db,orders_db');
    expect(exporter.environment.DATA_SOURCE_NAME).toBe('postgresql://ovu_monitor:${OVU_MONITOR_DB_PASSWORD}@postgres:5432/postgres?sslmode=disable');
    expect(exporter.image).toMatch(/:v\d+\.\d+\.\d+$/);
    for (const s of Object.values(compose.services) as { profiles: string[] }[]) expect(s.profiles).toEqual(['monitoring']);
    const queries = parse(out.get('monitoring/queries.yaml')!.text!);
    for (const q of Object.values(queries) as { query: string }[]) expect(q.query).toContain("IN ('inventory_db', 'orders_db')");
    expect([...out.keys()].filter((k) => k.endsWith('.json')).sort()).toEqual(['monitoring/grafana/dashboards/inventory.json', 'monitoring/grafana/dashboards/orders.json']);
  });

  it('monitoring/.env gets the passwords and ovu-db-init/verifiers/.env only the verifier, once; a second run keeps them; the workspace .env neither', () => {
    const files = workspace([inventory]);
    const first = run([inventory], files);
    const own = first.get('monitoring/.env')!;
    expect(first.get('.env')).toBeUndefined();
    const env = first.get('ovu-db-init/verifiers/.env')!;
    expect(own.mode).toBe(0o600);
    expect(env.mode).toBe(0o600);
    const pw = readEnvVar(own.text, 'OVU_MONITOR_DB_PASSWORD')!;
    expect(pw.length).toBeGreaterThanOrEqual(32);
    expect(readEnvVar(own.text, 'OVU_GRAFANA_ADMIN_PASSWORD')!.length).toBeGreaterThanOrEqual(32);
    // Services that load the workspace .env whole get neither password.
    expect(env.text).not.toContain(pw);
    expect(readEnvVar(env.text, 'OVU_GRAFANA_ADMIN_PASSWORD')).toBeUndefined();
    expect(verifierMatches(pw, readEnvVar(env.text, 'OVU_MONITOR_DB_VERIFIER')!)).toBe(true);
    const second = run([inventory], { ...files, 'ovu-db-init/verifiers/.env': env.text!, 'monitoring/.env': own.text! });
    expect(second.get('ovu-db-init/verifiers/.env')!.text).toBe(env.text);
    expect(second.get('monitoring/.env')!.text).toBe(own.text);
    expect(readEnvVar(first.get('monitoring/.env.example')!.text, 'OVU_MONITOR_DB_PASSWORD')).toBe('change-me');
  });

  it('a 0.2 workspace: the verifier in .env moves to ovu-db-init/verifiers/.env only once apps.compose.yaml loads that file', () => {
    const files = workspace([inventory]);
    const first = run([inventory], files);
    const pw = readEnvVar(first.get('monitoring/.env')!.text, 'OVU_MONITOR_DB_PASSWORD')!;
    const verifier = readEnvVar(first.get('ovu-db-init/verifiers/.env')!.text, 'OVU_MONITOR_DB_VERIFIER')!;
    const old: Record<string, string> = { ...files, 'monitoring/.env': first.get('monitoring/.env')!.text!, '.env': `OVU_MONITOR_DB_VERIFIER='${verifier}'\n` };
    // apps.compose.yaml as 0.2 wrote it (ovu-db-init takes the verifier from .env): it stays there.
    const kept = run([inventory], { ...old, 'apps.compose.yaml': old['apps.compose.yaml']!.replace('      - ./ovu-db-init/verifiers/.env\n', '') });
    expect(kept.get('.env')!.text).toBe(old['.env']);
    expect(kept.has('ovu-db-init/verifiers/.env')).toBe(false);
    // Once it loads the file, the verifier moves there and leaves .env.
    const moved = run([inventory], old);
    expect(readEnvVar(moved.get('.env')!.text, 'OVU_MONITOR_DB_VERIFIER')).toBeUndefined();
    expect(readEnvVar(moved.get('ovu-db-init/verifiers/.env')!.text, 'OVU_MONITOR_DB_VERIFIER')).toBe(verifier);
    expect(verifierMatches(pw, verifier)).toBe(true);
  });

  it("init-db.sql's monitoring block stays after every app block and right before the platform block", () => {
    const files = workspace([inventory]);
    const withBlock = run([inventory], files).get('init-db.sql')!.text!;
    // The next app's block goes before the platform block, after the monitoring block: the kind moves it.
    const added = editInitDb(withBlock, orders, { force: false }).text;
    const moved = run([inventory, orders], { ...files, 'init-db.sql': added }).get('init-db.sql')!.text!;
    const order = [...moved.matchAll(/^-- >>> create-ovu-app: (\S+)$/gm)].map((m) => m[1]);
    expect(order).toEqual(['inventory', 'orders', 'monitoring', 'platform']);
    expect(moved).toContain("WHERE datname IN ('postgres', 'inventory_db', 'orders_db')");
    expect(listInitDbApps(moved)).toEqual(['inventory', 'orders']);
    // Idempotent: the same apps again give the same file.
    expect(run([inventory, orders], { ...files, 'init-db.sql': moved }).get('init-db.sql')!.text).toBe(moved);
    // An app called "monitoring" cannot take the block's name.
    expect(() => editInitDb(moved, appSpec('monitoring'), { force: false })).toThrow(/reserved/);
  });

  it('readonly apps only: no monitoring file, no include, no block', () => {
    const files = workspace([reports]);
    expect(parse(files['apps.compose.yaml']!).include).toEqual(['reports/compose.yaml']);
    const out = run([reports], files);
    expect([...out.values()].every((f) => f.text === undefined)).toBe(true);
  });
});

describe('Plan', () => {
  it('a second write of a file the plan creates keeps it a new file', () => {
    const plan = new Plan(() => undefined, ROOT);
    plan.write(`${ROOT}/a.txt`, 'one');
    plan.write(`${ROOT}/a.txt`, 'two');
    expect(plan.list().map((c) => [c.before, c.after])).toEqual([[undefined, 'two']]);
  });
});
