import fs from 'node:fs';
import path from 'node:path';
import { Plan } from '../plan/plan.ts';
import { deriveNames } from '../app/names.ts';
import { renderBackend } from '../stacks/render.ts';
import { editCompose, inspectCompose } from '../workspace/compose/index.ts';
import { editInitDb, listInitDbApps } from '../workspace/init-db.ts';
import { ensureEnvVar, ensureLine, generatePassword, readEnvVar } from '../workspace/env-file.ts';
import { readIfExists, type Workspace } from '../workspace/workspace.ts';
import { savedAnswers, type Answers, type WorkspaceFacts } from '../app/questions.ts';
import { UsageError } from '../errors.ts';
import type { AppSpec } from '../app/spec.ts';
import { VERSION } from '../version.ts';

export const ANSWERS_FILE = '.ovu-app.json';

export interface NewApp {
  plan: Plan;
  spec: AppSpec;
  answers: Answers;
  workspace: Workspace;
  appDir: string;
  backendDir: string;
  /** What the workspace edits reported (e.g. "created docker-compose.yml"). */
  notes: string[];
}

/** What the questions need to know about the workspace before asking. */
export async function workspaceFacts(ws: Workspace, interactive = false, ownService?: string): Promise<WorkspaceFacts> {
  const source = readIfExists(ws.composeFile);
  const usedPorts = new Map<number, string>();
  if (source !== undefined) {
    // inspectCompose also validates: a broken compose file stops the run before any question.
    const info = await inspectCompose(source, path.basename(ws.composeFile));
    for (const [port, service] of info.portOwners) usedPorts.set(port, service);
  }
  return { usedPorts, ownService, interactive };
}

export function specFromAnswers(a: Answers): AppSpec {
  return {
    names: deriveNames(a.name),
    settings: {
      stack: a.stack,
      kind: a.kind,
      port: a.port,
      pool: { size: a.dbPoolSize, maxOverflow: a.dbMaxOverflow, timeout: a.dbPoolTimeout },
      ulmUrl: a.ulmUrl,
    },
  };
}

/**
 * Refuses a name another app already has anywhere in the workspace, unless --force: the app
 * directory, its compose service or its init-db.sql block.
 */
export async function checkCollisions(ws: Workspace, spec: AppSpec, force: boolean, plan: Plan): Promise<void> {
  if (force) return;
  const { slug, service } = spec.names;
  const rel = path.relative(process.cwd(), path.join(ws.root, slug)) || '.';
  if (fs.existsSync(path.join(ws.root, slug))) {
    throw new UsageError(`${rel}/ already exists: choose another name, or pass --force to replace that app.`);
  }
  const compose = plan.read(ws.composeFile);
  if (compose !== undefined && (await inspectCompose(compose, path.basename(ws.composeFile))).services.includes(service)) {
    throw new UsageError(`${path.basename(ws.composeFile)} already has a service "${service}": choose another name, or pass --force to replace it.`);
  }
  const initDb = plan.read(ws.initDbFile);
  if (initDb !== undefined && listInitDbApps(initDb).includes(slug)) {
    throw new UsageError(`init-db.sql already has a block for "${slug}": choose another name, or pass --force to replace it.`);
  }
}

/** The app's backend/.env, for running it outside docker: same login, PostgreSQL on localhost. */
function localEnv(spec: AppSpec, password: string | undefined, dbHost: string): string {
  const { names, settings } = spec;
  const lines = [
    `# Settings for running this app outside docker (${spec.settings.kind === 'crud' ? 'server, migrations, tests' : 'server, tests'}).`,
    '# Written by create-ovu-app. Keep it out of git: it holds the database password,',
    `# the same as ${names.passwordVar} in the workspace .env.`,
  ];
  if (password !== undefined) {
    lines.push(
      `DATABASE_URL=postgresql://${names.user}:${password}@${dbHost}/${names.db}`,
      `DB_POOL_SIZE=${settings.pool.size}`,
      `DB_MAX_OVERFLOW=${settings.pool.maxOverflow}`,
      `DB_POOL_TIMEOUT=${settings.pool.timeout}`,
    );
  }
  lines.push('ULM_BASE_URL=http://localhost:8000', 'ULM_SERVICE_TOKEN=');
  // Fastify reads its port from the environment; the default 8000 is where ULM runs locally.
  if (settings.stack === 'typescript') lines.push(`PORT=${settings.port}`);
  return lines.join('\n') + '\n';
}

/** Computes every write for a new app. Nothing touches the disk until `plan.commit()`. */
export async function planNewApp(answers: Answers, ws: Workspace, opts: { force: boolean; dbHost?: string }): Promise<NewApp> {
  const spec = specFromAnswers(answers);
  const { names } = spec;
  const crud = spec.settings.kind === 'crud';
  const plan = new Plan();
  await checkCollisions(ws, spec, opts.force, plan);

  const notes: string[] = [];
  const appDir = path.join(ws.root, names.slug);
  const backendDir = path.join(appDir, 'backend');
  plan.createDir(appDir, { replace: opts.force });

  for (const [rel, content] of await renderBackend(spec)) plan.write(path.join(backendDir, rel), content);
  const answersFile = { generator: 'create-ovu-app', version: VERSION, answers: savedAnswers(answers) };
  plan.write(path.join(appDir, ANSWERS_FILE), JSON.stringify(answersFile, null, 2) + '\n');

  // The workspace .env keeps an existing password: the database may already use it.
  const envBefore = plan.read(ws.envFile);
  const password = crud ? (readEnvVar(envBefore, names.passwordVar) || generatePassword()) : undefined;

  const composeName = path.basename(ws.composeFile);
  const compose = await editCompose(plan.read(ws.composeFile), spec, { fileName: composeName, force: opts.force });
  plan.write(ws.composeFile, compose.text);
  notes.push(...compose.notes);
  const ulmTokenVar = compose.ulmTokenVar ?? 'ULM_SERVICE_TOKEN';

  let env = envBefore;
  let envExample = plan.read(ws.envExampleFile);
  if (crud) {
    const initDb = editInitDb(plan.read(ws.initDbFile), spec, { force: opts.force });
    plan.write(ws.initDbFile, initDb.text);
    notes.push(...initDb.notes);
    env = ensureEnvVar(env, names.passwordVar, password!, `${names.slug}: password of ${names.user} (read by init-db.sql and compose)`);
    envExample = ensureEnvVar(envExample, names.passwordVar, 'change-me', `${names.slug}: password of ${names.user}`);
  }
  env = ensureEnvVar(env, ulmTokenVar, '', 'Bearer token apps send to ULM for service-to-service calls');
  envExample = ensureEnvVar(envExample, ulmTokenVar, '', 'Bearer token apps send to ULM for service-to-service calls');
  plan.write(ws.envFile, env, { mode: 0o600, secret: true });
  plan.write(ws.envExampleFile, envExample);
  plan.write(ws.gitignoreFile, ensureLine(plan.read(ws.gitignoreFile), '.env', ['/.env', '*.env']));

  plan.write(path.join(backendDir, '.env'), localEnv(spec, password, opts.dbHost ?? 'localhost:5432'), { mode: 0o600, secret: true });

  return { plan, spec, answers, workspace: ws, appDir, backendDir, notes };
}
