/**
 * vitest globalSetup for the integration and e2e projects: one throwaway PostgreSQL 15 for the whole
 * run (or the server in OVU_TEST_ADMIN_URL), its admin URL handed to tests via `inject('adminUrl')`.
 */
import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestPostgres();
  project.provide('adminUrl', server.adminUrl);
  return async () => {
    await server.stop();
  };
}
