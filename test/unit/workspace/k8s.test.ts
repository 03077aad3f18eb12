import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AppSettings } from '../../../src/app/spec.ts';
import { derivedFiles, type DerivedApp } from '../../../src/workspace/derived.ts';
import { clusterMaxConnections, k8sWorkspaceFiles } from '../../../src/workspace/k8s.ts';
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
    expect(kustomization!['resources']).toEqual(['cluster.yaml', '../../inventory/deploy/k8s', '../../lookup/deploy/k8s', '../../orders/deploy/k8s']);
    expect(cluster!['spec'].managed.roles.map((r: any) => [r.name, r.connectionLimit, r.passwordSecret.name])).toEqual([
      ['inventory_user', 11, 'inventory-db-credentials'],
      ['orders_user', 31, 'orders-db-credentials'],
    ]);
  });

  it('takes an app that leaves with it, and is removed with the last app', () => {
    expect(files([app('inventory')]).kustomization!['resources']).toEqual(['cluster.yaml', '../../inventory/deploy/k8s']);
    // Only readonly apps: no database, so no Cluster.
    const readonly = files([app('lookup', { kind: 'readonly' })]);
    expect(readonly.kustomization!['resources']).toEqual(['../../lookup/deploy/k8s']);
    expect(readonly.text['deploy/k8s/cluster.yaml']).toBeUndefined();
    expect(files([]).text).toEqual({ 'deploy/k8s/kustomization.yaml': undefined, 'deploy/k8s/cluster.yaml': undefined });
  });

  it("does not list an app made before create-ovu-app wrote manifests, and says so", () => {
    const { kustomization, cluster, text } = files([app('inventory'), app('legacy')], ['inventory']);
    expect(kustomization!['resources']).toEqual(['cluster.yaml', '../../inventory/deploy/k8s']);
    expect(cluster!['spec'].managed.roles.map((r: any) => r.name)).toEqual(['inventory_user']);
    expect(text['deploy/k8s/kustomization.yaml']).toContain('# legacy: has no deploy/k8s/kustomization.yaml');
  });

  it('raises max_connections past the default when the apps need more', () => {
    // 3 reserved + ULM 30 + 6 x 11 + 10 for the operator = 109.
    const six = Array.from({ length: 6 }, (_, i) => app(`app${i}`));
    expect(clusterMaxConnections(six.map((a) => a.spec))).toBe(109);
    expect(files(six).cluster!['spec'].postgresql.parameters.max_connections).toBe('109');
    expect(clusterMaxConnections([app('one').spec])).toBe(100);
  });
});
