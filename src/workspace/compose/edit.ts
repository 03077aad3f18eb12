/**
 * Adding an app to the compose project: the app's service goes into its own `<app>/compose.yaml`,
 * and the workspace's compose file gains one `include:` entry, plus what the database service
 * needs for the app (its password variable; the init-db.sql mount and a healthcheck if missing;
 * the service itself when there is none). The workspace file grows by a few lines per app, so
 * parsing it stays cheap however many apps there are.
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
import {
  APP_COMPOSE_FILE,
  DEFAULT_TOKEN_VAR,
  INITDB_DIR,
  INITDB_MOUNT,
  PG_DATA_VOLUME,
  appService,
  envHas,
  findPostgres,
  healthcheck,
  isObj,
  mountsInitDir,
  newPostgres,
  pgUser,
  type Obj,
} from './model.ts';
import { DEFAULT_STYLE, blockLines, yToJS, type Style, type YMap } from './render.ts';
import { blankSeparated, Editor, ORDER } from './splice.ts';
import { Lines, detectStyle, visitNodes } from './text.ts';
import type { ComposeProject } from './project.ts';

export interface ComposeEdit {
  /** The workspace's compose file as it will be. */
  text: string;
  /** The app's own compose file, relative to the app directory, and its text. */
  appFile: { name: string; text: string };
  notes: string[];
  /** The variable the app's ULM_SERVICE_TOKEN reads (`${ULM_TOKEN}`: the one the others use). */
  ulmTokenVar: string;
}

const withEol = (text: string, style: Style): string => (style.eol === '\n' ? text : text.replace(/\n/g, style.eol));

/** The app's own compose file: its one service, in the workspace file's style. */
function appComposeFile(spec: AppSpec, pgName: string | undefined, tokenVar: string, style: Style, external: Set<string>): string {
  const { slug, service } = spec.names;
  const lines = [
    `# ${slug}'s service, written by create-ovu-app. The workspace's compose file includes this file;`,
    '# paths here are relative to this directory.',
    'services:',
    ...blockLines({ [service]: appService(spec, pgName, tokenVar) }, style.step, style),
  ];
  const text = withEol(lines.join('\n') + '\n', style);
  verify(text, `${slug}/${APP_COMPOSE_FILE}`, external, undefined);
  return text;
}

/**
 * Adds the app to the project (read with readComposeProject); the caller has checked that the name
 * is free (or the app's own, with --force). Throws a UserError on what it cannot do safely.
 */
export function addAppToCompose(project: ComposeProject, spec: AppSpec): ComposeEdit {
  const { fileName } = project;
  const { service, slug } = spec.names;
  const include = `${slug}/${APP_COMPOSE_FILE}`;
  const crud = spec.settings.kind !== 'readonly';
  const tokenVar = project.ulmTokenVar ?? DEFAULT_TOKEN_VAR;
  const notes: string[] = [];
  if (tokenVar !== DEFAULT_TOKEN_VAR) notes.push(`${service}: ULM_SERVICE_TOKEN reads \${${tokenVar}}, the variable the other services use`);
  if (crud && project.postgres && project.postgres.file !== fileName) {
    throw new UserError(
      `the database service '${project.postgres.name}' is defined in ${project.postgres.file}: add '${spec.names.passwordVar}: \${${spec.names.passwordVar}}' to its environment by hand, or move it into ${fileName}`,
    );
  }
  const pgName = crud ? (project.postgres?.name ?? 'postgres') : undefined;
  const external = new Set([...project.services.keys(), service]);
  if (pgName) external.add(pgName);

  const main = project.loaded ? editWorkspaceFile(project.loaded, spec, include, notes, external) : createWorkspaceFile(spec, include, fileName, notes, external);
  const style = project.loaded ? detectStyle(project.loaded.doc, new Lines(project.loaded.text)) : DEFAULT_STYLE;
  const appText = appComposeFile(spec, pgName, tokenVar, style, external);
  notes.push(`added service ${service} (in ${include})`);
  return { text: main, appFile: { name: APP_COMPOSE_FILE, text: appText }, notes, ulmTokenVar: tokenVar };
}

/** A new workspace compose file: the database service (for a crud app) and the include. */
function createWorkspaceFile(spec: AppSpec, include: string, fileName: string, notes: string[], external: Set<string>): string {
  const style = DEFAULT_STYLE;
  const crud = spec.settings.kind !== 'readonly';
  const lines: string[] = [];
  const expected: Obj = {};
  if (crud) {
    const pg = newPostgres(spec);
    lines.push('services:', ...blockLines({ postgres: pg }, style.step, style), '', ...blockLines({ volumes: { [PG_DATA_VOLUME]: null } }, 0, style), '');
    expected['services'] = { postgres: yToJS(pg) };
    expected['volumes'] = { [PG_DATA_VOLUME]: null };
  }
  lines.push(...blockLines({ include: [include] }, 0, style));
  expected['include'] = [include];
  const text = lines.join('\n') + '\n';
  verify(text, fileName, external, expected);
  notes.push(crud ? `created ${fileName} (postgres:15 with init-db.sql)` : `created ${fileName}`);
  return text;
}

function editWorkspaceFile(loaded: Loaded, spec: AppSpec, include: string, notes: string[], external: Set<string>): string {
  const { doc, js, fileName, text: source } = loaded;
  const lines = new Lines(source);
  const style = detectStyle(doc, lines);
  const editor = new Editor(lines, style);
  const expected = structuredClone(js);
  const crud = spec.settings.kind !== 'readonly';

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

  const servicesNode = ownPair(root, 'services')?.value;
  if (servicesNode !== undefined && servicesNode !== null && !isMap(servicesNode)) {
    throw new UserError(`${fileName}:${lineAt(servicesNode)}: services: must be a mapping written in this file (not an alias)`);
  }
  const servicesMap = isMap(servicesNode) ? servicesNode : undefined;
  const services = isObj(js['services']) ? js['services'] : {};

  if (crud) {
    const pgName = findPostgres(services, '');
    if (pgName === undefined) addPostgres();
    else editPostgres(pgName);
  }

  // The include entry.
  const current = Array.isArray(js['include']) ? (js['include'] as unknown[]) : undefined;
  if (!current?.includes(include)) {
    const incNode = ownPair(root, 'include')?.value;
    if (isSeq(incNode)) {
      assertNotShared(incNode, 'include:', `add '- ${include}' to it`);
      editor.addItems(incNode, [include], ORDER.include);
    } else if (incNode === undefined) {
      editor.addPairs(root, { include: [include] }, ORDER.include, rootBlank && !root.flow);
    } else {
      throw new UserError(`${fileName}:${lineAt(incNode)}: include: must be a list written in this file; add '- ${include}' to it by hand`);
    }
    expected['include'] = [...(current ?? []), include];
    notes.push(`${fileName}: included ${include}`);
  }

  const text = editor.apply();
  verify(text, fileName, external, expected);
  return text;

  function addPostgres(): void {
    const pg = newPostgres(spec);
    if (servicesMap) editor.addPairs(servicesMap, { postgres: pg }, ORDER.newPostgres, (blankSeparated(servicesMap, lines) ?? rootBlank) && !servicesMap.flow);
    else editor.addPairs(root as YAMLMap, { services: { postgres: pg } }, ORDER.rootServices, rootBlank && !(root as YAMLMap).flow);
    if (!isObj(expected['services'])) expected['services'] = {};
    (expected['services'] as Obj)['postgres'] = yToJS(pg);
    notes.push('added service postgres (postgres:15 with init-db.sql)');

    const vols = js['volumes'];
    if (isObj(vols) && PG_DATA_VOLUME in vols) return;
    const volNode = ownPair(root as YAMLMap, 'volumes')?.value;
    if (isMap(volNode)) {
      assertNotShared(volNode, 'the top-level volumes:', `add '${PG_DATA_VOLUME}:' to it`);
      editor.addPairs(volNode, { [PG_DATA_VOLUME]: null }, ORDER.topVolumes);
    } else if (vols !== undefined && vols !== null) {
      throw new UserError(`${fileName}:${lineAt(volNode)}: the top-level volumes: is an alias; add '${PG_DATA_VOLUME}:' to it by hand`);
    } else {
      editor.addPairs(root as YAMLMap, { volumes: { [PG_DATA_VOLUME]: null } }, ORDER.topVolumes, rootBlank && !(root as YAMLMap).flow);
    }
    expected['volumes'] = { ...(isObj(expected['volumes']) ? expected['volumes'] : {}), [PG_DATA_VOLUME]: null };
    notes.push(`added volume ${PG_DATA_VOLUME}`);
  }

  function editPostgres(pg: string): void {
    const pgNode = ownPair(servicesMap!, pg)?.value;
    const where = `the ${pg} service`;
    const pgJs = services[pg] as Obj;
    const expPg = (expected['services'] as Obj)[pg] as Obj;
    const passVar = spec.names.passwordVar;
    const passValue = `\${${passVar}}`;
    const newKeys: YMap = {};

    const needEnv = !envHas(pgJs['environment'], passVar);
    const needMount = !mountsInitDir(pgJs['volumes']);
    const needHealth = pgJs['healthcheck'] === undefined;
    if (!needEnv && !needMount && !needHealth) return;
    if (!isMap(pgNode)) throw new UserError(`${fileName}:${lineAt(pgNode)}: ${where} must be a mapping written in this file`);

    if (needEnv) {
      const envNode = ownPair(pgNode, 'environment')?.value;
      if (isMap(envNode) || isSeq(envNode)) assertNotShared(envNode, `the environment of ${where}`, `add '${passVar}: ${passValue}' to it`);
      if (isMap(envNode)) editor.addPairs(envNode, { [passVar]: passValue }, ORDER.pgEnv);
      else if (isSeq(envNode)) editor.addItems(envNode, [`${passVar}=${passValue}`], ORDER.pgEnv);
      else if (envNode === undefined && pgJs['environment'] === undefined) newKeys['environment'] = { [passVar]: passValue };
      else throw new UserError(`${fileName}:${lineAt(envNode ?? pgNode)}: ${where} gets its environment from a YAML alias or merge key; add '${passVar}: ${passValue}' to it by hand`);
      const env = expPg['environment'];
      if (Array.isArray(env)) env.push(`${passVar}=${passValue}`);
      else expPg['environment'] = { ...(isObj(env) ? env : {}), [passVar]: passValue };
      notes.push(`${pg}: added ${passVar} to environment`);
    }

    if (needMount) {
      const volNode = ownPair(pgNode, 'volumes')?.value;
      if (isSeq(volNode)) {
        assertNotShared(volNode, `the volumes of ${where}`, `add '- ${INITDB_MOUNT}' to them`);
        editor.addItems(volNode, [INITDB_MOUNT], ORDER.pgVolumes);
      } else if (volNode === undefined && pgJs['volumes'] === undefined) newKeys['volumes'] = [INITDB_MOUNT];
      else throw new UserError(`${fileName}:${lineAt(volNode ?? pgNode)}: ${where} gets its volumes from a YAML alias or merge key; add '- ${INITDB_MOUNT}' to them by hand`);
      expPg['volumes'] = [...(Array.isArray(expPg['volumes']) ? expPg['volumes'] : []), INITDB_MOUNT];
      notes.push(`${pg}: mounted ./init-db.sql in ${INITDB_DIR}`);
    }

    if (needHealth) {
      const user = pgUser(pgJs['environment']);
      newKeys['healthcheck'] = healthcheck(user);
      notes.push(`${pg}: added healthcheck (pg_isready -U ${user})`);
    }

    if (Object.keys(newKeys).length > 0) {
      assertNotShared(pgNode, where, `add ${Object.keys(newKeys).join(', ')} to it`);
      editor.addPairs(pgNode, newKeys, ORDER.pgKeys);
      for (const [k, v] of Object.entries(newKeys)) expPg[k] = yToJS(v);
    }
  }
}

/** The written text must parse, validate and (when given) equal `expected`: anything else is our bug. */
function verify(text: string, fileName: string, external: Set<string>, expected: Obj | undefined): void {
  let result: Loaded;
  try {
    result = parseCompose(text, fileName, external);
  } catch (e) {
    throw new Error(`internal error: the edited ${fileName} does not validate: ${(e as Error).message}`);
  }
  if (expected !== undefined && !isDeepStrictEqual(result.js, expected)) {
    throw new Error(`internal error: editing ${fileName} would change more than the intended additions`);
  }
}
