import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { AppSettings } from '../../../src/app/spec.ts';
import { derivedFiles, type DerivedApp } from '../../../src/workspace/derived.ts';
import { clusterMaxConnections, k8sWorkspaceFiles } from '../../../src/workspace/k8s.ts';
import { POOLER, ROLLOUT, k8sConnectionLimit, resolveSurge } from '../../../src/workspace/k8s/budget.ts';
import { alertsYaml } from '../../../src/workspace/monitoring/alerts.ts';
import { appSpec } from '../../helpers/spec.ts';

const POOL = { size: 5, maxOverflow: 5, timeout: 30 };
const app = (name: string, settings: Partial<AppSettings> = {}): DerivedApp => ({ dir: name, spec: appSpec(name, { pool: POOL, ...settings }) });

/** What k8sWorkspaceFiles writes for `apps`, where `withManifests` have their own deploy/k8s/. */
function files(apps: DerivedApp[], withManifests = apps.map((a) => a.dir)) {
  const read = (file: string) => (withManifests.some((d) => file === `/ws/${d}/deploy/k8s/kustomization.yaml`) ? 'kind: Kustomization\n' : undefined);
  const out = Object.fromEntries(k8sWorkspaceFiles({ root: '/ws', apps, read }).map((f) => [f.path, f.text]));
  const yaml = (p: string) => (out[p] === undefined ? undefined : (parse(out[p]!) as Record<string, any>));
  return { text: out, kustomization: yaml('deploy/k8s/kustomization.yaml'), cluster: yaml('deploy/k8s/cluster.yaml') };
}

describe('the workspace deploy/k8s/ (a derived kind)', () => {
  it('is written by derivedFiles, which every command that changes the set of apps calls', () => {
    const paths = derivedFiles({ root: '/ws', apps: [app('inventory')], read: () => 'x' }).map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['deploy/k8s/kustomization.yaml', 'deploy/k8s/cluster.yaml']));
  });

  it("lists the Cluster and every app's directory; the Cluster manages each crud app's login", () => {
    const { kustomization, cluster } = files([app('inventory'), app('lookup', { kind: 'readonly' }), app('orders', { processes: 3 })]);
    expect(kustomization!['resources']).toEqual(['cluster.yaml', 'backups.yaml', 'monitoring.yaml', 'backups/inventory.yaml', 'backups/orders.yaml', '../../inventory/deploy/k8s', '../../lookup/deploy/k8s', '../../orders/deploy/k8s']);
    // (5 + 5) x (replicas + 1 surge) + 1 migration + 1 dump.
    expect(cluster!['spec'].managed.roles.map((r: any) => [r.name, r.connectionLimit, r.passwordSecret.name])).toEqual([
      ['inventory_user', 22, 'inventory-db-credentials'],
      ['orders_user', 42, 'orders-db-credentials'],
    ]);
  });

  it('takes an app that leaves with it, and is removed with the last app', () => {
    expect(files([app('inventory')]).kustomization!['resources']).toEqual(['cluster.yaml', 'backups.yaml', 'monitoring.yaml', 'backups/inventory.yaml', '../../inventory/deploy/k8s']);
    // Only readonly apps: no database, so no Cluster.
    const readonly = files([app('lookup', { kind: 'readonly' })]);
    expect(readonly.kustomization!['resources']).toEqual(['../../lookup/deploy/k8s']);
    expect(readonly.text['deploy/k8s/cluster.yaml']).toBeUndefined();
    expect(files([]).text).toEqual({ 'deploy/k8s/kustomization.yaml': undefined, 'deploy/k8s/cluster.yaml': undefined });
  });

  it("does not list an app made before create-ovu-app wrote manifests, and says so", () => {
    const { kustomization, cluster, text } = files([app('inventory'), app('legacy')], ['inventory']);
    expect(kustomization!['resources']).toEqual(['cluster.yaml', 'backups.yaml', 'monitoring.yaml', 'backups/inventory.yaml', '../../inventory/deploy/k8s']);
    expect(cluster!['spec'].managed.roles.map((r: any) => r.name)).toEqual(['inventory_user']);
    expect(text['deploy/k8s/kustomization.yaml']).toContain('# legacy: has no deploy/k8s/kustomization.yaml');
  });

  it('raises max_connections past the default when the apps need more', () => {
    // 3 reserved + ULM 30 + 6 x 22 + 10 for the operator = 175.
    const six = Array.from({ length: 6 }, (_, i) => app(`app${i}`));
    expect(clusterMaxConnections(six.map((a) => a.spec))).toBe(175);
    expect(files(six).cluster!['spec'].postgresql.parameters.max_connections).toBe('175');
    expect(clusterMaxConnections([app('one').spec])).toBe(100);
  });

  it("counts a rollout's surge pod, or a --pgbouncer app's Pooler pods, in the login's limit", () => {
    expect(k8sConnectionLimit(app('one', { processes: 2 }).spec)).toBe(10 * (2 + ROLLOUT.maxSurge) + 2);
    expect(k8sConnectionLimit(app('pooled', { processes: 4, pgbouncer: true }).spec)).toBe(10 * POOLER.instances + 2);
    expect(resolveSurge(undefined, 4)).toBe(1);
    expect(resolveSurge('50%', 3)).toBe(2);
    expect(resolveSurge(0, 3)).toBe(0);
    expect(resolveSurge('x', 3)).toBeUndefined();
  });

  it('writes the Poolers, the backups and the PrometheusRule as kinds of derivedFiles, and lists them', () => {
    // legacy: made before create-ovu-app wrote manifests, so not listed, and no jobs or Poolers of its own.
    const apps = [app('inventory'), app('legacy', { pgbouncer: true }), app('orders', { pgbouncer: true, stack: 'typescript' })];
    const read = (f: string) => (f.endsWith('kustomization.yaml') && !f.startsWith('/ws/legacy/') ? 'x' : undefined);
    const out = Object.fromEntries(derivedFiles({ root: '/ws', apps, read }).map((f) => [f.path, f.text]));
    const docs = (p: string) => parseAllDocuments(out[p]!).map((d) => d.toJS());
    expect(docs('deploy/k8s/poolers.yaml').map((d: any) => [d.kind, d.metadata.name, d.spec.type, d.spec.pgbouncer.poolMode])).toEqual([
      ['Pooler', 'orders-pooler-rw', 'rw', 'transaction'],
      ['Pooler', 'orders-pooler-ro', 'ro', 'transaction'],
    ]);
    expect(docs('deploy/k8s/backups.yaml').map((d: any) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ConfigMap/ovu-backup-scripts',
      'ConfigMap/ovu-backup-settings',
      'ScheduledBackup/ovu-postgres-daily',
    ]);
    // Each app's CronJobs in a file of its own; legacy has none.
    for (const a of ['inventory', 'orders']) expect(docs(`deploy/k8s/backups/${a}.yaml`).map((d: any) => `${d.kind}/${d.metadata.name}`)).toEqual([`CronJob/${a}-db-backup`, `CronJob/${a}-db-restore`]);
    expect(out).not.toHaveProperty('deploy/k8s/backups/legacy.yaml');
    const [queries, rule] = docs('deploy/k8s/monitoring.yaml') as any[];
    expect(rule.spec.groups).toEqual((parse(out['monitoring/alerts.yml'] ?? alertsYaml()) as any).groups);
    expect(Object.keys(parse(queries.data['queries.yaml']))).toContain('ovu_backup');
    expect(parse(out['deploy/k8s/kustomization.yaml']!).resources).toEqual(['cluster.yaml', 'backups.yaml', 'monitoring.yaml', 'poolers.yaml', 'backups/inventory.yaml', 'backups/orders.yaml', '../../inventory/deploy/k8s', '../../orders/deploy/k8s']);
    // Without a --pgbouncer app: no Poolers; without a crud app: none of them.
    expect(files([app('inventory')]).text['deploy/k8s/cluster.yaml']).toContain('customQueriesConfigMap');
    const none = Object.fromEntries(derivedFiles({ root: '/ws', apps: [app('lookup', { kind: 'readonly' })], read: () => 'x' }).map((f) => [f.path, f.text]));
    for (const p of ['deploy/k8s/poolers.yaml', 'deploy/k8s/backups.yaml', 'deploy/k8s/monitoring.yaml']) expect(none[p], p).toBeUndefined();
  });
});
