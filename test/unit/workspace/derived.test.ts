import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DERIVED, databaseReach, derivedFiles, derivedIncludes, derivedSecretFiles, stageDerived, type DerivedKind } from '../../../src/workspace/derived.ts';
import { appsComposeFile } from '../../../src/workspace/compose/apps-file.ts';
import { DEFAULT_STYLE } from '../../../src/workspace/compose/render.ts';
import { ensureLine, readEnvVar, setEnvVar } from '../../../src/workspace/env-file.ts';
import { Plan } from '../../../src/plan/plan.ts';
import type { DatabaseService } from '../../../src/workspace/compose/project.ts';
import { appSpec } from '../../helpers/spec.ts';

const ROOT = '/nonexistent-ws';
const DB: DatabaseService = { name: 'postgres', file: 'docker-compose.yml', service: { image: 'postgres:16', environment: { POSTGRES_PASSWORD: 'pw' } }, login: { how: 'literal', user: undefined, password: 'pw' } };
const inventory = appSpec('inventory', { pgbouncer: true });
const apps = [{ dir: 'inventory', spec: inventory }];
const VERIFIER = "'SCRAM-SHA-256$4096:aW52$c3Q=:c2s='";

/** A kind added beside the others that edits the same shared files (.gitignore, .env) and has its own compose file. */
const extra: DerivedKind = {
  id: 'extra',
  files: (ctx) => [
    { path: '.gitignore', text: ensureLine(ctx.read(path.join(ctx.root, '.gitignore')), '/extra/secret.txt') },
    { path: '.env', text: setEnvVar(ctx.read(path.join(ctx.root, '.env')), 'EXTRA_TOKEN', 'x', 'extra: its token'), mode: 0o600, secret: true },
    { path: 'extra/compose.yaml', text: 'services: {}\n' },
  ],
  composeInclude: () => 'extra/compose.yaml',
  secretFiles: [{ id: 'extra-secret', path: 'extra/secret.txt' }],
};

function workspace(): Record<string, string> {
  return {
    'apps.compose.yaml': appsComposeFile(apps, DB, DEFAULT_STYLE).text,
    '.env': `INVENTORY_DB_VERIFIER=${VERIFIER}\n`,
    '.gitignore': '.env\n',
  };
}

describe('the derived kinds are one fold over the plan', () => {
  for (const order of ['after', 'before'] as const) {
    it(`a kind that edits .gitignore and .env ${order} the others loses none of their lines`, () => {
      const kinds = order === 'after' ? [...DERIVED, extra] : [extra, ...DERIVED];
      const files = workspace();
      const plan = new Plan((f) => files[path.relative(ROOT, f)], ROOT, () => 0o600);
      stageDerived(plan, { root: ROOT, apps, database: databaseReach(DB, apps), changed: 'inventory' }, kinds);
      const gitignore = plan.read(path.join(ROOT, '.gitignore'))!;
      // pgbouncer's line keeps the SCRAM verifiers of userlist.txt out of git.
      expect(gitignore.split('\n')).toEqual(expect.arrayContaining(['.env', '/pgbouncer/userlist.txt', '/extra/secret.txt']));
      const env = plan.read(path.join(ROOT, '.env'));
      expect(readEnvVar(env, 'EXTRA_TOKEN')).toBe('x');
      // The verifiers are ovu-db-init's alone: the 0.2 one in .env is read there, the monitoring one is not written there.
      expect(readEnvVar(env, 'OVU_MONITOR_DB_VERIFIER')).toBeUndefined();
      expect(readEnvVar(plan.read(path.join(ROOT, 'ovu-db-init/verifiers/.env')), 'OVU_MONITOR_DB_VERIFIER')).toMatch(/^SCRAM-SHA-256\$/);
      expect(readEnvVar(env, 'INVENTORY_DB_VERIFIER')).toBe(VERIFIER.slice(1, -1));
      expect(plan.read(path.join(ROOT, 'pgbouncer/userlist.txt'))).toContain('"inventory_user"');

      // The in-memory fold doctor audits with says the same.
      const audit = new Map(derivedFiles({ root: ROOT, apps, read: (f) => files[path.relative(ROOT, f)] }, kinds).map((f) => [f.path, f.text]));
      expect(audit.get('.gitignore')!.split('\n')).toEqual(expect.arrayContaining(['/pgbouncer/userlist.txt', '/extra/secret.txt']));
      expect(readEnvVar(audit.get('.env'), 'EXTRA_TOKEN')).toBe('x');
      expect(readEnvVar(audit.get('ovu-db-init/verifiers/.env'), 'OVU_MONITOR_DB_VERIFIER')).toMatch(/^SCRAM-SHA-256\$/);
    });
  }

  it("declares the compose files apps.compose.yaml includes, and the secret files doctor checks", () => {
    expect(derivedIncludes(apps, true)).toEqual(['monitoring/compose.yaml', 'pgbouncer/compose.yaml']);
    expect(derivedIncludes(apps, true, [...DERIVED, extra])).toEqual(['monitoring/compose.yaml', 'pgbouncer/compose.yaml', 'extra/compose.yaml']);
    expect(derivedIncludes(apps, false)).toEqual([]);
    const include = /^include:\n((?: {2}- .*\n)+)/m.exec(appsComposeFile(apps, DB, DEFAULT_STYLE).text)![1]!;
    expect(include.split('\n').filter(Boolean).map((l) => l.trim().replace(/^- /, ''))).toEqual(['inventory/compose.yaml', ...derivedIncludes(apps, true)]);
    expect(derivedSecretFiles([...DERIVED, extra]).map((s) => s.path)).toEqual(['monitoring/.env', 'extra/secret.txt']);
  });

  it("a run that changes one app writes that app's dashboard only", () => {
    const orders = appSpec('orders', { port: 8002 });
    const two = [...apps, { dir: 'orders', spec: orders }];
    const files = { ...workspace(), 'apps.compose.yaml': appsComposeFile(two, DB, DEFAULT_STYLE).text };
    const plan = new Plan((f) => files[path.relative(ROOT, f) as keyof typeof files], ROOT, () => 0o600);
    stageDerived(plan, { root: ROOT, apps: two, database: databaseReach(DB, two), changed: 'orders' });
    const dashboards = plan.list().map((c) => path.relative(ROOT, c.path)).filter((p) => p.endsWith('.json'));
    expect(dashboards).toEqual(['monitoring/grafana/dashboards/orders.json']);
  });

  it("a run that changes one app writes that app's backup CronJobs only; a workspace made before 0.5 gets one file per app; an audit makes every one", () => {
    const orders = appSpec('orders', { port: 8002 });
    const two = [...apps, { dir: 'orders', spec: orders }];
    const own = { 'inventory/deploy/k8s/kustomization.yaml': 'kind: Kustomization\n', 'orders/deploy/k8s/kustomization.yaml': 'kind: Kustomization\n' };
    const before = derivedFiles({ root: ROOT, apps, read: (f) => ({ ...workspace(), ...own })[path.relative(ROOT, f) as keyof typeof own] });
    const inventoryFile = before.find((f) => f.path === 'deploy/k8s/backups/inventory.yaml')!.text!;
    // A schedule the fold would not write: kept only if inventory's file is not written again.
    const edited = inventoryFile.replace('schedule: 30 3 * * *', 'schedule: 45 4 * * *');
    expect(edited).not.toBe(inventoryFile);
    const files: Record<string, string> = { ...workspace(), ...own, 'apps.compose.yaml': appsComposeFile(two, DB, DEFAULT_STYLE).text };
    for (const f of before) if (f.text !== undefined) files[f.path] = f.text;
    files['deploy/k8s/backups/inventory.yaml'] = edited;
    const changeOrders = (): Plan => {
      const plan = new Plan((f) => files[path.relative(ROOT, f)], ROOT, () => 0o600);
      stageDerived(plan, { root: ROOT, apps: two, database: databaseReach(DB, two), changed: 'orders' });
      return plan;
    };
    const plan = changeOrders();
    const written = plan.list().map((c) => path.relative(ROOT, c.path)).filter((p) => p.startsWith('deploy/k8s/backups'));
    // backups.yaml is what it was: not written.
    expect(written).toEqual(['deploy/k8s/backups/orders.yaml']);
    const cronJobs = (p: string, from: Plan = plan) => parseAllDocuments(from.read(path.join(ROOT, p))!).map((d) => d.toJS()).map((j) => [j.metadata.name, j.spec.schedule]);
    expect(cronJobs('deploy/k8s/backups/orders.yaml')).toEqual([['orders-db-backup', '30 3 * * *'], ['orders-db-restore', '0 0 1 1 *']]);
    expect(plan.read(path.join(ROOT, 'deploy/k8s/backups.yaml'))).not.toContain('kind: CronJob');
    expect(parse(plan.read(path.join(ROOT, 'deploy/k8s/kustomization.yaml'))!).resources).toEqual(expect.arrayContaining(['backups/inventory.yaml', 'backups/orders.yaml']));
    // Made before 0.5: backups.yaml held every app's CronJobs, and no app has a file of its own yet.
    files['deploy/k8s/backups.yaml'] = `${files['deploy/k8s/backups.yaml']}---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: inventory-db-backup\n`;
    delete files['deploy/k8s/backups/inventory.yaml'];
    const upgraded = changeOrders();
    expect(cronJobs('deploy/k8s/backups/inventory.yaml', upgraded)).toEqual([['inventory-db-backup', '30 3 * * *'], ['inventory-db-restore', '0 0 1 1 *']]);
    expect(upgraded.read(path.join(ROOT, 'deploy/k8s/backups.yaml'))).not.toContain('kind: CronJob');
    const audit = derivedFiles({ root: ROOT, apps: two, read: (f) => files[path.relative(ROOT, f)] }).filter((f) => f.path.startsWith('deploy/k8s/backups/')).map((f) => f.path);
    expect(audit).toEqual(['deploy/k8s/backups/inventory.yaml', 'deploy/k8s/backups/orders.yaml']);
    // The exporter's queries name both databases, filled in after the YAML was made.
    const monitoring = parseAllDocuments(plan.read(path.join(ROOT, 'deploy/k8s/monitoring.yaml'))!).map((d) => d.toJS());
    const queries = parse(monitoring.find((d) => d.kind === 'ConfigMap').data['queries.yaml']) as Record<string, { master?: boolean; query: string; target_databases?: string[] }>;
    for (const q of Object.values(queries)) {
      expect(q.query).toContain("IN ('inventory_db', 'orders_db')");
      if (!q.master) expect(q.target_databases).toEqual(['inventory_db', 'orders_db']);
    }
  });
});
