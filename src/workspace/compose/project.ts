/**
 * The workspace's compose project as a run needs it: the workspace's compose file, parsed once,
 * and what the files it includes define. Each app create-ovu-app writes has its service in its own
 * `<app>/compose.yaml`, listed in apps.compose.yaml, which create-ovu-app writes from the
 * workspace's apps and the workspace file includes. Neither is parsed here: what they define is in
 * the apps' answers files, which the workspace snapshot has already read. Other included files
 * (the team's own) are parsed like the workspace file.
 */
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { checkReferences } from './references.ts';
import { lineOf, parseCompose, type Loaded } from './parse.ts';
import { APP_COMPOSE_FILE, APPS_COMPOSE_FILE, DB_INIT_SERVICE, composeInfo, isObj, type Obj } from './model.ts';
import { chooseDatabase, databaseCandidates, type DatabaseCandidate } from './database-service.ts';
import { chosenDatabase, isAppsFile } from './apps-file.ts';
import { dbLogin, type DbLogin } from './db-login.ts';
import type { AppSpec } from '../../app/spec.ts';

/** An app the workspace snapshot knows from its answers file. */
export interface KnownApp {
  /** Its directory under the workspace root. */
  dir: string;
  spec: AppSpec;
  /** It has its own compose file (apps made before 0.2 have their service in the workspace file). */
  hasComposeFile: boolean;
}

export interface DatabaseService {
  name: string;
  /** The file that defines it, relative to the root. */
  file: string;
  /** Its value as written. */
  service: Obj;
  /** How its superuser logs in (what ovu-db-init does the same way). */
  login: DbLogin;
}

export interface ComposeProject {
  /** The workspace's compose file; undefined `loaded` means it does not exist yet. */
  fileName: string;
  loaded: Loaded | undefined;
  /** `include:` entries as written (paths only), relative to the workspace root. */
  includes: string[];
  /** Every service of the project and the file (relative to the root) that defines it. */
  services: Map<string, string>;
  /** Each published host port and the (first) service publishing it. */
  portOwners: Map<number, string>;
  ulmTokenVar: string | undefined;
  /** The service apps connect to (undefined: none yet, or `postgresProblem` says why it is unclear). */
  postgres: DatabaseService | undefined;
  /** Why the database service could not be chosen (several, or only look-alikes): for crud apps. */
  postgresProblem: UserError | undefined;
  /** The workspace file already includes apps.compose.yaml. */
  includesApps: boolean;
  apps: KnownApp[];
}

/** Paths an `include:` entry names: a string, or `path:` (a string or a list). */
function includePaths(entry: unknown): string[] {
  if (typeof entry === 'string') return [entry];
  if (isObj(entry)) {
    const p = entry['path'];
    if (typeof p === 'string') return [p];
    if (Array.isArray(p)) return p.filter((x): x is string => typeof x === 'string');
  }
  return [];
}

const normal = (p: string): string => path.posix.normalize(p.split(path.sep).join('/')).replace(/^\.\//, '');

/**
 * Reads the project. `read` gives a file's text (undefined when missing), relative paths resolve
 * against `root`. Throws a UserError `<file>:<line>: …` for any invalid file.
 */
export function readComposeProject(
  root: string,
  fileName: string,
  text: string | undefined,
  apps: KnownApp[],
  read: (file: string) => string | undefined,
  /** --db-service: the database service, named. */
  dbService?: string,
): ComposeProject {
  const project: ComposeProject = { fileName, loaded: undefined, includes: [], services: new Map(), portOwners: new Map(), ulmTokenVar: undefined, postgres: undefined, postgresProblem: undefined, includesApps: false, apps };
  if (text === undefined) return project;
  const loaded = parseCompose(text, fileName);
  project.loaded = loaded;
  const candidates: DatabaseCandidate[] = [];
  const add = (js: Obj, file: string): void => {
    const info = composeInfo(js);
    for (const s of info.services) if (!project.services.has(s)) project.services.set(s, file);
    for (const [port, s] of info.portOwners) if (!project.portOwners.has(port)) project.portOwners.set(port, s);
    project.ulmTokenVar ??= info.ulmTokenVar;
    candidates.push(...databaseCandidates(isObj(js['services']) ? js['services'] : {}, file, root, read));
  };
  add(loaded.js, fileName);

  let chosenBefore: string | undefined;
  const entries = Array.isArray(loaded.js['include']) ? loaded.js['include'] : [];
  for (const entry of entries) {
    for (const p of includePaths(entry)) {
      const rel = normal(p);
      project.includes.push(rel);
      if (rel === APPS_COMPOSE_FILE) {
        project.includesApps = true;
        const appsText = read(path.resolve(root, rel));
        if (appsText !== undefined && !isAppsFile(appsText)) {
          throw new UserError(`${rel} was not written by create-ovu-app, which writes that file itself: rename yours and include it under its new name`);
        }
        if (appsText !== undefined) chosenBefore = chosenDatabase(appsText);
        for (const app of apps.filter((a) => a.hasComposeFile)) {
          const { service } = app.spec.names;
          if (!project.services.has(service)) project.services.set(service, `${app.dir}/${APP_COMPOSE_FILE}`);
          if (!project.portOwners.has(app.spec.settings.port)) project.portOwners.set(app.spec.settings.port, service);
        }
        if (apps.some((a) => a.spec.settings.kind === 'crud')) project.services.set(DB_INIT_SERVICE, APPS_COMPOSE_FILE);
        continue;
      }
      const included = read(path.resolve(root, rel));
      if (included === undefined) throw new UserError(`${fileName}: include: names ${p}, which does not exist; create it or remove the entry`);
      add(parseCompose(included, rel, undefined, true).js, rel);
    }
  }
  try {
    // Without --db-service, the choice an earlier run wrote into apps.compose.yaml stands while that
    // service is still there: apps already use it, even if another service now looks more certain.
    const remembered = chosenBefore !== undefined && candidates.some((c) => c.name === chosenBefore) ? chosenBefore : undefined;
    const db = chooseDatabase(candidates, dbService ?? remembered, new Set(project.services.keys()));
    if (db) project.postgres = { name: db.name, file: db.file, service: db.service, login: dbLogin(db.name, db.file, db.service, root, read) };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    project.postgresProblem = err;
  }
  // Now that every file's services are known, the references between files can be checked.
  if (entries.length > 0) {
    const own = new Set(Object.keys(isObj(loaded.js['services']) ? loaded.js['services'] : {}));
    const external = new Set([...project.services.keys()].filter((s) => !own.has(s)));
    const problem = checkReferences(loaded.js, external);
    if (problem) throw new UserError(`${fileName}:${lineOf(loaded, problem.path, problem.key)}: ${problem.message}`);
  }
  return project;
}
