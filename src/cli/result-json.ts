/** The --json result: one shape for every command (schema/result-v1.schema.json), and the new and provision results in it. */
import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import type { NewApp } from '../commands/new-plan.ts';
import type { NewResult } from '../commands/new.ts';
import type { ProvisionResult } from '../commands/provision.ts';
import type { FileAction } from '../commands/update.ts';
import type { BaseSource } from '../commands/update-base.ts';
import type { DoctorCheck } from '../doctor/check.ts';
import { groupChanges } from './output.ts';

export type ListedAppJson = (ReturnType<typeof appJson> & { version: string; error: null }) | { name: string; directory: string; error: string };

/** The version of the --json shape, schema/result-v1.schema.json (shipped in the package). */
export const RESULT_SCHEMA_VERSION = 1;

/** An app as --json names it. */
export interface AppRef {
  spec: AppSpec;
  root: string;
  appDir: string;
}

export interface StepRecord {
  id: 'install' | 'provision' | 'migrate';
  ok: boolean;
  seconds: number;
}

/** One result shape for every command, success and error alike: see schema/result-v1.schema.json. */
export interface ResultJson {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  command: 'new' | 'provision' | 'list' | 'doctor' | 'update' | 'remove' | 'backup' | 'restore';
  ok: boolean;
  exitCode: number;
  dryRun: boolean;
  workspace: string | null;
  app: ReturnType<typeof appJson> | null;
  written: boolean;
  changes: { created: string[]; changed: string[] };
  notes: string[];
  steps: StepRecord[];
  provision: object | null;
  nextSteps: string[];
  error: { message: string; exitCode: number } | null;
  /** update only: the versions, and what the merge did to each file the templates touched. */
  update?: { from: string; to: string; files: { path: string; action: FileAction }[]; conflicts: string[]; changedAnswers: string[]; base?: BaseSource };
  /** remove: what it did (or would do) on the server and with the app's directory. */
  remove?: object;
  /** backup: the dump written. */
  backup?: object;
  /** restore: what was (or would be) replaced. */
  restore?: object;
  /** list: the workspace's apps. */
  apps?: ListedAppJson[];
  /** doctor: one entry per check. */
  checks?: { id: string; ok: boolean; status: DoctorCheck['status']; message: string; fix?: string; fixable: boolean }[];
  /** doctor --fix: what it would do or did. */
  fixes?: { applied: boolean; planned: { id: string; label: string; sql?: string }[]; files: string[]; sql: string[] };
}

export function appJson(a: AppRef) {
  const { names, settings } = a.spec;
  const crud = settings.kind === 'crud';
  return {
    name: names.slug,
    directory: path.relative(a.root, a.appDir),
    stack: settings.stack,
    kind: settings.kind,
    service: names.service,
    port: settings.port,
    database: crud ? names.db : null,
    user: crud ? names.user : null,
    passwordVariable: crud ? names.passwordVar : null,
  };
}

export interface ResultFields {
  command: ResultJson['command'];
  exitCode: number;
  dryRun?: boolean;
  workspace?: string | undefined;
  app?: AppRef | undefined;
  /** The new app's plan: its changes, and whether they are on disk. */
  plan?: { app: NewApp; written: boolean } | undefined;
  steps?: StepRecord[];
  provision?: object | null;
  nextSteps?: string[];
  error?: string | undefined;
  /** Command-specific fields (remove, backup, restore). */
  extra?: Pick<ResultJson, 'remove' | 'backup' | 'restore'>;
  changes?: ResultJson['changes'];
  notes?: string[];
  written?: boolean;
}

export function resultJson(f: ResultFields): ResultJson {
  const plan = f.plan;
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    command: f.command,
    ok: f.exitCode === 0,
    exitCode: f.exitCode,
    dryRun: f.dryRun ?? false,
    workspace: f.workspace ?? plan?.app.snapshot.workspace.root ?? null,
    app: f.app ? appJson(f.app) : plan ? appJson({ spec: plan.app.spec, root: plan.app.snapshot.workspace.root, appDir: plan.app.appDir }) : null,
    written: plan?.written ?? f.written ?? false,
    changes: plan ? groupChanges(plan.app.plan, plan.app.snapshot.workspace.root) : (f.changes ?? { created: [], changed: [] }),
    notes: plan?.app.notes ?? f.notes ?? [],
    steps: f.steps ?? [],
    provision: f.provision ?? null,
    nextSteps: f.nextSteps ?? [],
    error: f.error === undefined ? null : { message: f.error, exitCode: f.exitCode },
    ...f.extra,
  };
}

export function newJson(r: NewResult, steps: StepRecord[]): ResultJson {
  const provision = r.outcomes.find((o) => o.id === 'provision');
  return resultJson({
    command: 'new',
    exitCode: 0,
    dryRun: r.dryRun,
    plan: { app: r.app, written: !r.dryRun },
    steps,
    provision: provision ? { ...(provision.outcome.json as object), migrated: r.done.migrated } : null,
    nextSteps: r.nextSteps,
  });
}

export function provisionJson(r: ProvisionResult, steps: StepRecord[]): ResultJson {
  return resultJson({
    command: 'provision',
    exitCode: 0,
    dryRun: r.dryRun,
    workspace: r.root,
    app: { spec: r.spec, root: r.root, appDir: path.join(r.root, r.spec.names.slug) },
    steps,
    provision: r.outcome.json as object,
  });
}
