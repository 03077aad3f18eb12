/**
 * The steps that run after a plan is committed (like Nx generators' callbacks): install the app's
 * dependencies, create its database and login, run its first migration. A command runs them in
 * order and reports each; none of them prints.
 */
import type { AppSpec } from '../app/spec.ts';
import { describeServer } from '../database/admin-url.ts';
import type { ProvisionReport } from '../database/provision.ts';
import { budgetProblem } from '../database/budget.ts';
import { STACKS } from '../stacks/index.ts';
import { shellWords, type Toolchain } from '../stacks/stack.ts';
import { installApp, migrateApp, type ToolOptions } from '../stacks/tools.ts';
import { InterruptedError } from '../errors.ts';
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
  /** What --dry-run says the task would do, after the files (it runs nothing and connects nowhere). */
  preview: string;
  /** Stops and undoes its work itself when the run's signal aborts (Ctrl-C): it is waited for. */
  interruptible?: boolean;
  /** `tools`: what becomes of the tools' own output, and the Ctrl-C signal. */
  run(tools: ToolOptions): Promise<TaskOutcome>;
}

export function installTask(spec: AppSpec, backendDir: string, tools: Toolchain): Task {
  return {
    id: 'install',
    label: `Installing ${spec.names.slug}'s dependencies`,
    preview: `install ${spec.names.slug}'s dependencies: ${STACKS[spec.settings.stack].install(tools).map((step) => shellWords(step.command)).join(' && ')}`,
    async run(opts) {
      const warnings = await installApp(STACKS[spec.settings.stack], tools, backendDir, opts);
      return warnings.length ? { lines: warnings.map((text): ReportLine => ({ mark: 'warning', text })) } : {};
    },
  };
}

export interface ProvisionTaskOptions {
  /** The admin connection, already resolved (resolveAdminUrl). */
  adminUrl: string;
  password: string;
  resetPassword: boolean;
  /** The verifier the workspace keeps for the password (ovu-db-init/verifiers/.env, PgBouncer's userlist): the role gets this one. */
  verifier?: string;
  /** The logins of the workspace's apps (their databases are hardened without asking). */
  workspaceRoles?: string[];
  /** Consent to server-wide changes (closing databases the workspace's apps do not own). */
  serverWide: boolean;
  /** Consent to end the login's role memberships. */
  revokeMemberships?: boolean;
  /** The workspace's database service, for the hint when the server cannot be reached. */
  dbService?: string | undefined;
  /** Change nothing; the outcome's json is the report with the planned SQL. */
  dryRun?: boolean;
}

export function hostOf(adminUrl: string): string {
  const u = new URL(adminUrl);
  return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
}

/** The report as lines: changes, checks, who lost access, what stays open. */
export function provisionLines(report: ProvisionReport): ReportLine[] {
  const lines: ReportLine[] = [
    ...report.changed.map((text): ReportLine => ({ mark: 'added', text })),
    ...report.verified.map((v): ReportLine => ({ mark: v.status, text: v.label })),
    ...report.lostPublicAccess.map(
      (l): ReportLine => ({
        mark: 'warning',
        text: `${l.role} could reach ${l.database} only through PUBLIC and ${report.dryRun ? 'would no longer' : 'no longer can'}: GRANT CONNECT ON DATABASE ${l.database} TO ${l.role} if it needs it.`,
      }),
    ),
  ];
  if (report.serverWideSkipped.length > 0) {
    const dbs = report.serverWideSkipped.map((d) => `${d.database} (owner ${d.owner})`).join(', ');
    lines.push({
      mark: 'warning',
      text: `${report.dryRun ? 'would not close' : 'did not close'} ${dbs} to PUBLIC: that is a server-wide change (databases this workspace's apps do not own), made only with consent; to allow it run provision again with --yes (or in a terminal and answer yes)`,
    });
  }
  // An app already in place is not refused for the budget (this run takes nothing more), but told.
  const overBudget = budgetProblem(report.budget, report.server.where);
  if (overBudget) lines.push({ mark: 'warning', text: overBudget });
  // Verification names each one the app could still reach; a dry run has no verification.
  const named = new Set(report.verified.filter((v) => v.status === 'warning').map((v) => v.label));
  for (const o of report.stillOpen) {
    if ([...named].some((label) => label.includes(` ${o.database}:`))) continue;
    lines.push({
      mark: 'warning',
      text: `${o.database} stays open to PUBLIC (every login may connect): admin ${report.server.admin} cannot close it; its owner ${o.owner} must run: ${o.statement}`,
    });
  }
  return lines;
}

/** Creates the database and login, hardens the server, verifies: one step, one report. */
export function provisionTask(spec: AppSpec, opts: ProvisionTaskOptions): Task {
  return {
    id: 'provision',
    interruptible: true,
    label: `${opts.dryRun ? 'Planning' : 'Creating'} ${spec.names.db} and ${spec.names.user} on ${describeServer(opts.adminUrl)}`,
    preview:
      `create ${spec.names.db} and ${spec.names.user} on ${describeServer(opts.adminUrl)}, close PUBLIC's access to this workspace's databases` +
      (opts.serverWide
        ? ", and to every other database of that server (--yes): provision's plan names each one and each login that loses access"
        : '; other databases of that server stay as they are (the run lists those open to PUBLIC)'),
    async run({ signal }) {
      const { provision } = await import('../database/provision.ts');
      const report = await provision(spec, {
        adminUrl: opts.adminUrl,
        env: process.env,
        password: opts.password,
        resetPassword: opts.resetPassword,
        ...(opts.verifier ? { verifier: opts.verifier } : {}),
        ...(opts.workspaceRoles ? { workspaceRoles: opts.workspaceRoles } : {}),
        serverWide: opts.serverWide,
        revokeMemberships: opts.revokeMemberships === true,
        ...(opts.dbService ? { dbService: opts.dbService } : {}),
        dryRun: opts.dryRun === true,
        ...(signal ? { signal } : {}),
      });
      const open = report.stillOpen.length;
      const detail = report.dryRun
        ? `${report.planned.length} statement(s) would run, nothing changed`
        : report.changed.length
          ? `${report.changed.length} change(s)`
          : 'already in place, nothing changed';
      return { detail: open ? `${detail}; ${open} database(s) stay open to PUBLIC` : detail, lines: provisionLines(report), json: report };
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
    preview: `run the first migration as ${spec.names.user} (${stack.migrate.shown})`,
    async run(tools) {
      await migrateApp(stack, spec.names.slug, opts.backendDir, url, tools);
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
  const { signal } = io;
  // A step that cannot be stopped (a database session) is no longer waited for after Ctrl-C.
  const interrupted = new Promise<never>((_resolve, reject) => {
    const stop = () => reject(new InterruptedError());
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  interrupted.catch(() => {});
  for (const task of tasks) {
    if (signal.aborted) throw failed(task, new InterruptedError());
    const end = io.step(task.label, task.id);
    try {
      const run = task.run({ output: io.verbose ? 'live' : 'folded', signal });
      // A step that undoes its own work (provision) is waited for; any other is no longer.
      const outcome = await (task.interruptible ? run : Promise.race([run, interrupted]));
      end(true, outcome);
      outcomes.push({ id: task.id, outcome });
    } catch (err) {
      end(false);
      throw failed(task, err);
    }
  }
  return outcomes;
}
