import fs from 'node:fs';
import path from 'node:path';
import { installCommand, runScript } from '../package-managers.ts';
import type { StackDef } from '../stack.ts';
import { MIGRATIONS_DIR, prismaState } from './migrations.ts';

/** Fastify 5 + Prisma 7 (with the pg driver adapter), installed with the package manager that started us. */
export const typescript: StackDef = {
  id: 'typescript',
  label: 'TypeScript (Fastify + Prisma)',
  templates: 'typescript',
  ciWorkflow: 'typescript/ci/workflow.yml',
  install: (tools) => [{ command: installCommand(tools.pm) }],
  installed: (dir) => fs.existsSync(path.join(dir, 'node_modules', 'pg')),
  // The app's script runs `prisma migrate deploy` where Prisma's schema engine can be had (it is a
  // download), and otherwise applies the same migration.sql files itself, recording them in
  // _prisma_migrations as Prisma does; it says which it did.
  // In the runtime image there is no Prisma CLI (a production install): the bundled runner, said so.
  migrations: { dir: MIGRATIONS_DIR, state: prismaState },
  // Prisma's engine turns off its prepared statements for PgBouncer's transaction pooling.
  pgbouncerUrlQuery: '?pgbouncer=true',
  migrate: { shown: 'node scripts/migrate.mjs', command: () => [process.execPath, 'scripts/migrate.mjs'], inImage: ['node', 'scripts/migrate.mjs', 'deploy', '--bundled'] },
  // The node images' `node` user.
  imageUid: 1000,
  migrateHint: ({ pm }) => `${runScript(pm, 'migrate')}   # prisma migrate deploy, or the bundled runner where Prisma's engine cannot be had`,
  testHint: ({ pm }) => runScript(pm, 'test'),
  // tsx watch src/server.ts; PORT comes from backend/.env.
  runHint: ({ pm }) => runScript(pm, 'dev'),
  docsPath: '/docs',
  readyCheck: (port) => ['node', '-e', `fetch('http://127.0.0.1:${port}/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
  // Fastify reads its port from the environment; the default 8000 is where ULM runs locally.
  localEnv: (port) => [`PORT=${port}`],
};
