/**
 * The generated apps as products, one contract for every stack: generated, installed, provisioned
 * and migrated by one command against a real PostgreSQL 15 (the suite's embedded server, scram
 * auth), tested with their own tests, then booted against a stand-in ULM and held to the same HTTP
 * contract. Each stack (test/e2e/stacks/*.ts) supplies only what differs, and its own checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adrWorkspace, runCli } from '../helpers/cli.ts';
import { freePort, startFakeUlm, waitForHttp, type FakeUlm } from '../helpers/apps.ts';
import { endedBy, type GeneratedApp, type Stack } from '../helpers/stack.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';
import { pythonStack } from './stacks/python.ts';
import { typescriptStack } from './stacks/typescript.ts';

const adminUrl = inject('adminUrl');

const ADA = { id: 'u-1', email: 'ada@example.com', name: 'Ada' };
const GRACE = { id: 'u-2', email: 'grace@example.com' };

interface Server {
  url: string;
  proc: ResultPromise;
}

async function boot(stack: Stack, backend: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const port = await freePort();
  const proc = stack.start(backend, port, env);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, 60_000, proc);
  return { url, proc };
}

/** Stops the server with SIGTERM and checks that it shut down gracefully, not by the signal's default action. */
async function stop(stack: Stack, { proc }: Server): Promise<void> {
  proc.kill('SIGTERM');
  const r = await proc;
  expect(endedBy(r)).toBe(stack.stoppedBy);
  expect(`${r.stdout}\n${r.stderr}`).toMatch(stack.shutdownLog);
}

async function withServer(stack: Stack, backend: string, env: NodeJS.ProcessEnv, body: (url: string) => Promise<void>): Promise<void> {
  const server = await boot(stack, backend, env);
  try {
    await body(server.url);
  } finally {
    await stop(stack, server);
  }
}

const getJson = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as unknown };
};

const STACKS = [pythonStack, typescriptStack];

describe.each(STACKS.map((s) => [s.name, s] as const))('%s stack', (_name, stack) => {
  const ws = adrWorkspace();
  let ulm: FakeUlm;

  beforeAll(async () => {
    ulm = await startFakeUlm();
    ulm.users.set(ADA.id, ADA);
  });
  afterAll(async () => {
    await ulm.stop();
  });

  describe(`generated crud app (${stack.name})`, () => {
    const slug = stack.crudSlug;
    const app: GeneratedApp = { ws, slug, backend: path.join(ws, slug, 'backend'), adminUrl, databaseUrl: '' };
    const { backend } = app;

    it('is generated, installed, provisioned and migrated by one command', async () => {
      const r = await runCli([slug, ...stack.cliArgs, '--yes', '--install', '--create-db', '--migrate', '--admin-url', adminUrl, '--workspace', ws], { timeout: 600_000 });
      expect(r.stderr).toContain(`✔ Installing ${slug}'s dependencies`);
      expect(r.stderr).toContain(`✔ Running the first migration (${stack.migrateCommand})`);
      expect(r.exitCode).toBe(0);
      expect(fs.existsSync(path.join(backend, stack.installedMarker))).toBe(true);
      // Neither the admin password nor the app's appears in the output.
      const appPassword = readEnvVar(fs.readFileSync(path.join(ws, '.env'), 'utf8'), `${slug.toUpperCase()}_DB_PASSWORD`);
      expect(appPassword).toBeTruthy();
      expect(r.stdout + r.stderr).not.toContain(appPassword);
      expect(r.stdout + r.stderr).not.toContain(new URL(adminUrl).password);
      app.databaseUrl = readEnvVar(fs.readFileSync(path.join(backend, '.env'), 'utf8'), 'DATABASE_URL')!;
    });

    it('follows the ADR: its own login and database, never a connection to ulm_db', () => {
      const url = new URL(app.databaseUrl);
      expect(url.username).toBe(`${slug}_user`);
      expect(url.pathname).toBe(`/${slug}_db`);
      const sources = fs.readdirSync(path.join(backend, stack.sourceDir), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(sources.length).toBeGreaterThan(5);
      // Mentioned in docs as what not to do, but never in a connection string.
      for (const e of sources) expect(fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'), e.name).not.toMatch(/[/@=:]\s*ulm_db\b/);
    });

    for (const check of stack.crudChecks) it(check.name, () => check.run(app));

    it("passes its own unit tests and its integration tests (PostgreSQL, as the app's login)", async () => {
      const unit = await stack.ownTests(backend, 'unit');
      expect(unit.passed).toBeGreaterThan(10);
      expect(unit.failed).toBe(0);
      expect(unit.skipped).toBe(0);
      const integration = await stack.ownTests(backend, 'integration');
      expect(integration.passed).toBeGreaterThanOrEqual(1);
      expect(integration.failed).toBe(0);
      expect(integration.skipped).toBe(0);
    });

    it('boots, reports its database, and serves items with owners from ULM', async () => {
      // The database comes from the app's own backend/.env, as the CLI wrote it.
      await withServer(stack, backend, { ULM_BASE_URL: ulm.url, ULM_SERVICE_TOKEN: 'svc-token' }, async (url) => {
        expect(await getJson(`${url}/health`)).toMatchObject({ status: 200, body: { status: 'ok', database: 'ok' } });

        const openapi = (await getJson(`${url}/openapi.json`)).body as { paths: Record<string, unknown> };
        expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/health', '/items', stack.itemRoute]));

        const created = await fetch(`${url}/items`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Widget', owner_user_id: ADA.id }),
        });
        expect(created.status).toBe(201);
        const item = (await created.json()) as { id: number };
        expect(item).toMatchObject({ id: expect.any(Number), name: 'Widget', owner_user_id: ADA.id });

        // The item as it was created, its owner exactly as ULM returns it, asked for with the service token.
        expect(await getJson(`${url}/items/${item.id}`)).toEqual({ status: 200, body: { item, owner: ADA } });
        expect(ulm.authHeaders).toContain('Bearer svc-token');

        expect(await getJson(`${url}/items/999999`)).toEqual({ status: 404, body: { detail: expect.stringContaining('999999') } });

        // ULM no longer knows the owner: a clear 404 that names the user, not a 500.
        ulm.users.delete(ADA.id);
        expect(await getJson(`${url}/items/${item.id}`)).toEqual({ status: 404, body: { detail: expect.stringContaining(`'${ADA.id}'`) } });
      });
    });

    it('answers 503, not 500, when ULM is down', async () => {
      const deadUlm = `http://127.0.0.1:${await freePort()}`;
      await withServer(stack, backend, { ULM_BASE_URL: deadUlm }, async (url) => {
        const items = (await getJson(`${url}/items`)).body as { id: number }[];
        expect(items.length).toBeGreaterThan(0);
        expect(await getJson(`${url}/items/${items[0]!.id}`)).toEqual({ status: 503, body: { detail: expect.stringContaining('ULM') } });
      });
    });
  });

  describe(`generated readonly app (${stack.name})`, () => {
    const slug = stack.readonlySlug;
    const app: GeneratedApp = { ws, slug, backend: path.join(ws, slug, 'backend'), adminUrl, databaseUrl: '' };
    const { backend } = app;

    it('is generated and installed with no database settings', async () => {
      const r = await runCli([slug, ...stack.cliArgs, '--kind', 'readonly', '--yes', '--install', '--workspace', ws], { timeout: 600_000 });
      expect(r.stderr).toContain(`✔ Installing ${slug}'s dependencies`);
      expect(r.exitCode).toBe(0);
      expect(fs.readFileSync(path.join(backend, '.env'), 'utf8')).not.toMatch(/DATABASE_URL|DB_POOL/);
    });

    for (const check of stack.readonlyChecks) it(check.name, () => check.run(app));

    it('has no database packages, and no database in its settings', async () => {
      expect(await stack.databasePackages(backend)).toEqual([]);
      const settings = await stack.settingNames(backend);
      expect(settings.length).toBeGreaterThan(2);
      expect(settings.join(' ')).not.toMatch(/database|db_|pool/i);
    });

    it('passes its own tests', async () => {
      const counts = await stack.ownTests(backend, 'unit');
      expect(counts.passed).toBeGreaterThan(5);
      expect(counts.failed).toBe(0);
      expect(counts.skipped).toBe(0);
    });

    it('boots and reads users through ULM', async () => {
      ulm.users.set(GRACE.id, GRACE);
      await withServer(stack, backend, { ULM_BASE_URL: ulm.url }, async (url) => {
        const health = await getJson(`${url}/health`);
        expect(health.status).toBe(200);
        expect(health.body).not.toHaveProperty('database', 'ok');
        expect(await getJson(`${url}/users/${GRACE.id}`)).toEqual({ status: 200, body: GRACE });
        expect(await getJson(`${url}/users/nobody`)).toEqual({ status: 404, body: { detail: expect.stringContaining("'nobody'") } });
      });
    });
  });
});
