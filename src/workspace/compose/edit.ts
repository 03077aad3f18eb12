/**
 * Adding an app to the compose project. The app's service goes into its own `<app>/compose.yaml`;
 * apps.compose.yaml, which create-ovu-app writes whole from the workspace's apps, lists it and runs
 * init-db.sql (apps-file.ts). The workspace's own compose file is edited at most once: it gains
 * the `include:` of apps.compose.yaml, and a database service (with its volume) when it has none.
 * So adding the 200th app touches the team's file no more than the 1st, and parsing it costs the
 * same.
 *
 * The workspace file is never re-serialised: new lines are spliced in at node boundaries in the
 * file's own style, every other byte stays. The result is parsed again and must equal the original
 * value plus exactly the intended additions, and must validate; anything else is a bug and throws.
 */
import { isDeepStrictEqual } from 'node:util';
import { isAlias, isMap, isSeq, type YAMLMap } from 'yaml';
import { UserError } from '../../errors.ts';
import type { AppSpec } from '../../app/spec.ts';
import { parseCompose, ownPair, type Loaded } from './parse.ts';
import { APP_COMPOSE_FILE, APPS_COMPOSE_FILE, DB_INIT_SERVICE, DEFAULT_TOKEN_VAR, PG_DATA_VOLUME, PG_STAT_STATEMENTS_COMMAND, PGBOUNCER_SERVICE, appService, isObj, newPostgres, reachOf, type Obj } from './model.ts';
import { appsComposeFile } from './apps-file.ts';
import { postgresMajor, runsInitDbAtStart } from './database-service.ts';
import { dbLogin, literalProblem } from './db-login.ts';
import { DEFAULT_STYLE, blockLines, withEol, yToJS, type Style } from './render.ts';
import { blankSeparated, Editor, ORDER } from './splice.ts';
import { Lines, detectStyle, visitNodes } from './text.ts';
import type { ComposeProject, DatabaseService } from './project.ts';
import { databaseReach, type DatabaseReach } from '../derived.ts';
import { ULM_DEV_SERVICE, usesUlmDev } from '../ulm-dev/names.ts';

/** The oldest PostgreSQL major whose server runs init-db.sql's blocks (SCRAM verifiers: 10; starts_with: 11). */
const OLDEST_SERVER = 11;

export interface ComposeEdit {
  /** The workspace's compose file as it will be (unchanged when it needed nothing). */
  text: string;
  /** apps.compose.yaml as it will be. */
  appsFile: { name: string; text: string };
  /** ovu-db-init/.env as it will be (undefined: not needed). */
  dbInitEnv: string | undefined;
  /** The app's own compose file, relative to the app directory, and its text. */
  appFile: { name: string; text: string };
  notes: string[];
  /** The variable the app's ULM_SERVICE_TOKEN reads (`${ULM_TOKEN}`: the one the others use). */
  ulmTokenVar: string;
  /** The database apps.compose.yaml's ovu-db-init reaches (undefined: it has none), for the derived kinds. */
  dbInit: DatabaseReach | undefined;
}

/** The app's own compose file: its one service, in the workspace file's style. */
function appComposeFile(spec: AppSpec, db: DatabaseService | undefined, tokenVar: string, style: Style, external: Set<string>): string {
  const { slug, service } = spec.names;
  const svc = { ...appService(spec, db?.name, tokenVar), ...(db ? reachOf(db.service) : {}) };
  const lines = [
    `# ${slug}'s service, written by create-ovu-app and yours to edit. apps.compose.yaml includes`,
    '# this file; paths here are relative to this directory.',
    'services:',
    ...blockLines({ [service]: svc }, style.step, style),
  ];
  const text = withEol(lines.join('\n') + '\n', style);
  verify(text, `${slug}/${APP_COMPOSE_FILE}`, external, undefined, true);
  return text;
}

/**
 * Adds the app to the project (read with readComposeProject); the caller has checked that the name
 * is free (or the app's own, with --force). Throws a UserError on what it cannot do safely.
 */
export function addAppToCompose(project: ComposeProject, spec: AppSpec): ComposeEdit {
  const { fileName } = project;
  const { service, slug } = spec.names;
  const crud = spec.settings.kind !== 'readonly';
  // apps.compose.yaml is written whole: without the database its ovu-db-init, which the crud apps
  // already there depend on, would go too.
  const crudBefore = project.apps.some((a) => a.hasComposeFile && a.dir !== slug && a.spec.settings.kind === 'crud');
  if ((crud || crudBefore) && project.postgresProblem) throw project.postgresProblem;
  const major = postgresMajor(project.postgres?.service['image']);
  if (crud && project.postgres && major !== undefined && major < OLDEST_SERVER) {
    const { name, file } = project.postgres;
    throw new UserError(
      `${file}: ${name} runs PostgreSQL ${major}, older than the ${OLDEST_SERVER} that init-db.sql needs (an app's login is a SCRAM-SHA-256 verifier, which PostgreSQL stores from 10 on; its checks use starts_with, from 11): move ${name} to postgres:15 or newer, then run again`,
    );
  }
  if (crud && project.postgres && major !== undefined && major < 15 && runsInitDbAtStart(project.postgres.service)) {
    const { name, file } = project.postgres;
    throw new UserError(
      `${file}: ${name} (PostgreSQL ${major}) runs ./init-db.sql at its first start with its own psql ${major}, which lacks \\getenv (psql 15+), so that start would fail: remove the init-db.sql mount from ${name} (ovu-db-init runs the file with a current psql) or move to postgres:15 or newer, then run again`,
    );
  }
  if (crud && project.postgres) {
    // ovu-db-init must log in as the database's superuser however that one is set up, or no crud app starts.
    const { login, name, file } = project.postgres;
    const problem = login.how === 'unknown' ? `${file}: ${login.why}` : literalProblem(login, `${file}: ${name}`);
    if (problem) throw new UserError(problem);
  }
  const tokenVar = project.ulmTokenVar ?? DEFAULT_TOKEN_VAR;
  const notes: string[] = [];
  if (tokenVar !== DEFAULT_TOKEN_VAR) notes.push(`${service}: ULM_SERVICE_TOKEN reads \${${tokenVar}}, the variable the other services use`);

  const style = project.loaded ? detectStyle(project.loaded.doc, new Lines(project.loaded.text)) : DEFAULT_STYLE;
  const { text, db } = project.loaded ? editWorkspaceFile(project, crud, notes) : createWorkspaceFile(crud, fileName, notes);

  const apps = [...project.apps.filter((a) => a.hasComposeFile && a.dir !== slug), { dir: slug, spec }];
  const appsFile = appsComposeFile(apps, db, style);
  notes.push(...appsFile.notes);
  const external = new Set([...project.services.keys(), service, DB_INIT_SERVICE, ...(crud && spec.settings.pgbouncer ? [PGBOUNCER_SERVICE] : []), ...(usesUlmDev(spec.settings.ulmUrl) ? [ULM_DEV_SERVICE] : [])]);
  if (db) external.add(db.name);
  const appText = appComposeFile(spec, crud ? db : undefined, tokenVar, style, external);
  notes.push(`added service ${service} (in ${slug}/${APP_COMPOSE_FILE})`);
  return { text, appsFile: { name: APPS_COMPOSE_FILE, text: appsFile.text }, dbInitEnv: appsFile.dbInitEnv, appFile: { name: APP_COMPOSE_FILE, text: appText }, notes, ulmTokenVar: tokenVar, dbInit: databaseReach(db, apps) };
}

/** The postgres service create-ovu-app adds (newPostgres), as the apps' database. */
function createdDb(fileName: string, pg: ReturnType<typeof newPostgres>): DatabaseService {
  const service = yToJS(pg) as Obj;
  return { name: 'postgres', file: fileName, service, login: dbLogin('postgres', fileName, service, '.', () => undefined) };
}

/** A new workspace compose file: the database service (for a crud app) and the include. */
function createWorkspaceFile(crud: boolean, fileName: string, notes: string[]): { text: string; db: DatabaseService | undefined } {
  const style = DEFAULT_STYLE;
  const lines: string[] = [];
  const expected: Obj = {};
  const pg = newPostgres();
  if (crud) {
    lines.push('services:', ...blockLines({ postgres: pg }, style.step, style), '', ...blockLines({ volumes: { [PG_DATA_VOLUME]: null } }, 0, style), '');
    expected['services'] = { postgres: yToJS(pg) };
    expected['volumes'] = { [PG_DATA_VOLUME]: null };
  }
  lines.push(...blockLines({ include: [APPS_COMPOSE_FILE] }, 0, style));
  expected['include'] = [APPS_COMPOSE_FILE];
  const text = lines.join('\n') + '\n';
  verify(text, fileName, undefined, expected);
  notes.push(crud ? `created ${fileName} (postgres:15)` : `created ${fileName}`);
  return { text, db: crud ? createdDb(fileName, pg) : undefined };
}

function editWorkspaceFile(project: ComposeProject, crud: boolean, notes: string[]): { text: string; db: DatabaseService | undefined } {
  const loaded = project.loaded!;
  const { doc, js, fileName, text: source } = loaded;
  const lines = new Lines(source);
  const style = detectStyle(doc, lines);
  const editor = new Editor(lines, style);
  const expected = structuredClone(js);

  const root = doc.contents;
  if (!isMap(root)) throw new UserError(`${fileName}:1: the top level must be a mapping with a services: key`);
  const lineAt = (node: unknown): number => {
    const r = (node as { range?: number[] } | null)?.range;
    return r ? loaded.lc.linePos(r[0]!).line : 1;
  };
  const usedAnchors = new Set<string>();
  visitNodes(doc.contents, (n) => {
    if (isAlias(n)) usedAnchors.add(n.source);
  });
  /** Editing a node shared through an anchor in place would change its other users too. */
  const assertNotShared = (node: unknown, what: string, todo: string): void => {
    const shared = isAlias(node) ? node.source : (node as { anchor?: string } | null)?.anchor;
    if (shared && (isAlias(node) || usedAnchors.has(shared))) {
      throw new UserError(`${fileName}:${lineAt(node)}: ${what} is shared through the YAML anchor '&${shared}', so create-ovu-app will not edit it; ${todo} by hand, then run again`);
    }
  };
  const rootBlank = blankSeparated(root, lines) ?? true;

  let db = project.postgres;
  if (crud && db === undefined) {
    const servicesNode = ownPair(root, 'services')?.value;
    if (servicesNode !== undefined && servicesNode !== null && !isMap(servicesNode)) {
      throw new UserError(`${fileName}:${lineAt(servicesNode)}: services: must be a mapping written in this file (not an alias)`);
    }
    const pg = newPostgres();
    if (isMap(servicesNode)) {
      assertNotShared(servicesNode, 'services:', 'add a postgres service to it');
      editor.addPairs(servicesNode, { postgres: pg }, ORDER.newPostgres, (blankSeparated(servicesNode, lines) ?? rootBlank) && !servicesNode.flow);
    } else editor.addPairs(root, { services: { postgres: pg } }, ORDER.rootServices, rootBlank && !root.flow);
    if (!isObj(expected['services'])) expected['services'] = {};
    (expected['services'] as Obj)['postgres'] = yToJS(pg);
    db = createdDb(fileName, pg);
    notes.push('added service postgres (postgres:15)');
    addTopVolume(root);
  }

  if (crud && db && db === project.postgres) noteStatStatements(db);

  if (!project.includesApps) {
    const current = Array.isArray(js['include']) ? (js['include'] as unknown[]) : undefined;
    const incNode = ownPair(root, 'include')?.value;
    if (isSeq(incNode)) {
      assertNotShared(incNode, 'include:', `add '- ${APPS_COMPOSE_FILE}' to it`);
      editor.addItems(incNode, [APPS_COMPOSE_FILE], ORDER.include);
    } else if (incNode === undefined) {
      editor.addPairs(root, { include: [APPS_COMPOSE_FILE] }, ORDER.include, rootBlank && !root.flow);
    } else {
      throw new UserError(`${fileName}:${lineAt(incNode)}: include: must be a list written in this file; add '- ${APPS_COMPOSE_FILE}' to it by hand`);
    }
    expected['include'] = [...(current ?? []), APPS_COMPOSE_FILE];
    notes.push(`${fileName}: included ${APPS_COMPOSE_FILE}`);
  }

  if (editor.splices.length === 0) return { text: source, db };
  const text = editor.apply();
  verify(text, fileName, undefined, expected);
  return { text, db };

  /**
   * Monitoring needs the server to load pg_stat_statements. The team's own database service is
   * the team's: its command is never edited (the file gains only the include, and a changed command
   * restarts their server with other settings), so a note says what to add. A service
   * create-ovu-app writes has it (newPostgres).
   */
  function noteStatStatements(pg: DatabaseService): void {
    const command = pg.service['command'];
    const text = Array.isArray(command) ? command.map(String).join(' ') : typeof command === 'string' ? command : '';
    if (/shared_preload_libraries\s*=\s*\S*pg_stat_statements/.test(text)) return;
    notes.push(
      `monitoring reads pg_stat_statements, which ${pg.name} does not load: add \`-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all\` to its command in ${pg.file} (e.g. command: ${JSON.stringify(PG_STAT_STATEMENTS_COMMAND)}; or add pg_stat_statements to the shared_preload_libraries it sets), then restart it`,
    );
  }

  function addTopVolume(rootMap: YAMLMap): void {
    const vols = js['volumes'];
    if (isObj(vols) && PG_DATA_VOLUME in vols) return;
    const volNode = ownPair(rootMap, 'volumes')?.value;
    if (isMap(volNode)) {
      assertNotShared(volNode, 'the top-level volumes:', `add '${PG_DATA_VOLUME}:' to it`);
      editor.addPairs(volNode, { [PG_DATA_VOLUME]: null }, ORDER.topVolumes);
    } else if (vols !== undefined && vols !== null) {
      throw new UserError(`${fileName}:${lineAt(volNode)}: the top-level volumes: is an alias; add '${PG_DATA_VOLUME}:' to it by hand`);
    } else {
      editor.addPairs(rootMap, { volumes: { [PG_DATA_VOLUME]: null } }, ORDER.topVolumes, rootBlank && !rootMap.flow);
    }
    expected['volumes'] = { ...(isObj(expected['volumes']) ? expected['volumes'] : {}), [PG_DATA_VOLUME]: null };
    notes.push(`added volume ${PG_DATA_VOLUME}`);
  }
}

/** The written text must parse, validate and (when given) equal `expected`: anything else is our bug. */
function verify(text: string, fileName: string, external: Set<string> | undefined, expected: Obj | undefined, included = false): void {
  let result: Loaded;
  try {
    result = parseCompose(text, fileName, external, included);
  } catch (e) {
    throw new Error(`internal error: the edited ${fileName} does not validate: ${(e as Error).message}`);
  }
  if (expected !== undefined && !isDeepStrictEqual(result.js, expected)) {
    throw new Error(`internal error: editing ${fileName} would change more than the intended additions`);
  }
}
