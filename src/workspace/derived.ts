/**
 * Workspace files computed whole from the set of apps (as apps.compose.yaml is): each kind is a
 * function of the apps, and every command that changes the set (new, remove) writes all of them
 * through `derivedFiles`, so an app that leaves takes its entries with it. A new kind is one entry
 * in DERIVED.
 */
import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import type { Plan } from '../plan/plan.ts';
import { k8sWorkspaceFiles } from './k8s.ts';
import { monitoringKind } from './monitoring/index.ts';
import { pgbouncerKind } from './pgbouncer/index.ts';
import { ulmDevKind } from './ulm-dev/index.ts';

export interface DerivedApp {
  /** Directory under the workspace root. */
  dir: string;
  spec: AppSpec;
}

export interface DerivedContext {
  root: string;
  /** The workspace's apps after the change, sorted by directory. */
  apps: DerivedApp[];
  /** A workspace file's text as the run read it (undefined: missing). */
  read(file: string): string | undefined;
}

export interface DerivedFile {
  /** Relative to the workspace root. */
  path: string;
  /** The file's text; undefined removes it (e.g. the last app that needed it left). */
  text: string | undefined;
  /** Written with this mode (e.g. 0o600 for a file holding secrets). */
  mode?: number;
  secret?: boolean;
}

export type DerivedKind = (ctx: DerivedContext) => DerivedFile[];

const DERIVED: DerivedKind[] = [
  k8sWorkspaceFiles, // deploy/k8s/: the CloudNativePG Cluster and the kustomization of every app's
  // monitoring/ (exporter, Prometheus, Grafana), init-db.sql's monitoring block, its .env lines.
  monitoringKind,
  // pgbouncer/ (ovu-pgbouncer, pgbouncer.ini, userlist.txt) once an app chose --pgbouncer.
  pgbouncerKind,
  // ulm-dev/ (a development ULM: server, users, compose service) while an app points at it.
  ulmDevKind,
];

export function derivedFiles(ctx: DerivedContext): DerivedFile[] {
  const apps = [...ctx.apps].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  return DERIVED.flatMap((kind) => kind({ ...ctx, apps }));
}

/** Stages derived files on a plan: each written as computed, or removed when it exists and is no longer wanted. */
export function stageDerived(plan: Plan, root: string, files: DerivedFile[]): void {
  for (const f of files) {
    const file = path.join(root, f.path);
    if (f.text === undefined) {
      if (plan.read(file) !== undefined) plan.remove(file);
    } else plan.write(file, f.text, { ...(f.mode ? { mode: f.mode } : {}), ...(f.secret ? { secret: true } : {}) });
  }
}
