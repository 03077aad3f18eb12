/**
 * The files of the workspace's deploy/k8s/ beside cluster.yaml that its kustomization lists, each a
 * DERIVED kind of its own (workspace/derived.ts), and what they add to the Cluster.
 */
import type { AppSpec } from '../../app/spec.ts';
import { BACKUPS_FILE, appBackupsFile } from './backups.ts';
import { MONITORING_FILE, QUERIES_CONFIGMAP } from './monitoring.ts';
import { POOLERS_FILE } from './pooler.ts';

export { clusterBackup } from './backups.ts';

/** The resources for the workspace's crud apps, in the kustomization's order. */
export function k8sResources(crud: AppSpec[]): string[] {
  if (!crud.length) return [];
  return [BACKUPS_FILE, MONITORING_FILE, ...(crud.some((s) => s.settings.pgbouncer) ? [POOLERS_FILE] : []), ...crud.map((s) => appBackupsFile(s.names.slug))];
}

/** Cluster.spec.monitoring: the exporter's queries (k8s/monitoring.ts). */
export const clusterMonitoring = () => ({ customQueriesConfigMap: [{ ...QUERIES_CONFIGMAP }] });
