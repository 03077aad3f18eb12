/** /api/v1/items against the in-memory database and the fake ULM (see test/helpers). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDatabaseOutage } from '../src/db.js';
import type { ItemJson } from '../src/items.js';
import type { Invalid, Problem } from './helpers/answers.js';
import { TOKEN } from './helpers/fake-ulm.js';
import { testApp, type TestApp } from './helpers/app.js';
import { MemoryItemStore } from './helpers/memory-db.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
  t.fakeUlm.tokens['alan-token'] = 'u-2';
});
afterEach(async () => {
  await t.app.close();
});

const API = '/api/v1';
const auth = { authorization: `Bearer ${TOKEN}` };
const alan = { authorization: 'Bearer alan-token' };
const get = (url: string, headers = auth) => t.app.inject({ method: 'GET', url: `${API}${url}`, headers });
const post = (payload: object, headers = auth) => t.app.inject({ method: 'POST', url: `${API}/items`, payload, headers });
const patch = (id: number, payload: object, headers = auth) => t.app.inject({ method: 'PATCH', url: `${API}/items/${id}`, payload, headers });
const put = (id: number, payload: object, headers = auth) => t.app.inject({ method: 'PUT', url: `${API}/items/${id}`, payload, headers });
const del = (id: number, headers = auth) => t.app.inject({ method: 'DELETE', url: `${API}/items/${id}`, headers });

interface Page {
  items: ItemJson[];
  limit: number;
  offset: number;
  next_offset: number | null;
}
const names = (response: { json: <T>() => T }) => response.json<Page>().items.map((i) => i.name);

async function create(name = 'Widget', headers = auth) {
  const response = await post({ name }, headers);
  expect(response.statusCode, response.body).toBe(201);
  return response.json<ItemJson>();
}

describe('/api/v1/items', () => {
  it('creates an item owned by the caller', async () => {
    const item = await create();

    expect(item).toMatchObject({ id: 1, name: 'Widget', owner_user_id: 'u-1' });
    expect(new Date(item.created_at).toISOString()).toBe(item.created_at);
    expect(item.updated_at).toBe(item.created_at);
  });

  it('takes the owner from the token, never from the body', async () => {
    const response = await post({ name: 'Widget', owner_user_id: 'u-2' });

    expect(response.statusCode).toBe(422);
    expect(t.db.items.rows).toEqual([]);
  });

  it('validates the body', async () => {
    const response = await post({ name: '' });

    expect(response.statusCode).toBe(422);
    expect(response.json<Invalid>().detail[0]).toMatchObject({ loc: ['body', 'name'], type: 'minLength' });
  });

  it('lists items, oldest first, with limit and offset, and only mine when asked', async () => {
    await create('A');
    await create('B', alan);
    await create('C');

    const all = await get('/items');
    const page = await get('/items?limit=1&offset=1');
    const last = await get('/items?limit=1&offset=2');
    const mine = await get('/items?mine=true', alan);

    expect(all.statusCode).toBe(200);
    expect(all.json<Page>()).toMatchObject({ limit: 50, offset: 0, next_offset: null });
    expect(names(all)).toEqual(['A', 'B', 'C']);
    expect(page.json<Page>()).toMatchObject({ limit: 1, offset: 1, next_offset: 2 });
    expect(names(page)).toEqual(['B']);
    expect(last.json<Page>()).toMatchObject({ limit: 1, offset: 2, next_offset: null });
    expect(names(last)).toEqual(['C']);
    expect(names(mine)).toEqual(['B']);
  });

  it('refuses a page over the maximum', async () => {
    expect((await get('/items?limit=101')).statusCode).toBe(422);
    expect((await get('/items?limit=100')).statusCode).toBe(200);
  });

  it('returns the item asked for, with its owner from ULM, to any caller', async () => {
    const first = await create('First');
    const second = await create('Second', alan);

    const response = await get(`/items/${second.id}`);

    expect(response.statusCode).toBe(200);
    // Only the allow-listed fields of ULM's answer (which has roles too).
    expect(response.json()).toEqual({ item: second, owner: { id: 'u-2', email: 'alan@example.com', name: 'Alan Turing' } });
    expect((await get(`/items/${first.id}`)).json<{ item: ItemJson }>().item).toEqual(first);
  });

  it('answers 404 for a missing item, even with other items there', async () => {
    await create();
    const response = await get('/items/999');

    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'item_not_found', detail: 'Item 999 not found' });
  });

  it('answers 422 for an item id that is not a number', async () => {
    expect((await get('/items/abc')).statusCode).toBe(422);
  });

  it('lets the owner change an item', async () => {
    const item = await create();

    const response = await patch(item.id, { name: 'Renamed' });

    expect(response.statusCode).toBe(200);
    expect(response.json<ItemJson>()).toMatchObject({ id: item.id, name: 'Renamed', owner_user_id: 'u-1' });
    expect((await get(`/items/${item.id}`)).json<{ item: ItemJson }>().item.name).toBe('Renamed');
  });

  it('lets the owner replace an item with PUT, the whole body required', async () => {
    const item = await create();

    const response = await put(item.id, { name: 'Replaced' });

    expect(response.statusCode).toBe(200);
    expect(response.json<ItemJson>()).toMatchObject({ id: item.id, name: 'Replaced', owner_user_id: 'u-1' });
    expect((await get(`/items/${item.id}`)).json<{ item: ItemJson }>().item.name).toBe('Replaced');
    for (const body of [{}, { name: '' }, { name: 'x', owner_user_id: 'u-2' }]) expect((await put(item.id, body)).statusCode).toBe(422);
  });

  it('refuses a change of owner, or an empty change', async () => {
    const item = await create();

    expect((await patch(item.id, { owner_user_id: 'u-2' })).statusCode).toBe(422);
    expect((await patch(item.id, {})).statusCode).toBe(422);
    expect(t.db.items.rows[0]).toMatchObject({ ownerUserId: 'u-1', name: 'Widget' });
  });

  it('lets the owner delete an item', async () => {
    const item = await create();

    const response = await del(item.id);

    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect((await get(`/items/${item.id}`)).statusCode).toBe(404);
    expect((await del(item.id)).statusCode).toBe(404);
  });

  it('answers 403 not_owner to anyone but the owner who changes or deletes an item, 404 when there is none', async () => {
    const item = await create();

    const changed = await patch(item.id, { name: 'Mine now' }, alan);
    const replaced = await put(item.id, { name: 'Mine now' }, alan);
    const deleted = await del(item.id, alan);

    for (const response of [changed, replaced, deleted]) {
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({ code: 'not_owner', detail: `Only the owner of item ${item.id} may change it` });
    }
    expect((await patch(999999, { name: 'x' }, alan)).statusCode).toBe(404);
    expect((await put(999999, { name: 'x' }, alan)).statusCode).toBe(404);
    expect((await del(999999, alan)).statusCode).toBe(404);
    expect(t.db.items.rows).toHaveLength(1);
    expect(t.db.items.rows[0]).toMatchObject({ name: 'Widget', ownerUserId: 'u-1' });
  });

  it('asks ULM for an owner once, then answers from its cache', async () => {
    const item = await create();

    await get(`/items/${item.id}`);
    await get(`/items/${item.id}`);

    expect(t.fakeUlm.paths().filter((p) => p === '/api/v1/users/u-1')).toHaveLength(1);
  });

  it('answers 404, without naming the user, when the owner was deleted in ULM', async () => {
    const item = await create();
    delete t.fakeUlm.users['u-1'];
    t.fakeUlm.tokens = {}; // the token stays cached

    const response = await get(`/items/${item.id}`);

    expect(response.statusCode).toBe(404);
    expect(response.json<Problem>().code).toBe('owner_not_found');
    expect(response.body).not.toContain('u-1');
  });

  it('answers 503, not 500, when ULM is down', async () => {
    const item = await create();
    t.fakeUlm.down = true;

    const response = await get(`/items/${item.id}`);

    expect(response.statusCode).toBe(503);
    expect(response.json<Problem>().code).toBe('ulm_unavailable');
    expect(response.headers['retry-after']).toBeDefined();
  });

  it('needs a token', async () => {
    expect((await t.app.inject({ method: 'GET', url: `${API}/items` })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: `${API}/items/1` })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: `${API}/items`, payload: { name: 'W' } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'PUT', url: `${API}/items/1`, payload: { name: 'W' } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'DELETE', url: `${API}/items/1` })).statusCode).toBe(401);
  });
});

describe('/api/v1/items with a read replica', () => {
  it("reads from the replica, but a caller's reads right after their own write from the primary", async () => {
    const replica = new MemoryItemStore();
    t.db.readItems = replica;
    await get('/items', alan); // alan wrote nothing: the replica

    await create('Fresh'); // u-1 wrote
    const own = await get('/items');

    expect(replica.calls).toEqual(['list']);
    expect(names(own)).toEqual(['Fresh']);
    expect(t.db.items.calls).toEqual(['create', 'list']);
  });
});

describe('/api/v1/items with the database down', () => {
  const outages = {
    'unreachable (Prisma P1001)': Object.assign(new Error("Can't reach database server at 10.0.0.5:5432"), { name: 'PrismaClientKnownRequestError', code: 'P1001' }),
    'pool exhausted (pg, through the adapter)': Object.assign(new Error('timeout exceeded when trying to connect'), { name: 'DriverAdapterError' }),
    'statement timeout (57014)': Object.assign(new Error('canceling statement due to statement timeout'), { name: 'PrismaClientKnownRequestError', code: 'P2010', meta: { driverAdapterError: { cause: { originalCode: '57014' } } } }),
    'frozen server, new connection (pg connect timeout)': new Error('timeout expired'),
    'frozen server (pg query_timeout)': Object.assign(new Error('Query read timeout'), { name: 'DriverAdapterError' }),
    'restarting (57P03, through the adapter)': Object.assign(new Error('Raw query failed'), {
      name: 'PrismaClientKnownRequestError',
      code: 'P2010',
      meta: { driverAdapterError: { cause: { originalCode: '57P03', originalMessage: 'the database system is starting up' } } },
    }),
  };

  for (const [what, failure] of Object.entries(outages)) {
    it(`answers 503 with Retry-After, naming no address: ${what}`, async () => {
      await get('/items'); // the token is checked, and cached
      t.db.items.failure = failure;

      for (const response of [await get('/items'), await get('/items/1'), await post({ name: 'W' }), await del(1)]) {
        expect(response.statusCode, response.body).toBe(503);
        expect(response.json<Problem>().code).toBe('database_unavailable');
        expect(response.headers['retry-after']).toBe('5');
        expect(response.body).not.toMatch(/10\.0\.0\.5|5432|P1001/);
      }
    });
  }

  it('answers 500 internal_error, not 503, for an error that is not an outage', async () => {
    t.db.items.failure = Object.assign(new Error('Unique constraint failed'), { name: 'PrismaClientKnownRequestError', code: 'P2002' });

    const response = await get('/items');

    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ code: 'internal_error', detail: 'Internal Server Error' });
    expect(isDatabaseOutage(t.db.items.failure)).toBe(false);
  });

  it("answers 500, logged with the request id, for a route's own bug such as a missing file", async () => {
    // Not an outage: it must reach 500-based alerting, not hide behind a 503.
    t.db.items.failure = Object.assign(new Error("ENOENT: no such file or directory, open '/nonexistent'"), { code: 'ENOENT' });

    const response = await t.app.inject({ method: 'GET', url: `${API}/items`, headers: { ...auth, 'x-request-id': 'trace-42' } });

    expect(response.statusCode).toBe(500);
    expect(response.headers['x-request-id']).toBe('trace-42');
    expect(t.logs.some((line) => line.includes('"request_id":"trace-42"') && line.includes('ENOENT'))).toBe(true);
  });
});
