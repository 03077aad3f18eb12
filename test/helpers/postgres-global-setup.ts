/**
 * vitest globalSetup for the integration and e2e projects: one throwaway PostgreSQL 15 for the whole
 * run (or the server in OVU_TEST_ADMIN_URL), its admin URL handed to tests via `inject('adminUrl')`.
 */
import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestPostgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // One folder for every workspace, virtualenv and node_modules the run makes (a generated
  // TypeScript app alone installs ~400 MB), removed when the run ends. Workers inherit the env.
  const scratch = mkdtempSync(join(tmpdir(), 'ovu-test-run-'));
  process.env.OVU_TEST_TMP = scratch;
  // The CLIs the tests run keep their compose index cache there too, not in ~/.cache.
  process.env.OVU_CACHE_DIR = join(scratch, 'ovu-cache');
  // The whole run shares this server and leaves its apps behind; each app login has a CONNECTION
  // LIMIT and provision checks that they all fit max_connections, so give the run room for many.
  const server = await startTestPostgres({ settings: { max_connections: '400' } });
  project.provide('adminUrl', server.adminUrl);
  return async () => {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
}
