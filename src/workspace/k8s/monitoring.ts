/**
 * deploy/k8s/monitoring.yaml (a DERIVED kind, once there is a crud app): the alerting rules of
 * monitoring/alerts.yml as a prometheus-operator `PrometheusRule`, and monitoring/queries.yaml's
 * queries as the Cluster's custom queries (`spec.monitoring.customQueriesConfigMap`), so
 * CloudNativePG's own exporter on each instance exports the metrics the rules and dashboards read
 * (prefixed `cnpg_`). The queries that read one database's views name the app databases in
 * `target_databases`, CloudNativePG's equivalent of the compose exporter's auto-discovery.
 */
import { stringify } from 'yaml';
import type { DerivedContext, DerivedFile } from '../derived.ts';
import { alertRules } from '../monitoring/alerts.ts';
import { DATABASES_PLACEHOLDER, exporterQueries, withDatabases, type Query } from '../monitoring/queries.ts';
import { DERIVED_NOTE, manifestsFile, crudWithManifests } from './names.ts';

export const MONITORING_FILE = 'monitoring.yaml';
export const QUERIES_CONFIGMAP = { name: 'ovu-monitoring-queries', key: 'queries.yaml' } as const;

/** The compose exporter's queries as CloudNativePG runs them. */
function cnpgQueries(dbs: string[]): string {
  const queries: Record<string, Query & { target_databases?: string[] }> = exporterQueries();
  for (const q of Object.values(queries)) if (!q.master) q.target_databases = dbs;
  return stringify(queries, { lineWidth: 0 });
}

/** The manifests for the databases `dbs`. */
function monitoringManifests(dbs: string[]): unknown[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      // CloudNativePG reads only ConfigMaps it is told to (this label lets it watch the changes).
      metadata: { name: QUERIES_CONFIGMAP.name, labels: { 'cnpg.io/reload': '', 'app.kubernetes.io/part-of': 'ovu-platform' } },
      data: { [QUERIES_CONFIGMAP.key]: cnpgQueries(dbs) },
    },
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'ovu-platform', labels: { 'app.kubernetes.io/part-of': 'ovu-platform' } },
      spec: { groups: alertRules() },
    },
  ];
}

export const k8sMonitoringKind = (ctx: DerivedContext): DerivedFile[] => {
  const crud = crudWithManifests(ctx).map((a) => a.spec);
  const header = [
    ...DERIVED_NOTE,
    "The alerting rules (monitoring/alerts.yml's) for the prometheus-operator, and the exporter's queries for the",
    "Cluster's own exporter. Your Prometheus must select this PrometheusRule (its ruleSelector) and scrape the",
    "Cluster's and the Poolers' pods (PodMonitors).",
  ];
  // Made for the placeholder database alone, then filled in: the YAML library's work does not grow with the apps.
  const dbs = crud.map((s) => s.names.db).sort();
  const text = crud.length ? withDatabases(manifestsFile(header, monitoringManifests([DATABASES_PLACEHOLDER])), dbs) : undefined;
  return [{ path: `deploy/k8s/${MONITORING_FILE}`, text }];
};
