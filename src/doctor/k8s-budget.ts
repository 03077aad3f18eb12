/**
 * doctor's check of the connection budget on Kubernetes, from the manifests on disk (the team may
 * have edited them): for each crud app, the most server connections its pods can hold during a
 * rollout (replicas + maxSurge from its deploy/k8s/deployment.yaml, each with the pool its
 * kustomization's ConfigMap gives; for a --pgbouncer app, its Poolers' pods with their pool) plus
 * the migration Job and the nightly dump, against its login's connectionLimit in deploy/k8s/cluster.yaml.
 * The same arithmetic as workspace/k8s/budget.ts, which wrote them. Overlays are not read.
 */
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { AppSpec } from '../app/spec.ts';
import { EXTRA_CONNECTIONS } from '../database/budget.ts';
import { DUMP_CONNECTIONS, resolveSurge } from '../workspace/k8s/budget.ts';
import { poolerName } from '../workspace/k8s/names.ts';
import { failed, ok, type DoctorCheck } from './check.ts';

type Read = (file: string) => string | undefined;
type Obj = Record<string, any>;

const yamlOf = (text: string | undefined): Obj | undefined => {
  try {
    const v: unknown = text === undefined ? undefined : parse(text);
    return v && typeof v === 'object' ? (v as Obj) : undefined;
  } catch {
    return undefined;
  }
};

function literal(kustomization: Obj | undefined, name: string): number | undefined {
  const gens = Array.isArray(kustomization?.['configMapGenerator']) ? kustomization['configMapGenerator'] : [];
  for (const g of gens) for (const l of Array.isArray(g?.literals) ? g.literals : []) {
    const m = typeof l === 'string' ? new RegExp(`^${name}=(\\d+)$`).exec(l) : null;
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The worst-case connections of the app on the primary, and how they are made up; a string when the manifests cannot be read. */
export function rolloutPeak(root: string, dir: string, spec: AppSpec, read: Read): { peak: number; how: string } | string {
  const k8s = path.join(root, dir, 'deploy', 'k8s');
  const beside = EXTRA_CONNECTIONS + DUMP_CONNECTIONS;
  if (spec.settings.pgbouncer) {
    const poolers = parseAllDocuments(read(path.join(root, 'deploy', 'k8s', 'poolers.yaml')) ?? '').map((d) => d.toJS() as Obj | null);
    const p = poolers.find((x) => x?.['metadata']?.name === poolerName(spec, 'rw'));
    const instances = p?.['spec']?.instances;
    const size = Number(p?.['spec']?.pgbouncer?.parameters?.max_db_connections ?? p?.['spec']?.pgbouncer?.parameters?.default_pool_size);
    if (!Number.isInteger(instances) || !Number.isInteger(size)) return `deploy/k8s/poolers.yaml has no Pooler ${poolerName(spec, 'rw')} with instances and a pool size`;
    const surge = resolveSurge(p?.['spec']?.deploymentStrategy?.rollingUpdate?.maxSurge, instances);
    if (surge === undefined) return `the Pooler ${poolerName(spec, 'rw')}'s maxSurge cannot be read`;
    return { peak: size * (instances + surge) + beside, how: `Pooler ${instances} + ${surge} surge pods x pool ${size} + ${beside}` };
  }
  const deployment = yamlOf(read(path.join(k8s, 'deployment.yaml')));
  const kustomization = yamlOf(read(path.join(k8s, 'kustomization.yaml')));
  const replicas = deployment?.['spec']?.replicas ?? 1;
  const size = literal(kustomization, 'DB_POOL_SIZE');
  const overflow = literal(kustomization, 'DB_MAX_OVERFLOW');
  if (!Number.isInteger(replicas) || size === undefined || overflow === undefined) return `${dir}/deploy/k8s: no replicas, DB_POOL_SIZE or DB_MAX_OVERFLOW to read`;
  const strategy = deployment?.['spec']?.strategy;
  const surge = strategy?.type === 'Recreate' ? 0 : resolveSurge(strategy?.rollingUpdate?.maxSurge, replicas);
  if (surge === undefined) return `${dir}/deploy/k8s/deployment.yaml: its maxSurge cannot be read`;
  return { peak: (size + overflow) * (replicas + surge) + beside, how: `(${replicas} replicas + ${surge} surge) x pool ${size + overflow} + ${beside}` };
}

export function k8sBudgetChecks(root: string, apps: { dir: string; spec: AppSpec }[], read: Read): DoctorCheck[] {
  const cluster = yamlOf(read(path.join(root, 'deploy', 'k8s', 'cluster.yaml')));
  if (!cluster) return [];
  const roles = (Array.isArray(cluster['spec']?.managed?.roles) ? cluster['spec'].managed.roles : []) as Obj[];
  const checks: DoctorCheck[] = [];
  for (const { dir, spec } of apps) {
    if (spec.settings.kind !== 'crud' || read(path.join(root, dir, 'deploy', 'k8s', 'kustomization.yaml')) === undefined) continue;
    const id = `app.${dir}.k8s-budget`;
    const role = roles.find((r) => r['name'] === spec.names.user);
    const limit = role?.['connectionLimit'];
    const peak = rolloutPeak(root, dir, spec, read);
    if (typeof peak === 'string') checks.push(failed(id, peak, 'write the manifests again (create-ovu-app update) or fix the file'));
    else if (typeof limit !== 'number' || limit < 0) checks.push(failed(id, `deploy/k8s/cluster.yaml gives ${spec.names.user} no connectionLimit`, 'doctor --fix writes cluster.yaml again from the apps'));
    else if (peak.peak > limit) {
      checks.push(
        failed(
          id,
          `on Kubernetes ${spec.names.user} can need ${peak.peak} connections during a rollout (${peak.how}) but its connectionLimit is ${limit}: connections would be refused`,
          'lower replicas or maxSurge in the manifests, or change --processes/the pool with `create-ovu-app update` so the limit is computed again',
        ),
      );
    } else checks.push(ok(id, `on Kubernetes ${spec.names.user} needs at most ${peak.peak} connections during a rollout (${peak.how}), within its connectionLimit ${limit}`));
  }
  return checks;
}
