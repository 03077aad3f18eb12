/**
 * What `new` writes, computed from the workspace snapshot without touching the disk: the app's
 * files, its answers file, and the edits to the workspace's files; plus the tasks that run after
 * the commit (install, provision, migrate).
 */
import path from 'node:path';
import { Plan } from '../plan/plan.ts';
import { ANSWERS_FILE, answersFileText } from '../app/answers-file.ts';
import { specFromAnswers, type AppSpec } from '../app/spec.ts';
import type { Answers, WorkspaceFacts } from '../app/questions.ts';
import { renderBackend, renderCiWorkflow, renderDeploy } from '../stacks/render.ts';
import { STACKS } from '../stacks/index.ts';
import { addAppToCompose, APP_COMPOSE_FILE } from '../workspace/compose/index.ts';
import { editInitDb } from '../workspace/init-db.ts';
import { ensureEnvVar, ensureLine } from '../workspace/env-file.ts';
import { findAppPassword, type FoundPassword } from '../workspace/app-env.ts';
import { PASSWORD_FIX, generatePassword, passwordProblem, passwordUrlProblem } from '../database/passwords.ts';
import { scramVerifier, verifierMatches } from '../database/scram.ts';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_RESERVED_CONNECTIONS, ULM_ASSUMED_CONNECTIONS, budgetProblem, budgetTotal, serverConnectionLimit } from '../database/budget.ts';
import { serverSettings } from '../workspace/compose/database-service.ts';
import { appsForDerivedFiles, requireReadableApps, type WorkspaceSnapshot } from '../workspace/snapshot.ts';
import { UsageError, UserError } from '../errors.ts';
import type { Toolchain } from '../stacks/stack.ts';
import { installTask, migrateTask, provisionTask, type Task } from './tasks.ts';
import { planAppFiles, sha256, type AppFile } from './app-files.ts';
import { STATE_DIR } from '../plan/journal.ts';
import { gitTracks } from '../workspace/gitignore.ts';
import { stageDbInitEnv, stageDerived } from '../workspace/derived.ts';
import { readVerifier, VERIFIERS_ENV_FILE, writeVerifier } from '../workspace/verifiers.ts';
import { databaseServiceName } from '../workspace/compose/db-service-name.ts';
import { ULM_DEV_LOCAL_URL, isUlmService, usesUlmDev } from '../workspace/ulm-dev/names.ts';
import { enginesNode, satisfies } from '../stacks/node-engines.ts';

export interface NewApp {
  plan: Plan;
  spec: AppSpec;
  answers: Answers;
  snapshot: WorkspaceSnapshot;
  appDir: string;
  backendDir: string;
  /** What the workspace edits reported (e.g. "created docker-compose.yml"). */
  notes: string[];
  /** With --force: the app's files left as they are (the team's), each with why. */
  kept: string[];
  /** What runs after the commit, in order. */
  tasks: Task[];
  /** What the person should act on, one line each (also in --dry-run). */
  warnings: string[];
}

/** What the questions need to know about the workspace before asking. */
export function workspaceFacts(snapshot: WorkspaceSnapshot, interactive: boolean, ownService?: string): WorkspaceFacts {
  const noUlmService = ![...snapshot.compose.services.keys()].some(isUlmService);
  return { usedPorts: snapshot.compose.portOwners, ownService, interactive, noUlmService };
}

/**
 * Refuses a name another app already has anywhere in the workspace: its directory, its compose
 * service, its init-db.sql block. --force replaces an app create-ovu-app wrote, nothing else.
 */
export function checkCollisions(snapshot: WorkspaceSnapshot, spec: AppSpec, force: boolean): void {
  const { root } = snapshot.workspace;
  const { slug, service } = spec.names;
  const rel = path.relative(snapshot.cwd, path.join(root, slug)) || '.';
  if (!force && snapshot.exists(path.join(root, slug))) {
    throw new UsageError(`${rel}/ already exists: choose another name, or pass --force to replace that app.`);
  }
  const definedIn = snapshot.compose.services.get(service);
  if (definedIn !== undefined && !(force && definedIn === `${slug}/${APP_COMPOSE_FILE}`)) {
    throw new UsageError(
      force
        ? `${definedIn} defines a service "${service}" that is not ${slug}'s own: remove it from ${definedIn}, or choose another name.`
        : `${definedIn} already has a service "${service}": choose another name, or pass --force to replace it.`,
    );
  }
  if (!force && snapshot.initDbApps.includes(slug)) {
    throw new UsageError(`init-db.sql already has a block for "${slug}": choose another name, or pass --force to replace it.`);
  }
}

/**
 * The connection budget of the workspace's apps on its database service: its max_connections is
 * known from its `command` (else PostgreSQL's default), so an app that would not fit is refused
 * before anything is written. provision checks the server it is pointed at again (a managed server
 * has its own numbers).
 */
export function workspaceBudgetProblem(snapshot: WorkspaceSnapshot, spec: AppSpec): string | undefined {
  const apps = snapshot.specs.flatMap(({ dir, spec: other }) =>
    dir !== spec.names.slug && other.settings.kind === 'crud' ? [{ role: other.names.user, limit: serverConnectionLimit(other.settings) }] : [],
  );
  apps.push({ role: spec.names.user, limit: serverConnectionLimit(spec.settings) });
  const db = snapshot.compose.postgres;
  const set = db ? serverSettings(db.service) : {};
  const maxConnections = set.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const budget = { maxConnections, reserved: set.reserved ?? DEFAULT_RESERVED_CONNECTIONS, ulm: ULM_ASSUMED_CONNECTIONS, apps };
  const where = db ? `${db.name} in ${db.file} (max_connections ${maxConnections}${set.maxConnections ? ', from its command' : ', PostgreSQL\'s default'})` : 'the postgres service this run creates (max_connections 100)';
  const raise = `(e.g. \`command: postgres -c max_connections=${Math.ceil(budgetTotal(budget) / 50) * 50}\` on ${db?.name ?? 'postgres'})`;
  const problem = budgetProblem(budget, where, raise);
  return problem && `${problem}. Nothing was written.`;
}

/**
 * A TypeScript app's package.json names the Node.js it needs (engines). On another Node, yarn 1
 * refuses to install it, so such a run stops before anything is written; npm, pnpm and bun install
 * with a warning, which is said here and shown after the install.
 */
function nodeEngineNotes(spec: AppSpec, files: AppFile[], install: boolean | undefined, tools: Toolchain): string[] {
  if (spec.settings.stack !== 'typescript') return [];
  const range = enginesNode(files.find((f) => f.rel === 'backend/package.json')?.content);
  if (!range || satisfies(process.version, range)) return [];
  const { slug } = spec.names;
  const both = `${slug} needs Node.js ${range} (engines in its package.json) and this is Node.js ${process.version}`;
  const strict = tools.pm.name === 'yarn' && (tools.pm.major ?? 1) === 1;
  if (install && strict) throw new UserError(`${both}, which yarn 1 refuses to install: run create-ovu-app with a Node.js that matches (e.g. \`nvm install 22\`), or drop --install and install it on one later. Nothing was written.`);
  return [`${both}: install and run it with a Node.js that matches (e.g. \`nvm install 22\`)`];
}

/** The app's backend/.env, for running it outside docker: same login, PostgreSQL on `dbHost`. */
function localEnv(spec: AppSpec, password: string | undefined, dbHost: string): string {
  const { names, settings } = spec;
  // A readonly app has no database, hence no password to name.
  const lines =
    settings.kind === 'crud'
      ? [
          '# Settings for running this app outside docker (server, migrations, tests).',
          '# Written by create-ovu-app. Keep it out of git: it holds the database password,',
          `# the same as ${names.passwordVar} in ${names.slug}/.env.`,
        ]
      : ['# Settings for running this app outside docker (server, tests).', '# Written by create-ovu-app. Keep it out of git: ULM_SERVICE_TOKEN, once set, is a secret.'];
  if (password !== undefined) {
    lines.push(
      `DATABASE_URL=postgresql://${names.user}:${encodeURIComponent(password)}@${dbHost}/${names.db}`,
      `DB_POOL_SIZE=${settings.pool.size}`,
      `DB_MAX_OVERFLOW=${settings.pool.maxOverflow}`,
      `DB_POOL_TIMEOUT=${settings.pool.timeout}`,
    );
  }
  // The development ULM on the machine (`node ulm-dev/server.mjs`), else ULM where it runs locally.
  const ulm = usesUlmDev(settings.ulmUrl) ? ULM_DEV_LOCAL_URL : 'http://localhost:8000';
  lines.push(`ULM_BASE_URL=${ulm}`, 'ULM_SERVICE_TOKEN=', ...STACKS[settings.stack].localEnv(settings.port));
  return lines.join('\n') + '\n';
}

/**
 * The app's password: the one the workspace has (the database may already use it), else a new one.
 * Compose puts it into DATABASE_URL as it is, so it must need no escaping there.
 */
function usablePassword(existing: FoundPassword, variable: string, root: string): string {
  if (!existing.value) return generatePassword();
  const unsafe = passwordUrlProblem(existing.value, variable, path.relative(root, existing.file));
  if (unsafe) throw new UserError(`${unsafe}: replace it with 32+ such characters, or delete the line to have one generated.`);
  return existing.value;
}

/**
 * `<app>/.env`: the password, for Compose to interpolate into the app's own compose.yaml (an
 * included file reads the .env of its own directory) and for provision; no other service sees it.
 */
function appEnv(spec: AppSpec, password: string): string {
  const { names } = spec;
  return [
    `# ${names.slug}'s secrets, written by create-ovu-app. Keep it out of git (the workspace .gitignore's`,
    `# ".env" line covers it). Compose reads it for ${names.slug}/compose.yaml only: other services,`,
    '# even those with `env_file: .env`, never receive it.',
    `# Password of ${names.user}; its SCRAM-SHA-256 verifier is ${names.verifierVar} in ${VERIFIERS_ENV_FILE}.`,
    `${names.passwordVar}=${password}`,
    '',
  ].join('\n');
}

/** `<app>/.env.example`: what `<app>/.env` holds, with a placeholder, to commit. */
function appEnvExample(spec: AppSpec): string {
  const { names } = spec;
  return [`# ${names.slug}'s secrets: copy to .env (ignored by git) and set a password of 32+ characters.`, `# Password of ${names.user}`, `${names.passwordVar}=change-me`, ''].join('\n');
}

export interface PlanOptions {
  force: boolean;
  /** Where the app's database server is, for backend/.env (host:port). */
  dbHost: string;
  /** What installs the app (with answers.install). */
  tools: Toolchain;
  /** The resolved admin URL, for the provision and migrate tasks (when answers.createDb). */
  adminUrl?: string;
  /** Consent to server-wide changes for --create-db (--yes): closing databases the workspace's apps do not own. */
  serverWide?: boolean;
}

/** A warning for each file the plan writes secrets into that git tracks (a commit would publish them). */
function trackedSecrets(plan: Plan, snapshot: WorkspaceSnapshot, root: string, files: string[]): string[] {
  const written = new Set(plan.list().filter((c) => c.secret).map((c) => c.path));
  const tracked = files.filter((f) => written.has(path.resolve(f)) && snapshot.exists(f) && gitTracks(root, f));
  return tracked.map((f) => {
    const rel = path.relative(root, f);
    return `git tracks ${rel}, and this run writes secrets into it: untrack it with \`git rm --cached ${rel}\` (the .gitignore's ".env" line then keeps it out), and change any secret it already published`;
  });
}

/** Computes every write for a new app. Nothing touches the disk until `plan.commit()`. */
export async function planNewApp(snapshot: WorkspaceSnapshot, answers: Answers, opts: PlanOptions): Promise<NewApp> {
  const ws = snapshot.workspace;
  const spec = specFromAnswers(answers);
  const { names } = spec;
  requireReadableApps(snapshot.apps, names.slug);
  const crud = spec.settings.kind === 'crud';
  const plan = new Plan(snapshot.read, ws.root, snapshot.mode);
  const notes: string[] = snapshot.empty ? [`${ws.root} is empty: starting a new platform workspace there`] : [];
  const appDir = path.join(ws.root, names.slug);
  const backendDir = path.join(appDir, 'backend');

  const compose = addAppToCompose(snapshot.compose, spec);
  plan.write(ws.composeFile, compose.text);
  plan.write(path.join(ws.root, compose.appsFile.name), compose.appsFile.text);
  stageDbInitEnv(plan, ws.root, compose.dbInitEnv);
  notes.push(...compose.notes);

  // An existing password is kept: the database may already use it.
  const envBefore = plan.read(ws.envFile);
  const found = findAppPassword(plan.read.bind(plan), ws, names);
  const password = crud ? usablePassword(found, names.passwordVar, ws.root) : undefined;
  if (crud) {
    const weak = passwordProblem(password, names.passwordVar);
    if (weak) throw new UserError(`${weak} in ${path.relative(ws.root, found.file)}: ${PASSWORD_FIX}, or delete the line to have one generated.`);
  }

  const files: AppFile[] = [...(await renderBackend(spec))].map(([rel, content]) => ({ rel: `backend/${rel}`, content }));
  files.push({ rel: compose.appFile.name, content: compose.appFile.text });
  for (const [rel, content] of await renderDeploy(spec)) files.push({ rel, content });
  // The app's CI workflow sits at the workspace root, where GitHub reads workflows; it is one of
  // the app's files all the same (recorded, merged by update, removed with the app).
  const workflow = await renderCiWorkflow(spec);
  if (workflow) files.push({ rel: `../${workflow.path}`, content: workflow.content });
  files.push({ rel: 'backend/.env', content: localEnv(spec, password, opts.dbHost), mode: 0o600, secret: true });
  if (crud) {
    files.push({ rel: '.env', content: appEnv(spec, password!), mode: 0o600, secret: true });
    files.push({ rel: '.env.example', content: appEnvExample(spec) });
  }
  notes.push(...nodeEngineNotes(spec, files, answers.install, opts.tools));
  const record = Object.fromEntries(files.map((f) => [f.rel, sha256(f.content)]));
  files.push({ rel: ANSWERS_FILE, content: answersFileText(answers, record) });
  const previous = snapshot.apps.find((a) => a.dir === names.slug)?.record;
  const { kept } = planAppFiles(plan, appDir, files, previous && 'files' in previous ? previous.files : undefined);
  let env = envBefore;
  let envExample = plan.read(ws.envExampleFile);
  if (crud) {
    const initDb = editInitDb(plan.read(ws.initDbFile), spec, { force: opts.force });
    plan.write(ws.initDbFile, initDb.text);
    notes.push(...initDb.notes);
    // init-db.sql creates the role from the password's SCRAM-SHA-256 verifier, never the password.
    const verifier = readVerifier(plan.read.bind(plan), ws.root, names.verifierVar);
    const value = verifier && verifierMatches(password!, verifier) ? verifier : scramVerifier(password!);
    writeVerifier(plan, ws.root, names.verifierVar, value, `${names.slug}: SCRAM-SHA-256 verifier of ${names.passwordVar} (${names.slug}/.env) for ovu-db-init; it cannot log in`, `${names.slug}: `);
    env = plan.read(ws.envFile);
    if (found.legacy) notes.push(`${names.passwordVar} is now in ${names.slug}/.env; the copy in the workspace .env reaches every service with \`env_file: .env\`: delete that line (\`create-ovu-app doctor --fix\` does)`);
  }
  const tokenComment = 'Bearer token apps send to ULM for service-to-service calls';
  env = ensureEnvVar(env, compose.ulmTokenVar, '', tokenComment);
  envExample = ensureEnvVar(envExample, compose.ulmTokenVar, '', tokenComment);
  plan.write(ws.envFile, env, { mode: 0o600, secret: true });
  plan.write(ws.envExampleFile, envExample);
  let gitignore = ensureLine(plan.read(ws.gitignoreFile), '.env', ['/.env', '*.env']);
  gitignore = ensureLine(gitignore, `/${STATE_DIR}/`, [STATE_DIR, `${STATE_DIR}/`, `/${STATE_DIR}`]);
  // Dumps (backup, remove) hold the apps' data: never in git.
  gitignore = ensureLine(gitignore, '/backups/', ['backups', 'backups/', '/backups']);
  plan.write(ws.gitignoreFile, gitignore);
  const envMode = envBefore === undefined ? undefined : snapshot.mode(ws.envFile);
  if (envMode !== undefined && envMode & 0o077) notes.push(`.env was readable by others (mode ${envMode.toString(8)}): it is written with mode ${(envMode & 0o700).toString(8)}`);

  const others = appsForDerivedFiles(snapshot.apps, names.slug);
  stageDerived(plan, { root: ws.root, apps: [...others, { dir: names.slug, spec }], database: compose.dbInit, changed: names.slug });

  if (crud) {
    const problem = workspaceBudgetProblem(snapshot, spec);
    if (problem) throw new UsageError(problem);
  }

  const tasks: Task[] = [];
  if (answers.install) tasks.push(installTask(spec, backendDir, opts.tools));
  if (answers.createDb && crud && opts.adminUrl) {
    // The role gets the verifier this plan writes to ovu-db-init/verifiers/.env and PgBouncer's userlist: one per role.
    const verifier = readVerifier(plan.read.bind(plan), ws.root, names.verifierVar);
    const workspaceRoles = [...others.filter((o) => o.spec.settings.kind === 'crud').map((o) => o.spec.names.user), names.user];
    tasks.push(provisionTask(spec, { adminUrl: opts.adminUrl, password: password!, resetPassword: false, ...(verifier ? { verifier } : {}), workspaceRoles, serverWide: opts.serverWide === true, dbService: databaseServiceName(ws.root, (f) => plan.read(f)) }));
    if (answers.migrate) tasks.push(migrateTask(spec, { adminUrl: opts.adminUrl, password: password!, backendDir }));
  }
  return { plan, spec, answers, snapshot, appDir, backendDir, notes, kept, tasks, warnings: trackedSecrets(plan, snapshot, ws.root, [ws.envFile, path.join(ws.root, VERIFIERS_ENV_FILE)]) };
}
