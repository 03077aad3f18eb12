/**
 * A line-based three-way merge, as `git merge-file` and Copier's update do it: the changes from
 * `base` to `ours` and from `base` to `theirs` are both applied; where they touch the same or
 * adjacent lines differently, both sides are kept between git's conflict markers. node-diff3
 * (bundled, so the package keeps no runtime dependency) finds the regions.
 */
import { diff3Merge } from 'node-diff3';
import { dominantEol } from '../workspace/eol.ts';

export interface MergeLabels {
  /** After `<<<<<<< `: the team's side. */
  ours: string;
  /** After `>>>>>>> `: the template's side. */
  theirs: string;
}

export interface MergeOutcome {
  text: string;
  /** Conflicting regions written with markers (0: a clean merge). */
  conflicts: number;
}

/** Lines with their terminators, so a merge keeps each line's bytes (CRLF, a last line without one). */
export function splitKeepingEol(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

const ended = (line: string, eol: string): string => (line.endsWith('\n') ? line : line + eol);

export function mergeText(ours: string, base: string, theirs: string, labels: MergeLabels): MergeOutcome {
  // The usual cases need no diff at all.
  if (ours === base || ours === theirs) return { text: theirs, conflicts: 0 };
  if (theirs === base) return { text: ours, conflicts: 0 };
  const eol = dominantEol(ours);
  // A team whose checkout turned LF into CRLF (git's autocrlf) has changed no line by it.
  if (eol === '\r\n') [base, theirs] = [base, theirs].map((t) => (t.includes('\r') ? t : t.replace(/\n/g, '\r\n'))) as [string, string];
  if (ours === base || ours === theirs) return { text: theirs, conflicts: 0 };
  if (theirs === base) return { text: ours, conflicts: 0 };
  const regions = diff3Merge(splitKeepingEol(ours), splitKeepingEol(base), splitKeepingEol(theirs), { excludeFalseConflicts: true });
  const out: string[] = [];
  let conflicts = 0;
  for (const r of regions) {
    if (r.ok) {
      // A region that ends without a newline may be followed by more lines (the other side added after it).
      if (out.length && !out[out.length - 1]!.endsWith('\n')) out[out.length - 1] += eol;
      out.push(...r.ok);
      continue;
    }
    const c = r.conflict!;
    conflicts++;
    if (out.length) out[out.length - 1] = ended(out[out.length - 1]!, eol);
    out.push(`<<<<<<< ${labels.ours}${eol}`, ...c.a.map((l) => ended(l, eol)), `=======${eol}`, ...c.b.map((l) => ended(l, eol)), `>>>>>>> ${labels.theirs}${eol}`);
  }
  return { text: out.join(''), conflicts };
}

/** A file still holds a conflict of ours: a line that starts with the markers it writes. */
export function hasConflictMarkers(text: string): boolean {
  return /^<<<<<<< .*\r?\n(?:[^]*?\r?\n)?=======\r?\n(?:[^]*?\r?\n)?>>>>>>> /m.test(text);
}
