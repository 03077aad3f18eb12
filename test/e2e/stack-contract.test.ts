/**
 * The generated apps as products, one contract for every stack: generated, installed, provisioned
 * and migrated by one command against a real PostgreSQL 15 (the suite's embedded server, scram
 * auth), tested with their own tests, then booted against a stand-in ULM and held to the same HTTP
 * contract, including under faults: a ULM that is slow, hangs or stops, a database that goes away
 * and comes back (a TCP proxy in front of PostgreSQL). Each stack (test/e2e/stacks/*.ts) supplies
 * only what differs, and its own checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adrWorkspace, appPassword as passwordOf, runCli } from '../helpers/cli.ts';
import { freePort, waitForHttp } from '../helpers/apps.ts';
import { endedBy, internals, startFakeUlm, startTcpProxy, type FakeUlm, type GeneratedApp, type Stack } from '../helpers/stack.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';
import { pythonStack } from './stacks/python.ts';
import { typescriptStack } from './stacks/typescript.ts';

const adminUrl = inject('adminUrl');

// ULM's users carry more than an app may show: the apps answer with id, email and name only.
const ADA = { id: 'u-1', email: 'ada@example.com', name: 'Ada', password_hash: 'x' };
const ADA_SHOWN = { id: 'u-1', email: 'ada@example.com', name: 'Ada' };
const GRACE = { id: 'u-2', email: 'grace@example.com', roles: ['admin'] };
const GRACE_SHOWN = { id: 'u-2', email: 'grace@example.com', name: null };
const TOKEN = 'ada-token';
// Every app route is under it (ULM's convention); /health/* is not.
const API = '/api/v1';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Server {
  url: string;
  proc: ResultPromise;
}

async function boot(stack: Stack, backend: string, env: NodeJS.ProcessEnv): Promise<Server> {
  const port = await freePort();
  const proc = stack.start(backend, port, env);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health/live`, 60_000, proc);
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

/** Every error body the apps sent, checked at the end for internal addresses. */
const errorBodies: string[] = [];

interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
  ms: number;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  const r = await fetch(url, init);
  const text = await r.text();
  if (r.status >= 400) errorBodies.push(text);
  return { status: r.status, body: text ? (JSON.parse(text) as unknown) : null, headers: r.headers, ms: performance.now() - started };
}

const getJson = async (url: string, headers: Record<string, string> = AUTH) => {
  const { status, body } = await call(url, { headers });
  return { status, body };
};

const postItem = (url: string, body: unknown, headers: Record<string, string> = AUTH) =>
  call(`${url}${API}/items`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` passes or `ms` pass. */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(200);
  }
}

const STACKS = [pythonStack, typescriptStack];

describe.each(STACKS.map((s) => [s.name, s] as const))('%s stack', (_name, stack) => {
  const ws = adrWorkspace();
  let ulm: FakeUlm;

  beforeAll(async () => {
    ulm = await startFakeUlm();
    ulm.users.set(ADA.id, ADA);
    ulm.tokens.set(TOKEN, ADA.id);
  });
  afterAll(async () => {
    await ulm.stop();
  });
  // Each fault test leaves ULM as it found it.
  const healthyUlm = async () => {
    ulm.delayMs = 0;
    ulm.hang = false;
    ulm.users.set(ADA.id, ADA);
    ulm.tokens.set(TOKEN, ADA.id);
  };

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
      const appPassword = passwordOf(ws, slug);
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

    it('boots, is ready, and serves items with owners from ULM to authenticated callers', async () => {
      // The database comes from the app's own backend/.env, as the CLI wrote it.
      await healthyUlm();
      // No user cache: the owner's disappearance from ULM below is seen at once.
      await withServer(stack, backend, { ULM_BASE_URL: ulm.url, ULM_SERVICE_TOKEN: 'svc-token', USER_CACHE_TTL: '0' }, async (url) => {
        expect(await getJson(`${url}/health/live`, {})).toMatchObject({ status: 200, body: { status: 'ok' } });
        expect(await getJson(`${url}/health/ready`, {})).toMatchObject({ status: 200, body: { status: 'ok', database: 'ok' } });

        const openapi = (await getJson(`${url}/openapi.json`, {})).body as { paths: Record<string, unknown> };
        expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready', `${API}/items`, stack.itemRoute]));

        // No token, or one ULM does not accept: 401, and nothing is stored.
        // The owner is the caller, never a field of the body.
        const widget = { name: 'Widget' };
        expect(await postItem(url, widget, {})).toMatchObject({ status: 401, body: { code: 'not_authenticated' } });
        expect(await postItem(url, widget, { authorization: 'Bearer forged' })).toMatchObject({ status: 401, body: { code: 'invalid_token' } });
        expect(await getJson(`${url}${API}/items`, {})).toMatchObject({ status: 401 });
        expect(ulm.requests.some((r) => r.path === '/api/v1/auth/me' && r.authorization === 'Bearer forged')).toBe(true);

        const created = await postItem(url, widget);
        expect(created.status).toBe(201);
        const item = created.body as { id: number };
        expect(item).toMatchObject({ id: expect.any(Number), name: 'Widget', owner_user_id: ADA.id });

        // The item as it was created, its owner as ULM returns it but allow-listed, asked for with the service token.
        expect(await getJson(`${url}${API}/items/${item.id}`)).toMatchObject({ status: 200, body: { item, owner: ADA_SHOWN } });
        expect(ulm.requests.filter((r) => r.path.startsWith('/api/v1/users/')).map((r) => r.authorization)).toContain('Bearer svc-token');
        // The caller's token was checked once, then cached.
        expect(ulm.requests.filter((r) => r.path === '/api/v1/auth/me' && r.authorization === `Bearer ${TOKEN}`)).toHaveLength(1);

        expect(await getJson(`${url}${API}/items/999999`)).toEqual({ status: 404, body: { code: 'item_not_found', detail: expect.stringContaining('999999') } });

        // The list: one page shape on every stack, `next_offset` null on the last page, the page size bounded.
        const second = (await postItem(url, { name: 'Gadget' })).body as { id: number };
        const all = await getJson(`${url}${API}/items?limit=100`);
        expect(all).toMatchObject({ status: 200, body: { limit: 100, offset: 0, next_offset: null } });
        const listed = (all.body as { items: { id: number }[] }).items;
        const at = listed.findIndex((i) => i.id === second.id);
        expect(at).toBe(listed.length - 1); // oldest first
        expect(listed[at - 1]).toEqual(item);
        expect(await getJson(`${url}${API}/items?limit=1&offset=${at - 1}`)).toEqual({ status: 200, body: { items: [item], limit: 1, offset: at - 1, next_offset: at } });
        expect(await getJson(`${url}${API}/items?limit=1&offset=${at}`)).toMatchObject({ status: 200, body: { items: [{ id: second.id, name: 'Gadget' }], limit: 1, offset: at, next_offset: null } });
        expect(await getJson(`${url}${API}/items`)).toMatchObject({ status: 200, body: { limit: 50, offset: 0 } });
        expect((await getJson(`${url}${API}/items?limit=101`)).status).toBe(422);
        expect((await getJson(`${url}${API}/items?offset=-1`)).status).toBe(422);
        // The owner deletes: 204, then 404, and the list no longer holds it.
        expect((await call(`${url}${API}/items/${second.id}`, { method: 'DELETE', headers: AUTH })).status).toBe(204);
        expect((await getJson(`${url}${API}/items/${second.id}`)).status).toBe(404);
        expect(await getJson(`${url}${API}/items?limit=1&offset=${at}`)).toMatchObject({ status: 200, body: { items: [], next_offset: null } });

        // Only the owner may change or delete it: another caller gets 403 not_owner (they may read it).
        ulm.users.set(GRACE.id, GRACE);
        ulm.tokens.set('grace-token', GRACE.id);
        const json = { 'content-type': 'application/json' };
        const rename = (headers: Record<string, string>) => call(`${url}${API}/items/${item.id}`, { method: 'PATCH', headers: { ...json, ...headers }, body: JSON.stringify({ name: 'Renamed' }) });
        expect(await rename({ authorization: 'Bearer grace-token' })).toMatchObject({ status: 403, body: { code: 'not_owner' } });
        expect((await call(`${url}${API}/items/${item.id}`, { method: 'DELETE', headers: { authorization: 'Bearer grace-token' } })).status).toBe(403);
        const replace = (headers: Record<string, string>, name: string) => call(`${url}${API}/items/${item.id}`, { method: 'PUT', headers: { ...json, ...headers }, body: JSON.stringify({ name }) });
        expect(await replace({ authorization: 'Bearer grace-token' }, 'Mine now')).toMatchObject({ status: 403, body: { code: 'not_owner' } });
        expect(await replace(AUTH, 'Replaced')).toMatchObject({ status: 200, body: { id: item.id, name: 'Replaced', owner_user_id: ADA.id } });
        expect(await rename(AUTH)).toMatchObject({ status: 200, body: { id: item.id, name: 'Renamed', owner_user_id: ADA.id } });
        Object.assign(item, { name: 'Renamed' });

        // X-Request-ID: taken from the request, returned, and passed on to ULM.
        const traced = await call(`${url}${API}/items/${item.id}`, { headers: { ...AUTH, 'x-request-id': 'e2e-trace-1' } });
        expect(traced.headers.get('x-request-id')).toBe('e2e-trace-1');
        expect(ulm.requests.some((r) => r.requestId === 'e2e-trace-1')).toBe(true);
        // /docs is served by the app itself.
        expect((await fetch(`${url}/docs`)).status).toBe(200);

        // ULM no longer knows the owner: a clear 404 that does not name the user, not a 500.
        ulm.users.delete(ADA.id);
        const orphan = await getJson(`${url}${API}/items/${item.id}`);
        expect(orphan).toEqual({ status: 404, body: { code: 'owner_not_found', detail: expect.any(String) } });
        expect(JSON.stringify(orphan.body)).not.toContain(ADA.id);
      });
    });

    it('releases its database connection before calling ULM: a slow ULM does not starve the pool', async () => {
      await healthyUlm();
      // Two connections: were they held while ULM takes 2 s, 60 requests would take a minute and time out.
      const env = { ULM_BASE_URL: ulm.url, DB_POOL_SIZE: '2', DB_MAX_OVERFLOW: '0', DB_POOL_TIMEOUT: '3' };
      await withServer(stack, backend, env, async (url) => {
        const item = (await postItem(url, { name: 'Slow' })).body as { id: number };
        ulm.delayMs = 2000;
        const started = performance.now();
        const requests = Array.from({ length: 60 }, () => call(`${url}${API}/items/${item.id}`, { headers: AUTH }));
        await sleep(300);
        const ready = await call(`${url}/health/ready`);
        const answers = await Promise.all(requests);
        const took = performance.now() - started;
        ulm.delayMs = 0;

        expect(ready.status).toBe(200);
        expect(ready.ms).toBeLessThan(1000);
        expect(answers.map((a) => a.status)).toEqual(Array(60).fill(200));
        expect(took).toBeLessThan(10_000);
      });
    });

    it('gives a hanging ULM one deadline (ULM_TIMEOUT), then its circuit breaker answers at once, and recovers', async () => {
      await healthyUlm();
      const env = { ULM_BASE_URL: ulm.url, ULM_TIMEOUT: '2', ULM_BREAKER_THRESHOLD: '3', ULM_BREAKER_COOLDOWN: '2' };
      await withServer(stack, backend, env, async (url) => {
        const item = (await postItem(url, { name: 'Hung' })).body as { id: number };
        ulm.hang = true;

        const hung = await Promise.all([1, 2, 3].map(() => call(`${url}${API}/items/${item.id}`, { headers: AUTH })));
        for (const a of hung) {
          expect(a.status).toBe(504);
          expect(a.body).toMatchObject({ code: 'ulm_timeout' });
          expect(a.ms).toBeLessThan(5000);
        }
        const fast = await call(`${url}${API}/items/${item.id}`, { headers: AUTH });
        expect(fast).toMatchObject({ status: 503, body: { code: 'ulm_unavailable' } });
        expect(Number(fast.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(fast.ms).toBeLessThan(200);
        // Items that need no ULM call are still served (the token is cached).
        expect((await call(`${url}${API}/items`, { headers: AUTH })).status).toBe(200);

        ulm.hang = false;
        await sleep(2100);
        expect((await call(`${url}${API}/items/${item.id}`, { headers: AUTH })).status).toBe(200);
      });
    });

    it('answers 503 with Retry-After while ULM is stopped, serves what needs no ULM, and recovers', async () => {
      await healthyUlm();
      await withServer(stack, backend, { ULM_BASE_URL: ulm.url }, async (url) => {
        const item = (await postItem(url, { name: 'Stopped' })).body as { id: number };
        await ulm.stop();
        try {
          const down = await call(`${url}${API}/items/${item.id}`, { headers: AUTH });
          expect(down).toMatchObject({ status: 503, body: { code: 'ulm_unavailable', detail: expect.stringContaining('ULM') } });
          expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          expect((await call(`${url}${API}/items`, { headers: AUTH })).status).toBe(200);
          // A token never seen cannot be checked: 503, not 401 and not 500.
          expect((await call(`${url}${API}/items`, { headers: { authorization: 'Bearer new-token' } })).status).toBe(503);
          expect((await call(`${url}/health/ready`)).status).toBe(200); // the database is fine
        } finally {
          await ulm.start();
        }
        await eventually(async () => (await call(`${url}${API}/items/${item.id}`, { headers: AUTH })).status === 200, 15_000);
      });
    });

    it('answers 503 with Retry-After while its database is down, stays live but not ready, and recovers', async () => {
      await healthyUlm();
      const real = new URL(app.databaseUrl);
      const proxy = await startTcpProxy(real.hostname === 'localhost' ? '127.0.0.1' : real.hostname, Number(real.port));
      const viaProxy = new URL(app.databaseUrl);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      try {
        await withServer(stack, backend, { ULM_BASE_URL: ulm.url, DATABASE_URL: viaProxy.toString() }, async (url) => {
          const item = (await postItem(url, { name: 'Outage' })).body as { id: number };
          await proxy.stop();

          for (const down of [
            await call(`${url}${API}/items`, { headers: AUTH }),
            await call(`${url}${API}/items/${item.id}`, { headers: AUTH }),
            await postItem(url, { name: 'Lost' }),
          ]) {
            expect(down, JSON.stringify(down.body)).toMatchObject({ status: 503, body: { code: 'database_unavailable' } });
            expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
            expect(internals(JSON.stringify(down.body), [proxy.port, Number(real.port)])).toEqual([]);
          }
          expect((await call(`${url}/health/live`)).status).toBe(200);
          const notReady = await call(`${url}/health/ready`);
          expect(notReady).toMatchObject({ status: 503, body: { database: 'unavailable' } });
          expect(notReady.ms).toBeLessThan(2000);

          await proxy.start();
          await eventually(async () => (await call(`${url}/health/ready`)).status === 200, 15_000);
          expect((await call(`${url}${API}/items/${item.id}`, { headers: AUTH })).status).toBe(200);
          expect((await postItem(url, { name: 'Back' })).status).toBe(201);
        });
      } finally {
        await proxy.close();
      }
    });

    it('never named an internal address in an error answer', () => {
      expect(errorBodies.length).toBeGreaterThan(10);
      const ports = [ulm.port, Number(new URL(app.databaseUrl).port)];
      expect(errorBodies.flatMap((b) => internals(b, ports).map((what) => `${what} in ${b}`))).toEqual([]);
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

    it('boots and reads users through ULM for authenticated callers; ready follows ULM', async () => {
      await healthyUlm();
      ulm.users.set(GRACE.id, GRACE);
      // No user cache: ULM stopping below is seen at once.
      await withServer(stack, backend, { ULM_BASE_URL: ulm.url, USER_CACHE_TTL: '0' }, async (url) => {
        expect(await getJson(`${url}/health/ready`, {})).toMatchObject({ status: 200, body: { status: 'ok', ulm: 'ok' } });
        const ready = (await getJson(`${url}/health/ready`, {})).body;
        expect(ready).not.toHaveProperty('database');
        expect(await getJson(`${url}${API}/users/${GRACE.id}`, {})).toMatchObject({ status: 401, body: { code: 'not_authenticated' } });
        expect(await getJson(`${url}${API}/users/${GRACE.id}`, { authorization: 'Bearer forged' })).toMatchObject({ status: 401 });
        expect(await getJson(`${url}${API}/users/${GRACE.id}`)).toEqual({ status: 200, body: GRACE_SHOWN });
        expect(await getJson(`${url}${API}/users/nobody`)).toEqual({ status: 404, body: { code: 'user_not_found', detail: expect.stringContaining("'nobody'") } });

        await ulm.stop();
        try {
          expect((await call(`${url}/health/live`)).status).toBe(200);
          const notReady = await call(`${url}/health/ready`);
          expect(notReady).toMatchObject({ status: 503, body: { ulm: 'unavailable' } });
          expect(notReady.ms).toBeLessThan(2000);
          const down = await call(`${url}${API}/users/${GRACE.id}`, { headers: AUTH });
          expect(down).toMatchObject({ status: 503, body: { code: 'ulm_unavailable' } });
          expect(down.headers.get('retry-after')).toBeTruthy();
          expect(internals(JSON.stringify(down.body), [ulm.port])).toEqual([]);
        } finally {
          await ulm.start();
        }
        await eventually(async () => (await call(`${url}/health/ready`)).status === 200, 15_000);
      });
    });
  });
});
