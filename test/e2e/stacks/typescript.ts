/**
 * The TypeScript stack (Fastify, Prisma 7 on the pg adapter) for the stack contract: installed from
 * the npm registry, type-checked and built (the server runs from dist/), migrated by the app's
 * offline Prisma migrator, since Prisma's engine download is not reachable here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { tempDir } from '../../helpers/cli.ts';
import { mustRun } from '../../helpers/apps.ts';
import { withClient } from '../../helpers/postgres.ts';
import { appEnv, nodeBinary, type Counts, type Stack, type StackCheck } from '../../helpers/stack.ts';

/** The Node.js LTS lines the apps target (engines, Dockerfile): their tests run on both, the server on the newest. */
const NODES = ['22', '24'] as const;
const nodes = new Map<string, string>();
const nodeFor = (spec: string): string => {
  const bin = nodes.get(spec);
  if (!bin) throw new Error(`Node ${spec} is not ready: the check that runs the tests on it must run first`);
  return bin;
};

/** Runs the app's own vitest (on `node`, default the one running npm) and returns its counts from the JSON report. */
async function vitestCounts(backend: string, script: string, node?: string): Promise<Counts> {
  const report = path.join(tempDir('ovu-vitest-'), 'report.json');
  const args = ['--reporter=json', `--outputFile=${report}`];
  if (node) {
    const config = script === 'test:integration' ? ['--config', 'vitest.integration.config.ts'] : [];
    await mustRun(node, ['node_modules/vitest/vitest.mjs', 'run', ...config, ...args], { cwd: backend, env: appEnv() });
  } else {
    await mustRun('npm', ['run', script, '--', ...args], { cwd: backend, env: appEnv() });
  }
  const r = JSON.parse(fs.readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
  return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
}

/** Runs an ES module snippet in backend/ and returns the JSON its last line prints. */
async function nodeJson(backend: string, script: string, env: NodeJS.ProcessEnv = {}): Promise<unknown> {
  const out = await mustRun(process.execPath, ['--input-type=module', '-e', script], { cwd: backend, env: appEnv(env) });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** Every key of a nested object, dotted: { ulm: { baseUrl } } -> ['ulm.baseUrl']. */
const SETTING_NAMES = [
  "const { readConfig } = await import('./dist/config.js');",
  "const names = (o, at = '') => Object.entries(o).flatMap(([k, v]) => v && typeof v === 'object' ? names(v, at + k + '.') : [at + k]);",
  'console.log(JSON.stringify(names(readConfig({}))));',
].join(' ');

const typechecksAndBuilds: StackCheck = {
  name: 'is clean under its own ESLint (typescript-eslint, type-checked) and tsc, and builds',
  async run({ backend }) {
    // Each with the configuration the app ships; any finding fails the run.
    await mustRun('npm', ['run', 'lint', '--', '--max-warnings=0'], { cwd: backend, env: appEnv() });
    await mustRun('npm', ['run', 'typecheck'], { cwd: backend, env: appEnv() });
    await mustRun('npm', ['run', 'build'], { cwd: backend, env: appEnv() });
    expect(fs.existsSync(path.join(backend, 'dist/server.js'))).toBe(true);
  },
};

const onBothNodes: StackCheck = {
  name: `runs on Node ${NODES.join(' and ')}: engines and the image say so, and its unit tests pass on each`,
  async run({ backend }) {
    const pkg = JSON.parse(fs.readFileSync(path.join(backend, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('^22.13.0 || >=24.0.0');
    expect(fs.readFileSync(path.join(backend, 'Dockerfile'), 'utf8').match(/^FROM node:\S+/gm)).toEqual(expect.arrayContaining(['FROM node:24-bookworm-slim']));
    expect(fs.readFileSync(path.join(backend, 'Dockerfile'), 'utf8')).not.toMatch(/FROM node:(1\d|20)\b/);
    for (const spec of NODES) {
      const node = await nodeBinary(spec);
      expect(await mustRun(node, ['--version'], { cwd: backend })).toMatch(new RegExp(`^v${spec}\\.`));
      const counts = await vitestCounts(backend, 'test', node);
      expect(counts, `Node ${spec}`).toMatchObject({ failed: 0, skipped: 0 });
      expect(counts.passed, `Node ${spec}`).toBeGreaterThan(10);
      nodes.set(spec, node);
    }
  },
};

const reproducible: StackCheck = {
  name: 'has the package-lock.json that --install wrote, which the image installs with npm ci',
  async run({ backend, slug }) {
    const lock = JSON.parse(fs.readFileSync(path.join(backend, 'package-lock.json'), 'utf8')) as { name: string; lockfileVersion: number; packages: Record<string, unknown> };
    expect(lock).toMatchObject({ name: slug, lockfileVersion: 3 });
    expect(Object.keys(lock.packages)).toEqual(expect.arrayContaining(['node_modules/fastify', 'node_modules/typebox']));
    const dockerfile = fs.readFileSync(path.join(backend, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^RUN npm ci$/m);
    expect(dockerfile).not.toMatch(/^RUN .*npm install/m);
  },
};

export const typescriptStack: Stack = {
  name: 'typescript',
  cliArgs: ['--stack', 'typescript'],
  crudSlug: 'orders',
  readonlySlug: 'lookup',
  migrateCommand: 'node scripts/migrate.mjs',
  installedMarker: 'src/generated/prisma',
  sourceDir: 'src',
  api: '/api/v1',
  itemRoute: '/api/v1/items/{itemId}',
  itemBody: (name) => ({ name }),
  ownTests: (backend, suite) => vitestCounts(backend, suite === 'integration' ? 'test:integration' : 'test'),
  async databasePackages(backend) {
    const pkg = JSON.parse(fs.readFileSync(path.join(backend, 'package.json'), 'utf8'));
    return Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => /prisma|^pg$/.test(d));
  },
  // Reads dist/: the readonly app's settings are looked at after its build (a check of its own).
  settingNames: async (backend) => (await nodeJson(backend, SETTING_NAMES)) as string[],
  // On the newest LTS, as in the image.
  start: (backend, port, env) =>
    execa(nodeFor('24'), ['dist/server.js'], { cwd: backend, env: appEnv({ ...env, PORT: String(port), HOST: '127.0.0.1' }), extendEnv: false, reject: false }),
  stoppedBy: 'exit',
  shutdownLog: /SIGTERM received: shutting down/,
  crudChecks: [
    {
      name: 'really migrated the database, as Prisma records it',
      async run({ backend, databaseUrl }) {
        await withClient(databaseUrl, async (c) => {
          const applied = await c.query<{ migration_name: string; finished_at: Date | null }>('SELECT migration_name, finished_at FROM _prisma_migrations');
          expect(applied.rows.map((r) => r.migration_name)).toEqual([expect.stringMatching(/^\d{14}_init$/)]);
          expect(applied.rows[0]!.finished_at).not.toBeNull();
          const columns = await c.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY column_name");
          expect(columns.rows.map((r) => r.column_name)).toEqual(['created_at', 'id', 'name', 'owner_user_id', 'updated_at']);
        });
        // Nothing pending: the bundled runner agrees on a second look.
        await mustRun(process.execPath, ['scripts/migrate.mjs', 'status'], { cwd: backend, env: appEnv({ DATABASE_URL: databaseUrl }) });
        // `npm run migrate` (what --migrate ran) asks for Prisma's engine first, and says which runner it used.
        const again = await mustRun('npm', ['run', 'migrate'], { cwd: backend, env: appEnv({ DATABASE_URL: databaseUrl }) });
        expect(again).toMatch(/running prisma migrate deploy|Prisma's schema engine cannot be had here[^]*with the bundled runner instead/);
        expect(again).toContain('No pending migrations to apply.');
        // The image carries the migrations and the bundled runner (what the Kubernetes Job runs).
        expect(fs.readFileSync(path.join(backend, 'Dockerfile'), 'utf8')).toMatch(/^COPY --from=build --chown=root:root \/app \.\/$/m);
      },
    },
    {
      name: "has a first migration that is exactly Prisma's diff of the schema (Prisma 6.19's offline engine)",
      async run({ backend, adminUrl }) {
        // Prisma 7's CLI needs its engine download for `migrate diff`; 6.19's WebAssembly engine runs
        // offline as a throwaway checker (see docs/prisma-offline.md). It connects, writes nothing.
        const dir = tempDir('ovu-prisma6-');
        await mustRun('npm', ['init', '-y'], { cwd: dir, env: appEnv() });
        await mustRun('npm', ['install', '--no-audit', '--no-fund', 'prisma@6.19.3', '@prisma/adapter-pg@6.19.3'], { cwd: dir, env: appEnv() });
        fs.writeFileSync(
          path.join(dir, 'check.config.ts'),
          [
            "import { defineConfig } from 'prisma/config';",
            "import { PrismaPg } from '@prisma/adapter-pg';",
            "export default defineConfig({ experimental: { adapter: true }, engine: 'js', schema: 'check.prisma',",
            '  async adapter() { return new PrismaPg({ connectionString: process.env.DATABASE_URL }); } });',
          ].join('\n'),
        );
        const schema = fs.readFileSync(path.join(backend, 'prisma/schema.prisma'), 'utf8');
        // Prisma 6 wants a url in the datasource block; Prisma 7 schemas have none.
        fs.writeFileSync(path.join(dir, 'check.prisma'), schema.replace(/^( {2}provider = "postgresql")$/m, '$1\n  url      = env("DATABASE_URL")'));
        const expected = await mustRun(
          'npx',
          ['prisma', 'migrate', 'diff', '--config', 'check.config.ts', '--from-empty', '--to-schema-datamodel', 'check.prisma', '--script'],
          { cwd: dir, env: appEnv({ DATABASE_URL: adminUrl, PRISMA_CLIENT_ENGINE_TYPE: 'client', PRISMA_HIDE_UPDATE_MESSAGE: '1' }) },
        );
        const [migrationDir] = fs.readdirSync(path.join(backend, 'prisma/migrations')).filter((d) => d.endsWith('_init'));
        const committed = fs.readFileSync(path.join(backend, 'prisma/migrations', migrationDir!, 'migration.sql'), 'utf8');
        expect(committed.trim().length).toBeGreaterThan(50);
        // Prisma's diff, with the migration's documented differences: its comments, its
        // lock/statement timeouts, and an identity column where Prisma writes BIGSERIAL.
        const statements = (sql: string) =>
          sql
            .split('\n')
            .filter((line) => !/^\s*--/.test(line) && !/^SET (lock|statement)_timeout/.test(line))
            .join('\n')
            .replace(/BIGINT GENERATED BY DEFAULT AS IDENTITY/g, 'BIGSERIAL')
            .replace(/\n{2,}/g, '\n')
            .trim();
        expect(committed).toContain('"id" BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL');
        expect(statements(expected)).toContain(statements(committed));
      },
    },
    // Before the pool check and the boot: both run the build in dist/.
    typechecksAndBuilds,
    reproducible,
    onBothNodes,
    {
      name: 'shapes the pg pool from the ADR settings',
      async run({ backend, databaseUrl, slug }) {
        const script = [
          "const { readConfig } = await import('./dist/config.js');",
          "const { createDatabase } = await import('./dist/db.js');",
          'const db = createDatabase(readConfig().database);',
          'const o = db.pool.options;',
          'console.log(JSON.stringify({ max: o.max, timeout: o.connectionTimeoutMillis, user: o.user ?? new URL(o.connectionString).username }));',
          'await db.close();',
        ].join(' ');
        const shape = await nodeJson(backend, script, { DATABASE_URL: databaseUrl, DB_POOL_SIZE: '7', DB_MAX_OVERFLOW: '3', DB_POOL_TIMEOUT: '11' });
        // node-postgres has one limit: DB_POOL_SIZE + DB_MAX_OVERFLOW.
        expect(shape).toEqual({ max: 10, timeout: 11_000, user: `${slug}_user` });
      },
    },
  ],
  readonlyChecks: [typechecksAndBuilds, reproducible, onBothNodes],
};
