/** /items against the in-memory database and the fake ULM (see test/helpers). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await t.app.close();
});

async function create(name = 'Widget', owner = 'u-1') {
  const response = await t.app.inject({ method: 'POST', url: '/items', payload: { name, owner_user_id: owner } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

describe('/items', () => {
  it('creates an item', async () => {
    const item = await create();

    expect(item).toEqual({ id: 1, name: 'Widget', owner_user_id: 'u-1', created_at: expect.any(String) });
    expect(new Date(item.created_at).toISOString()).toBe(item.created_at);
  });

  it('answers 422 for an owner ULM does not know', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/items', payload: { name: 'Widget', owner_user_id: 'ghost' } });

    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toContain('ghost');
    expect(t.db.items.rows).toEqual([]);
  });

  it('answers 503 while ULM is down, and stores nothing', async () => {
    t.fakeUlm.down = true;

    const response = await t.app.inject({ method: 'POST', url: '/items', payload: { name: 'Widget', owner_user_id: 'u-1' } });

    expect(response.statusCode).toBe(503);
    expect(t.db.items.rows).toEqual([]);
  });

  it('validates the body', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/items', payload: { name: '', owner_user_id: 'u-1' } });

    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0]).toMatchObject({ loc: ['body', 'name'], type: 'minLength' });
  });

  it('names a missing field', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/items', payload: { name: 'Widget' } });

    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0].loc).toEqual(['body', 'owner_user_id']);
  });

  it('lists items, oldest first, with limit and offset', async () => {
    await create('A');
    await create('B', 'u-2');
    await create('C');

    const all = await t.app.inject({ method: 'GET', url: '/items' });
    const page = await t.app.inject({ method: 'GET', url: '/items?limit=1&offset=1' });

    expect(all.statusCode).toBe(200);
    expect(all.json().map((i: { name: string }) => i.name)).toEqual(['A', 'B', 'C']);
    expect(page.json().map((i: { name: string }) => i.name)).toEqual(['B']);
  });

  it('refuses a limit over 200', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/items?limit=500' });

    expect(response.statusCode).toBe(422);
  });

  it('returns the item with its owner from ULM', async () => {
    const item = await create();

    const response = await t.app.inject({ method: 'GET', url: `/items/${item.id}` });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ item, owner: { id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace' } });
  });

  it('answers 404 for a missing item', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/items/999' });

    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'Item 999 not found' });
  });

  it('answers 422 for an item id that is not a number', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/items/abc' });

    expect(response.statusCode).toBe(422);
  });

  it('answers 404 naming the user when the owner was deleted in ULM', async () => {
    const item = await create();
    delete t.fakeUlm.users['u-1'];

    const response = await t.app.inject({ method: 'GET', url: `/items/${item.id}` });

    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toContain("'u-1'");
  });

  it('answers 503, not 500, when ULM is down', async () => {
    const item = await create();
    t.fakeUlm.down = true;

    const response = await t.app.inject({ method: 'GET', url: `/items/${item.id}` });

    expect(response.statusCode).toBe(503);
    expect(response.json().detail).toContain('ULM');
  });

  it('answers 503 when ULM answers 503', async () => {
    const item = await create();
    t.fakeUlm.status = 503;

    const response = await t.app.inject({ method: 'GET', url: `/items/${item.id}` });

    expect(response.statusCode).toBe(503);
  });
});
