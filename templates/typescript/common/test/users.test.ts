/** Example ULM-backed routes: GET /users/:userId and GET /users?ids=... */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await t.app.close();
});

describe('GET /users', () => {
  it('reads one user from ULM', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/users/u-1' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace' });
  });

  it('answers 404 naming an unknown user', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/users/nobody' });

    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toContain('nobody');
  });

  it('reads several users in one call; unknown ids are left out', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/users?ids=u-1,u-2,missing' });

    expect(response.statusCode).toBe(200);
    expect(response.json().map((u: { id: string }) => u.id)).toEqual(['u-1', 'u-2']);
    expect(t.fakeUlm.requests).toHaveLength(1);
  });

  it('answers 422 without ids', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/users' });

    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0].loc).toEqual(['query', 'ids']);
  });

  it('answers 503 when ULM is down', async () => {
    t.fakeUlm.down = true;

    const response = await t.app.inject({ method: 'GET', url: '/users/u-1' });

    expect(response.statusCode).toBe(503);
    expect(response.json().detail).toContain('ULM');
    expect(t.fakeUlm.requests).toHaveLength(3); // retried
  });

  it('answers 503, not 500, when ULM fails with 500', async () => {
    t.fakeUlm.status = 500;

    const response = await t.app.inject({ method: 'GET', url: '/users/u-1' });

    expect(response.statusCode).toBe(503);
  });

  it('answers 502 when ULM refuses our token', async () => {
    t.fakeUlm.status = 401;

    const response = await t.app.inject({ method: 'GET', url: '/users/u-1' });

    expect(response.statusCode).toBe(502);
    expect(response.json().detail).toContain('ULM_SERVICE_TOKEN');
  });
});
