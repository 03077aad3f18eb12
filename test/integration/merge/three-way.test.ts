import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hasConflictMarkers, mergeText, splitKeepingEol } from '../../../src/merge/three-way.ts';

const labels = { ours: 'yours', theirs: 'create-ovu-app 0.2.0' };
const lines = (...l: string[]) => l.map((x) => `${x}\n`).join('');

describe('mergeText', () => {
  it('takes theirs when the team changed nothing, and ours when the template changed nothing', () => {
    expect(mergeText('a\n', 'a\n', 'b\n', labels)).toEqual({ text: 'b\n', conflicts: 0 });
    expect(mergeText('b\n', 'a\n', 'a\n', labels)).toEqual({ text: 'b\n', conflicts: 0 });
    expect(mergeText('b\n', 'a\n', 'b\n', labels)).toEqual({ text: 'b\n', conflicts: 0 });
  });

  it('applies both sides when they change different lines', () => {
    const base = lines('one', 'two', 'three', 'four', 'five');
    const ours = lines('ONE', 'two', 'three', 'four', 'five', 'six');
    const theirs = lines('one', 'two', 'three', 'FOUR', 'five');
    expect(mergeText(ours, base, theirs, labels)).toEqual({ text: lines('ONE', 'two', 'three', 'FOUR', 'five', 'six'), conflicts: 0 });
  });

  it('writes git conflict markers where both change the same line', () => {
    const base = lines('a', 'port = 8001', 'z');
    const ours = lines('a', 'port = 9000', 'z');
    const theirs = lines('a', 'port = 8020', 'z');
    const r = mergeText(ours, base, theirs, labels);
    expect(r.conflicts).toBe(1);
    expect(r.text).toBe(lines('a', '<<<<<<< yours', 'port = 9000', '=======', 'port = 8020', '>>>>>>> create-ovu-app 0.2.0', 'z'));
    expect(hasConflictMarkers(r.text)).toBe(true);
    expect(hasConflictMarkers(ours)).toBe(false);
  });

  it('is not a conflict when both make the same change', () => {
    const base = lines('a', 'b', 'c');
    const both = lines('a', 'B', 'c');
    expect(mergeText(lines('x', 'a', 'B', 'c'), base, both, labels)).toEqual({ text: lines('x', 'a', 'B', 'c'), conflicts: 0 });
  });

  it('keeps CRLF line endings and a last line without one', () => {
    const base = 'a\r\nb\r\nc';
    const ours = 'A\r\nb\r\nc';
    const theirs = 'a\r\nb\r\nC';
    expect(mergeText(ours, base, theirs, labels)).toEqual({ text: 'A\r\nb\r\nC', conflicts: 0 });
    const conflict = mergeText('a\r\nX\r\n', 'a\r\nb\r\n', 'a\r\nY\r\n', labels);
    expect(conflict.text).toBe('a\r\n<<<<<<< yours\r\nX\r\n=======\r\nY\r\n>>>>>>> create-ovu-app 0.2.0\r\n');
  });

  it("merges a CRLF checkout of LF templates line by line, in the checkout's line endings", () => {
    const r = mergeText('a\r\nB\r\nc\r\nd\r\n', 'a\nb\nc\nd\n', 'a\nb\nc\nD\n', labels);
    expect(r).toEqual({ text: 'a\r\nB\r\nc\r\nD\r\n', conflicts: 0 });
    expect(mergeText('a\r\nb\r\n', 'a\nb\n', 'a\nB\n', labels)).toEqual({ text: 'a\r\nB\r\n', conflicts: 0 });
  });

  it('splits into lines with their endings and joins back to the same bytes', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '\n', '\r') }), (s) => {
      expect(splitKeepingEol(s).join('')).toBe(s);
    }));
  });

  // git merge-file is the reference: where both merge cleanly, to the same text. (Where one side's
  // edit can be aligned two ways, git and diff3 may choose differently, so a conflict is not compared.)
  it('agrees with git merge-file on random edits of a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-merge-'));
    const edit = (base: string[], ops: { at: number; kind: number; text: string }[]): string[] => {
      const out = [...base];
      for (const op of ops) {
        const at = op.at % (out.length + 1);
        if (op.kind === 0) out.splice(at, 0, op.text);
        else if (op.kind === 1 && at < out.length) out.splice(at, 1);
        else if (at < out.length) out[at] = op.text;
      }
      return out;
    };
    const opArb = fc.array(fc.record({ at: fc.nat(40), kind: fc.nat(2), text: fc.constantFrom('x', 'y', 'z') }), { maxLength: 4 });
    const stats = { both: 0, conflicts: 0 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), opArb, opArb, (n, o, t) => {
        // Distinct lines, as source files mostly have: a line's place is then never ambiguous.
        const baseLines = Array.from({ length: n }, (_, i) => `line ${i}`);
        const join = (l: string[]) => l.map((x) => `${x}\n`).join('');
        const [base, ours, theirs] = [join(baseLines), join(edit(baseLines, o)), join(edit(baseLines, t))];
        fs.writeFileSync(path.join(dir, 'o'), ours);
        fs.writeFileSync(path.join(dir, 'b'), base);
        fs.writeFileSync(path.join(dir, 't'), theirs);
        let merged: string | undefined;
        try {
          merged = execFileSync('git', ['merge-file', '-p', path.join(dir, 'o'), path.join(dir, 'b'), path.join(dir, 't')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        } catch {
          merged = undefined;
        }
        const r = mergeText(ours, base, theirs, labels);
        const why = `base ${JSON.stringify(base)} ours ${JSON.stringify(ours)} theirs ${JSON.stringify(theirs)} -> ${JSON.stringify(r.text)} / git ${JSON.stringify(merged)}`;
        if (merged !== undefined && r.conflicts === 0) {
          stats.both++;
          expect(r.text, why).toBe(merged);
        }
        if (r.conflicts > 0) {
          stats.conflicts++;
          expect(hasConflictMarkers(r.text), why).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
    fs.rmSync(dir, { recursive: true, force: true });
    // Both kinds of outcome were exercised, not only the easy one.
    expect(stats.both).toBeGreaterThan(40);
    expect(stats.conflicts).toBeGreaterThan(20);
  }, 60_000);
});
