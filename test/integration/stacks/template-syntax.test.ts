import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Handlebars from 'handlebars';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kindsOf, sampleContext, stacksOf, templateFiles, withPlaceholders } from '../../helpers/template-files.ts';

/**
 * Every template is a real file of its language once its `{{…}}` are filled in: each one is
 * replaced by a placeholder (an identifier, or a number for a number) and the result parsed by
 * that language's own parser. Python, TOML and INI by python3 (one process for all of them);
 * TypeScript, JavaScript and JSON by the TypeScript compiler and JSON.parse; Dockerfiles and .env
 * files line by line; YAML (the Kubernetes manifests) by the yaml package, which test/integration/deploy/k8s.test.ts
 * then builds and validates. test/unit/stacks/templates.test.ts has already made sure that plain
 * interpolations are all the `{{…}}` there are.
 */

type Lang = 'python' | 'toml' | 'ini' | 'typescript' | 'jsonc' | 'json' | 'dockerfile' | 'env' | 'yaml';

/** Files no parser here can read, and why that is all right. */
const UNCHECKED: [RegExp, string][] = [
  [/\.md$/, 'Markdown: any text is'],
  [/(^|\/)_(git|docker)ignore$/, 'ignore files: any line is a pattern'],
  [/\.sql$/, 'no SQL parser here; the e2e suite applies the migration to PostgreSQL'],
  [/\.prisma$/, "Prisma's parser is its engine, which cannot be downloaded here; the e2e suite generates the client from it"],
  [/\.mako$/, 'a Mako template that Alembic renders into Python, not Python itself'],
  [/\/partials\//, 'a kind partial (src/stacks/render.ts): checked inside each file that includes it, rendered for that kind'],
];

function langOf(name: string): Lang | undefined {
  const base = path.posix.basename(name);
  if (base.endsWith('.py')) return 'python';
  if (base.endsWith('.toml')) return 'toml';
  if (base.endsWith('.ini')) return 'ini';
  if (/\.(ts|mts|js|mjs)$/.test(base)) return 'typescript';
  if (/^tsconfig.*\.json$/.test(base)) return 'jsonc';
  if (base.endsWith('.json')) return 'json';
  if (base === 'Dockerfile') return 'dockerfile';
  if (base === '_env.example') return 'env';
  if (base.endsWith('.yaml') || base.endsWith('.yml')) return 'yaml';
  return undefined;
}

/** Reads stdin as JSON `[{name, lang, source}]`, writes `{name: error}` for those that do not parse. */
const PYTHON_CHECK = String.raw`
import configparser, json, sys, tomllib
errors = {}
for f in json.load(sys.stdin):
    try:
        if f["lang"] == "python":
            compile(f["source"], f["name"], "exec", dont_inherit=True)
        elif f["lang"] == "toml":
            tomllib.loads(f["source"])
        elif f["lang"] == "ini":
            configparser.ConfigParser(interpolation=None).read_string(f["source"], f["name"])
    except Exception as e:
        errors[f["name"]] = f"{type(e).__name__}: {e}"
json.dump(errors, sys.stdout)
`;

interface Source {
  name: string;
  lang: Lang;
  source: string;
}

function pythonErrors(files: Source[]): Record<string, string> {
  const r = spawnSync('python3', ['-c', PYTHON_CHECK], { input: JSON.stringify(files), encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

function typescriptError({ name, source }: Source): string | undefined {
  const { diagnostics = [] } = ts.transpileModule(source, {
    fileName: name,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  });
  return diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ') || undefined;
}

const DOCKERFILE_INSTRUCTIONS = new Set(
  'ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL ONBUILD RUN SHELL STOPSIGNAL USER VOLUME WORKDIR'.split(' '),
);

/** Each instruction (continuation lines joined, comments left out) is a known one; FROM (or ARG) comes first. */
function dockerfileError({ source }: Source): string | undefined {
  const instructions: string[] = [];
  let pending = '';
  for (const line of source.split('\n')) {
    if (/^\s*#/.test(line) || (!pending && !line.trim())) continue;
    pending += line.replace(/\\$/, ' ');
    if (!line.endsWith('\\')) {
      instructions.push(pending.trim());
      pending = '';
    }
  }
  if (pending) return `ends inside a continued instruction: ${pending}`;
  const bad = instructions.find((i) => !DOCKERFILE_INSTRUCTIONS.has(i.split(/\s/)[0]!.toUpperCase()));
  if (bad !== undefined) return `not a Dockerfile instruction: ${bad}`;
  if (!/^(FROM|ARG)\s/i.test(instructions[0] ?? '')) return 'the first instruction is not FROM';
  for (const i of instructions.filter((i) => /^(CMD|ENTRYPOINT|RUN)\s+\[/i.test(i))) {
    try {
      JSON.parse(i.replace(/^\w+\s+/, ''));
    } catch {
      return `exec form is not a JSON array: ${i}`;
    }
  }
  return undefined;
}

/** Each line is blank, a comment or NAME=value. */
function envError({ source }: Source): string | undefined {
  const bad = source.split('\n').find((l) => l.trim() && !/^\s*#/.test(l) && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(l));
  return bad === undefined ? undefined : `not NAME=value: ${bad}`;
}

function jsonError({ name, source }: Source, comments: boolean): string | undefined {
  if (comments) return ts.parseConfigFileTextToJson(name, source).error?.messageText.toString();
  try {
    JSON.parse(source);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Parse errors by file name; `undefined` for a file that parses. */
function syntaxErrors(files: Source[]): Record<string, string | undefined> {
  const errors: Record<string, string | undefined> = pythonErrors(files.filter((f) => ['python', 'toml', 'ini'].includes(f.lang)));
  for (const f of files) {
    if (f.lang === 'typescript') errors[f.name] = typescriptError(f);
    if (f.lang === 'json' || f.lang === 'jsonc') errors[f.name] = jsonError(f, f.lang === 'jsonc');
    if (f.lang === 'dockerfile') errors[f.name] = dockerfileError(f);
    if (f.lang === 'env') errors[f.name] = envError(f);
    if (f.lang === 'yaml') errors[f.name] = parseAllDocuments(f.source).flatMap((d) => d.errors.map(String))[0];
  }
  return errors;
}

const TEMPLATES = templateFiles();
const PARTIAL = /\{\{>/;

/**
 * What a template file reads as: with placeholders for its values, and, when it includes kind
 * partials (`{{> name}}`), once per kind with that kind's partials filled in.
 */
function checkedVersions(f: (typeof TEMPLATES)[number]): { name: string; source: string }[] {
  const stack = stacksOf(f.stack)[0]!;
  const kinds = kindsOf(f.layer);
  if (!PARTIAL.test(f.source)) return [{ name: f.name, source: withPlaceholders(f.source, sampleContext(stack, kinds[0]!)) }];
  return kinds.map((kind) => {
    const context = sampleContext(stack, kind);
    const partials = Object.fromEntries(
      TEMPLATES.filter((p) => p.stack === f.stack && p.layer === kind && p.rel.startsWith('partials/')).map((p) => [p.rel.slice('partials/'.length), withPlaceholders(p.source, context)]),
    );
    return { name: `${f.name} (${kind})`, source: Handlebars.compile(withPlaceholders(f.source, context), { noEscape: true })({}, { partials }) };
  });
}

const CHECKED: Source[] = TEMPLATES.flatMap((f) => {
  const lang = langOf(f.name);
  return lang && !f.rel.startsWith('partials/') ? checkedVersions(f).map((v) => ({ ...v, lang })) : [];
});

describe('template syntax', () => {
  it('knows how to check every kind of template file, or why it does not', () => {
    const unknown = TEMPLATES.filter((f) => !langOf(f.name) && !UNCHECKED.some(([re]) => re.test(f.name))).map((f) => f.name);
    expect(unknown, 'add the file type to langOf, or to UNCHECKED with the reason').toEqual([]);
    for (const lang of ['python', 'toml', 'ini', 'typescript', 'jsonc', 'json', 'dockerfile', 'env', 'yaml'] as const) {
      expect(CHECKED.filter((f) => f.lang === lang).length, lang).toBeGreaterThan(0);
    }
  });

  it('catches a broken file of every language', () => {
    const broken: Source[] = [
      { name: 'broken.py', lang: 'python', source: 'def f(:\n    pass\n' },
      // What a {{#if}} on a line of its own inside a function body leaves.
      { name: 'indent.py', lang: 'python', source: 'def f():\n    x = 1\nplaceholder\n    y = 2\n' },
      { name: 'broken.toml', lang: 'toml', source: 'name = {{app.slug}}\n' },
      { name: 'broken.ini', lang: 'ini', source: 'key = value without a section\n' },
      { name: 'broken.ts', lang: 'typescript', source: 'export const a = {\n' },
      { name: 'tsconfig.json', lang: 'jsonc', source: '{ "a": }' },
      { name: 'broken.json', lang: 'json', source: '{ "a": 1, }' },
      { name: 'Dockerfile', lang: 'dockerfile', source: 'FROM node:20\nplaceholder\nCMD ["node"]\n' },
      { name: '_env.example', lang: 'env', source: 'A=1\nplaceholder\n' },
      { name: 'broken.yaml', lang: 'yaml', source: 'a:\n  - b\n c: d\n' },
    ];
    const errors = syntaxErrors(broken);
    expect(broken.filter((f) => !errors[f.name]).map((f) => f.name)).toEqual([]);
  });

  let errors: Record<string, string | undefined> = {};
  beforeAll(() => {
    errors = syntaxErrors(CHECKED);
  });
  it.each(CHECKED.map((f) => [f.name, f.lang] as const))('%s parses as %s', (name) => {
    expect(errors[name], errors[name]).toBeUndefined();
  });
});
