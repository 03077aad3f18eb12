/** GET /health/live and /health/ready. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { READY_TIMEOUT_MS } from '../src/routes/health.js';
import { testApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await t.app.close();
});

describe('GET /health/live', () => {
  it('is ok without asking the database or ULM', async () => {
    t.db.reachable = false;
    t.fakeUlm.down = true;

    const response = await t.app.inject({ method: 'GET', url: '/health/live' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', app: '{{app.slug}}' });
    expect(t.fakeUlm.requests).toEqual([]);
  });
});

describe('GET /health/ready', () => {
  it('is ok when the database answers, without a token and without asking ULM', async () => {
    t.fakeUlm.down = true;

    const response = await t.app.inject({ method: 'GET', url: '/health/ready' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', app: '{{app.slug}}', database: 'ok' });
    expect(t.fakeUlm.requests).toEqual([]);
  });

  it('answers 503 with Retry-After when the database is unreachable', async () => {
    t.db.reachable = false;

    const response = await t.app.inject({ method: 'GET', url: '/health/ready' });

    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toEqual({ status: 'error', app: '{{app.slug}}', database: 'unavailable' });
  });

  it('gives up on a database that does not answer within its short timeout', async () => {
    t.db.slow = true;
    const started = performance.now();

    const response = await t.app.inject({ method: 'GET', url: '/health/ready' });

    expect(response.statusCode).toBe(503);
    expect(performance.now() - started).toBeLessThan(READY_TIMEOUT_MS + 500);
    expect(READY_TIMEOUT_MS).toBeLessThanOrEqual(2000);
  });
});
