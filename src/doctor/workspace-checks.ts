/**
 * doctor's checks of the workspace's files: each app against ADR-002 and against what the
 * generator wrote (its compose service, init-db.sql block, password, placeholder, verifier and
 * backend/.env agreeing), the secrets files' git and mode protection, no secret where git would
 * commit it, and every compose file against the Compose Specification.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ANSWERS_FILE, type AnswersFile } from '../app/answers-file.ts';
import type { AppSpec } from '../app/spec.ts';
import { PASSWORD_FIX, passwordProblem } from '../database/passwords.ts';
import { UserError } from '../errors.ts';
import { STATE_DIR } from '../plan/journal.ts';
import { VERSION } from '../version.ts';
import { appEnvFiles, findAppPassword } from '../workspace/app-env.ts';
import { APP_COMPOSE_FILE, APPS_COMPOSE_FILE, readComposeProject } from '../workspace/compose/index.ts';
import { envValue, isObj, type Obj } from '../workspace/compose/model.ts';
import { parseCompose } from '../workspace/compose/parse.ts';
import { DB_INIT_ENV_FILE, literalProblem, type DbLogin } from '../workspace/compose/db-login.ts';
import { ensureEnvVar, ensureLine, readEnvVar } from '../workspace/env-file.ts';
import { readVerifier, VERIFIERS_ENV_FILE } from '../workspace/verifiers.ts';
import { verifierCheck } from './verifier-check.ts';
import { gitCommittable, gitIgnored, ignoredByRules, isGitRepo } from '../workspace/gitignore.ts';
import { initDbBlock, initDbBlockOf, initDbProblems } from '../workspace/init-db.ts';
import { stagePasswordMove } from '../workspace/legacy-password.ts';
import { readApps } from '../workspace/snapshot.ts';
import type { Workspace } from '../workspace/workspace.ts';
import { derivedFiles, derivedSecretFiles, stageFiles } from '../workspace/derived.ts';
import { ciWorkflowPath } from '../stacks/render.ts';
import { failed, ok, warning, type DoctorCheck } from './check.ts';
import { k8sBudgetChecks } from './k8s-budget.ts';

/** An app as the server checks need it. */
export interface AuditedApp {
  dir: string;
  spec: AppSpec;
  /** Its password, when it has a usable one (crud apps only). */
  password: string | undefined;
  backendDir: string;
}

export interface WorkspaceAudit {
  checks: DoctorCheck[];
  apps: AuditedApp[];
}

const rel = (root: string, file: string): string => path.relative(root, file).split(path.sep).join('/');

function yamlOf(text: string | undefined): Obj | undefined {
  if (text === undefined) return undefined;
  try {
    const js: unknown = parseYaml(text, { maxAliasCount: 10_000 });
    return isObj(js) ? js : undefined;
  } catch {
    return undefined;
  }
}

const servicesOf = (js: Obj | undefined): Obj => (js && isObj(js['services']) ? js['services'] : {});

function includesOf(js: Obj | undefined): string[] {
  const entries = js && Array.isArray(js['include']) ? js['include'] : [];
  return entries.flatMap((e: unknown) => {
    const p = typeof e === 'string' ? e : isObj(e) ? e['path'] : undefined;
    return (Array.isArray(p) ? p : [p]).filter((x): x is string => typeof x === 'string').map((x) => path.posix.normalize(x).replace(/^\.\//, ''));
  });
}

const LOGIN_WORDS: Record<DbLogin['how'], string> = {
  environment: 'the same ${VAR} as its POSTGRES_PASSWORD',
  literal: 'its POSTGRES_PASSWORD, from ovu-db-init/.env',
  env_file: 'the same env_file',
  secret: 'the same secret as its POSTGRES_PASSWORD_FILE',
  trust: 'POSTGRES_HOST_AUTH_METHOD trust',
  unknown: 'unknown',
};

export function auditWorkspace(ws: Workspace, read: (file: string) => string | undefined): WorkspaceAudit {
  const checks: DoctorCheck[] = [];
  const { root } = ws;
  const records = readApps(root, read);
  const apps: { dir: string; spec: AppSpec; record: AnswersFile }[] = [];

  // 1. Each app's answers file: readable, and about the app of its directory.
  for (const a of records) {
    const id = `app.${a.dir}.answers`;
    if (!a.spec) {
      checks.push(failed(id, a.record.error, `fix ${a.dir}/${ANSWERS_FILE} (resolve a conflict in it, or restore it from git), or regenerate the app with --force: until then no command rewrites the files computed from the apps`));
      continue;
    }
    checks.push(ok(id, `${a.dir}/${ANSWERS_FILE}: ${a.record.answers.stack} ${a.record.answers.kind} app written by create-ovu-app ${a.record.version}`));
    apps.push({ dir: a.dir, spec: a.spec, record: a.record });
  }

  // 2. The compose project: the workspace file includes apps.compose.yaml, which includes each app's file.
  const composeName = path.basename(ws.composeFile);
  const composeText = read(ws.composeFile);
  const appsFile = path.join(root, APPS_COMPOSE_FILE);
  const appsJs = yamlOf(read(appsFile));
  // Every service of the project (the team's includes, monitoring/, pgbouncer/ too), as Compose sees them.
  let projectServices: string[] = [];
  if (composeText === undefined) {
    checks.push(failed('workspace.compose', `${composeName} is missing`, 'restore it from git, or generate an app to create one'));
  } else {
    try {
      const known = apps.map((a) => ({ dir: a.dir, spec: a.spec, hasComposeFile: read(path.join(root, a.dir, APP_COMPOSE_FILE)) !== undefined }));
      const project = readComposeProject(root, composeName, composeText, known, read);
      projectServices = [...project.services.keys()];
      if (apps.length > 0 && !project.includesApps) {
        checks.push(failed('workspace.compose', `${composeName} does not include ${APPS_COMPOSE_FILE}, so no app's service is in the project`, `add \`include: [${APPS_COMPOSE_FILE}]\` to ${composeName}`));
      } else if (apps.length > 0 && appsJs === undefined) {
        checks.push(failed('workspace.compose', `${APPS_COMPOSE_FILE} is missing or not YAML`, `restore it from git (create-ovu-app writes it whole from the apps)`));
      } else checks.push(ok('workspace.compose', apps.length ? `${composeName} includes ${APPS_COMPOSE_FILE}` : `${composeName} reads`));
      const db = project.postgres;
      if (db && apps.some((a) => a.spec.settings.kind === 'crud')) {
        const problem = db.login.how === 'unknown' ? db.login.why : literalProblem(db.login, `${db.file}: ${db.name}`);
        if (problem) checks.push(failed('workspace.db-login', `ovu-db-init cannot log in to ${db.name}, so no crud app starts: ${problem}`));
        else checks.push(ok('workspace.db-login', `ovu-db-init logs in to ${db.name} as its superuser (${LOGIN_WORDS[db.login.how]})`));
      }
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      checks.push(failed('workspace.compose', err.message));
    }
  }

  // 3. Every compose file create-ovu-app wrote or edits, against the Compose Specification (and
  // the references between the files, which the schema cannot see).
  const included = includesOf(appsJs).map((p) => path.resolve(root, p));
  const composeFiles = [...new Set([ws.composeFile, appsFile, ...apps.map((a) => path.join(root, a.dir, APP_COMPOSE_FILE)), ...included])].filter((f) => read(f) !== undefined);
  const defined = new Map(composeFiles.map((f) => [f, Object.keys(servicesOf(yamlOf(read(f))))]));
  for (const file of composeFiles) {
    const name = rel(root, file);
    const external = new Set([...projectServices, ...[...defined].filter(([f]) => f !== file).flatMap(([, s]) => s)]);
    try {
      parseCompose(read(file)!, name, external, file !== ws.composeFile);
      checks.push(ok(`compose.schema.${name}`, `${name} follows the Compose Specification`));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      checks.push(failed(`compose.schema.${name}`, err.message, `fix ${name} (\`docker compose config\` shows the same)`));
    }
  }

  // 3b. init-db.sql runs through: psql stops at a conflict marker or a quote left open, and ovu-db-init then fails every app.
  const initDbText = read(ws.initDbFile);
  if (initDbText !== undefined) {
    const problems = initDbProblems(initDbText);
    if (problems.length) checks.push(failed('workspace.init-db', `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}: ovu-db-init would fail for every app`, 'fix init-db.sql by hand (or restore it from git); create-ovu-app will not rewrite it until then'));
    else checks.push(ok('workspace.init-db', 'init-db.sql has no merge-conflict marker, and no quote or comment left open'));
  }

  const appsIncludes = includesOf(appsJs);
  const wsEnv = read(ws.envFile);
  const audited: AuditedApp[] = [];
  for (const { dir, spec } of apps) {
    const { names } = spec;
    const crud = spec.settings.kind === 'crud';
    const prefix = `app.${dir}`;
    const backendDir = path.join(root, dir, 'backend');

    // 4. Its compose service, in its own file, included, with the login, database and password variable.
    const appCompose = `${dir}/${APP_COMPOSE_FILE}`;
    const service = servicesOf(yamlOf(read(path.join(root, dir, APP_COMPOSE_FILE))))[names.service];
    const serviceId = `${prefix}.compose-service`;
    if (read(path.join(root, dir, APP_COMPOSE_FILE)) === undefined) checks.push(failed(serviceId, `${appCompose} is missing`, `restore it from git`));
    else if (!isObj(service)) checks.push(failed(serviceId, `${appCompose} defines no service ${names.service}`, `restore ${appCompose} from git`));
    else if (!appsIncludes.includes(appCompose)) {
      checks.push(failed(serviceId, `${APPS_COMPOSE_FILE} does not include ${appCompose}`, `restore ${APPS_COMPOSE_FILE} from git (create-ovu-app writes it whole from the apps)`));
    } else {
      const url = crud ? envValue(service['environment'], 'DATABASE_URL') : undefined;
      const m = typeof url === 'string' ? /^postgres(?:ql)?:\/\/([^:@/]+):\$\{?([A-Za-z0-9_]+)\}?@[^/]+\/([^?]+)/.exec(url) : null;
      const published = (Array.isArray(service['ports']) ? service['ports'] : []).map((p: unknown) =>
        typeof p === 'string' || typeof p === 'number' ? String(p).split(':').slice(-2)[0] : isObj(p) ? String(p['published'] ?? '') : '',
      );
      if (!published.includes(String(spec.settings.port))) {
        checks.push(failed(serviceId, `${names.service} in ${appCompose} does not publish host port ${spec.settings.port}, which ${dir}/${ANSWERS_FILE} records`, `publish "${spec.settings.port}:8000" in ${appCompose}, or restore it from git`));
      } else if (crud && (!m || m[1] !== names.user || m[2] !== names.passwordVar || m[3] !== names.db)) {
        checks.push(
          failed(serviceId, `${names.service}'s DATABASE_URL in ${appCompose} is not postgresql://${names.user}:\${${names.passwordVar}}@…/${names.db}`, `set it so in ${appCompose}`),
        );
      } else checks.push(ok(serviceId, `${names.service} in ${appCompose}, included by ${APPS_COMPOSE_FILE}`));
    }

    // 4b. Its CI workflow, at the root where GitHub reads workflows, run for changes under the app.
    const workflow = ciWorkflowPath(dir);
    const workflowText = read(path.join(root, workflow));
    const ciId = `${prefix}.ci-workflow`;
    if (workflowText === undefined) checks.push(warning(ciId, `${workflow} is missing: GitHub runs no CI for ${dir}`, `restore it from git, or \`create-ovu-app update ${dir}\` writes it`));
    else if (!workflowText.includes(`${dir}/**`)) checks.push(warning(ciId, `${workflow} does not run for changes under ${dir}/ (no '${dir}/**' path)`, `restore it from git`));
    else checks.push(ok(ciId, `${workflow} runs CI for changes under ${dir}/`));
    if (!crud) {
      audited.push({ dir, spec, password: undefined, backendDir });
      continue;
    }

    // 5. Its init-db.sql block.
    const initDbId = `${prefix}.init-db`;
    const initDb = read(ws.initDbFile);
    try {
      const block = initDb === undefined ? undefined : initDbBlockOf(initDb, names.slug);
      if (initDb === undefined) checks.push(failed(initDbId, 'init-db.sql is missing', 'restore it from git'));
      else if (block === undefined) checks.push(failed(initDbId, `init-db.sql has no block for ${names.slug}`, `restore init-db.sql from git, or regenerate the app with \`create-ovu-app ${names.slug} --force\``));
      else if (block !== initDbBlock(spec)) {
        checks.push(warning(initDbId, `init-db.sql's block for ${names.slug} differs from what create-ovu-app ${VERSION} writes for its answers`, `restore it from git, or regenerate it with \`create-ovu-app ${names.slug} --force\``));
      } else checks.push(ok(initDbId, `init-db.sql has ${names.slug}'s block (database ${names.db}, login ${names.user})`));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      checks.push(failed(initDbId, err.message));
    }

    // 6. Its password, in its own .env; a copy left in the workspace .env reaches every service that loads it.
    const own = appEnvFiles(root, dir);
    const found = findAppPassword(read, ws, names);
    const passwordId = `${prefix}.env-password`;
    const problem = found.value === undefined ? undefined : passwordProblem(found.value, names.passwordVar);
    const inWorkspace = readEnvVar(wsEnv, names.passwordVar) !== undefined;
    const move = { kind: 'files' as const, label: `move ${names.passwordVar} from .env into ${dir}/.env (mode 600), its placeholder into ${dir}/.env.example`, stage: (plan: Parameters<typeof stagePasswordMove>[0]) => stagePasswordMove(plan, ws, names) };
    if (found.value === undefined) {
      checks.push(failed(passwordId, `${names.passwordVar} is not set in ${dir}/.env`, `${PASSWORD_FIX} in ${dir}/.env: the one the server has for ${names.user}, or a new one followed by \`create-ovu-app provision ${dir} --reset-password\``));
    } else if (problem) checks.push(failed(passwordId, `${problem} (in ${rel(root, found.file)})`, `${PASSWORD_FIX}, then \`create-ovu-app provision ${dir} --reset-password\``));
    else if (found.legacy) {
      checks.push(warning(passwordId, `${names.passwordVar} is in the workspace .env, where create-ovu-app 0.1 kept it: every service that loads that file gets ${names.user}'s password`, `doctor --fix: ${move.label}`, move));
    } else if (inWorkspace) {
      checks.push(warning(passwordId, `${names.passwordVar} is in ${dir}/.env and still in the workspace .env, where every service that loads that file gets it`, `doctor --fix: remove it from .env`, { ...move, label: `remove ${names.passwordVar} from .env (${dir}/.env has it)` }));
    } else checks.push(ok(passwordId, `${names.passwordVar} is in ${dir}/.env`));
    const password = found.value !== undefined && !problem ? found.value : undefined;

    // 7. Its placeholder, where the password is.
    const exampleId = `${prefix}.env-example`;
    const exampleFile = found.legacy ? ws.envExampleFile : own.example;
    if (readEnvVar(read(exampleFile), names.passwordVar) !== undefined) checks.push(ok(exampleId, `${rel(root, exampleFile)} has the placeholder ${names.passwordVar}`));
    else {
      const label = `add ${names.passwordVar}=change-me to ${dir}/.env.example`;
      checks.push(
        failed(exampleId, `${rel(root, exampleFile)} has no placeholder for ${names.passwordVar}: a fresh clone does not say which variable to set`, `doctor --fix: ${label}`, {
          kind: 'files',
          label,
          stage: (plan) => plan.write(own.example, ensureEnvVar(plan.read(own.example), names.passwordVar, 'change-me', `${dir}: password of ${names.user}`)),
        }),
      );
    }

    if (password !== undefined) {
      // 8. The verifier init-db.sql creates the role from, of this password, where only ovu-db-init reads it.
      checks.push(verifierCheck(`${prefix}.verifier`, root, read, dir, names, password));

      // 9. backend/.env: the same login, database and password.
      const backendEnvId = `${prefix}.backend-env`;
      const backendEnv = read(path.join(backendDir, '.env'));
      const url = readEnvVar(backendEnv, 'DATABASE_URL');
      let parsed: URL | undefined;
      try {
        parsed = url === undefined ? undefined : new URL(url);
      } catch {
        parsed = undefined;
      }
      const fix = `set DATABASE_URL in ${dir}/backend/.env to postgresql://${names.user}:<${names.passwordVar} from ${rel(root, found.file)}>@<host>:<port>/${names.db}`;
      if (backendEnv === undefined) checks.push(warning(backendEnvId, `${dir}/backend/.env is missing (running the app outside docker needs it)`, fix));
      else if (!parsed) checks.push(failed(backendEnvId, `${dir}/backend/.env has no DATABASE_URL that parses`, fix));
      else {
        const wrong = [
          decodeURIComponent(parsed.username) === names.user ? '' : `login ${decodeURIComponent(parsed.username)}`,
          decodeURIComponent(parsed.pathname.slice(1)) === names.db ? '' : `database ${decodeURIComponent(parsed.pathname.slice(1))}`,
          decodeURIComponent(parsed.password) === password ? '' : `another password than ${names.passwordVar}`,
        ].filter(Boolean);
        if (wrong.length) checks.push(failed(backendEnvId, `${dir}/backend/.env's DATABASE_URL has ${wrong.join(', ')}`, fix));
        else checks.push(ok(backendEnvId, `${dir}/backend/.env uses ${names.user}, ${names.db} and the password of ${rel(root, found.file)}`));
      }
    }
    audited.push({ dir, spec, password, backendDir });
  }

  // 10. The files that hold secrets: out of git, readable by their owner only.
  const git = isGitRepo(root);
  const secretFiles: { id: string; file: string }[] = [
    { id: 'workspace.env', file: ws.envFile },
    { id: 'workspace.db-init-env', file: path.join(root, DB_INIT_ENV_FILE) },
    { id: 'workspace.verifiers-env', file: path.join(root, VERIFIERS_ENV_FILE) },
    ...derivedSecretFiles().map((s) => ({ id: `workspace.${s.id}`, file: path.join(root, s.path) })),
  ];
  for (const { dir } of apps) {
    secretFiles.push({ id: `app.${dir}.env`, file: appEnvFiles(root, dir).env }, { id: `app.${dir}.backend-env`, file: path.join(root, dir, 'backend', '.env') });
  }
  const present = secretFiles.filter((s) => read(s.file) !== undefined);
  const byGit = git ? gitIgnored(root, present.map((s) => s.file)) : undefined;
  const addEnvLine = { kind: 'files' as const, label: 'add `.env` to .gitignore', stage: (plan: Parameters<typeof stagePasswordMove>[0]) => plan.write(ws.gitignoreFile, ensureLine(plan.read(ws.gitignoreFile), '.env')) };
  for (const { id, file } of present) {
    const name = rel(root, file);
    const byRules = ignoredByRules(root, name, read);
    if (!byRules) checks.push(failed(`${id}-ignored`, `${name} is not ignored by the .gitignore rules: a commit would take the password with it`, `doctor --fix: ${addEnvLine.label}`, addEnvLine));
    else if (byGit && !byGit.has(file)) checks.push(failed(`${id}-ignored`, `git does not ignore ${name} (is it tracked?)`, `\`git rm --cached ${name}\`, then change the secrets it held`));
    else checks.push(ok(`${id}-ignored`, `${name} is ignored by git${git ? '' : "'s rules (.gitignore)"}`));
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077) {
      checks.push(failed(`${id}-mode`, `${name} has mode ${mode.toString(8)}: other users can read it`, `doctor --fix: chmod 600 ${name}`, { kind: 'files', label: `chmod 600 ${name}`, stage: (plan) => plan.setMode(file, 0o600) }));
    } else checks.push(ok(`${id}-mode`, `${name} has mode ${mode.toString(8)}`));
  }

  // 11. No commit left half-done by an interrupted run (the next run that writes rolls it back).
  const journal = path.join(root, STATE_DIR, 'journal.json');
  if (fs.existsSync(journal)) {
    checks.push(failed('workspace.journal', `${rel(root, journal)}: an earlier create-ovu-app run was interrupted while writing, so some files may be half-changed`, 'run `create-ovu-app doctor --fix` (or any command that writes): taking the workspace lock rolls it back'));
  } else checks.push(ok('workspace.journal', 'no interrupted run left a journal'));

  // 12. No password or verifier where git would commit it.
  checks.push(secretsCheck(root, read, git, audited, wsEnv));

  // 13. The files computed whole from the set of apps (monitoring/, pgbouncer/, deploy/k8s/, their
  // init-db.sql and .env lines) say what the apps say: an app added or removed by hand leaves them behind.
  const unreadable = records.filter((a) => 'error' in a.record).map((a) => `${a.dir}/${ANSWERS_FILE}`);
  checks.push(unreadable.length ? failed('workspace.derived', `the files computed from the apps cannot be checked: ${unreadable.join(', ')} cannot be read`, 'fix that answers file first (see above); doctor --fix will not write those files without its app') : derivedCheck(root, read, apps));

  // 14. On Kubernetes, each login's connectionLimit holds its app's pods at the peak of a rollout.
  checks.push(...k8sBudgetChecks(root, apps, read));
  return { checks, apps: audited };
}

function derivedCheck(root: string, read: (file: string) => string | undefined, apps: { dir: string; spec: AppSpec }[]): DoctorCheck {
  const derived = derivedFiles({ root, apps: apps.map(({ dir, spec }) => ({ dir, spec })), read });
  const stale = derived.filter((f) => read(path.join(root, f.path)) !== f.text);
  if (stale.length === 0) return ok('workspace.derived', `the ${derived.filter((f) => f.text !== undefined).length} files computed from the apps are current`);
  const names = stale.map((f) => f.path).join(', ');
  return failed('workspace.derived', `${names} ${stale.length === 1 ? 'does' : 'do'} not match the workspace's apps`, 'doctor --fix writes them again from the apps', {
    kind: 'files',
    label: `write ${names} again from the apps`,
    stage: (plan) => stageFiles(plan, root, stale),
  });
}

/** Every password and verifier of the workspace's apps, against each file git would commit. */
function secretsCheck(root: string, read: (file: string) => string | undefined, git: boolean, apps: AuditedApp[], wsEnv: string | undefined): DoctorCheck {
  const secrets = apps.flatMap((a) => {
    const { passwordVar, verifierVar } = a.spec.names;
    const values: { name: string; value: string }[] = [];
    if (a.password) values.push({ name: passwordVar, value: a.password });
    const verifier = readVerifier(read, root, verifierVar);
    if (verifier) values.push({ name: verifierVar, value: verifier });
    return values.filter((v) => v.value.length >= 8);
  });
  const files = git ? gitCommittable(root) : notIgnored(root, read);
  const found: string[] = [];
  for (const file of files) {
    if (rel(root, file).split('/')[0] === STATE_DIR) continue;
    let bytes: Buffer;
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile() || stat.size > 8 * 1024 * 1024) continue;
      bytes = fs.readFileSync(file);
    } catch {
      continue;
    }
    for (const s of secrets) if (bytes.includes(s.value)) found.push(`${s.name} in ${rel(root, file)}`);
  }
  const where = git ? 'files git tracks or would add' : 'files the .gitignore rules do not ignore';
  if (found.length === 0) return ok('workspace.secrets', `no app password or verifier in the ${files.length} ${where}`);
  return failed(
    'workspace.secrets',
    `${found.join(', ')}: a commit would publish it`,
    `remove it from ${found.length === 1 ? 'that file' : 'those files'}, then change the password (a new one in <app>/.env, \`create-ovu-app provision <app> --reset-password\`): one that was committed stays in the history`,
  );
}

/** Files under `root` that the .gitignore rules do not ignore (a workspace that is not a repository yet). */
function notIgnored(root: string, read: (file: string) => string | undefined): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      const name = rel(root, abs);
      if (e.name === '.git' || name === STATE_DIR) continue;
      if (ignoredByRules(root, name, read, e.isDirectory())) continue;
      if (e.isDirectory()) walk(abs);
      else if (e.isFile()) out.push(abs);
    }
  };
  walk(root);
  return out;
}

