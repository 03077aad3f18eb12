#!/usr/bin/env node
/**
 * `prisma generate`, working without access to Prisma's download server.
 *
 * Prisma 7's CLI downloads its schema engine (a native binary, from binaries.prisma.sh) before
 * running `generate`, although `generate` never starts it: the client is generated in
 * JavaScript/WebAssembly. Where that server cannot be reached, the download fails and so would
 * `generate`. Pointing PRISMA_SCHEMA_ENGINE_BINARY at an existing file skips the download; this
 * script points it at node itself, and only for `generate` (migrate commands need the real
 * engine and would fail, not pretend, with it).
 *
 * Runs on `npm install` (postinstall) and as `npm run db:generate`. Output: src/generated/prisma.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const backend = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

let cli;
try {
  const manifest = require.resolve('prisma/package.json');
  const { default: prisma } = await import('prisma/package.json', { with: { type: 'json' } });
  cli = path.join(path.dirname(manifest), prisma.bin.prisma);
} catch {
  // `npm install --omit=dev` (a production install): the client must have been generated before.
  console.warn('prisma-generate: the prisma CLI is not installed (production install?), skipping `prisma generate`.');
  process.exit(0);
}

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ||= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE ||= '1';

const result = spawnSync(process.execPath, [cli, 'generate', ...process.argv.slice(2)], {
  cwd: backend,
  env,
  stdio: 'inherit',
});
if (result.error) throw result.error;
process.exit(result.status ?? 1);
