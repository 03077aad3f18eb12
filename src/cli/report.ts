/** What the CLI prints about a command's result: the summary, next steps, --json. */
import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import type { NewApp } from '../commands/new-plan.ts';
import type { NewResult } from '../commands/new.ts';
import type { ProvisionResult } from '../commands/provision.ts';
import type { RemoveResult } from '../commands/remove.ts';
import type { BackupResult } from '../commands/backup.ts';
import type { RestoreResult } from '../commands/restore.ts';
import type { ProvisionReport } from '../database/provision.ts';
import type { ReportLine } from '../commands/tasks.ts';
import { groupChanges, pathTree, type Colours } from './output.ts';

export function reportLine(l: ReportLine, c: Colours): string {
  const mark = { added: c.green('+'), ok: c.green('✔'), failed: c.red('✖'), warning: c.yellow('!') }[l.mark];
  return `  ${mark} ${l.mark === 'warning' ? c.yellow(l.text) : l.text}`;
}

/** The plan in words: the files, the names chosen, what the workspace edits said. */
export function planSummary(app: NewApp, c: Colours): string[] {
  const { names, settings } = app.spec;
  const { created, changed } = groupChanges(app.plan, app.snapshot.workspace.root);
  const lines = [`${c.bold(names.slug)} (${settings.stack}, ${settings.kind}) will be written to ${app.snapshot.workspace.root}:`, ''];
  for (const l of pathTree(created)) lines.push(`  ${c.green(l)}`);
  if (changed.length) lines.push(`  ${c.yellow('changed:')} ${changed.join(', ')}`);
  lines.push('', `  service   ${names.service} on port ${settings.port}`);
  lines.push(
    settings.kind === 'crud'
      ? `  database  ${names.db}, login ${names.user}, password in .env as ${names.passwordVar}`
      : '  database  none (readonly: users come from ULM)',
  );
  for (const n of app.notes) lines.push(`  ${c.dim('note:')} ${n}`);
  if (app.plan.removed().length || app.kept.length) {
    lines.push('', `  --force replaces only the files create-ovu-app wrote and nobody changed since:`);
    for (const p of app.plan.removed()) lines.push(`  ${c.red('remove')} ${path.relative(app.appDir, p)}`);
    for (const k of app.kept) lines.push(`  ${c.cyan('keep')}   ${k}`);
  }
  return lines;
}

/** After a run: what was made and what to do next. An interactive user saw the plan already. */
export function newSummary(r: NewResult, c: Colours, showPlan: boolean): string {
  const { names, settings } = r.app.spec;
  const lines = [`${c.green('✔')} Created ${c.bold(names.slug)} (${settings.stack}, ${settings.kind}) in ${r.app.snapshot.workspace.root}`];
  if (showPlan) lines.push(...planSummary(r.app, c).slice(1));
  lines.push('', c.bold('Next steps:'), ...r.nextSteps.map((s) => `  ${s}`));
  return lines.join('\n');
}

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
  command: 'new' | 'provision' | 'remove' | 'backup' | 'restore';
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
  /** remove: what it did (or would do) on the server and with the app's directory. */
  remove?: object;
  /** backup: the dump written. */
  backup?: object;
  /** restore: what was (or would be) replaced. */
  restore?: object;
}

function appJson(a: AppRef) {
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

/**
 * The SQL a provision would run (--dry-run, and the interactive confirmation): the app's own
 * statements, then every server-wide change, the roles that would lose access and the databases
 * that stay open. The password never appears: roles get its verifier, shown as '***'.
 */
export function provisionPlan(report: ProvisionReport, c: Colours): string[] {
  const own = report.planned.filter((p) => !p.serverWide);
  const wide = report.planned.filter((p) => p.serverWide);
  const lines = [
    c.bold(`Plan for ${report.server.where} (PostgreSQL ${report.server.version}, admin ${report.server.admin}${report.server.superuser ? ', superuser' : ''}):`),
    '',
  ];
  const sql = (p: ProvisionReport['planned'][number]): string => `  ${p.sql};  ${c.dim(`-- ${p.label}`)}`;
  lines.push(own.length ? c.bold('The app\'s role and database:') : 'The app\'s role and database are in place: nothing to run.');
  lines.push(...own.map(sql));
  lines.push('', wide.length ? c.bold('Server-wide changes:') : 'Server-wide changes: none.');
  lines.push(...wide.map(sql));
  if (report.lostPublicAccess.length) {
    lines.push('', c.bold(c.yellow('Roles that would lose access (they reach these databases only through PUBLIC):')));
    lines.push(...report.lostPublicAccess.map((l) => c.yellow(`  ${l.role} → ${l.database}   (GRANT CONNECT ON DATABASE ${l.database} TO ${l.role}; keeps it)`)));
  }
  if (report.stillOpen.length) {
    lines.push('', c.bold(c.yellow(`Databases that stay open to PUBLIC (admin ${report.server.admin} cannot close them; their owner must):`)));
    lines.push(...report.stillOpen.map((o) => c.yellow(`  ${o.database} (owner ${o.owner}): ${o.statement}`)));
  }
  const total = report.budget.reserved + report.budget.ulm + report.budget.apps.reduce((s, a) => s + a.limit, 0);
  lines.push('', `Connections: ${total} of max_connections ${report.budget.maxConnections} with ${report.planned.length ? 'this app' : 'the apps'} (CONNECTION LIMIT ${report.connectionLimit}).`);
  return lines;
}

/** remove --json: the workspace changes, where the directory went, the dump and the SQL. */
export function removeJson(r: RemoveResult): ResultJson {
  const rel = (p: string): string => path.relative(r.root, p);
  const changed = r.plan.list().map((c) => rel(c.path));
  const s = r.server;
  return resultJson({
    command: 'remove',
    exitCode: 0,
    dryRun: r.dryRun,
    workspace: r.root,
    app: { spec: r.spec, root: r.root, appDir: path.join(r.root, r.spec.names.slug) },
    written: !r.dryRun,
    changes: { created: [], changed },
    notes: r.notes,
    extra: {
      remove: {
        movedTo: rel(r.movedTo),
        removed: r.plan.removed().map(rel),
        keepDb: r.keepDb,
        dump: r.dump ? { file: rel(r.dump.file), bytes: r.dump.bytes, tool: r.dump.tool } : s?.dumpFile ? { file: rel(s.dumpFile), bytes: null, tool: null } : null,
        server: s ? { where: s.where, version: s.version, admin: s.admin, superuser: s.superuser } : null,
        sql: s ? [...s.lockOut, ...s.drop].map((q) => q.sql) : [],
        dropped: r.dropped,
      },
    },
  });
}

export function backupJson(r: BackupResult): ResultJson {
  return resultJson({
    command: 'backup',
    exitCode: 0,
    workspace: r.root,
    app: { spec: r.spec, root: r.root, appDir: path.join(r.root, r.spec.names.slug) },
    extra: {
      backup: { file: path.relative(r.root, r.dump.file), bytes: r.dump.bytes, tool: r.dump.tool, server: r.server, pruned: r.pruned.map((p) => path.relative(r.root, p)) },
    },
  });
}

export function restoreJson(r: RestoreResult): ResultJson {
  return resultJson({
    command: 'restore',
    exitCode: 0,
    dryRun: r.dryRun,
    workspace: r.root,
    app: { spec: r.spec, root: r.root, appDir: path.join(r.root, r.spec.names.slug) },
    extra: {
      restore: {
        file: r.plan.file,
        server: r.plan.server,
        dumpTables: r.plan.dumpTables,
        tablesBefore: r.plan.current ?? null,
        tablesAfter: r.after?.tables ?? null,
        owner: r.after?.owner ?? null,
        publicRevoked: r.after?.publicRevoked ?? null,
      },
    },
  });
}
