/**
 * The compose index: what create-ovu-app needs to know about a compose file it has fully parsed
 * and validated once, so that adding the next app does not parse it again. Parsing a compose file
 * with hundreds of services takes longer than the rest of a run together, and the file an app is
 * added to is almost always the one the previous run wrote.
 *
 * An index holds the file's value, its style and the offsets where a new service and a new
 * postgres environment variable go. It exists only for plain files (a block `services:` mapping,
 * no anchors or aliases, every line ended) whose postgres service already mounts init-db.sql and
 * has a healthcheck; anything else goes through compose-edit.ts, which parses. Adding an app
 * through the index inserts the same lines at the same offsets as compose-edit.ts would (the unit
 * tests check this, byte for byte, on many files and app sequences) and computes the next
 * index by shifting the offsets past what it inserted.
 */
import {
  DEFAULT_STYLE,
  DEFAULT_TOKEN_VAR,
  PG_DATA_VOLUME,
  appService,
  blockLines,
  envHas,
  findPostgres,
  findTokenVar,
  tokenVarOf,
  isObj,
  mountsInitDir,
  newPostgres,
  simpleScalars,
  yToJS,
  type Obj,
  type ScalarRenderer,
  type Style,
  type YMap,
} from './model.ts';
import type { AppSpec } from '../../app/spec.ts';

export interface ComposeIndex {
  /** The file's value; it matched the Compose Specification when the index was made. */
  js: Obj;
  style: Style;
  /** Where a new service goes: the start of the line after the last one of the services mapping. */
  services: { col: number; blank: boolean; at: number };
  /** The postgres service apps use, when adding an app only extends its block `environment:`. */
  postgres: { name: string; envCol: number; envAt: number } | null;
}

export interface ComposeEdit {
  text: string;
  created: boolean;
  notes: string[];
  /** The variable the edited file's services read ULM_SERVICE_TOKEN from (`${ULM_TOKEN}`). */
  ulmTokenVar: string | undefined;
  /** The edited file's index, when it is a file the next run can extend without parsing. */
  index: ComposeIndex | undefined;
}

const withEol = (text: string, style: Style): string => (style.eol === '\n' ? text : text.replace(/\n/g, style.eol));

/**
 * A new compose file. With the built-in emitter (the default) it throws NotSimple for a value
 * the emitter does not write, e.g. an unusual ULM URL; compose-edit.ts's createCompose then calls
 * it with a renderer that can, and verifies the result.
 */
export function createComposeFast(spec: AppSpec, fileName: string, r: ScalarRenderer = simpleScalars): ComposeEdit {
  const style = DEFAULT_STYLE;
  const crud = spec.settings.kind !== 'readonly';
  const name = spec.names.service;
  const pg = crud ? newPostgres(spec) : undefined;
  const svc = appService(spec, crud ? 'postgres' : undefined, DEFAULT_TOKEN_VAR);
  const col = style.step;

  const head = ['services:'];
  let envAt = -1;
  if (pg) {
    const pgLines = blockLines({ postgres: pg }, col, style, r);
    // The environment's pairs end where the next key of the postgres service starts.
    const envLine = pgLines.indexOf(`${' '.repeat(col + style.step)}environment:`);
    const envEnd = pgLines.findIndex((l, i) => i > envLine && l.length - l.trimStart().length <= col + style.step);
    envAt = [...head, ...pgLines.slice(0, envEnd)].join('\n').length + 1;
    head.push(...pgLines, '');
  }
  head.push(...blockLines({ [name]: svc }, col, style, r));
  const at = head.join('\n').length + 1;
  const tail = pg ? ['', ...blockLines({ volumes: { [PG_DATA_VOLUME]: null } }, 0, style, r)] : [];
  const text = [...head, ...tail].join('\n') + '\n';

  const js: Obj = { services: pg ? { postgres: yToJS(pg), [name]: yToJS(svc) } : { [name]: yToJS(svc) } };
  if (pg) js['volumes'] = { [PG_DATA_VOLUME]: null };
  const notes = pg
    ? [`created ${fileName} (postgres:15 with init-db.sql)`, `added service ${name}`]
    : [`created ${fileName}`, `added service ${name}`];
  return {
    text,
    created: true,
    notes,
    ulmTokenVar: tokenVarOf(js),
    index: {
      js,
      style,
      services: { col, blank: true, at },
      postgres: pg ? { name: 'postgres', envCol: col + 2 * style.step, envAt } : null,
    },
  };
}

/**
 * Adds the app through the index; undefined when this edit needs compose-edit.ts (the service
 * exists, there is no usable postgres service yet, …). Throws NotSimple like createComposeFast.
 */
export function editComposeFast(source: string, index: ComposeIndex, spec: AppSpec): ComposeEdit | undefined {
  const { style } = index;
  const name = spec.names.service;
  const crud = spec.settings.kind !== 'readonly';
  const services = isObj(index.js['services']) ? index.js['services'] : {};
  if (name in services) return undefined;

  const notes: string[] = [];
  // Copies only along the paths it changes: the rest is shared with index.js, never mutated.
  const expServices: Obj = { ...services };
  const expected: Obj = { ...index.js, services: expServices };
  const tokenVar = findTokenVar(services, name) ?? DEFAULT_TOKEN_VAR;
  if (tokenVar !== DEFAULT_TOKEN_VAR) {
    notes.push(`${name}: ULM_SERVICE_TOKEN reads \${${tokenVar}}, the variable the other services use`);
  }

  let envText = '';
  let pgName: string | undefined;
  const pg = index.postgres;
  if (crud) {
    pgName = findPostgres(services, name);
    if (pg === null || pgName !== pg.name) return undefined;
    const pgJs = services[pgName];
    if (!isObj(pgJs) || !mountsInitDir(pgJs['volumes']) || pgJs['healthcheck'] === undefined) return undefined;
    const passVar = spec.names.passwordVar;
    if (!envHas(pgJs['environment'], passVar)) {
      const env = pgJs['environment'];
      if (!isObj(env)) return undefined;
      const value = `\${${passVar}}`;
      envText = withEol(blockLines({ [passVar]: value }, pg.envCol, style).join('\n') + '\n', style);
      expServices[pgName] = { ...pgJs, environment: { ...env, [passVar]: value } };
      notes.push(`${pgName}: added ${passVar} to environment`);
    }
  }

  const svc: YMap = appService(spec, pgName, tokenVar);
  const svcText = withEol((index.services.blank ? '\n' : '') + blockLines({ [name]: svc }, index.services.col, style).join('\n') + '\n', style);
  expServices[name] = yToJS(svc);
  notes.push(`added service ${name}`);

  const at = index.services.at;
  const envAt = pg?.envAt ?? at;
  if (envAt > at || at > source.length) return undefined;
  const text = source.slice(0, envAt) + envText + source.slice(envAt, at) + svcText + source.slice(at);

  return {
    text,
    created: false,
    notes,
    ulmTokenVar: tokenVarOf(expected),
    index: {
      js: expected,
      style,
      services: { ...index.services, at: at + envText.length + svcText.length },
      postgres: pg && { ...pg, envAt: envAt + envText.length },
    },
  };
}

