/** What the CLI prints about a command's result: the summary, next steps, --json. */
import path from 'node:path';
import type { NewApp } from '../commands/new-plan.ts';
import type { NewResult } from '../commands/new.ts';
import type { FileAction, UpdateResult } from '../commands/update.ts';
import { unifiedDiff } from './diff.ts';
import { describeBase } from '../commands/update-base.ts';
import type { RemoveResult } from '../commands/remove.ts';
import type { BackupResult } from '../commands/backup.ts';
import type { RestoreResult } from '../commands/restore.ts';
import type { ProvisionReport } from '../database/provision.ts';
import type { ReportLine } from '../commands/tasks.ts';
import { groupChanges, pathTree, type Colours } from './output.ts';
import type { ListResult } from '../commands/list.ts';
import type { DoctorResult, FixPlan } from '../commands/doctor.ts';
import type { DoctorCheck } from '../doctor/check.ts';

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
      ? `  database  ${names.db}, login ${names.user}; password ${names.passwordVar} in ${names.slug}/.env (only ${names.service} gets it), its SCRAM verifier in ovu-db-init/verifiers/.env (for ovu-db-init only)`
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

export * from './result-json.ts';
import { appJson, resultJson, type ResultJson, type StepRecord } from './result-json.ts';

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
  lines.push('', wide.length ? c.bold("Server-wide changes (databases this workspace's apps do not own; made only with your yes or --yes):") : 'Server-wide changes: none.');
  lines.push(...wide.map(sql));
  if (report.serverWideSkipped?.length) {
    lines.push('', c.bold(c.yellow('Server-wide changes this run will not make (no terminal and no --yes; pass --yes to allow them):')));
    lines.push(...report.serverWideSkipped.map((d) => c.yellow(`  REVOKE CONNECT, TEMPORARY ON DATABASE ${d.database} FROM PUBLIC;  -- owner ${d.owner}`)));
  }
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

/** How update's summary names each outcome: a mark, a word, and why. */
const UPDATE_ACTIONS: Record<FileAction, { mark: keyof Colours; word: string; why: string }> = {
  updated: { mark: 'yellow', word: 'update', why: "the template's change; you had not changed it" },
  merged: { mark: 'yellow', word: 'merge', why: "your changes and the template's" },
  conflict: { mark: 'red', word: 'conflict', why: 'you and the template changed the same lines: both kept between markers' },
  added: { mark: 'green', word: 'add', why: 'new in the templates' },
  removed: { mark: 'red', word: 'remove', why: 'dropped by the templates; you had not changed it' },
  'kept-deleted': { mark: 'cyan', word: 'deleted', why: 'you deleted it and the template changed it: left deleted' },
  'kept-changed': { mark: 'cyan', word: 'keep', why: 'dropped by the templates, but you changed it: kept' },
};

/** update: each file the templates touched, the answers changed, the conflicts; with --dry-run the diffs. */
export function updateSummary(r: UpdateResult, c: Colours, preview = false): string[] {
  const { slug } = r.spec.names;
  const versions = r.from === r.to ? `create-ovu-app ${r.to}` : `create-ovu-app ${r.from} to ${r.to}`;
  const listed = new Set(r.files.map((f) => f.path));
  const others = [...r.plan.list().map((ch) => path.relative(r.root, ch.path)), ...r.plan.removed().map((p) => path.relative(r.root, p))].filter(
    (p) => !listed.has(p) && !(p === 'init-db.sql' && [...listed].some((l) => l.startsWith('init-db.sql '))),
  );
  const nothing = r.plan.list().length + r.plan.removed().length === 0;
  const lines: string[] = [];
  if (nothing) return [`${c.green('✔')} ${c.bold(slug)} is up to date with create-ovu-app ${r.to}: nothing to change.`];
  const heading = preview
    ? c.bold(`Updating ${slug} (${versions}) will:`)
    : r.dryRun
      ? c.bold(`Dry run: nothing was written. Updating ${slug} (${versions}) would:`)
      : r.conflicts.length
        ? // Written, but not done: no ✔ for an update that left conflicts (the exit code is 1).
          `${c.red('✖')} Updated ${c.bold(slug)} (${versions}) with conflicts in ${r.conflicts.length} file${r.conflicts.length === 1 ? '' : 's'}: not finished until they are resolved:`
        : `${c.green('✔')} Updated ${c.bold(slug)} (${versions}):`;
  lines.push(heading);
  if (r.base) lines.push(`  ${c.dim('base:')} ${describeBase(r.base)}`);
  for (const f of r.files) {
    const a = UPDATE_ACTIONS[f.action];
    lines.push(`  ${c[a.mark](a.word.padEnd(8))} ${f.path} ${c.dim(`(${a.why})`)}`);
  }
  for (const p of others) lines.push(`  ${c.yellow('rewrite'.padEnd(8))} ${p} ${c.dim('(generated from the answers)')}`);
  for (const a of r.changedAnswers) lines.push(`  ${c.dim('answer:')} ${a}`);
  for (const n of r.notes) lines.push(`  ${c.dim('note:')} ${n}`);
  if (r.conflicts.length) {
    lines.push('', c.red(`${r.conflicts.length} file${r.conflicts.length === 1 ? '' : 's'} ${r.dryRun ? 'would have' : preview ? 'will have' : r.conflicts.length === 1 ? 'has' : 'have'} conflicts: resolve the <<<<<<< yours … >>>>>>> create-ovu-app ${r.to} markers, then commit:`));
    for (const p of r.conflicts) lines.push(`  ${p}`);
  }
  if (r.dryRun || preview) {
    for (const ch of r.plan.list()) {
      const rel = path.relative(r.root, ch.path);
      lines.push('');
      if (ch.secret) {
        lines.push(c.dim(`${rel}: contents hidden (holds secrets)`));
        continue;
      }
      for (const line of unifiedDiff(ch.before ?? '', ch.after, rel).split('\n')) {
        lines.push(line.startsWith('+') ? c.green(line) : line.startsWith('-') ? c.red(line) : line.startsWith('@@') ? c.cyan(line) : line);
      }
    }
  }
  return lines;
}

export function updateJson(r: UpdateResult, steps: StepRecord[], exitCode: number): ResultJson {
  const base = resultJson({
    command: 'update',
    exitCode,
    dryRun: r.dryRun,
    workspace: r.root,
    app: { spec: r.spec, root: r.root, appDir: r.appDir },
    steps,
    ...(r.conflicts.length ? { error: `${r.conflicts.length} file(s) have conflicts: ${r.conflicts.join(', ')}` } : {}),
  });
  const changed = r.plan.list().filter((ch) => ch.before !== undefined).map((ch) => path.relative(r.root, ch.path));
  const created = r.plan.list().filter((ch) => ch.before === undefined).map((ch) => path.relative(r.root, ch.path));
  return {
    ...base,
    written: !r.dryRun,
    changes: { created, changed },
    notes: r.notes,
    update: { from: r.from, to: r.to, files: r.files, conflicts: r.conflicts, changedAnswers: r.changedAnswers, base: r.base },
  };
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
        source: r.plan.source,
        as: r.plan.as,
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

/** An app as `list --json` gives it: appJson's fields and the generator version, or why it cannot be read. */

export function listJson(r: ListResult): ResultJson {
  return {
    ...resultJson({ command: 'list', exitCode: 0, workspace: r.root }),
    apps: r.apps.map((a) =>
      'error' in a ? { name: a.dir, directory: a.dir, error: a.error } : { ...appJson({ spec: a.spec, root: r.root, appDir: path.join(r.root, a.dir) }), version: a.version, error: null },
    ),
  };
}

/** The apps as a table (a readonly app has no database or login: "-"). */
export function listTable(r: ListResult, c: Colours): string[] {
  if (r.apps.length === 0) return [`No apps in ${r.root} yet: create one with \`create-ovu-app <app-name>\`.`];
  const head = ['APP', 'STACK', 'KIND', 'SERVICE', 'PORT', 'DATABASE', 'LOGIN', 'VERSION'];
  const rows = r.apps.map((a) => {
    if ('error' in a) return [a.dir, c.red(`✖ ${a.error}`)];
    const { names, settings } = a.spec;
    const crud = settings.kind === 'crud';
    return [names.slug, settings.stack, settings.kind, names.service, String(settings.port), crud ? names.db : '-', crud ? names.user : '-', a.version];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.filter((row) => row.length > 2).map((row) => row[i]!.length)));
  const line = (cells: string[]): string => (cells.length === 2 ? cells.join('  ') : cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  return [c.bold(line(head)), ...rows.map(line)];
}

const MARKS = { ok: '✔', failed: '✖', warning: '!', skipped: '-' } as const;

function markOf(status: DoctorCheck['status'], c: Colours): string {
  const mark = MARKS[status];
  return status === 'ok' ? c.green(mark) : status === 'failed' ? c.red(mark) : status === 'warning' ? c.yellow(mark) : c.dim(mark);
}

/** One line per check (the fix under one that is not ok), then a count. */
export function doctorLines(r: DoctorResult, c: Colours): string[] {
  const lines = [c.bold(`create-ovu-app doctor: ${r.root}`), ''];
  for (const check of r.checks) {
    const text = check.status === 'skipped' ? c.dim(check.message) : check.status === 'warning' ? c.yellow(check.message) : check.message;
    lines.push(`${markOf(check.status, c)} ${c.dim(check.id)}  ${text}`);
    if (check.fix && check.status !== 'ok') lines.push(`    ${c.dim('fix:')} ${check.fix}`);
  }
  const count = (s: DoctorCheck['status']): number => r.checks.filter((x) => x.status === s).length;
  const [failedN, warnN, skippedN] = [count('failed'), count('warning'), count('skipped')];
  lines.push('');
  if (r.fix) {
    if (r.fix.applied) lines.push(`${c.green('✔')} applied ${r.fix.plan.repairs.length} fix(es); the checks above are from the audit after them.`);
    else if (r.fix.plan.repairs.length === 0) lines.push('Nothing for --fix to do: what is left needs a person (see each fix:).');
  }
  const parts = [`${r.checks.length - failedN - warnN - skippedN} ok`, ...(failedN ? [c.red(`${failedN} failed`)] : []), ...(warnN ? [c.yellow(`${warnN} warning(s)`)] : []), ...(skippedN ? [`${skippedN} not run`] : [])];
  lines.push(`${r.exitCode === 0 ? c.green('✔ All checks hold') : c.red('✖ Not all checks hold')}: ${parts.join(', ')}.`);
  const fixable = r.checks.filter((x) => x.status !== 'ok' && x.repair).length;
  if (!r.fix && fixable) lines.push(`${fixable} of them can be fixed with \`create-ovu-app doctor --fix\` (see --fix --dry-run first).`);
  if (skippedN && r.checks.some((x) => x.id === 'server.connect' && x.status === 'skipped')) lines.push('The server checks did not run: start the server, or pass --admin-url (or PG* variables).');
  return lines;
}

/** What --fix would change: the files (never their secret content) and the SQL. */
export function doctorFixPlan(fix: FixPlan, c: Colours, applied = false): string[] {
  if (fix.repairs.length === 0) return ['Nothing for --fix to do.'];
  const lines = [c.bold(`doctor --fix ${applied ? 'applied' : 'would apply'} ${fix.repairs.length} fix(es):`)];
  for (const { id, repair } of fix.repairs) lines.push(`  ${c.dim(id)}  ${repair.label}`);
  if (fix.files.length) lines.push('', c.bold('Files:'), ...fix.files.map((f) => `  ${c.yellow('change')} ${f}`));
  if (fix.sql.length) lines.push('', c.bold('SQL, as the admin:'), ...fix.sql.map((s) => `  ${s};`));
  if (fix.serverWide?.length) lines.push('', c.bold(`Server-wide (${fix.serverWide.length}): databases this workspace's apps do not own, changed only with your yes (or --yes):`), ...fix.serverWide.map((s) => `  ${s}`));
  if (fix.manual.length) lines.push('', c.dim(`Not fixed by --fix (${fix.manual.length}): ${fix.manual.map((m) => m.id).join(', ')}`));
  return lines;
}

export function doctorJson(r: DoctorResult): ResultJson {
  const plan = r.fix?.plan;
  return {
    ...resultJson({ command: 'doctor', exitCode: r.exitCode, dryRun: r.dryRun, workspace: r.root }),
    written: Boolean(r.fix?.applied && plan && plan.files.length > 0),
    changes: { created: [], changed: r.fix?.applied || r.dryRun ? (plan?.files ?? []) : [] },
    checks: r.checks.map((x) => ({
      id: x.id,
      ok: x.status === 'ok' || x.status === 'warning',
      status: x.status,
      message: x.message,
      ...(x.fix && x.status !== 'ok' ? { fix: x.fix } : {}),
      fixable: x.status !== 'ok' && x.repair !== undefined,
    })),
    ...(plan
      ? {
          fixes: {
            applied: r.fix!.applied,
            planned: plan.repairs.map(({ id, repair }) => ({ id, label: repair.label, ...(repair.kind === 'sql' ? { sql: repair.sql } : {}) })),
            files: plan.files,
            sql: plan.sql,
          },
        }
      : {}),
  };
}
