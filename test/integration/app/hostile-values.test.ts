/**
 * Every free-text value is refused or written so that each file it lands in still parses and
 * gives the value back exactly: random strings through --ulm-url, the app name and .env values
 * (fast-check), the results parsed by Python's own parser, TypeScript's, YAML and the .env reader.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { QUESTIONS, validateAnswer } from '../../../src/app/questions.ts';
import { deriveNames } from '../../../src/app/names.ts';
import type { Kind, Stack } from '../../../src/app/spec.ts';
import { renderBackend } from '../../../src/stacks/render.ts';
import { addAppToCompose, readComposeProject } from '../../../src/workspace/compose/index.ts';
import { ensureEnvVar, readEnvVar } from '../../../src/workspace/env-file.ts';
import { UsageError } from '../../../src/errors.ts';
import { appSpec } from '../../helpers/spec.ts';

const ulmQuestion = QUESTIONS.find((q) => q.key === 'ulmUrl')!;
const FACTS = { usedPorts: new Map(), ownService: undefined, interactive: false };
const HOSTILE = ['"', "'", '`', '\\', '\n', '\r', '\u2028', '${x}', '$(id)', '*/', ' ', '\t', '"+__import__("os").popen("id").read()+"', '{{x}}', ';', '&'];

/** URLs, hostile fragments, and arbitrary text. */
const candidate = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.tuple(fc.webUrl(), fc.constantFrom(...HOSTILE), fc.string()).map(([u, h, s]) => u + h + s),
  fc.string({ unit: 'binary' }),
);

/** Syntax errors TypeScript's parser finds in `source`. */
function tsSyntaxErrors(file: string, source: string): string[] {
  const out = ts.transpileModule(source, { fileName: file, reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  return (out.diagnostics ?? []).map((d) => `${file}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/** Every .py file parses with Python's own parser (one process for all). */
function pythonSyntaxErrors(files: Map<string, string>): string[] {
  if (files.size === 0) return [];
  const dir = fs.mkdtempSync(path.join(process.env.OVU_TEST_TMP ?? os.tmpdir(), 'ovu-py-'));
  try {
    const paths = [...files].map(([name, text], i) => {
      const p = path.join(dir, `${i}.py`);
      fs.writeFileSync(p, text);
      return [p, name];
    });
    const script = 'import ast, sys, json\nbad = []\nfor p, n in json.loads(sys.argv[1]):\n    try:\n        ast.parse(open(p, encoding="utf-8").read(), n)\n    except SyntaxError as e:\n        bad.append(f"{n}: {e}")\nprint(json.dumps(bad))';
    return JSON.parse(execFileSync('python3', ['-c', script, JSON.stringify(paths)], { encoding: 'utf8' })) as string[];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const COMBOS: [Stack, Kind][] = [
  ['python', 'crud'],
  ['python', 'readonly'],
  ['typescript', 'crud'],
  ['typescript', 'readonly'],
];

describe('hostile values', () => {
  it('--ulm-url: refused, or every file it lands in parses and gives it back exactly', async () => {
    const accepted: string[] = [];
    fc.assert(
      fc.property(candidate, (value) => {
        const problem = validateAnswer(ulmQuestion, value, {}, FACTS);
        if (problem === undefined) accepted.push(value);
        else expect(problem).not.toContain('\n');
      }),
      { numRuns: 400, seed: 20261201 },
    );
    // Enough accepted values to mean something, and every hostile fragment refused.
    expect(accepted.length).toBeGreaterThan(20);
    for (const h of HOSTILE) expect(validateAnswer(ulmQuestion, `http://ulm:8000/${h}x`, {}, FACTS), JSON.stringify(h)).toBeDefined();

    const python = new Map<string, string>();
    const errors: string[] = [];
    for (const [i, url] of accepted.slice(0, 40).entries()) {
      const [stack, kind] = COMBOS[i % COMBOS.length]!;
      const spec = appSpec('inventory', { stack, kind, ulmUrl: url });
      for (const [rel, text] of await renderBackend(spec)) {
        if (rel.endsWith('.py')) python.set(`${stack}-${kind}-${i}/${rel}`, text);
        if (/\.(ts|mts|mjs)$/.test(rel)) errors.push(...tsSyntaxErrors(rel, text));
        if (rel.endsWith('.env.example')) expect(readEnvVar(text, 'ULM_BASE_URL'), rel).toBe(url);
      }
      const compose = addAppToCompose(readComposeProject('/ws', 'docker-compose.yml', undefined, [], () => undefined), spec);
      expect(parse(compose.appFile.text).services['inventory-backend'].environment.ULM_BASE_URL).toBe(url);
    }
    errors.push(...pythonSyntaxErrors(python));
    expect(errors).toEqual([]);
  });

  it('the app name: refused with a one-line message, or names that need no quoting anywhere', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...HOSTILE).chain((h) => fc.string().map((s) => `app${h}${s}`))), (name) => {
        try {
          const n = deriveNames(name);
          expect(n.slug).toMatch(/^[a-z][a-z0-9-]*$/);
          expect(n.snake).toMatch(/^[a-z][a-z0-9_]*$/);
          expect(n.passwordVar).toMatch(/^[A-Z][A-Z0-9_]*$/);
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
          expect((err as Error).message).not.toMatch(/[\n\r]/);
        }
      }),
      { numRuns: 1000, seed: 20261201 },
    );
  });

  it('.env values the team wrote survive an edit exactly, and new ones read back exactly', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }).filter((v) => !/[\r\n]/.test(v)), fc.string({ unit: 'binary' }).filter((v) => !/[\r\n']/.test(v) && v.trim() === v), (theirs, ours) => {
        const before = `# the team's\nTHEIRS=${theirs}\n`;
        const after = ensureEnvVar(before, 'OURS', ours, 'a comment');
        expect(after.startsWith(before)).toBe(true);
        expect(readEnvVar(after, 'OURS')).toBe(ours);
      }),
      { numRuns: 500, seed: 20261201 },
    );
  });
});
