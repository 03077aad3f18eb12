/** /items against the in-memory database and the fake ULM (see test/helpers). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDatabaseOutage } from '../src/db.js';
import type { ItemJson } from '../src/items.js';
import type { Invalid, Problem } from './helpers/answers.js';
import { TOKEN } from './helpers/fake-ulm.js';
import { testApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await t.app.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const get = (url: string) => t.app.inject({ method: 'GET', url, headers: auth });
const post = (payload: object) => t.app.inject({ method: 'POST', url: '/items', payload, headers: auth });

async function create(name = 'Widget', owner = 'u-1') {
  const response = await post({ name, owner_user_id: owner });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<ItemJson>();
}

describe('/items', () => {
  it('creates an item', async () => {
    const item = await create();

    expect(item).toMatchObject({ id: 1, name: 'Widget', owner_user_id: 'u-1' });
    expect(typeof item.created_at).toBe('string');
    expect(new Date(item.created_at).toISOString()).toBe(item.created_at);
  });

  it('answers 422 for an owner ULM does not know', async () => {
    const response = await post({ name: 'Widget', owner_user_id: 'ghost' });

    expect(response.statusCode).toBe(422);
    expect(response.json<Problem>().code).toBe('owner_not_found');
    expect(response.json<Problem>().detail).toContain('ghost');
    expect(t.db.items.rows).toEqual([]);
  });

  it('answers 503 while ULM is down, and stores nothing', async () => {
    await get('/items'); // the token is checked, and cached
    t.fakeUlm.down = true;

    const response = await post({ name: 'Widget', owner_user_id: 'u-1' });

    expect(response.statusCode).toBe(503);
    expect(t.db.items.rows).toEqual([]);
  });

  it('validates the body', async () => {
    const response = await post({ name: '', owner_user_id: 'u-1' });

    expect(response.statusCode).toBe(422);
    expect(response.json<Invalid>().detail[0]).toMatchObject({ loc: ['body', 'name'], type: 'minLength' });
  });

  it('names a missing field', async () => {
    const response = await post({ name: 'Widget' });

    expect(response.statusCode).toBe(422);
    expect(response.json<Invalid>().detail[0].loc).toEqual(['body', 'owner_user_id']);
  });

  it('lists items, oldest first, with limit and offset', async () => {
    await create('A');
    await create('B', 'u-2');
    await create('C');

    const all = await get('/items');
    const page = await get('/items?limit=1&offset=1');

    expect(all.statusCode).toBe(200);
    expect(all.json<ItemJson[]>().map((i) => i.name)).toEqual(['A', 'B', 'C']);
    expect(page.json<ItemJson[]>().map((i) => i.name)).toEqual(['B']);
  });

  it('refuses a limit over 200', async () => {
    const response = await get('/items?limit=500');

    expect(response.statusCode).toBe(422);
  });

  it('returns the item with its owner from ULM', async () => {
    const item = await create();

    const response = await get(`/items/${item.id}`);

    expect(response.statusCode).toBe(200);
    // Only the allow-listed fields of ULM's answer (which has a password_hash too).
    expect(response.json()).toEqual({ item, owner: { id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace' } });
  });

  it('answers 404 for a missing item', async () => {
    const response = await get('/items/999');

    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'item_not_found', detail: 'Item 999 not found' });
  });

  it('answers 422 for an item id that is not a number', async () => {
    const response = await get('/items/abc');

    expect(response.statusCode).toBe(422);
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

  it('answers 503 when ULM answers 503', async () => {
    const item = await create();
    t.fakeUlm.status = 503;

    const response = await get(`/items/${item.id}`);

    expect(response.statusCode).toBe(503);
  });

  it('needs a token', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/items' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/items/1' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/items', payload: { name: 'W', owner_user_id: 'u-1' } })).statusCode).toBe(401);
  });
});

describe('/items with the database down', () => {
  const outages = {
    'unreachable (Prisma P1001)': Object.assign(new Error("Can't reach database server at 10.0.0.5:5432"), { code: 'P1001' }),
    'pool exhausted (pg)': new Error('timeout exceeded when trying to connect'),
    'restarting (57P03, through the adapter)': Object.assign(new Error('Raw query failed'), {
      code: 'P2010',
      meta: { driverAdapterError: { cause: { originalCode: '57P03', originalMessage: 'the database system is starting up' } } },
    }),
  };

  for (const [what, failure] of Object.entries(outages)) {
    it(`answers 503 with Retry-After, naming no address: ${what}`, async () => {
      await get('/items'); // the token is checked, and cached
      t.db.items.failure = failure;

      for (const response of [await get('/items'), await get('/items/1'), await post({ name: 'W', owner_user_id: 'u-1' })]) {
        expect(response.statusCode, response.body).toBe(503);
        expect(response.json<Problem>().code).toBe('database_unavailable');
        expect(response.headers['retry-after']).toBe('5');
        expect(response.body).not.toMatch(/10\.0\.0\.5|5432|P1001/);
      }
    });
  }

  it('answers 500 internal_error, not 503, for an error that is not an outage', async () => {
    t.db.items.failure = Object.assign(new Error('Unique constraint failed'), { code: 'P2002' });

    const response = await get('/items');

    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ code: 'internal_error', detail: 'Internal Server Error' });
    expect(isDatabaseOutage(t.db.items.failure)).toBe(false);
  });
});
