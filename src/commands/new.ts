import path from 'node:path';
import type { ParsedArgs } from '../cli/args.ts';
import { UserError, CancelledError, UsageError } from '../errors.ts';
import { findWorkspace, readIfExists } from '../workspace/workspace.ts';
import { collectAnswers } from '../cli/collect-answers.ts';
import { ANSWERS_FILE, planNewApp, specFromAnswers, workspaceFacts, type NewApp } from './new-plan.ts';
import { groupChanges, pathTree, renderDryRun, type Colours } from '../cli/output.ts';
import { readEnvVar } from '../workspace/env-file.ts';
import { installHint } from '../stacks/install.ts';
import { deriveNames } from '../app/names.ts';
import type { Answers } from '../app/questions.ts';
import type { AppSpec } from '../app/spec.ts';

export const isCI = (): boolean => ['1', 'true'].includes(String(process.env.CI ?? '').toLowerCase());

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  c: Colours;
  json: boolean;
}

/** Steps after the files are written, one status line each (quiet under --json). */
function step(io: Io, label: string): (ok: boolean, detail?: string) => void {
  const started = Date.now();
  if (!io.json) io.err(io.c.dim(`… ${label}`));
  return (ok, detail) => {
    if (io.json) return;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    io.err(`${ok ? io.c.green('✔') : io.c.red('✖')} ${label}${detail ? `: ${detail}` : ''} ${io.c.dim(`(${secs}s)`)}`);
  };
}

function hostOf(adminUrl: string): string {
  const u = new URL(adminUrl);
  return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
}

/** The app's own URL on the server the admin URL names: its login, its database. */
function appUrl(spec: AppSpec, adminUrl: string, password: string): string {
  return `postgresql://${spec.names.user}:${password}@${hostOf(adminUrl)}/${spec.names.db}`;
}

async function provisionAndMigrate(
  io: Io,
  spec: AppSpec,
  opts: { adminUrlFlag: string | undefined; password: string; resetPassword: boolean; migrate: boolean; backendDir: string },
) {
  const { provision } = await import('../database/provision.ts');
  const { resolveAdminUrl, redactUrl } = await import('../database/admin-url.ts');
  const adminUrl = resolveAdminUrl(opts.adminUrlFlag, process.env);
  const done = step(io, `Creating ${spec.names.db} and ${spec.names.user} on ${redactUrl(adminUrl)}`);
  let report;
  try {
    report = await provision(spec, { adminUrl, env: process.env, password: opts.password, resetPassword: opts.resetPassword });
  } catch (err) {
    done(false);
    throw err;
  }
  done(true, report.changed.length ? `${report.changed.length} change(s)` : 'already in place, nothing changed');
  if (!io.json) {
    for (const change of report.changed) io.err(`  ${io.c.green('+')} ${change}`);
    for (const v of report.verified) io.err(`  ${v.ok ? io.c.green('✔') : io.c.red('✖')} ${v.label}`);
    for (const l of report.lostPublicAccess) {
      io.err(io.c.yellow(`  ! ${l.role} could reach ${l.database} only through PUBLIC and no longer can: GRANT CONNECT ON DATABASE ${l.database} TO ${l.role} if it needs it.`));
    }
  }
  if (opts.migrate) {
    const { migrate, migrateCommand } = await import('../stacks/migrate.ts');
    const mdone = step(io, `Running the first migration (${migrateCommand(spec.settings.stack)})`);
    try {
      await migrate(spec, { backendDir: opts.backendDir, databaseUrl: appUrl(spec, adminUrl, opts.password), stdout: io.json ? 'stderr' : 'inherit' });
    } catch (err) {
      mdone(false);
      throw err;
    }
    mdone(true);
  }
  return { ...report, migrated: opts.migrate };
}

function nextSteps(app: NewApp, installed: boolean, provisioned: boolean, migrated: boolean): string[] {
  const { spec, workspace } = app;
  const rel = path.relative(process.cwd(), app.backendDir) || '.';
  const steps = [`cd ${rel}`];
  if (!installed) steps.push(installHint(spec.settings.stack));
  const python = spec.settings.stack === 'python';
  if (spec.settings.kind === 'crud') {
    if (!provisioned) steps.push(`npx create-ovu-app provision ${spec.names.slug} --migrate   # creates ${spec.names.db} on your local PostgreSQL`);
    else if (!migrated) steps.push(python ? '.venv/bin/alembic upgrade head' : 'npm run migrate   # or npm run migrate:offline where Prisma cannot download its engine');
  }
  steps.push(python ? '.venv/bin/pytest' : 'npm test');
  const composeRel = path.relative(app.backendDir, workspace.composeFile);
  const docs = python ? '/docs' : '/openapi.json';
  steps.push(`docker compose -f ${composeRel} up --build ${spec.names.service}   # then open http://localhost:${spec.settings.port}${docs}`);
  return steps;
}

export async function runNew(args: ParsedArgs, io: Io): Promise<void> {
  const started = Date.now();
  const ws = findWorkspace(args.workspace, process.cwd());
  const interactive = !args.yes && !args.json && Boolean(process.stdin.isTTY) && !isCI();
  const facts = await workspaceFacts(ws, interactive);
  if (args.force && args.given.name !== undefined) facts.ownService = deriveNames(args.given.name).service;
  const answers = await collectAnswers({ given: args.given, facts, interactive });
  const spec = specFromAnswers(answers);
  const adminUrl = answers.createDb ? (await import('../database/admin-url.ts')).resolveAdminUrl(answers.adminUrl, process.env) : undefined;
  const app = await planNewApp(answers, ws, { force: args.force, ...(adminUrl ? { dbHost: hostOf(adminUrl) } : {}) });
  const { created, changed } = groupChanges(app.plan, ws.root);

  if (args.dryRun) {
    if (args.json) io.out(JSON.stringify(result(app, created, changed, true), null, 2));
    else io.out(renderDryRun(app.plan, ws.root, io.c));
    return;
  }
  if (interactive) {
    io.err(summary(app, created, changed, io.c, { done: false, showPlan: true }));
    const { confirmPlan } = await import('../cli/prompts.ts');
    if (!(await confirmPlan())) throw new CancelledError();
  }
  app.plan.commit();

  if (answers.install) {
    const done = step(io, `Installing ${spec.names.slug}'s dependencies`);
    try {
      const { installApp } = await import('../stacks/install.ts');
      await installApp(spec.settings.stack, app.backendDir, { toStderr: io.json });
    } catch (err) {
      done(false);
      throw err;
    }
    done(true);
  }

  let provision: unknown;
  if (answers.createDb) {
    const password = readEnvVar(readIfExists(ws.envFile), spec.names.passwordVar)!;
    try {
      provision = await provisionAndMigrate(io, spec, {
        adminUrlFlag: answers.adminUrl,
        password,
        resetPassword: false,
        migrate: answers.migrate,
        backendDir: app.backendDir,
      });
    } catch (err) {
      if (err instanceof UserError) {
        const retry = `create-ovu-app provision ${spec.names.slug}${answers.migrate ? ' --migrate' : ''}${args.workspace ? ` --workspace ${args.workspace}` : ''}`;
        throw new UserError(`${err.message} The app's files were written; once fixed, run: ${retry}`, err.exitCode);
      }
      throw err;
    }
  }
  if (args.json) io.out(JSON.stringify({ ...result(app, created, changed, false), provision: provision ?? null }, null, 2));
  else {
    // An interactive user saw the plan before confirming: now just the outcome and what to do next.
    io.out(summary(app, created, changed, io.c, { done: true, showPlan: !interactive, provisioned: Boolean(answers.createDb), migrated: Boolean(answers.createDb && answers.migrate) }));
    io.out(io.c.dim(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)}s.`));
  }
}

function result(app: NewApp, created: string[], changed: string[], dryRun: boolean) {
  const { names, settings } = app.spec;
  return {
    ok: true,
    dryRun,
    workspace: app.workspace.root,
    app: {
      name: names.slug,
      directory: path.relative(app.workspace.root, app.appDir),
      stack: settings.stack,
      kind: settings.kind,
      service: names.service,
      port: settings.port,
      database: settings.kind === 'crud' ? names.db : null,
      user: settings.kind === 'crud' ? names.user : null,
      passwordVariable: settings.kind === 'crud' ? names.passwordVar : null,
    },
    created,
    changed,
    notes: app.notes,
    nextSteps: nextSteps(app, !dryRun && app.answers.install, false, false),
  };
}

interface SummaryOptions {
  done: boolean;
  /** The tree of files and the names chosen; left out once the user has seen it at the prompt. */
  showPlan: boolean;
  provisioned?: boolean;
  migrated?: boolean;
}

function summary(app: NewApp, created: string[], changed: string[], c: Colours, o: SummaryOptions): string {
  const { names, settings } = app.spec;
  const lines: string[] = [
    o.done
      ? `${c.green('✔')} Created ${c.bold(names.slug)} (${settings.stack}, ${settings.kind}) in ${app.workspace.root}`
      : `${c.bold(names.slug)} (${settings.stack}, ${settings.kind}) will be written to ${app.workspace.root}:`,
  ];
  if (o.showPlan) {
    lines.push('');
    for (const l of pathTree(created)) lines.push(`  ${c.green(l)}`);
    if (changed.length) lines.push(`  ${c.yellow('changed:')} ${changed.join(', ')}`);
    lines.push('', `  service   ${names.service} on port ${settings.port}`);
    lines.push(
      settings.kind === 'crud'
        ? `  database  ${names.db}, login ${names.user}, password in .env as ${names.passwordVar}`
        : '  database  none (readonly: users come from ULM)',
    );
    for (const n of app.notes) lines.push(`  ${c.dim('note:')} ${n}`);
  }
  if (o.done) {
    lines.push('', c.bold('Next steps:'));
    for (const s of nextSteps(app, app.answers.install, Boolean(o.provisioned), Boolean(o.migrated))) lines.push(`  ${s}`);
  }
  return lines.join('\n');
}

export async function runProvision(args: ParsedArgs, io: Io): Promise<void> {
  if (!args.given.name) throw new UsageError('Missing the app name: run `create-ovu-app provision <app-name>`.');
  const ws = findWorkspace(args.workspace, process.cwd());
  const names = deriveNames(args.given.name);
  const answersPath = path.join(ws.root, names.slug, ANSWERS_FILE);
  const saved = readIfExists(answersPath);
  if (saved === undefined) {
    throw new UserError(`No app "${names.slug}" in ${ws.root} (${path.relative(ws.root, answersPath)} is missing): generate it first, or pass --workspace.`);
  }
  let answers: Answers;
  try {
    answers = { ...(JSON.parse(saved) as { answers: Answers }).answers, install: false, createDb: true, adminUrl: undefined, migrate: false };
  } catch {
    throw new UserError(`${answersPath} is not valid JSON: restore it from git, or regenerate the app with --force.`);
  }
  const spec = specFromAnswers(answers);
  if (spec.settings.kind !== 'crud') throw new UsageError(`${names.slug} is a readonly app: it has no database to provision.`);
  const password = readEnvVar(readIfExists(ws.envFile), names.passwordVar);
  if (!password) {
    throw new UserError(`${names.passwordVar} is not set in ${ws.envFile}: add it (32+ random URL-safe characters) and run provision again.`);
  }
  const report = await provisionAndMigrate(io, spec, {
    adminUrlFlag: args.given.adminUrl,
    password,
    resetPassword: args.resetPassword,
    migrate: Boolean(args.given.migrate),
    backendDir: path.join(ws.root, names.slug, 'backend'),
  });
  if (args.json) io.out(JSON.stringify({ ok: true, app: names.slug, database: names.db, user: names.user, provision: report }, null, 2));
  else io.out(`${io.c.green('✔')} ${names.db} is ready for ${names.user}.`);
}
