/** Example ULM-backed routes: GET /users/:userId and GET /users?ids=... */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Problem } from './helpers/answers.js';
import { TOKEN } from './helpers/fake-ulm.js';
import { testApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await t.app.close();
});

const get = (url: string) => t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${TOKEN}` } });

describe('GET /users', () => {
  it('reads one user from ULM, showing only the allow-listed fields', async () => {
    const response = await get('/users/u-1');

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace' });
  });

  it('answers 404 naming an unknown user', async () => {
    const response = await get('/users/nobody');

    expect(response.statusCode).toBe(404);
    expect(response.json<Problem>().code).toBe('user_not_found');
    expect(response.json<Problem>().detail).toContain('nobody');
  });

  it('reads several users in one call; unknown ids are left out', async () => {
    const response = await get('/users?ids=u-1,u-2,missing');

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([
      { id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace' },
      { id: 'u-2', email: 'alan@example.com', name: 'Alan Turing' },
    ]);
    expect(t.fakeUlm.paths().filter((p) => p === '/api/v1/users')).toHaveLength(1);
  });

  it('answers 422 without ids', async () => {
    const response = await get('/users');

    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ code: 'validation_error', detail: [{ loc: ['query', 'ids'] }] });
  });

  it('answers 503 with Retry-After when ULM is down, naming no address', async () => {
    await get('/users?ids=u-1'); // the token is checked, and cached (the user is not)
    t.fakeUlm.down = true;

    const response = await get('/users/u-1');

    expect(response.statusCode).toBe(503);
    expect(response.json<Problem>().code).toBe('ulm_unavailable');
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(response.body).not.toMatch(/127\.0\.0\.1|ulm\.test|\/api\/v1/);
  });

  it('answers 503, not 500, when ULM fails with 500', async () => {
    await get('/users?ids=u-1');
    t.fakeUlm.status = 500;

    expect((await get('/users/u-1')).statusCode).toBe(503);
  });

  it('answers 502 when ULM refuses our service token, saying why in the log only', async () => {
    await get('/users?ids=u-1');
    t.fakeUlm.status = 403;

    const response = await get('/users/u-1');

    expect(response.statusCode).toBe(502);
    expect(response.json<Problem>().code).toBe('ulm_bad_answer');
    expect(response.body).not.toContain('/api/v1');
    expect(t.logs.join('\n')).toContain('ULM_SERVICE_TOKEN');
  });
});

describe('authentication', () => {
  it('answers 401 without a token, without asking ULM', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/users/u-1' });

    expect(response.statusCode).toBe(401);
    expect(response.json<Problem>().code).toBe('not_authenticated');
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(t.fakeUlm.requests).toEqual([]);
  });

  it('answers 401 for a token ULM rejects', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/users/u-1', headers: { authorization: 'Bearer forged' } });

    expect(response.statusCode).toBe(401);
    expect(response.json<Problem>().code).toBe('invalid_token');
    expect(t.fakeUlm.paths()).toEqual(['/api/v1/auth/me']);
    expect(t.fakeUlm.requests[0].headers.get('authorization')).toBe('Bearer forged');
  });

  it('answers 401 for another scheme', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/users/u-1', headers: { authorization: 'Basic dTpw' } });

    expect(response.statusCode).toBe(401);
  });

  it('asks ULM about an accepted token once', async () => {
    expect((await get('/users/u-1')).statusCode).toBe(200);
    expect((await get('/users/u-2')).statusCode).toBe(200);

    expect(t.fakeUlm.paths().filter((p) => p === '/api/v1/auth/me')).toHaveLength(1);
  });

  it('answers 503 when ULM is down while checking a token', async () => {
    t.fakeUlm.down = true;

    expect((await get('/users/u-1')).statusCode).toBe(503);
  });

  it('leaves /health/live open', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
  });
});
