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
import type { AppSpec } from '../app/spec.ts';
import { PLATFORM_SLUG, assertSlug, blockText, findBlocks, listInitDbApps, parse } from './init-db-markers.ts';
import { HEADER, PAST_HEADERS, blockLines, initDbBlock, platformBlock } from './init-db-blocks.ts';
import { assertNotCreatedByHand, conflictMarkers } from './init-db-sql.ts';

export { MONITORING_SLUG, PLATFORM_SLUG, appBlockText, initDbBlockOf, listInitDbApps } from './init-db-markers.ts';
export { initDbBlock, platformBlock } from './init-db-blocks.ts';
export { initDbProblems } from './init-db-sql.ts';

export interface InitDbEdit {
  /** The new file content. */
  text: string;
  /** True when there was no file and this is a new one. */
  created: boolean;
  /** What changed, one line each, for the summary. */
  notes: string[];
}

/**
 * Puts one of create-ovu-app's workspace blocks (`slug`, not an app's) right before the platform
 * block, replacing where it was (an app block added since must come before it: the block may
 * need every app database); `block` undefined removes it. Lines outside it keep their bytes.
 * The file must have a platform block (editInitDb writes one with the first app).
 */
export function setWorkspaceBlock(source: string, slug: string, block: string | undefined): string {
  const blocks = findBlocks(source);
  const existing = blocks.find((b) => b.slug === slug);
  // The edit is two slices of the file, not a rebuilt one: its size does not matter.
  const cut = existing ? { from: existing.from, to: withBlankAfter(source, existing.to) } : { from: source.length, to: source.length };
  let insert = { offset: cut.from, text: '' };
  if (block !== undefined) {
    const platform = blocks.find((b) => b.slug === PLATFORM_SLUG && b.slug !== slug);
    if (!platform) throw new Error(`internal error: init-db.sql has no platform block to put the ${slug} block before`);
    const eol = dominantEol(source);
    insert = { offset: platform.from, text: [...block.split('\n'), ''].map((l) => l + eol).join('') };
  }
  if (insert.offset <= cut.from) return source.slice(0, insert.offset) + insert.text + source.slice(insert.offset, cut.from) + source.slice(cut.to);
  return source.slice(0, cut.from) + source.slice(cut.to, insert.offset) + insert.text + source.slice(insert.offset);
}

/** `at` moved past the line that starts there when that line is blank (a block's separator goes with it). */
function withBlankAfter(source: string, at: number): number {
  const m = /[ \t\f\v]*(?:\r\n|\n|\r|$)/y;
  m.lastIndex = at;
  return m.exec(source) ? m.lastIndex : at;
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
  // Our platform block as this version writes it (trailing spaces an editor added do not count).
  const isCurrentPlatform = (lines: string[]): boolean => lines.map((l) => l.trimEnd()).join('\n') === platform.join('\n');

  if (source === undefined) {
    const text = [...HEADER, '', ...app, '', ...platform, ''].join('\n');
    return {
      text,
      created: true,
      notes: [`created init-db.sql with a block for '${slug}' and the platform block`],
    };
  }

  // A conflict left in it would stop psql before any block: the file is not rewritten until it is resolved.
  const [conflict] = conflictMarkers(source);
  if (conflict) throw new UserError(`${conflict}, then run again; nothing was written.`);
  const blocks = findBlocks(source);
  assertNotCreatedByHand(source, blocks, spec);
  const existing = blocks.find((b) => b.slug === slug);
  const platformAt = blocks.find((b) => b.slug === PLATFORM_SLUG);
  const eol = dominantEol(source);

  // The usual case, a new app in a file whose platform block is current and last: the block's text
  // goes in before it, without splitting a file of thousands of lines.
  if (!existing && platformAt && blocks.at(-1) === platformAt && isCurrentPlatform(blockText(source, platformAt).split('\n'))) {
    return {
      text: source.slice(0, platformAt.from) + [...app, ''].map((l) => l + eol).join('') + source.slice(platformAt.from),
      created: false,
      notes: [`added an init-db.sql block for '${slug}' before the platform block`],
    };
  }

  const file = parse(source);
  const notes: string[] = [];
  const existingLines = file.blocks.find((b) => b.slug === slug);
  // Work on [line, terminator] pairs so untouched lines keep their exact bytes.
  type Line = { text: string; terminator: string };
  const out: Line[] = file.lines.map((text, i) => ({ text, terminator: file.terminators[i] ?? '' }));
  const generated = (lines: string[]): Line[] => lines.map((text) => ({ text, terminator: eol }));

  const platformBlockAt = file.blocks.find((b) => b.slug === PLATFORM_SLUG);

  if (existingLines) {
    if (!opts.force) {
      throw new UserError(
        `init-db.sql already has a block for '${slug}' (line ${existingLines.start + 1}); pass --force to replace it`,
      );
    }
    const last = out[existingLines.end];
    const replacement = generated(app);
    // Keep the end marker's original terminator (it may be the file's last line without one).
    const tail = replacement[replacement.length - 1];
    if (tail && last) tail.terminator = last.terminator;
    out.splice(existingLines.start, existingLines.end - existingLines.start + 1, ...replacement);
    notes.push(`replaced the init-db.sql block for '${slug}'`);
    const shift = replacement.length - (existingLines.end - existingLines.start + 1);
    if (platformBlockAt && platformBlockAt.start > existingLines.start) {
      platformBlockAt.start += shift;
      platformBlockAt.end += shift;
    }
  }

  if (platformBlockAt) {
    // Refresh our own platform block in place if its text is out of date.
    if (!isCurrentPlatform(out.slice(platformBlockAt.start, platformBlockAt.end + 1).map((l) => l.text))) {
      const last = out[platformBlockAt.end];
      const replacement = generated(platform);
      const tail = replacement[replacement.length - 1];
      if (tail && last) tail.terminator = last.terminator;
      out.splice(platformBlockAt.start, platformBlockAt.end - platformBlockAt.start + 1, ...replacement);
      platformBlockAt.end = platformBlockAt.start + replacement.length - 1;
      notes.push('updated the init-db.sql platform block');
    }
  }

  if (!existingLines) {
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
  const blocksNow = parse(out.map((l) => l.text + l.terminator).join('')).blocks;
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
  findBlocks(text);
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
  const block = findBlocks(source).find((b) => b.slug === slug);
  if (!block) return { text: source, notes: [] };
  const text = source.slice(0, block.from) + source.slice(withBlankAfter(source, block.to));
  const notes = [`removed the init-db.sql block for '${slug}'`];
  if (onlyWhatWeWroteForNoApp(text)) return { text: undefined, notes: [...notes, 'removed init-db.sql (no app block is left in it)'] };
  return { text, notes };
}

/** The file is exactly the header and platform block create-ovu-app writes, with no app's block: it can go. */
export function onlyWhatWeWroteForNoApp(text: string): boolean {
  if (listInitDbApps(text).length !== 0) return false;
  const eol = dominantEol(text);
  return [HEADER, ...PAST_HEADERS].some((header) => text === [...header, '', ...blockLines(platformBlock()), ''].join(eol));
}
