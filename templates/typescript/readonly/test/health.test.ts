/** GET /health/live and /health/ready: ULM is this app's only dependency. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await t.app.close();
});

describe('GET /health/live', () => {
  it('is ok without asking ULM', async () => {
    t.fakeUlm.down = true;

    const response = await t.app.inject({ method: 'GET', url: '/health/live' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', app: '{{app.slug}}' });
    expect(t.fakeUlm.requests).toEqual([]);
  });
});

describe('GET /health/ready', () => {
  it('asks ULM, without a token', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health/ready' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', app: '{{app.slug}}', ulm: 'ok' });
    expect(t.fakeUlm.paths()).toEqual(['/health']);
  });

  for (const failure of ['down', 'status 503', 'hanging'] as const) {
    it(`answers 503 with Retry-After when ULM is ${failure}`, async () => {
      if (failure === 'down') t.fakeUlm.down = true;
      else if (failure === 'hanging') t.fakeUlm.hang = true;
      else t.fakeUlm.status = 503;

      const response = await t.app.inject({ method: 'GET', url: '/health/ready' });

      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toEqual({ status: 'error', app: '{{app.slug}}', ulm: 'unavailable' });
    });
  }
});
