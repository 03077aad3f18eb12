import fs from 'node:fs';
import path from 'node:path';
import { installCommand, runScript } from './package-managers.ts';
import type { StackDef } from './stack.ts';

/** Fastify 5 + Prisma 7 (with the pg driver adapter), installed with the package manager that started us. */
export const typescript: StackDef = {
  id: 'typescript',
  label: 'TypeScript (Fastify + Prisma)',
  layers: (kind) => [`typescript/common`, `typescript/${kind}`],
  install: (tools) => [{ command: installCommand(tools.pm) }],
  installed: (dir) => fs.existsSync(path.join(dir, 'node_modules', 'pg')),
  // Prisma's own `migrate deploy` downloads its schema engine first; the app's script applies the
  // same migration.sql files and records them in _prisma_migrations as Prisma does, so a later
  // `prisma migrate deploy` sees them as applied.
  migrate: { shown: 'node scripts/migrate.mjs', command: () => [process.execPath, 'scripts/migrate.mjs'] },
  migrateHint: ({ pm }) => `${runScript(pm, 'migrate')}   # or ${runScript(pm, 'migrate:offline')} where Prisma cannot download its engine`,
  testHint: ({ pm }) => runScript(pm, 'test'),
  docsPath: '/openapi.json',
  // Fastify reads its port from the environment; the default 8000 is where ULM runs locally.
  localEnv: (port) => [`PORT=${port}`],
};
