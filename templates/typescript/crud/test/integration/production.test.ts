/**
 * The app as it runs in production: buildApp() with nothing but settings, so its own database
 * pools (src/db.ts), its own ULM client over HTTP and its error handling are the ones under
 * test; a dead pool, a ULM client that never sends the request id, or a ULM timeout answered 503
 * fails here even when every unit test (which swap those parts for fakes) passes.
 *
 * The database is the integration database (DATABASE_URL), in a schema of its own; ULM is the
 * fake of test/helpers over real HTTP.
 */
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadEnvFile, readConfig } from '../../src/config.js';
import { TOKEN } from '../helpers/fake-ulm.js';
import { onDatabase, schemaName, schemaUrl } from '../helpers/schema.js';
import { startULMServer, type ULMServer } from '../helpers/ulm-server.js';

loadEnvFile();
const BACKEND = fileURLToPath(new URL('../..', import.meta.url));
const SCHEMA = schemaName('prod');
const ADA = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const ALAN = { authorization: 'Bearer alan-token', 'content-type': 'application/json' };

describe('the app with its production wiring (real settings, PostgreSQL, ULM over HTTP)', () => {
  let ulm: ULMServer;
  let app: FastifyInstance;
  let base: string;
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${base}${path}`, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };

  beforeAll(async () => {
    await onDatabase(`CREATE SCHEMA "${SCHEMA}"`);
    const url = schemaUrl(SCHEMA);
    execFileSync(process.execPath, ['scripts/migrate.mjs', 'deploy', '--bundled'], { cwd: BACKEND, env: { ...process.env, DATABASE_URL: url } });
    ulm = await startULMServer();
    ulm.fake.tokens['alan-token'] = 'u-2';
    // The settings alone, as src/server.ts passes them: no client, no database handed in.
    app = await buildApp({ config: readConfig({ ...process.env, DATABASE_URL: url, ULM_BASE_URL: ulm.url, ULM_TIMEOUT: '1' }) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await ulm?.close();
    await onDatabase(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  });

  it('is ready: its own pool reaches the database', async () => {
    expect(await call('/health/ready')).toMatchObject({ status: 200, body: { status: 'ok', database: 'ok' } });
  });

  it('carries an item through its whole life, owner and another caller alike', async () => {
    const created = await call('/api/v1/items', { method: 'POST', headers: { ...ADA, 'x-request-id': 'prod-1' }, body: JSON.stringify({ name: 'Widget' }) });
    expect(created).toMatchObject({ status: 201, body: { name: 'Widget', owner_user_id: 'u-1' } });
    expect(created.headers.get('x-request-id')).toBe('prod-1');
    const id = created.body!.id as number;

    const read = await call(`/api/v1/items/${id}`, { headers: { ...ALAN, 'x-request-id': 'prod-2' } });
    expect(read).toMatchObject({ status: 200, body: { item: { id, name: 'Widget' }, owner: { id: 'u-1' } } });
    // ULM saw the request ids of the requests that needed it.
    expect(ulm.fake.requests.map((r) => r.headers.get('x-request-id'))).toEqual(expect.arrayContaining(['prod-1', 'prod-2']));

    expect(await call(`/api/v1/items/${id}`, { method: 'PATCH', headers: ALAN, body: JSON.stringify({ name: 'Taken' }) })).toMatchObject({ status: 403 });
    expect(await call(`/api/v1/items/${id}`, { method: 'DELETE', headers: { authorization: ALAN.authorization } })).toMatchObject({ status: 403 });
    expect(await call(`/api/v1/items/${id}`, { method: 'PATCH', headers: ADA, body: JSON.stringify({ name: 'Renamed' }) })).toMatchObject({ status: 200, body: { name: 'Renamed' } });
    expect(await call(`/api/v1/items/${id}`, { method: 'DELETE', headers: { authorization: ADA.authorization } })).toMatchObject({ status: 204 });
    expect(await call(`/api/v1/items/${id}`, { headers: ADA })).toMatchObject({ status: 404, body: { code: 'item_not_found' } });
  });

  it('answers 504 ulm_timeout when ULM does not answer within ULM_TIMEOUT', async () => {
    const created = await call('/api/v1/items', { method: 'POST', headers: ADA, body: JSON.stringify({ name: 'Slow owner' }) });
    ulm.fake.users['u-3'] = { id: 'u-3', email: null, name: 'Not cached yet' };
    await onDatabase(`UPDATE "${SCHEMA}".items SET owner_user_id = 'u-3' WHERE id = ${Number(created.body!.id)}`);
    ulm.fake.hang = true;
    try {
      const started = performance.now();
      const answer = await call(`/api/v1/items/${Number(created.body!.id)}`, { headers: ADA });
      expect(answer).toMatchObject({ status: 504, body: { code: 'ulm_timeout' } });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      ulm.fake.hang = false;
    }
  });

  it('with DATABASE_READ_URL on an unreachable server: writes succeed, reads fall back to the primary', async () => {
    const env = { ...process.env, DATABASE_URL: schemaUrl(SCHEMA), DATABASE_READ_URL: 'postgresql://nobody:x@127.0.0.1:1/none', DB_CONNECT_TIMEOUT: '1', ULM_BASE_URL: ulm.url };
    const withDeadReplica = await buildApp({ config: readConfig(env) });
    try {
      const created = await withDeadReplica.inject({ method: 'POST', url: '/api/v1/items', headers: ADA, payload: { name: 'Primary only' } });
      expect(created.statusCode, created.body).toBe(201);
      const listed = await withDeadReplica.inject({ method: 'GET', url: '/api/v1/items?limit=100', headers: { authorization: ADA.authorization } });
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.json<{ items: { name: string }[] }>().items.map((i) => i.name)).toContain('Primary only');
      // Another caller (no write of their own): the replica is tried, fails, the primary answers.
      const other = await withDeadReplica.inject({ method: 'GET', url: `/api/v1/items/${created.json<{ id: number }>().id}`, headers: { authorization: ALAN.authorization } });
      expect(other.statusCode, other.body).toBe(200);
    } finally {
      await withDeadReplica.close();
    }
  });
});
