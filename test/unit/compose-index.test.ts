/**
 * The fast path (compose-index.ts: no parsing) against the full one (compose-edit.ts: parse,
 * splice, verify): for every file and app sequence here, both must write the same bytes, report
 * the same notes, and the index the fast path computes for its result must be the one a full
 * parse of that result gives. The emitter is held to the `yaml` package scalar by scalar.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createCompose, editCompose as fullEdit, indexCompose, yamlScalars } from '../../src/compose-edit.ts';
import { createComposeFast, editComposeFast, type ComposeIndex } from '../../src/compose-index.ts';
import { DEFAULT_STYLE, NotSimple, Quoted, simpleScalars, type Style, type Y } from '../../src/compose-model.ts';
import { editCompose, inspectCompose, rememberCompose } from '../../src/compose.ts';
import { cacheDir, loadIndex } from '../../src/compose-cache.ts';
import type { AppSpec, Kind } from '../../src/types.ts';
import { appSpec } from '../helpers/spec.ts';

const FILE = 'docker-compose.yml';
const fixture = (name: string): string => fs.readFileSync(new URL(`../fixtures/compose/${name}`, import.meta.url), 'utf8');

function spec(slug: string, port: number, kind: Kind = 'crud', ulmUrl = 'http://ulm-backend:8000', pool = { size: 20, maxOverflow: 10, timeout: 30 }): AppSpec {
  return appSpec(slug, { port, kind, ulmUrl, pool });
}

/** A small deterministic PRNG, so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const ULM_URLS = ['http://ulm-backend:8000', 'http://ulm:8000/api/v1', 'https://ulm.example.com', 'http://10.0.0.5:8000', 'http://ulm:8000/?a=b&c=d', 'http://ulm:8000/#frag', 'http://user@ulm:8000'];

function randomSpec(r: () => number, i: number): AppSpec {
  const slug = `${pick(r, ['orders', 'inventory', 'billing', 'user-prefs', 'a', 'x9'])}${i}`;
  const kind = r() < 0.75 ? 'crud' : 'readonly';
  const pool = { size: 1 + Math.floor(r() * 50), maxOverflow: Math.floor(r() * 20), timeout: 1 + Math.floor(r() * 60) };
  return spec(slug, 8001 + Math.floor(r() * 900), kind, pick(r, ULM_URLS), pool);
}

describe('the built-in emitter', () => {
  const styles: Style[] = [
    DEFAULT_STYLE,
    { ...DEFAULT_STYLE, singleQuote: true },
    { ...DEFAULT_STYLE, flowPadding: true },
    { ...DEFAULT_STYLE, singleQuote: true, flowPadding: true },
  ];
  const corpus = [
    '10', '5s', '100ms', 'abc', '${X}', '${A:-b}', 'postgresql://u:${P}@pg:5432/db', 'http://ulm:8000', './a/backend', '/var/lib',
    'a b', 'a: b', 'a #b', 'abc:', 'yes', 'true', 'True', 'tRuE', 'null', 'NULL', '~', '1e3', '0x1f', '.5', '.inf', '-a', 'a,b', 'a[b]',
    "it's", '@x', '`x', '%x', '!x', '&x', '*x', '?x', '|x', '>x', '#x', "'x", '"x', '{x}', '[x]', 'x}', ',x', '', ' x', 'x ', '1_000',
    '+1', '12:30', 'a\tb', 'é', '5432:5432', 'x=y', 'a%20b', 'a#b', 'a:b', 'NaN', 'Infinity', 'on', 'y', 'service_healthy', 'postgres:15',
  ];
  const alphabet = 'abXY09_./:@${}=%+-#\'" \t,[]!&*?|>~é';
  const r = rng(7);
  const random = Array.from({ length: 3000 }, () => Array.from({ length: Math.floor(r() * 10) }, () => pick(r, [...alphabet])).join(''));
  const values: Y[] = [...corpus, ...random, ...[...corpus, ...random].map((s) => new Quoted(s)), 0, -0, 42, -7, 3.5, true, false, null];

  it('writes a scalar exactly as the yaml package does, or declines it', () => {
    let written = 0;
    for (const style of styles) {
      for (const v of values) {
        for (const ctx of ['block', 'flow'] as const) {
          let ours: string;
          try {
            ours = simpleScalars[ctx](v, style);
          } catch (e) {
            expect(e).toBeInstanceOf(NotSimple);
            continue;
          }
          written++;
          expect(ours, `${ctx} ${JSON.stringify(v)} ${JSON.stringify(style)}`).toBe(yamlScalars[ctx](v, style));
          const back = parse(ctx === 'block' ? `k: ${ours}\n` : `[${ours}]\n`) as Record<string, unknown> | unknown[];
          const expected = v instanceof Quoted ? v.value : v;
          expect(ctx === 'block' ? (back as Record<string, unknown>)['k'] : (back as unknown[])[0]).toEqual(expected);
        }
      }
    }
    // It must handle far more than nothing: every value our fragments use, and many others.
    expect(written).toBeGreaterThan(4000);
  });

  it('writes every value of an ordinary app itself', () => {
    for (const kind of ['crud', 'readonly'] as const) {
      expect(() => createComposeFast(spec('inventory', 8010, kind), FILE)).not.toThrow();
    }
  });
});

describe('creating a compose file without parsing', () => {
  it('writes what the verified full path writes, and indexes it as a parse would', () => {
    const r = rng(11);
    let fast = 0;
    for (let i = 0; i < 60; i++) {
      const s = randomSpec(r, i);
      const full = createCompose(s, FILE);
      let ours;
      try {
        ours = createComposeFast(s, FILE);
      } catch (e) {
        expect(e).toBeInstanceOf(NotSimple);
        continue;
      }
      fast++;
      expect(ours.text).toBe(full.text);
      expect(ours.notes).toEqual(full.notes);
      expect(ours.ulmTokenVar).toEqual(full.ulmTokenVar);
      expect(ours.index).toEqual(full.index);
      expect(ours.index).toEqual(indexCompose(ours.text, FILE));
    }
    expect(fast).toBeGreaterThan(40);
  });
});

/** Files to add apps to, in the styles users write. */
const SEEDS: Record<string, string> = {
  'created (crud)': createCompose(spec('first', 8001), FILE).text,
  'created (readonly)': createCompose(spec('first', 8001, 'readonly'), FILE).text,
  'created, CRLF': createCompose(spec('first', 8001), FILE).text.replace(/\n/g, '\r\n'),
  'ADR-002 example': fixture('adr.yml'),
  'four spaces, unindented sequences': fixture('four-space.yml'),
  commented: fixture('commented.yml'),
  'commented, CRLF': fixture('commented-crlf.yml'),
  'list environment': fixture('list-env.yml'),
  'flat sequences': fixture('flat-seq.yml'),
  'no postgres': fixture('no-postgres.yml'),
  'single quotes, env last in the last service': [
    'services:',
    '  api:',
    '    image: nginx',
    "    ports: ['8080:80']",
    '  db:',
    '    image: postgres:16',
    '    volumes:',
    "      - './init-db.sql:/docker-entrypoint-initdb.d/init-db.sql'",
    '    healthcheck:',
    "      test: ['CMD', 'pg_isready']",
    '    environment:',
    "      POSTGRES_PASSWORD: 'x'",
    '      # more to come',
    '',
  ].join('\n'),
  'byte order mark, document markers': '\uFEFF---\n' + createCompose(spec('first', 8001), FILE).text + '...\n',
  'trailing comments and blank lines': createCompose(spec('first', 8001), FILE).text.replace('\nvolumes:', '\n  # the next service goes here\n\n\n# volumes\nvolumes:') + '# end\n',
};

const ANCHORED = new Set(['commented', 'commented, CRLF']);

describe('adding apps through the index', () => {
  for (const [name, seed] of Object.entries(SEEDS)) {
    it(`matches the full path byte for byte: ${name}`, () => {
      const r = rng(name.length * 97);
      let text = seed;
      let index: ComposeIndex | undefined = indexCompose(text, FILE);
      let fastEdits = 0;
      for (let i = 0; i < 8; i++) {
        const s = randomSpec(r, i);
        const full = fullEdit(text, s, { fileName: FILE, force: false });
        let ours;
        try {
          ours = index && editComposeFast(text, index, s);
        } catch (e) {
          expect(e).toBeInstanceOf(NotSimple);
        }
        if (ours) {
          fastEdits++;
          expect(ours.text).toBe(full.text);
          expect(ours.notes).toEqual(full.notes);
          expect(ours.ulmTokenVar).toEqual(full.ulmTokenVar);
          expect(ours.index).toEqual(full.index);
        }
        text = full.text;
        index = full.index;
      }
      // Anchors and merge keys keep a file on the full path (an edit must not change what an
      // alias shares); crud apps need the full path to add a missing postgres.
      if (ANCHORED.has(name)) expect(fastEdits).toBe(0);
      else expect(fastEdits).toBeGreaterThan(name === 'no postgres' ? 0 : 3);
    });
  }

  it('is not made for files it cannot extend', () => {
    expect(indexCompose(fixture('no-trailing-newline.yml'), FILE)).toBeUndefined();
    expect(indexCompose(fixture('flow-postgres.yml'), FILE)?.postgres ?? null).toBeNull();
    const anchors = 'x-common: &common\n  restart: always\nservices:\n  api:\n    <<: *common\n    image: nginx\n';
    expect(indexCompose(anchors, FILE)).toBeUndefined();
    expect(indexCompose('services:\n  api:\n    image: nginx\n  n:\n    image: x\n    command: [".inf"]\n    cpus: .inf\n', FILE)).toBeUndefined();
    // Block scalars: `|+` keeps the blank lines after it, so an insertion there would change the
    // value, and lines inside one can look like comments or separators (found by a fuzzing review).
    const pgBase = createCompose(spec('first', 8001), FILE).text;
    for (const scalar of ['|', '|+', '>', '>-']) {
      const withScalar = pgBase.replace('\nvolumes:', `\n  web:\n    image: nginx\n    command: ${scalar}\n      echo hi\n\n      # not a comment\n\nvolumes:`);
      expect(indexCompose(withScalar, FILE), scalar).toBeUndefined();
    }
  });

  it('leaves a service that exists, and a missing postgres, to the full path', () => {
    const created = createComposeFast(spec('orders', 8001), FILE);
    expect(editComposeFast(created.text, created.index!, spec('orders', 8002))).toBeUndefined();
    const readonly = createComposeFast(spec('viewer', 8001, 'readonly'), FILE);
    expect(editComposeFast(readonly.text, readonly.index!, spec('orders', 8002))).toBeUndefined();
    expect(editComposeFast(readonly.text, readonly.index!, spec('reports', 8002, 'readonly'))).toBeDefined();
  });
});

describe('the index cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-cache-test-'));
    process.env['OVU_CACHE_DIR'] = dir;
  });
  afterEach(() => {
    process.env['OVU_CACHE_DIR'] = 'off';
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds the index of the file the last run wrote, and only of that exact text', async () => {
    const first = await editCompose(undefined, spec('orders', 8001), { fileName: FILE, force: false });
    expect(loadIndex(first.text)).toBeUndefined();
    rememberCompose(first);
    expect(loadIndex(first.text)).toEqual(first.index);
    expect(loadIndex(first.text + '# edited by hand\n')).toBeUndefined();

    const second = await editCompose(first.text, spec('billing', 8002), { fileName: FILE, force: false });
    expect(second.text).toBe(fullEdit(first.text, spec('billing', 8002), { fileName: FILE, force: false }).text);
    expect((await inspectCompose(first.text, FILE)).services).toEqual(['postgres', 'orders-backend']);
  });

  it('treats a damaged or foreign entry as a miss', () => {
    const first = createComposeFast(spec('orders', 8001), FILE);
    rememberCompose(first);
    const [entry] = fs.readdirSync(path.join(dir, 'compose'));
    fs.writeFileSync(path.join(dir, 'compose', entry!), '{"key":"someone else"');
    expect(loadIndex(first.text)).toBeUndefined();
    fs.writeFileSync(path.join(dir, 'compose', entry!), JSON.stringify({ key: 'someone else', index: first.index }));
    expect(loadIndex(first.text)).toBeUndefined();
  });

  it('treats an entry whose offsets or style do not fit the text as a miss', () => {
    const first = createComposeFast(spec('orders', 8001), FILE);
    const index = first.index!;
    const variants: ComposeIndex[] = [
      { ...index, services: { ...index.services, at: index.services.at - 1 } },
      { ...index, services: { ...index.services, at: first.text.length + 10 } },
      { ...index, postgres: { ...index.postgres!, envAt: index.postgres!.envAt + 3 } },
      { ...index, style: { ...index.style, eol: 'x' } },
      { ...index, js: { version: '3' } },
    ];
    for (const variant of variants) {
      rememberCompose({ ...first, index: variant });
      expect(loadIndex(first.text), JSON.stringify(variant).slice(0, 200)).toBeUndefined();
    }
    rememberCompose(first);
    expect(loadIndex(first.text)).toEqual(index);
  });

  it('keeps the newest entries only', () => {
    for (let i = 0; i < 40; i++) rememberCompose(createComposeFast(spec(`app${i}`, 8001 + i), FILE));
    expect(fs.readdirSync(path.join(dir, 'compose')).length).toBeLessThanOrEqual(32);
  });

  it('is off with OVU_CACHE_DIR=off, and under the user cache directory by default', () => {
    expect(cacheDir({ OVU_CACHE_DIR: 'off' }, 'b1')).toBeUndefined();
    expect(cacheDir({ OVU_CACHE_DIR: '' }, 'b1')).toBeUndefined();
    expect(cacheDir({ OVU_CACHE_DIR: '/x/mine' }, 'b1')).toBe(path.resolve('/x/mine'));
    if (process.platform === 'linux') expect(cacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'b1')).toBe('/x/cache/create-ovu-app');
    // Unbundled sources change without a build id: they use a cache only when told where.
    expect(cacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'source')).toBeUndefined();
  });
});
