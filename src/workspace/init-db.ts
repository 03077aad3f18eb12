/**
 * init-db.sql. The ovu-db-init service (apps.compose.yaml) runs create-ovu-app's blocks of it as the
 * superuser on every `docker compose up`, with each app's password in its environment
 * (`psql -v ON_ERROR_STOP=1 -v ovu_db_init=1 --no-psqlrc`). A postgres service that mounts the file
 * in /docker-entrypoint-initdb.d also runs all of it once on an empty volume, without the app
 * passwords: then the app blocks are skipped, and ovu-db-init runs them right after.
 *
 * create-ovu-app owns only the blocks between its markers: one per app
 * (`-- >>> create-ovu-app: <slug>` … `-- <<< create-ovu-app: <slug>`) and one platform block, which
 * stays the last block so it runs after the ULM section and after every app database exists.
 * Everything outside the markers is left byte-for-byte as it was, line endings included.
 */
import { dominantEol } from './eol.ts';
import { UserError } from '../errors.ts';
import { quoteLiteral, renderPsql } from '../database/render.ts';
import { APP_STATEMENTS, PLATFORM_STATEMENTS, PROVISION_LOCK_KEY, appValues, psqlVerifierVar } from '../database/statements.ts';
import { pgbouncerPoolSize, serverConnectionLimit } from '../database/budget.ts';
import type { AppSpec } from '../app/spec.ts';

export interface InitDbEdit {
  /** The new file content. */
  text: string;
  /** True when there was no file and this is a new one. */
  created: boolean;
  /** What changed, one line each, for the summary. */
  notes: string[];
}

export const PLATFORM_SLUG = 'platform';
/** The block of the workspace's monitoring role (workspace/monitoring/), just before the platform block. */
export const MONITORING_SLUG = 'monitoring';
const RESERVED_SLUGS = new Set([PLATFORM_SLUG, MONITORING_SLUG]);
const START = '-- >>> create-ovu-app: ';
const END = '-- <<< create-ovu-app: ';
const SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

function startMarker(slug: string): string {
  return `${START}${slug}`;
}
function endMarker(slug: string): string {
  return `${END}${slug}`;
}

const HEADER = [
  '-- init-db.sql: PostgreSQL initialisation for the OVU platform (ADR-002: one database per app, shared ULM).',
  '--',
  '-- The one-shot ovu-db-init compose service runs this file on every `docker compose up`, as the',
  '-- superuser, with each app\'s variables in its environment:',
  '--   psql -v ON_ERROR_STOP=1 -v ovu_db_init=1 --no-psqlrc -f init-db.sql',
  '-- (the postgres image may also run it once on an empty volume, without them: app blocks then',
  '-- skip themselves). `create-ovu-app provision` does the same for one app on any server; every',
  '-- create-ovu-app block is safe to run again.',
  '--',
  '-- create-ovu-app manages the blocks between "-- >>> create-ovu-app: <name>" and',
  '-- "-- <<< create-ovu-app: <name>" lines and rewrites only those; everything else in this file is',
  '-- yours (put the ULM section and your own statements above the platform block).',
  '-- No secret is written here: each block reads its app role\'s SCRAM-SHA-256 verifier from the',
  '-- environment (\\getenv), e.g. INVENTORY_DB_VERIFIER from .env; the password itself is never needed.',
];

/**
 * The per-app block, markers included, lines joined with "\n" (no trailing newline).
 *
 * It reads the app's SCRAM-SHA-256 verifier from the environment (initDbEnvVars in app/names.ts
 * names it): the one-shot `ovu-db-init` service runs the file with `-v ovu_db_init=1` and that
 * variable set, and a missing one stops it with an error. The postgres image's own entrypoint may
 * also run the file once, on an empty volume, without the app variables: then the block is skipped
 * with a warning and ovu-db-init creates the app right after.
 */
export function initDbBlock(spec: AppSpec): string {
  const { slug, title, user, db, verifierVar } = spec.names;
  assertSlug(slug);
  if (!/^[A-Z_][A-Z0-9_]*$/.test(verifierVar)) {
    throw new Error(`invalid verifier variable name ${JSON.stringify(verifierVar)}`);
  }
  const v = psqlVerifierVar(spec);
  const missing = `${v}_missing`;
  const malformed = `${v}_malformed`;
  const limit = serverConnectionLimit(spec.settings);
  const values = appValues(spec, { psqlVar: v }, { connLimit: limit });
  const notSet = `init-db.sql: ${verifierVar} is not set or is empty; keep it in the workspace .env (create-ovu-app writes it) and pass it to the ovu-db-init service's environment (the ${title} block needs it to create role ${user})`;
  const notScram = `init-db.sql: ${verifierVar} is not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$4096:…); run \`create-ovu-app provision ${slug}\` to write it again`;
  return [
    startMarker(slug),
    `-- ${title}: database ${db}, owned by login role ${user} (ADR-002: one database per app).`,
    '-- Written by create-ovu-app, which rewrites only what is between these markers (--force).',
    '-- Safe to run again: every statement is guarded, so a second run changes nothing. An existing',
    `-- role keeps its password; change it with \`create-ovu-app provision --reset-password\`.`,
    `-- The role's password arrives as ${verifierVar}, its SCRAM-SHA-256 verifier, from the environment`,
    '-- (.env): neither the password nor the verifier is written to this file, and the server never',
    spec.settings.pgbouncer
      ? `-- sees the password. CONNECTION LIMIT ${limit} = PgBouncer's pool for it (${pgbouncerPoolSize(spec.settings.pool)} = pool ${spec.settings.pool.size} + overflow ${spec.settings.pool.maxOverflow}) + 1.`
      : `-- sees the password. CONNECTION LIMIT ${limit} = (pool ${spec.settings.pool.size} + overflow ${spec.settings.pool.maxOverflow}) x ${spec.settings.processes} process(es) + 1.`,
    '-- No \\c here on purpose: everything below works on cluster-wide objects (roles, databases,',
    '-- database privileges, the shared catalogs), so it runs the same from whichever database an',
    '-- earlier \\c left this session in. It needs a superuser, or a role with CREATEROLE and CREATEDB',
    '-- (PostgreSQL 15 to 18: it grants itself the app role for the block and takes it back).',
    `\\unset ${v}`,
    `\\getenv ${v} ${verifierVar}`,
    `\\if :{?${v}}`,
    '\\else',
    `\\set ${v} ''`,
    '\\endif',
    `SELECT :'${v}' = '' AS ${missing}, left(:'${v}', 14) <> 'SCRAM-SHA-256$' AS ${malformed} \\gset`,
    `\\if :${missing}`,
    '\\if :{?ovu_db_init}',
    `DO $ovu$BEGIN RAISE EXCEPTION ${quoteLiteral(notSet)}; END$ovu$;`,
    '\\else',
    `\\warn ${quoteLiteral(`init-db.sql: skipping ${title} (${verifierVar} is not in this environment); the ovu-db-init service creates it`)}`,
    '\\endif',
    `\\elif :${malformed}`,
    `DO $ovu$BEGIN RAISE EXCEPTION ${quoteLiteral(notScram)}; END$ovu$;`,
    '\\else',
    `SELECT pg_advisory_lock(${PROVISION_LOCK_KEY}) IS NOT NULL AS ${v}_locked \\gset`,
    ...APP_STATEMENTS.map((statement) => renderPsql(statement, values)),
    `SELECT pg_advisory_unlock(${PROVISION_LOCK_KEY}) AS ${v}_locked \\gset`,
    '\\endif',
    `\\unset ${v}`,
    `\\unset ${missing}`,
    `\\unset ${malformed}`,
    `\\unset ${v}_locked`,
    endMarker(slug),
  ].join('\n');
}

/** The platform block, markers included. */
export function platformBlock(): string {
  return [
    startMarker(PLATFORM_SLUG),
    '-- Platform hardening (ADR-002: no cross-database access). Keep this the LAST block in the file,',
    '-- after the ULM section and every app block, so that every database exists when it runs.',
    '-- PostgreSQL lets PUBLIC (every role) CONNECT to and create TEMPORARY tables in each new database;',
    '-- this revokes that on every database that accepts connections, template1 included (template0',
    '-- accepts none). Superusers, database owners and roles granted CONNECT explicitly (ulm_user via',
    '-- GRANT ALL PRIVILEGES ON DATABASE ulm_db) keep their access. CREATE DATABASE still works:',
    '-- database privileges are not copied from template1, so a new database starts open again until',
    '-- its own block or `create-ovu-app provision` closes it.',
    '-- No \\c needed: pg_database is a shared catalog, visible from any database. Run by a role with',
    '-- only CREATEROLE and CREATEDB, it closes the databases whose owner it can act for and leaves the',
    '-- others (postgres, template1, …) to their owner: `create-ovu-app provision` names them.',
    `SELECT pg_advisory_lock(${PROVISION_LOCK_KEY}) IS NOT NULL AS ovu_platform_locked \\gset`,
    ...PLATFORM_STATEMENTS.map((statement) => renderPsql(statement, {})),
    `SELECT pg_advisory_unlock(${PROVISION_LOCK_KEY}) AS ovu_platform_locked \\gset`,
    '\\unset ovu_platform_locked',
    endMarker(PLATFORM_SLUG),
  ].join('\n');
}

function assertSlug(slug: string): void {
  if (!SLUG_PATTERN.test(slug)) throw new Error(`invalid app slug ${JSON.stringify(slug)}`);
  if (RESERVED_SLUGS.has(slug)) {
    throw new UserError(`'${slug}' is reserved in init-db.sql for the ${slug} block; choose another app name`);
  }
}

interface Block {
  slug: string;
  /** 0-based index of the start and end marker lines. */
  start: number;
  end: number;
}

interface ParsedFile {
  /** Lines without their terminators. */
  lines: string[];
  /** Terminator of each line ('' for a last line without one). */
  terminators: string[];
  blocks: Block[];
  eol: '\n' | '\r\n';
}

/** Lines and their terminators ('\r\n', '\n', a lone '\r', or '' for a last line without one). */
function splitLines(source: string): { lines: string[]; terminators: string[] } {
  // The common case, without a lone CR: one split instead of a regex match per line (a workspace
  // with hundreds of apps has an init-db.sql of tens of thousands of lines).
  if (!/\r(?!\n)/.test(source)) {
    const lines = source.split('\n');
    const terminators = lines.map(() => '\n');
    if (lines[lines.length - 1] === '') {
      lines.pop();
      terminators.pop();
    } else terminators[terminators.length - 1] = '';
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.endsWith('\r') && terminators[i] === '\n') {
        lines[i] = line.slice(0, -1);
        terminators[i] = '\r\n';
      }
    }
    return { lines, terminators };
  }
  const lines: string[] = [];
  const terminators: string[] = [];
  const re = /([^\r\n]*)(\r\n|\n|\r)?/g;
  for (;;) {
    const at = re.lastIndex;
    const m = re.exec(source);
    if (m === null || (m[0] === '' && at >= source.length)) break;
    lines.push(m[1] ?? '');
    const terminator = m[2] ?? '';
    terminators.push(terminator);
    if (terminator === '') break;
  }
  return { lines, terminators };
}

function parse(source: string): ParsedFile {
  const { lines, terminators } = splitLines(source);
  return { lines, terminators, blocks: findBlocks(lines), eol: dominantEol(source) };
}

function findBlocks(lines: string[]): Block[] {
  const blocks: Block[] = [];
  let open: { slug: string; start: number } | undefined;
  const seen = new Map<string, number>();
  lines.forEach((raw, index) => {
    if (!raw.startsWith('--')) return;
    const line = raw.trimEnd();
    const lineNo = index + 1;
    const isStart = line.startsWith(START.trimEnd());
    const isEnd = line.startsWith(END.trimEnd());
    if (!isStart && !isEnd) return;
    const slug = line.slice((isStart ? START : END).length).trim();
    if (!line.startsWith(isStart ? START : END) || !SLUG_PATTERN.test(slug)) {
      throw new UserError(`init-db.sql line ${lineNo}: malformed create-ovu-app marker ${JSON.stringify(line)}`);
    }
    if (isStart) {
      if (open) {
        throw new UserError(
          `init-db.sql line ${lineNo}: block '${slug}' starts inside block '${open.slug}' (opened on line ${open.start + 1}, no end marker); fix the markers by hand`,
        );
      }
      const first = seen.get(slug);
      if (first !== undefined) {
        throw new UserError(
          `init-db.sql line ${lineNo}: second block for '${slug}' (the first starts on line ${first + 1}); remove one of them`,
        );
      }
      seen.set(slug, index);
      open = { slug, start: index };
      return;
    }
    if (!open) {
      throw new UserError(`init-db.sql line ${lineNo}: end marker for '${slug}' without a start marker; fix the markers by hand`);
    }
    if (open.slug !== slug) {
      throw new UserError(
        `init-db.sql line ${lineNo}: end marker for '${slug}' but the open block is '${open.slug}' (line ${open.start + 1}); fix the markers by hand`,
      );
    }
    blocks.push({ slug, start: open.start, end: index });
    open = undefined;
  });
  if (open) {
    throw new UserError(
      `init-db.sql line ${open.start + 1}: block '${open.slug}' has no end marker ("${endMarker(open.slug)}"); fix the markers by hand`,
    );
  }
  return blocks;
}

/** The app's block as it is in the file, markers included, lines joined with "\n"; undefined when it has none. */
export function initDbBlockOf(source: string, slug: string): string | undefined {
  const file = parse(source);
  const block = file.blocks.find((b) => b.slug === slug);
  return block && file.lines.slice(block.start, block.end + 1).join('\n');
}

export function listInitDbApps(source: string): string[] {
  return parse(source)
    .blocks.map((b) => b.slug)
    .filter((slug) => !RESERVED_SLUGS.has(slug));
}

/**
 * Puts one of create-ovu-app's workspace blocks (`slug`, not an app's) right before the platform
 * block, replacing where it was (an app block added since must come before it: the block may
 * need every app database); `block` undefined removes it. Lines outside it keep their bytes.
 * The file must have a platform block (editInitDb writes one with the first app).
 */
export function setWorkspaceBlock(source: string, slug: string, block: string | undefined): string {
  const file = parse(source);
  type Line = { text: string; terminator: string };
  let out: Line[] = file.lines.map((text, i) => ({ text, terminator: file.terminators[i] ?? '' }));
  const existing = file.blocks.find((b) => b.slug === slug);
  if (existing) {
    // Its trailing blank separator line goes with it.
    const end = existing.end + 1 < out.length && out[existing.end + 1]!.text.trim() === '' ? existing.end + 1 : existing.end;
    out.splice(existing.start, end - existing.start + 1);
  }
  if (block !== undefined) {
    const platform = findBlocks(out.map((l) => l.text)).find((b) => b.slug === PLATFORM_SLUG);
    if (!platform) throw new Error(`internal error: init-db.sql has no platform block to put the ${slug} block before`);
    out = [...out.slice(0, platform.start), ...[...block.split('\n'), ''].map((text) => ({ text, terminator: file.eol })), ...out.slice(platform.start)];
  }
  return out.map((l) => l.text + l.terminator).join('');
}

/**
 * A line outside create-ovu-app's blocks that creates the app's database or login itself (the
 * ADR's own init-db.sql does): the app's block would then fail under psql, so the run stops.
 */
function assertNotCreatedByHand(file: ParsedFile, spec: AppSpec): void {
  const { db, user, slug } = spec.names;
  const ident = (name: string): string => `"?${name}"?(?![\\w$])`;
  const creates = new RegExp(`\\bCREATE\\s+(?:(DATABASE)\\s+${ident(db)}|(?:USER|ROLE)\\s+${ident(user)})`, 'i');
  const inBlock = (i: number): boolean => file.blocks.some((b) => i >= b.start && i <= b.end);
  file.lines.forEach((line, i) => {
    if (inBlock(i) || line.trimStart().startsWith('--')) return;
    const m = creates.exec(line);
    if (!m) return;
    const what = m[1] ? `database ${db}` : `login ${user}`;
    throw new UserError(
      `init-db.sql:${i + 1}: your own lines already create the ${what}; remove what init-db.sql does by hand for ${slug} (its CREATE DATABASE, CREATE USER and GRANT lines, and their \\c lines), since create-ovu-app's block for ${slug} does all of it, or choose another app name`,
    );
  });
}

/** A generated block as lines. */
function blockLines(block: string): string[] {
  return block.split('\n');
}

/**
 * Add (or with force, replace) the app's block; add the platform block if the file has none.
 * `source` undefined means there is no init-db.sql yet.
 */
export function editInitDb(source: string | undefined, spec: AppSpec, opts: { force: boolean }): InitDbEdit {
  const slug = spec.names.slug;
  assertSlug(slug);
  const app = blockLines(initDbBlock(spec));
  const platform = blockLines(platformBlock());

  if (source === undefined) {
    const text = [...HEADER, '', ...app, '', ...platform, ''].join('\n');
    return {
      text,
      created: true,
      notes: [`created init-db.sql with a block for '${slug}' and the platform block`],
    };
  }

  const file = parse(source);
  assertNotCreatedByHand(file, spec);
  const { eol } = file;
  const notes: string[] = [];
  // Work on [line, terminator] pairs so untouched lines keep their exact bytes.
  type Line = { text: string; terminator: string };
  const out: Line[] = file.lines.map((text, i) => ({ text, terminator: file.terminators[i] ?? '' }));
  const generated = (lines: string[]): Line[] => lines.map((text) => ({ text, terminator: eol }));

  const existing = file.blocks.find((b) => b.slug === slug);
  const platformBlockAt = file.blocks.find((b) => b.slug === PLATFORM_SLUG);

  if (existing) {
    if (!opts.force) {
      throw new UserError(
        `init-db.sql already has a block for '${slug}' (line ${existing.start + 1}); pass --force to replace it`,
      );
    }
    const last = out[existing.end];
    const replacement = generated(app);
    // Keep the end marker's original terminator (it may be the file's last line without one).
    const tail = replacement[replacement.length - 1];
    if (tail && last) tail.terminator = last.terminator;
    out.splice(existing.start, existing.end - existing.start + 1, ...replacement);
    notes.push(`replaced the init-db.sql block for '${slug}'`);
    const shift = replacement.length - (existing.end - existing.start + 1);
    if (platformBlockAt && platformBlockAt.start > existing.start) {
      platformBlockAt.start += shift;
      platformBlockAt.end += shift;
    }
  }

  if (platformBlockAt) {
    // Refresh our own platform block in place if its text is out of date.
    const current = out.slice(platformBlockAt.start, platformBlockAt.end + 1).map((l) => l.text.trimEnd());
    if (current.join('\n') !== platform.join('\n')) {
      const last = out[platformBlockAt.end];
      const replacement = generated(platform);
      const tail = replacement[replacement.length - 1];
      if (tail && last) tail.terminator = last.terminator;
      out.splice(platformBlockAt.start, platformBlockAt.end - platformBlockAt.start + 1, ...replacement);
      platformBlockAt.end = platformBlockAt.start + replacement.length - 1;
      notes.push('updated the init-db.sql platform block');
    }
  }

  // The usual case, a new app in a file whose platform block is current and last: insert the
  // block's text before it, without rebuilding a file of thousands of lines.
  if (!existing && platformBlockAt && notes.length === 0 && file.blocks.at(-1)?.slug === PLATFORM_SLUG) {
    let offset = 0;
    for (let i = 0; i < platformBlockAt.start; i++) offset += file.lines[i]!.length + file.terminators[i]!.length;
    return {
      text: source.slice(0, offset) + [...app, ''].map((l) => l + eol).join('') + source.slice(offset),
      created: false,
      notes: [`added an init-db.sql block for '${slug}' before the platform block`],
    };
  }

  if (!existing) {
    if (platformBlockAt) {
      out.splice(platformBlockAt.start, 0, ...generated([...app, '']));
      platformBlockAt.start += app.length + 1;
      platformBlockAt.end += app.length + 1;
      notes.push(`added an init-db.sql block for '${slug}' before the platform block`);
    } else {
      const lastLine = out[out.length - 1];
      if (lastLine && lastLine.terminator === '') lastLine.terminator = eol;
      const spacer = lastLine && lastLine.text.trim() !== '' ? [''] : [];
      out.push(...generated([...spacer, ...app, '', ...platform]));
      notes.push(`added an init-db.sql block for '${slug}' and the platform block at the end`);
    }
  }

  // The platform block must be the last block: if an app block follows it, move it after the last one.
  const blocksNow = findBlocks(out.map((l) => l.text));
  const lastBlock = blocksNow[blocksNow.length - 1];
  const platformNow = blocksNow.find((b) => b.slug === PLATFORM_SLUG);
  if (platformNow && lastBlock && lastBlock.slug !== PLATFORM_SLUG) {
    const moved = out.splice(platformNow.start, platformNow.end - platformNow.start + 1);
    const insertAt = lastBlock.end - moved.length + 1;
    const movedLast = moved[moved.length - 1];
    if (movedLast) movedLast.terminator = eol;
    const before = out[insertAt - 1];
    if (before && before.terminator === '') before.terminator = eol;
    out.splice(insertAt, 0, ...generated(['']), ...moved);
    notes.push(`moved the init-db.sql platform block after the '${lastBlock.slug}' block (it must run last)`);
  }

  return { text: out.map((l) => l.text + l.terminator).join(''), created: false, notes };
}

/** The app's block as the file has it (markers included, lines joined with "\n"), or undefined. */
export function appBlockText(source: string | undefined, slug: string): string | undefined {
  if (source === undefined) return undefined;
  const file = parse(source);
  const block = file.blocks.find((b) => b.slug === slug);
  return block && file.lines.slice(block.start, block.end + 1).join('\n');
}

/**
 * Replaces the app's block with `block` (lines joined with "\n", markers included), in the file's
 * line endings; every byte outside it stays. `update` writes its merge of the block this way.
 */
export function replaceAppBlock(source: string, slug: string, block: string): string {
  const file = parse(source);
  const at = file.blocks.find((b) => b.slug === slug);
  if (!at) throw new Error(`init-db.sql has no block for '${slug}'`);
  const out = file.lines.map((text, i) => text + (file.terminators[i] ?? ''));
  const lines = block.split('\n');
  const replacement = lines.map((l, i) => l + (i === lines.length - 1 ? (file.terminators[at.end] ?? '') : file.eol));
  out.splice(at.start, at.end - at.start + 1, ...replacement);
  const text = out.join('');
  // The merged block must still be one block of this app's (a conflict inside it keeps its markers).
  findBlocks(parse(text).lines);
  return text;
}

export interface InitDbRemoval {
  /** The new content; undefined when the file is left with nothing but what create-ovu-app wrote for no app, and goes. */
  text: string | undefined;
  notes: string[];
}

/**
 * Takes the app's block out (with the blank line that separated it from the next block), leaving
 * every other byte. When no app block is left and the file is exactly the header and platform
 * block create-ovu-app wrote, the file itself goes: a workspace without database apps has none.
 */
export function removeInitDbBlock(source: string | undefined, slug: string): InitDbRemoval {
  assertSlug(slug);
  if (source === undefined) return { text: undefined, notes: [] };
  const file = parse(source);
  const block = file.blocks.find((b) => b.slug === slug);
  if (!block) return { text: source, notes: [] };
  let end = block.end;
  if (end + 1 < file.lines.length && file.lines[end + 1]!.trim() === '') end += 1;
  let offset = 0;
  for (let i = 0; i < block.start; i++) offset += file.lines[i]!.length + file.terminators[i]!.length;
  let length = 0;
  for (let i = block.start; i <= end; i++) length += file.lines[i]!.length + file.terminators[i]!.length;
  const text = source.slice(0, offset) + source.slice(offset + length);
  const notes = [`removed the init-db.sql block for '${slug}'`];
  if (onlyWhatWeWroteForNoApp(text)) return { text: undefined, notes: [...notes, 'removed init-db.sql (no app block is left in it)'] };
  return { text, notes };
}

/** The file is exactly the header and platform block create-ovu-app writes, with no app's block: it can go. */
export function onlyWhatWeWroteForNoApp(text: string): boolean {
  return listInitDbApps(text).length === 0 && text === [...HEADER, '', ...blockLines(platformBlock()), ''].join(dominantEol(text));
}
