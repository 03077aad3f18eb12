/** GET /health. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await t.app.close();
});

describe('GET /health', () => {
  it('is ok', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', app: '{{app.slug}}' });
  });

  it('does not call ULM', async () => {
    t.fakeUlm.down = true;

    const response = await t.app.inject({ method: 'GET', url: '/health' });

    expect(response.statusCode).toBe(200);
    expect(t.fakeUlm.requests).toEqual([]);
  });
});
