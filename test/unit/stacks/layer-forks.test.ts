import { describe, expect, it } from 'vitest';
import { templateFiles, type TemplateFileOnDisk } from '../../helpers/template-files.ts';

/**
 * No fork between template layers: a file of one layer (crud, readonly, common) that is mostly the
 * same as a file of another layer of the same stack is a copy, where every fix must be made twice.
 * What the layers share belongs in `common`, what differs in small files of the kinds' own layers.
 */
export const MAX_SHARED = 0.8;

/** The template trees held to it (a stack's directory under templates/). Widen as the forks go. */
export const CHECKED = ['deploy'];

/** Lines two texts share in order (longest common subsequence), over their mean length: 1 = the same file. */
export function similarity(a: string, b: string): number {
  const x = a.split('\n').map((l) => l.trim()).filter(Boolean);
  const y = b.split('\n').map((l) => l.trim()).filter(Boolean);
  if (x.length === 0 || y.length === 0) return 0;
  let prev = new Array<number>(y.length + 1).fill(0);
  for (const line of x) {
    const cur = new Array<number>(y.length + 1).fill(0);
    for (let j = 0; j < y.length; j++) cur[j + 1] = line === y[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, cur[j]!);
    prev = cur;
  }
  return (2 * prev[y.length]!) / (x.length + y.length);
}

/** Pairs of files in different layers of one stack that are at least `max` the same. */
export function forks(files: TemplateFileOnDisk[], stacks: string[], max = MAX_SHARED): string[] {
  const found: string[] = [];
  for (const stack of stacks) {
    const own = files.filter((f) => f.stack === stack);
    for (const [i, a] of own.entries()) {
      for (const b of own.slice(i + 1)) {
        if (a.layer === b.layer) continue;
        const s = similarity(a.source, b.source);
        if (s >= max) found.push(`${a.name} and ${b.name} are ${Math.round(s * 100)}% the same`);
      }
    }
  }
  return found;
}

describe('template layers do not fork', () => {
  it(`no file of a layer is ${MAX_SHARED * 100}% or more the same as another layer's (${CHECKED.join(', ')})`, () => {
    expect(forks(templateFiles(), CHECKED)).toEqual([]);
  });

  it('finds a copied file, and only one that is mostly the same', () => {
    const file = (layer: string, source: string): TemplateFileOnDisk => ({ stack: 's', layer, rel: 'a.txt', name: `s/${layer}/a.txt`, source });
    const ten = Array.from({ length: 10 }, (_, i) => `line ${i}`);
    expect(forks([file('crud', ten.join('\n')), file('readonly', [...ten.slice(0, 9), 'other'].join('\n'))], ['s'])).toEqual(['s/crud/a.txt and s/readonly/a.txt are 90% the same']);
    expect(forks([file('crud', ten.join('\n')), file('readonly', [...ten.slice(0, 7), 'x', 'y', 'z'].join('\n'))], ['s'])).toEqual([]);
  });
});
