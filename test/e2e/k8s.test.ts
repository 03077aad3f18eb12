/**
 * The built CLI (dist/, its templates precompiled) writes the same Kubernetes manifests as the
 * sources, and they build and validate: test/integration/deploy/k8s.test.ts checks them in depth.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adrWorkspace, runCli, runMainInProcess } from '../helpers/cli.ts';
import { cnpgProblems, coreProblems, isCnpg, isCore, kustomizeBuild } from '../helpers/k8s.ts';

const APPS = [
  ['inventory', '--processes', '2'],
  ['catalog', '--stack', 'typescript', '--kind', 'readonly'],
];

function deployFiles(ws: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of ['deploy', ...APPS.map(([name]) => `${name}/deploy`)]) {
    for (const e of fs.readdirSync(path.join(ws, dir), { recursive: true, withFileTypes: true })) {
      if (e.isFile()) out[path.relative(ws, path.join(e.parentPath, e.name))] = fs.readFileSync(path.join(e.parentPath, e.name), 'utf8');
    }
  }
  return out;
}

describe('create-ovu-app (built) writes deploy/k8s/', () => {
  it('as the sources do, and it builds with kustomize and validates', async () => {
    const built = adrWorkspace();
    const sources = adrWorkspace();
    for (const args of APPS) {
      const r = await runCli([...args, '--yes', '--workspace', built]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await runMainInProcess([...args, '--yes', '--workspace', sources])).toBe(0);
    }
    const files = deployFiles(built);
    expect(Object.keys(files).sort()).toEqual(
      [
        'deploy/k8s/backups.yaml',
        'deploy/k8s/backups/inventory.yaml',
        'deploy/k8s/cluster.yaml',
        'deploy/k8s/kustomization.yaml',
        'deploy/k8s/monitoring.yaml',
        ...['database.yaml', 'deployment-database.yaml', 'deployment.yaml', 'kustomization.yaml', 'migrate-job.yaml', 'service.yaml'].map((f) => `inventory/deploy/k8s/${f}`),
        ...['deployment.yaml', 'kustomization.yaml', 'service.yaml'].map((f) => `catalog/deploy/k8s/${f}`),
      ].sort(),
    );
    expect(files).toEqual(deployFiles(sources));

    const manifests = await kustomizeBuild(path.join(built, 'deploy', 'k8s'));
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      ['Cluster', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'CronJob', 'CronJob', 'Database', 'Deployment', 'Deployment', 'Job', 'PrometheusRule', 'ScheduledBackup', 'Service', 'Service'],
    );
    expect(await coreProblems(manifests.filter(isCore))).toEqual([]);
    expect(manifests.filter(isCnpg).flatMap(cnpgProblems)).toEqual([]);
  }, 180_000);
});
