/**
 * What psql would make of init-db.sql, as far as create-ovu-app can tell without running it: the
 * statements the team's own lines hold once comments are set aside (a `CREATE` and its `DATABASE`
 * may be lines apart, a comment between them), and what stops psql before it reaches a block
 * (a git merge-conflict marker, a quote or comment left open).
 */
import { UserError } from '../errors.ts';
import { hasMarkerRun } from '../merge/markers.ts';
import type { AppSpec } from '../app/spec.ts';
import { lineNumberAt, type Span } from './init-db-markers.ts';

interface Scanned {
  /** The text with every comment replaced by spaces (line breaks kept, so offsets and lines stay). */
  text: string;
  /** A string, quoted name, dollar quote or block comment still open at the end, and its line. */
  open: { what: string; line: number } | undefined;
}

const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;

/** Scans SQL as psql's lexer does for quotes and comments: '…' (with ''), "…", $tag$…$tag$, -- and nested block comments. */
export function scanSql(sql: string): Scanned {
  const out = sql.split('');
  let line = 1;
  let i = 0;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };
  const lineAt = (to: number): void => {
    for (; i < to; i++) if (sql[i] === '\n') line++;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const start = line;
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 0;
      let k = i;
      for (; k < sql.length; k++) {
        if (sql[k] === '/' && sql[k + 1] === '*') (depth++, k++);
        else if (sql[k] === '*' && sql[k + 1] === '/') {
          k++;
          if (--depth === 0) break;
        }
      }
      if (depth > 0) return { text: out.join(''), open: { what: 'a /* comment', line: start } };
      blank(i, k + 1);
      lineAt(k + 1);
    } else if (c === "'" || c === '"') {
      let k = i + 1;
      for (; k < sql.length; k++) {
        if (sql[k] === c) {
          if (sql[k + 1] === c) k++;
          else break;
        }
      }
      if (k >= sql.length) return { text: out.join(''), open: { what: c === "'" ? 'a quoted string' : 'a quoted name', line: start } };
      lineAt(k + 1);
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      // Sticky at i: no copy of the rest of the file for each `$` (that made a scan quadratic).
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql)?.[0];
      if (tag === undefined) {
        i++;
        continue;
      }
      const end = sql.indexOf(tag, i + tag.length);
      if (end === -1) return { text: out.join(''), open: { what: `a ${tag} quote`, line: start } };
      lineAt(end + tag.length);
    } else {
      if (c === '\n') line++;
      i++;
    }
  }
  return { text: out.join(''), open: undefined };
}

/** The name an identifier token stands for: a quoted one as written, an unquoted one folded to lower case. */
function identifier(token: string): string {
  return token.startsWith('"') ? token.slice(1, -1).replace(/""/g, '"') : token.toLowerCase();
}

/**
 * A statement outside create-ovu-app's blocks that creates the app's database or login itself (the
 * ADR's own init-db.sql does, also as a `SELECT 'CREATE DATABASE …' \gexec`): the app's block would
 * then fail under psql, so the run stops.
 */
export function assertNotCreatedByHand(source: string, blocks: Span[], spec: AppSpec): void {
  const { db, user, slug } = spec.names;
  // The team's lines only, without the blocks (each starts at a line's start and ends after one,
  // so no two tokens meet), comments blanked; where each piece came from, for a message's line.
  const pieces: { at: number; from: number }[] = [];
  let team = '';
  let at = 0;
  for (const b of [...blocks, { from: source.length, to: source.length }]) {
    pieces.push({ at: team.length, from: at });
    team += source.slice(at, b.from);
    at = b.to;
  }
  // A lone CR ends a line for psql too (and so a -- comment): the scan sees it as one, length kept.
  const { text } = scanSql(team.includes('\r') ? team.replace(/\r(?!\n)/g, '\n') : team);
  const creates = /\bCREATE\s+(DATABASE|USER|ROLE)\s+("(?:[^"]|"")*"|[A-Za-z_][\w$]*)/gi;
  for (const m of text.matchAll(creates)) {
    const name = identifier(m[2]!);
    const isDb = m[1]!.toUpperCase() === 'DATABASE';
    if (name !== (isDb ? db : user)) continue;
    const piece = [...pieces].reverse().find((p) => p.at <= m.index)!;
    const lineNo = lineNumberAt(source, piece.from + m.index - piece.at);
    throw new UserError(
      `init-db.sql:${lineNo}: your own lines already create the ${isDb ? `database ${db}` : `login ${user}`}; remove what init-db.sql does by hand for ${slug} (its CREATE DATABASE, CREATE USER and GRANT lines, and their \\c lines), since create-ovu-app's block for ${slug} does all of it, or choose another app name`,
    );
  }
}

/** A git merge-conflict marker line: psql stops at it with a syntax error. */
const CONFLICT = /^(?:<{7}|>{7}|\|{7})(?:\s|$)|^={7}\s*$/;

/** The file's git merge-conflict marker lines, each as a problem with its line (a cheap check: no SQL is scanned). */
export function conflictMarkers(source: string): string[] {
  const problems: string[] = [];
  // One scan of the whole file first: most files have no marker, and need no split into lines.
  if (!hasMarkerRun(source) && !source.includes('|||||||')) return problems;
  source.split(/\r?\n|\r/).forEach((l, i) => {
    if (CONFLICT.test(l)) problems.push(`init-db.sql:${i + 1}: a git merge-conflict marker (${l.slice(0, 7)}), where psql stops with a syntax error: resolve the conflict (keep one side, remove the marker lines)`);
  });
  return problems;
}

/**
 * Why psql would not run the file through (each with its line), as far as can be told without
 * running it: a merge-conflict marker, a quote or comment left open at the end.
 */
export function initDbProblems(source: string): string[] {
  const problems = conflictMarkers(source);
  const { open } = scanSql(source);
  if (open) problems.push(`init-db.sql:${open.line}: ${open.what} that is never closed, so psql runs nothing after it: close it`);
  return problems;
}
