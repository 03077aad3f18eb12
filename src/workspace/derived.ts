/**
 * Workspace files derived from the set of apps (monitoring/, pgbouncer/, deploy/k8s/, and their
 * lines in .env, .gitignore and init-db.sql), as one fold over the kinds in DERIVED: each kind
 * reads the workspace as the command and the kinds before it left it on the plan (never the disk),
 * and stages its own files there. So two kinds that edit one file (.env, .gitignore) both keep
 * their lines, and a kind may rely on what the command staged before the fold (the app's verifier
 * in .env, its answers file): the command stages the app first, then calls `stageDerived`.
 *
 * A new kind is one entry in DERIVED: its files, the compose file apps.compose.yaml includes for
 * it (if any), and the files it writes that hold secrets (doctor checks them).
 *
 * Cost: a command that adds, updates or removes one app names it (`changed`); a kind then writes
 * only that app's own files (its dashboard, its backup CronJobs) and rewrites its shared files from
 * the specs in memory, as text, without parsing any of them. Only doctor (`changed` undefined)
 * computes every app's.
 */
import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import type { Plan } from '../plan/plan.ts';
import type { DatabaseService } from './compose/project.ts';
import { reachOf } from './compose/model.ts';
import { k8sWorkspaceFiles } from './k8s.ts';
import { MONITORING_COMPOSE_FILE, MONITORING_ENV_FILE, includesMonitoring, monitoringKind } from './monitoring/index.ts';
import { PGBOUNCER_COMPOSE_FILE, includesPgbouncer, pgbouncerKind } from './pgbouncer/index.ts';
import { backupsKind } from './k8s/backups.ts';
import { k8sMonitoringKind } from './k8s/monitoring.ts';
import { poolerKind } from './k8s/pooler.ts';
import { DB_INIT_ENV_FILE } from './compose/db-login.ts';
import { moveLegacyVerifiers } from './verifiers.ts';
import { ulmDevKind } from './ulm-dev/index.ts';
import { ULM_DEV_COMPOSE_FILE, usesUlmDev } from './ulm-dev/names.ts';

export interface DerivedApp {
  /** Directory under the workspace root. */
  dir: string;
  spec: AppSpec;
}

/** The database service as apps.compose.yaml's ovu-db-init reaches it. */
export interface DatabaseReach {
  host: string;
  port: string;
  networks: string[];
  profiles: string[];
}

export interface DerivedContext {
  root: string;
  /** The workspace's apps after the change, sorted by directory. */
  apps: DerivedApp[];
  /** A workspace file's text as the fold has it so far (undefined: missing). */
  read(file: string): string | undefined;
  /**
   * The database ovu-db-init reaches, as the command knows it from the compose project (undefined:
   * there is no ovu-db-init). Absent: the kind reads it from apps.compose.yaml (doctor, tests).
   */
  database?: DatabaseReach | undefined;
  /** The app this run adds, updates or removes: only its per-app files are written. Absent: every app's. */
  changed?: string;
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

export interface DerivedKind {
  id: string;
  /** The kind's files, from `ctx.read`: the workspace as the kinds before this one left it. */
  files(ctx: DerivedContext): DerivedFile[];
  /** The compose file apps.compose.yaml includes for this kind (undefined: none, for these apps). */
  composeInclude?(apps: DerivedApp[], hasDatabase: boolean): string | undefined;
  /** Workspace files it writes that hold secrets: doctor checks each is ignored by git and mode 600. */
  secretFiles?: { id: string; path: string }[];
}

const isCrud = (a: DerivedApp): boolean => a.spec.settings.kind === 'crud';

export const DERIVED: readonly DerivedKind[] = [
  // deploy/k8s/: the CloudNativePG Cluster and the kustomization of every app's.
  { id: 'k8s', files: k8sWorkspaceFiles },
  // monitoring/ (exporter, Prometheus, Grafana), init-db.sql's monitoring block, its .env lines.
  {
    id: 'monitoring',
    files: monitoringKind,
    composeInclude: (apps, db) => (includesMonitoring(db, apps.filter(isCrud).length) ? MONITORING_COMPOSE_FILE : undefined),
    secretFiles: [{ id: 'monitoring-env', path: MONITORING_ENV_FILE }],
  },
  // pgbouncer/ (ovu-pgbouncer, pgbouncer.ini, userlist.txt) once an app chose --pgbouncer; its
  // .gitignore line. The userlist holds verifiers, not passwords (mode 644: see pgbouncer/).
  { id: 'pgbouncer', files: pgbouncerKind, composeInclude: (apps, db) => (includesPgbouncer(db, apps) ? PGBOUNCER_COMPOSE_FILE : undefined) },
  // ulm-dev/ (a development ULM: server, users, compose service) while an app points at it.
  { id: 'ulm-dev', files: ulmDevKind, composeInclude: (apps) => (apps.some((a) => usesUlmDev(a.spec.settings.ulmUrl)) ? ULM_DEV_COMPOSE_FILE : undefined) },
  // deploy/k8s/poolers.yaml: a --pgbouncer app's CloudNativePG Poolers (rw, ro).
  { id: 'k8s-pooler', files: poolerKind },
  // deploy/k8s/backups.yaml (the ScheduledBackup, the scripts) and backups/<app>.yaml (each app's dump and restore CronJobs).
  { id: 'k8s-backups', files: backupsKind },
  // deploy/k8s/monitoring.yaml: the PrometheusRule, the Cluster's exporter queries.
  { id: 'k8s-monitoring', files: k8sMonitoringKind },
];

const byDir = (apps: DerivedApp[]): DerivedApp[] => [...apps].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));

/** The compose files apps.compose.yaml includes after the apps' own, in DERIVED's order. */
export function derivedIncludes(apps: DerivedApp[], hasDatabase: boolean, kinds: readonly DerivedKind[] = DERIVED): string[] {
  const sorted = byDir(apps);
  return kinds.flatMap((k) => k.composeInclude?.(sorted, hasDatabase) ?? []);
}

/** The secret files the kinds write, for doctor. */
export function derivedSecretFiles(kinds: readonly DerivedKind[] = DERIVED): { id: string; path: string }[] {
  return kinds.flatMap((k) => k.secretFiles ?? []);
}

/** What ovu-db-init reaches, as apps.compose.yaml writes it: only when there is a database and a crud app. */
export function databaseReach(db: DatabaseService | undefined, apps: DerivedApp[]): DatabaseReach | undefined {
  if (!db || !apps.some(isCrud)) return undefined;
  const reach = reachOf(db.service);
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  return { host: db.name, port: '5432', networks: list(reach['networks']), profiles: list(reach['profiles']) };
}

/** Stages files on a plan: each written as computed, or removed when it exists and is no longer wanted. */
export function stageFiles(plan: Pick<Plan, 'read' | 'write' | 'remove'>, root: string, files: DerivedFile[]): void {
  for (const f of files) {
    const file = path.join(root, f.path);
    if (f.text === undefined) {
      if (plan.read(file) !== undefined) plan.remove(file);
    } else plan.write(file, f.text, { ...(f.mode ? { mode: f.mode } : {}), ...(f.secret ? { secret: true } : {}) });
  }
}

/**
 * The fold: every kind in order stages its files on `plan`, reading what the command and the kinds
 * before it staged. Call it after the command has staged the app's own files.
 */
export function stageDerived(plan: Plan, ctx: Omit<DerivedContext, 'read'>, kinds: readonly DerivedKind[] = DERIVED): void {
  const apps = byDir(ctx.apps);
  for (const kind of kinds) stageFiles(plan, ctx.root, kind.files({ ...ctx, apps, read: plan.read.bind(plan) }));
}

/**
 * The same fold over `ctx.read` in memory, for an audit (doctor): each file as the fold leaves it,
 * one entry per path.
 */
export function derivedFiles(ctx: DerivedContext, kinds: readonly DerivedKind[] = DERIVED): DerivedFile[] {
  const apps = byDir(ctx.apps);
  const staged = new Map<string, DerivedFile>();
  const read = (file: string): string | undefined => {
    const rel = path.relative(ctx.root, path.resolve(file)).split(path.sep).join('/');
    return staged.has(rel) ? staged.get(rel)!.text : ctx.read(file);
  };
  for (const kind of kinds) {
    for (const f of kind.files({ ...ctx, apps, read })) {
      const previous = staged.get(f.path);
      staged.set(f.path, previous ? { ...previous, ...f } : f);
    }
  }
  return [...staged.values()];
}

/**
 * ovu-db-init/.env beside apps.compose.yaml: the database's literal superuser password, for
 * ovu-db-init and ovu-backup only (mode 600, ignored by git's `.env` line); removed when not needed.
 */
export function stageDbInitEnv(plan: Plan, root: string, text: string | undefined): void {
  stageFiles(plan, root, [{ path: DB_INIT_ENV_FILE, text, mode: 0o600, secret: true }]);
  // apps.compose.yaml gives ovu-db-init the verifiers from their own file: a workspace made before 0.4's move there.
  moveLegacyVerifiers(plan, root);
}
