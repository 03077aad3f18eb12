// Bundles the CLI into dist/ so the published package has no runtime dependencies.
// Code splitting keeps the heavy parts (pg, prompts, execa) in chunks that load only when a run
// needs them: --help reads one small file.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { writeValidator } from './gen-compose-validator.mjs';

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
  // Bundled CommonJS packages call require() for node built-ins.
  banner: { js: "import { createRequire as __ovuRequire } from 'node:module'; const require = __ovuRequire(import.meta.url);" },
  logLevel: 'warning',
});
