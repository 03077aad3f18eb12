/**
 * The steps that run after a plan is committed (like Nx generators' callbacks): install the app's
 * dependencies, create its database and login, run its first migration. A command runs them in
 * order and reports each; none of them prints.
 */
import type { AppSpec } from '../app/spec.ts';
import { redactUrl } from '../database/admin-url.ts';
import { STACKS } from '../stacks/index.ts';
import { installApp, migrateApp } from '../stacks/tools.ts';
import type { Io } from './io.ts';

export interface ReportLine {
  mark: 'added' | 'ok' | 'failed' | 'warning';
  text: string;
}

export interface TaskOutcome {
  /** Shown beside the step's ✔. */
  detail?: string;
  lines?: ReportLine[];
  /** What --json reports for the step. */
  json?: unknown;
}

export interface Task {
  id: 'install' | 'provision' | 'migrate';
  label: string;
  /** `output`: where the tools' own output goes (stderr under --json); `signal` stops them. */
  run(output: 'inherit' | 'stderr', signal: AbortSignal): Promise<TaskOutcome>;
}

export function installTask(spec: AppSpec, backendDir: string): Task {
  return {
    id: 'install',
    label: `Installing ${spec.names.slug}'s dependencies`,
    async run(output, signal) {
      await installApp(STACKS[spec.settings.stack], backendDir, { output, signal });
      return {};
    },
  };
}

export interface ProvisionTaskOptions {
  /** The admin connection, already resolved (resolveAdminUrl). */
  adminUrl: string;
  password: string;
  resetPassword: boolean;
}

export function hostOf(adminUrl: string): string {
  const u = new URL(adminUrl);
  return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
}

/** Creates the database and login, hardens the server, verifies: one step, one report. */
export function provisionTask(spec: AppSpec, opts: ProvisionTaskOptions): Task {
  return {
    id: 'provision',
    label: `Creating ${spec.names.db} and ${spec.names.user} on ${redactUrl(opts.adminUrl)}`,
    async run() {
      const { provision } = await import('../database/provision.ts');
      const report = await provision(spec, { adminUrl: opts.adminUrl, env: process.env, password: opts.password, resetPassword: opts.resetPassword });
      const lines: ReportLine[] = [
        ...report.changed.map((text): ReportLine => ({ mark: 'added', text })),
        ...report.verified.map((v): ReportLine => ({ mark: v.ok ? 'ok' : 'failed', text: v.label })),
        ...report.lostPublicAccess.map(
          (l): ReportLine => ({
            mark: 'warning',
            text: `${l.role} could reach ${l.database} only through PUBLIC and no longer can: GRANT CONNECT ON DATABASE ${l.database} TO ${l.role} if it needs it.`,
          }),
        ),
      ];
      return { detail: report.changed.length ? `${report.changed.length} change(s)` : 'already in place, nothing changed', lines, json: report };
    },
  };
}

/** Runs the app's first migration with its own tool, as its own login, on the server the admin URL names. */
export function migrateTask(spec: AppSpec, opts: { adminUrl: string; password: string; backendDir: string }): Task {
  const stack = STACKS[spec.settings.stack];
  const url = `postgresql://${spec.names.user}:${encodeURIComponent(opts.password)}@${hostOf(opts.adminUrl)}/${spec.names.db}`;
  return {
    id: 'migrate',
    label: `Running the first migration (${stack.migrate.shown})`,
    async run(output, signal) {
      await migrateApp(stack, spec.names.slug, opts.backendDir, url, { output, signal });
      return {};
    },
  };
}

/**
 * Runs the tasks in order, each as one reported step; stops at the first failure, after `failed`
 * has had a chance to add what to do next to a user's error.
 */
export async function runTasks(tasks: Task[], io: Io, failed: (task: Task, err: unknown) => unknown = (_t, e) => e): Promise<{ id: Task['id']; outcome: TaskOutcome }[]> {
  const outcomes: { id: Task['id']; outcome: TaskOutcome }[] = [];
  for (const task of tasks) {
    if (io.signal.aborted) throw failed(task, io.signal.reason);
    const end = io.step(task.label);
    try {
      const outcome = await task.run(io.json ? 'stderr' : 'inherit', io.signal);
      if (io.signal.aborted) throw io.signal.reason;
      end(true, outcome);
      outcomes.push({ id: task.id, outcome });
    } catch (err) {
      end(false);
      throw failed(task, err);
    }
  }
  return outcomes;
}
