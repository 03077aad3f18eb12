import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { STACKS as STACK_TABLE } from '../../../src/stacks/index.ts';
import { stackLayers } from '../../../src/stacks/stack.ts';
import { PARTIALS_DIR } from '../../../src/stacks/render.ts';
import { SYNC_TEMPLATE_ROOTS, TEMPLATES_DIR } from '../../../src/stacks/template-source.ts';
import { CI_DIR, DEPLOY_DIR, INTERPOLATION, KINDS, STACKS, kindsOf, sampleContext, stacksOf, templateFiles } from '../../helpers/template-files.ts';

/**
 * The rules templates/ keeps, so that each template reads as the file it renders to: a template
 * only interpolates values (`{{app.slug}}`) that src/stacks/render.ts computes; it never branches.
 * What differs per kind is a file of that kind's layer (templates/<stack>/crud or readonly), not an
 * `{{#if}}`/`{{else}}` inside a common one. (That each file is valid code in its language is
 * checked in test/integration/stacks/template-syntax.test.ts, which runs Python.)
 */

/** Lines of `source` holding an `{{else}}` (also `{{else if …}}`, `{{^}}`, with `~`). */
function elseTags(source: string): number[] {
  return [...source.matchAll(/\{\{~?\s*(?:else(?:\s[^}]*)?|\^)\s*~?\}\}/g)].map((m) => source.slice(0, m.index).split('\n').length);
}

/** `{{> name}}`: a kind's partial (src/stacks/render.ts), with no arguments. */
function partialName(node: hbs.AST.Statement): string | undefined {
  if (node.type !== 'PartialStatement') return undefined;
  const p = node as hbs.AST.PartialStatement;
  return p.name.type === 'PathExpression' && p.params.length === 0 && !p.hash ? (p.name as hbs.AST.PathExpression).original : undefined;
}

/** A statement of the template is a plain interpolation: `{{name}}` or `{{a.b}}`, nothing else. */
function isInterpolation(node: hbs.AST.Statement): boolean {
  if (node.type !== 'MustacheStatement') return false;
  const m = node as hbs.AST.MustacheStatement;
  return (
    m.path.type === 'PathExpression' &&
    /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test((m.path as hbs.AST.PathExpression).original) &&
    m.params.length === 0 &&
    !m.hash &&
    m.escaped &&
    !m.strip.open &&
    !m.strip.close
  );
}

/**
 * Everything in `source` that is neither text nor a plain interpolation (nor a partial in
 * `partials`), as `line N: <tag>`.
 */
function nonInterpolations(source: string, partials: ReadonlySet<string> = new Set()): string[] {
  const lines = source.split('\n');
  return Handlebars.parse(source)
    .body.filter((node) => node.type !== 'ContentStatement' && !isInterpolation(node) && !partials.has(partialName(node) ?? ''))
    .map(({ loc }) => {
      const line = lines[loc.start.line - 1] ?? '';
      const tag = line.slice(loc.start.column, loc.start.line === loc.end.line ? loc.end.column : undefined);
      return `line ${loc.start.line}: ${tag.length > 60 ? `${tag.slice(0, 60)}…` : tag}`;
    });
}

const FILES = templateFiles();

/** The partials (`<kind>/partials/<name>`) that every kind layer of `stack` has. */
function kindPartials(stack: string): Set<string> {
  const of = (kind: string) => FILES.filter((f) => f.stack === stack && f.layer === kind && f.rel.startsWith(PARTIALS_DIR)).map((f) => f.rel.slice(PARTIALS_DIR.length));
  const [first = [], ...rest] = KINDS.map(of);
  return new Set(first.filter((name) => rest.every((names) => names.includes(name))));
}

/** How alike two files are, 0..1: twice the lines they share (as multisets) over all their lines. */
export function likeness(a: string, b: string): number {
  const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const left = lines(a);
  const right = lines(b);
  const counts = new Map<string, number>();
  for (const l of left) counts.set(l, (counts.get(l) ?? 0) + 1);
  let shared = 0;
  for (const l of right) {
    const n = counts.get(l) ?? 0;
    if (n > 0) {
      shared++;
      counts.set(l, n - 1);
    }
  }
  return left.length + right.length === 0 ? 1 : (2 * shared) / (left.length + right.length);
}

describe('the rules themselves', () => {
  it('find every {{else}}', () => {
    expect(elseTags('{{#if crud}}a{{else}}b{{/if}}')).toEqual([1]);
    expect(elseTags('{{#if crud}}\na\n{{^}}\nb\n{{/if}}')).toEqual([3]);
    expect(elseTags('{{#if a}}\n{{~else if b~}}\n{{/if}}')).toEqual([2]);
    expect(elseTags('x = "{{app.slug}}"  # {{elsewhere}}\n')).toEqual([]);
  });

  it('let only plain interpolations through', () => {
    expect(nonInterpolations('name = "{{app.slug}}"\nport = {{port}}\n')).toEqual([]);
    expect(nonInterpolations('a\n{{#if crud}}\nb\n{{/if}}\n')).toEqual(['line 2: {{#if crud}}']);
    expect(nonInterpolations('{{^readonly}}b{{/readonly}}')).toHaveLength(1);
    expect(nonInterpolations('{{> header}}')).toHaveLength(1);
    expect(nonInterpolations('{{> header}}', new Set(['header']))).toEqual([]);
    expect(nonInterpolations('{{> header x=1}}', new Set(['header']))).toHaveLength(1);
    expect(nonInterpolations('{{!-- note --}}')).toHaveLength(1);
    expect(nonInterpolations('{{{app.slug}}} {{~port}} {{lookup app "slug"}} {{@root.port}}')).toHaveLength(4);
  });
});

describe('template layers', () => {
  it('are common, crud and readonly for each stack and for deploy/, none of them empty (and each stack has its CI workflow)', () => {
    // ulm-dev/ (the development ULM, a derived workspace kind) has one layer, common.
    expect(fs.readdirSync(TEMPLATES_DIR).sort()).toEqual([DEPLOY_DIR, ...STACKS, ...SYNC_TEMPLATE_ROOTS].sort());
    for (const root of SYNC_TEMPLATE_ROOTS) expect(fs.readdirSync(path.join(TEMPLATES_DIR, root))).toEqual(['common']);
    for (const stack of STACKS) expect(STACK_TABLE[stack].ciWorkflow, stack).toBe(`${stack}/${CI_DIR}/workflow.yml`);
    for (const stack of [...STACKS, DEPLOY_DIR]) {
      const layers = fs.readdirSync(path.join(TEMPLATES_DIR, stack)).filter((d) => d !== CI_DIR);
      expect(layers.sort(), stack).toEqual(['common', ...KINDS]);
      for (const layer of ['common', ...KINDS]) {
        expect(FILES.filter((f) => f.stack === stack && f.layer === layer).length, `${stack}/${layer}`).toBeGreaterThan(0);
      }
    }
  });

  it('are what a stack and kind render: common, then the kind', () => {
    for (const stack of STACKS) {
      for (const kind of KINDS) {
        expect(stackLayers(STACK_TABLE[stack], kind)).toEqual([`${stack}/common`, `${stack}/${kind}`]);
      }
    }
  });

  it('hold a file either in common or in the kind layers, never both', () => {
    // A common file that a kind layer replaces would be read as shared while one kind never sees it.
    const common = new Set(FILES.filter((f) => f.layer === 'common').map((f) => `${f.stack}/${f.rel}`));
    const shadowing = FILES.filter((f) => f.layer !== 'common' && common.has(`${f.stack}/${f.rel}`)).map((f) => f.name);
    expect(shadowing).toEqual([]);
  });
});

describe('forks', () => {
  it('are measured: identical files are alike, unrelated ones are not', () => {
    expect(likeness('a\nb\nc\n', 'a\nb\nc\n')).toBe(1);
    expect(likeness('a\nb\nc\nd\n', 'a\nb\nc\nx\n')).toBe(0.75);
    expect(likeness('a\n', 'b\n')).toBe(0);
  });

  it('are gone: no file of a stack is 80% or more like a file of another of its layers', () => {
    // A file shared by the kinds lives once in common; what differs is a small file or partial.
    const DEFORKED: readonly string[] = ['python', 'typescript'];
    const files = FILES.filter((f) => DEFORKED.includes(f.stack) && f.source.split('\n').length >= 5);
    const alike = files.flatMap((a, i) =>
      files
        .slice(i + 1)
        .filter((b) => a.stack === b.stack && a.layer !== b.layer && likeness(a.source, b.source) >= 0.8)
        .map((b) => `${a.name} ~ ${b.name} (${Math.round(likeness(a.source, b.source) * 100)}%)`),
    );
    expect(alike).toEqual([]);
  });
});

describe('every template', () => {
  it('has no {{else}}: a file that differs per kind is one file per kind layer', () => {
    const found = FILES.flatMap((f) => elseTags(f.source).map((line) => `${f.name}:${line}`));
    expect(found).toEqual([]);
  });

  it('only interpolates values, and partials every kind has: no {{#if}} or other blocks, comments or helpers', () => {
    const found = FILES.flatMap((f) => nonInterpolations(f.source, kindPartials(f.stack)).map((what) => `${f.name} ${what}`));
    expect(found, 'decide in templateContext (src/stacks/render.ts), or give each kind its own file').toEqual([]);
  });

  it('interpolates only strings and numbers that the context of each kind rendering it has', () => {
    const found = FILES.flatMap((f) =>
      [...f.source.matchAll(INTERPOLATION)].flatMap(([tag, name = '']) =>
        stacksOf(f.stack).flatMap((stack) =>
          kindsOf(f.layer)
            .filter((kind) => {
              const value = name.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], sampleContext(stack, kind));
              return typeof value !== 'string' && typeof value !== 'number';
            })
            .map((kind) => `${f.name} ${tag} (${stack} ${kind})`),
        ),
      ),
    );
    expect(found).toEqual([]);
  });
});
