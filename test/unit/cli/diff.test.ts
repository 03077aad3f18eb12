import { describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../../src/cli/diff.ts';

describe('unifiedDiff', () => {
  it('shows an insertion with context and correct hunk header', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].join('\n') + '\n';
    const after = ['a', 'b', 'c', 'd', 'X', 'Y', 'e', 'f', 'g', 'h'].join('\n') + '\n';
    expect(unifiedDiff(before, after, 'f.txt')).toBe(
      ['--- a/f.txt', '+++ b/f.txt', '@@ -2,6 +2,8 @@', ' b', ' c', ' d', '+X', '+Y', ' e', ' f', ' g'].join('\n'),
    );
  });

  it('shows a replacement and separate hunks for distant changes', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `l${i}`);
    const changed = [...lines];
    changed[2] = 'two';
    changed[25] = 'twenty-five';
    const d = unifiedDiff(lines.join('\n'), changed.join('\n'), 'x');
    expect(d.match(/^@@/gm)).toHaveLength(2);
    expect(d).toContain('-l2\n+two');
    expect(d).toContain('-l25\n+twenty-five');
  });

  it('is empty of hunks when nothing changed, and treats CRLF like LF', () => {
    expect(unifiedDiff('a\r\nb\r\n', 'a\nb\n', 'x')).toBe('--- a/x\n+++ b/x');
  });
});
