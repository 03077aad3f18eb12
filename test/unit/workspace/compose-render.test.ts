import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_STYLE, FlowList, Quoted, blockLines, seqLines, type Y } from '../../../src/workspace/compose/render.ts';

const VALUES: Y[] = [
  'plain',
  '${VAR}',
  '8001:8000',
  new Quoted('5432:5432'),
  '20',
  20,
  true,
  'true',
  'null',
  '',
  ' leading space',
  'a: b',
  '#not a comment',
  'line\nbreak',
  'trailing\n',
  "it's \"quoted\"",
  'http://ulm:8000/a#b: c',
  '- dash',
  '*star',
  '&amp',
  'ünïcödé',
  'tab\there',
];

describe('blockLines', () => {
  it('writes every scalar on one line, and a parser reads back exactly the value', () => {
    for (const style of [DEFAULT_STYLE, { ...DEFAULT_STYLE, singleQuote: true }]) {
      const map = Object.fromEntries(VALUES.map((v, i) => [`k${i}`, v]));
      const lines = blockLines({ root: map }, 0, style);
      expect(lines).toHaveLength(VALUES.length + 1);
      const back = parse(lines.join('\n'))['root'];
      VALUES.forEach((v, i) => expect(back[`k${i}`], JSON.stringify(v)).toEqual(v instanceof Quoted ? v.value : v));
      // The same values as sequence items.
      expect(parse(['s:', ...seqLines(VALUES, 2, style)].join('\n'))['s']).toEqual(VALUES.map((v) => (v instanceof Quoted ? v.value : v)));
    }
  });

  it('lays out nested mappings, lists and flow lists in the given style', () => {
    const style = { ...DEFAULT_STYLE, step: 4, seqOffset: 0 };
    expect(blockLines({ svc: { ports: [new Quoted('1:2')], test: new FlowList([new Quoted('CMD'), 'x']), empty: [], none: null } }, 0, style)).toEqual([
      'svc:',
      '    ports:',
      '    - "1:2"',
      '    test: ["CMD", x]',
      '    empty: []',
      '    none:',
    ]);
  });
});
