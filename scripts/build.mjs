// Bundles the CLI into dist/ so the published package has no runtime dependencies.
// Code splitting keeps the heavy parts (pg, prompts, execa) in chunks that load only when a run
// needs them: --help reads one small file.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { writeValidator } from './gen-compose-validator.mjs';

/**
 * src/stacks/template-source.ts reads and compiles templates/ at run time; the bundle gets this module
 * instead: the same layers, precompiled now with the same options, one chunk per stack that a
 * run imports only when it renders that stack. Handlebars' small runtime renders them; its
 * compiler stays out of the package.
 */
const templatesRoot = fileURLToPath(new URL('../templates/', import.meta.url));

/** The options src/stacks/template-source.ts compiles with, so both behave alike. */
const COMPILE_OPTIONS = JSON.parse(readFileSync(new URL('../src/stacks/template-options.json', import.meta.url), 'utf8'));

function precompiledStack(stack) {
  const layers = [];
  for (const layer of readdirSync(path.join(templatesRoot, stack)).sort()) {
    const dir = path.join(templatesRoot, stack, layer);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort()
      .map((rel) => {
        const source = readFileSync(path.join(dir, rel), 'utf8');
        const render = source.includes('{{')
          ? `template(${Handlebars.precompile(source, COMPILE_OPTIONS)})`
          : `() => ${JSON.stringify(source)}`;
        return `{ path: ${JSON.stringify(rel)}, render: ${render} }`;
      });
    layers.push(`  ${JSON.stringify(`${stack}/${layer}`)}: [\n    ${files.join(',\n    ')}\n  ]`);
  }
  return [
    "import Handlebars from 'handlebars/runtime';",
    'const template = (spec) => Handlebars.template(spec);',
    `export default {\n${layers.join(',\n')}\n};`,
  ].join('\n');
}

/** Template roots a derived workspace kind renders synchronously (src/stacks/template-source.ts has the same list). */
const SYNC_TEMPLATE_ROOTS = ['ulm-dev'];

const precompiledTemplates = {
  name: 'precompiled-templates',
  setup(b) {
    const resolveDir = fileURLToPath(new URL('../src/', import.meta.url));
    b.onResolve({ filter: /\/template-source\.ts$/ }, () => ({ path: 'index', namespace: 'ovu-templates' }));
    b.onResolve({ filter: /^ovu-templates:/ }, (args) => ({ path: args.path.slice('ovu-templates:'.length), namespace: 'ovu-templates' }));
    b.onLoad({ filter: /.*/, namespace: 'ovu-templates' }, (args) => {
      if (args.path !== 'index') return { contents: precompiledStack(args.path), loader: 'js', resolveDir };
      const stacks = readdirSync(templatesRoot)
        .filter((stack) => !SYNC_TEMPLATE_ROOTS.includes(stack))
        .map((stack) => `  ${JSON.stringify(stack)}: () => import(${JSON.stringify(`ovu-templates:${stack}`)}),`)
        .join('\n');
      // A derived workspace kind renders its templates synchronously: those are in this chunk.
      const sync = SYNC_TEMPLATE_ROOTS.map((root, i) => `import sync${i} from ${JSON.stringify(`ovu-templates:${root}`)};`);
      return {
        loader: 'js',
        resolveDir,
        contents: [
          ...sync,
          `const STACKS = {\n${stacks}\n};`,
          `const SYNC = Object.assign({}, ${SYNC_TEMPLATE_ROOTS.map((_, i) => `sync${i}`).join(', ')});`,
          `export const SYNC_TEMPLATE_ROOTS = ${JSON.stringify(SYNC_TEMPLATE_ROOTS)};`,
          'export async function templateLayer(layer) {',
          '  if (SYNC[layer]) return SYNC[layer];',
          "  const load = STACKS[layer.split('/')[0]];",
          '  return load ? ((await load()).default[layer] ?? []) : [];',
          '}',
          'export function templateLayerSync(layer) {',
          '  if (!SYNC[layer]) throw new Error(`internal error: ${layer} is not a synchronous template layer`);',
          '  return SYNC[layer];',
          '}',
        ].join('\n'),
      };
    });
  },
};

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** Bundled CommonJS packages call require() for node built-ins. */
const BANNER = "import { createRequire as __ovuRequire } from 'node:module'; const require = __ovuRequire(import.meta.url);";

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
writeValidator();

await build({
  entryPoints: [{ in: 'src/cli/main.ts', out: 'cli' }],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: process.env.OVU_BUILD_NO_MINIFY !== '1',
  legalComments: 'linked',
  // Chunks sit beside cli.js: render.ts finds the templates at ../templates from either.
  chunkNames: '[name]-[hash]',
  define: { __OVU_VERSION__: JSON.stringify(pkg.version) },
  // pg's optional native binding (the pure-JS client is what we use), and the source-map library
  // Handlebars loads, inside a try, only to map errors in precompiled templates.
  external: ['pg-native', 'source-map'],
  plugins: [precompiledTemplates],
  banner: { js: BANNER },
  logLevel: 'warning',
});

// Only the chunks that call require() keep the banner: every other module `--help` loads would
// otherwise make a require function it never calls.
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
for (const name of readdirSync(dist).filter((f) => f.endsWith('.js'))) {
  const file = path.join(dist, name);
  const code = readFileSync(file, 'utf8');
  if (code.startsWith(BANNER) && !/\brequire\b/.test(code.slice(BANNER.length))) writeFileSync(file, code.slice(BANNER.length).replace(/^\n/, ''));
}
