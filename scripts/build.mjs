// Bundles the CLI into dist/ so the published package has no runtime dependencies.
// Code splitting keeps the heavy parts (pg, prompts, execa) in chunks that load only when a run
// needs them: --help reads one small file.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { writeValidator } from './gen-compose-validator.mjs';

/**
 * src/template-source.ts reads and compiles templates/ at run time; the bundle gets this module
 * instead: the same layers, precompiled now, with the same options (Handlebars' small runtime
 * then renders them, and its compiler stays out of the package).
 */
const COMPILE_OPTIONS = JSON.parse(readFileSync(new URL('../src/template-options.json', import.meta.url), 'utf8'));

const precompiledTemplates = {
  name: 'precompiled-templates',
  setup(b) {
    b.onResolve({ filter: /\/template-source\.ts$/ }, () => ({ path: 'precompiled-templates', namespace: 'ovu' }));
    b.onLoad({ filter: /.*/, namespace: 'ovu' }, async () => {
      const root = fileURLToPath(new URL('../templates/', import.meta.url));
      const layers = {};
      for (const stack of readdirSync(root)) {
        for (const layer of readdirSync(path.join(root, stack))) {
          const dir = path.join(root, stack, layer);
          const files = readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
            .sort();
          layers[`${stack}/${layer}`] = files.map((rel) => {
            const source = readFileSync(path.join(dir, rel), 'utf8');
            const render = source.includes('{{')
              ? `template(${Handlebars.precompile(source, COMPILE_OPTIONS)})`
              : `() => ${JSON.stringify(source)}`;
            return `{ path: ${JSON.stringify(rel)}, render: ${render} }`;
          });
        }
      }
      const body = Object.entries(layers)
        .map(([layer, files]) => `  ${JSON.stringify(layer)}: [\n    ${files.join(',\n    ')}\n  ]`)
        .join(',\n');
      return {
        resolveDir: fileURLToPath(new URL('../src/', import.meta.url)),
        loader: 'js',
        contents: [
          "import Handlebars from 'handlebars/runtime';",
          'const template = (spec) => Handlebars.template(spec);',
          `const LAYERS = {\n${body}\n};`,
          'export function templateLayer(layer) { return LAYERS[layer] ?? []; }',
        ].join('\n'),
      };
    });
  },
};

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
writeValidator();

await build({
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'linked',
  // Chunks sit beside cli.js: render.ts finds the templates at ../templates from either.
  chunkNames: '[name]-[hash]',
  define: { __OVU_VERSION__: JSON.stringify(pkg.version) },
  // pg's optional native binding (the pure-JS client is what we use), and the source-map library
  // Handlebars loads, inside a try, only to map errors in precompiled templates.
  external: ['pg-native', 'source-map'],
  plugins: [precompiledTemplates],
  // Bundled CommonJS packages call require() for node built-ins.
  banner: { js: "import { createRequire as __ovuRequire } from 'node:module'; const require = __ovuRequire(import.meta.url);" },
  logLevel: 'warning',
});
