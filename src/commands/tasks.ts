/**
 * The steps that run after a plan is committed (like Nx generators' callbacks): install the app's
 * dependencies, create its database and login, run its first migration. A command runs them in
 * order and reports each; none of them prints.
 */
import type { AppSpec } from '../app/spec.ts';
import { STACKS } from '../stacks/index.ts';
import { installApp, migrateApp } from '../stacks/tools.ts';

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
  id: 'install' | 'provision';
  label: string;
  /** `output`: where the tools' own output goes (stderr under --json). */
  run(output: 'inherit' | 'stderr'): Promise<TaskOutcome>;
}

export function installTask(spec: AppSpec, backendDir: string): Task {
  return {
    id: 'install',
    label: `Installing ${spec.names.slug}'s dependencies`,
    async run(output) {
      await installApp(STACKS[spec.settings.stack], backendDir, { output });
      return {};
    },
  };
}

export interface ProvisionTaskOptions {
  adminUrl: string | undefined;
  password: string;
  resetPassword: boolean;
  migrate: boolean;
  backendDir: string;
}

function hostOf(adminUrl: string): string {
  const u = new URL(adminUrl);
  return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
}

/** The app's own URL on the server the admin URL names: its login, its database. */
function appUrl(spec: AppSpec, adminUrl: string, password: string): string {
  return `postgresql://${spec.names.user}:${encodeURIComponent(password)}@${hostOf(adminUrl)}/${spec.names.db}`;
}

/** Creates the database and login (and runs the first migration when asked): one step, one report. */
export function provisionTask(spec: AppSpec, opts: ProvisionTaskOptions): Task {
  const stack = STACKS[spec.settings.stack];
  return {
    id: 'provision',
    label: `Creating ${spec.names.db} and ${spec.names.user}${opts.migrate ? `, then ${stack.migrate.shown}` : ''}`,
    async run(output) {
      const { provision } = await import('../database/provision.ts');
      const { resolveAdminUrl, redactUrl } = await import('../database/admin-url.ts');
      const adminUrl = resolveAdminUrl(opts.adminUrl, process.env);
      const report = await provision(spec, { adminUrl, env: process.env, password: opts.password, resetPassword: opts.resetPassword });
      const lines: ReportLine[] = [
        { mark: 'ok', text: `server ${redactUrl(adminUrl)}` },
        ...report.changed.map((text): ReportLine => ({ mark: 'added', text })),
        ...report.verified.map((v): ReportLine => ({ mark: v.ok ? 'ok' : 'failed', text: v.label })),
        ...report.lostPublicAccess.map(
          (l): ReportLine => ({
            mark: 'warning',
            text: `${l.role} could reach ${l.database} only through PUBLIC and no longer can: GRANT CONNECT ON DATABASE ${l.database} TO ${l.role} if it needs it.`,
          }),
        ),
      ];
      if (opts.migrate) {
        await migrateApp(stack, spec.names.slug, opts.backendDir, appUrl(spec, adminUrl, opts.password), { output });
        lines.push({ mark: 'ok', text: `migrated (${stack.migrate.shown})` });
      }
      return {
        detail: report.changed.length ? `${report.changed.length} change(s)` : 'already in place, nothing changed',
        lines,
        json: { ...report, migrated: opts.migrate },
      };
    },
  };
}

export { hostOf };
