/** App-wide behaviour: OpenAPI document, error shapes, settings. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../src/config.js';
import type { OpenApi, Problem } from './helpers/answers.js';
import { testApp, type TestApp } from './helpers/app.js';

describe('the app', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(async () => {
    await t.app.close();
  });

  it('serves its OpenAPI document at /openapi.json', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });

    expect(response.statusCode).toBe(200);
    const doc = response.json<OpenApi>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('{{app.title}}');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health/live', '/health/ready', '/api/v1/users/{userId}', '/api/v1/users']),
    );
    expect(doc.paths['/openapi.json']).toBeUndefined();
  });

  it('serves Swagger UI at /docs, from its own files', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs/' });
    const redirect = await t.app.inject({ method: 'GET', url: '/docs' });

    expect([page.statusCode, redirect.statusCode]).toContain(200);
    const html = page.statusCode === 200 ? page.body : (await t.app.inject({ method: 'GET', url: redirect.headers.location ?? '/docs/static/index.html' })).body;
    expect(html).toContain('swagger');
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg)/);
  });

  it('takes X-Request-ID from the request, or makes one, and answers with it', async () => {
    const given = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'abc-123' } });
    const made = await t.app.inject({ method: 'GET', url: '/health/live' });
    const odd = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'no spaces\nor newlines' } });

    expect(given.headers['x-request-id']).toBe('abc-123');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes the request id on to ULM', async () => {
    await t.app.inject({ method: 'GET', url: '/api/v1/users/u-2', headers: { authorization: 'Bearer good-token', 'x-request-id': 'trace-7' } });

    expect(t.fakeUlm.requests.map((r) => r.headers.get('x-request-id'))).toEqual(['trace-7', 'trace-7']);
  });

  it('answers unknown routes with 404 {"code": "not_found", ...}', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/nope' });

    expect(response.statusCode).toBe(404);
    expect(response.json<Problem>()).toEqual({ code: 'not_found', detail: 'Not Found' });
  });
});

describe('settings', () => {
  it('has defaults', () => {
    const config = readConfig({});

    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe({{containerPort}});
    expect(config.ulm).toEqual({
      baseUrl: '{{ulmUrl}}',
      timeout: 5,
      token: undefined,
      authPath: '/api/v1/auth/me',
      healthPath: '/health',
      authCacheTtl: 30,
      userCacheTtl: 30,
      breakerThreshold: 5,
      breakerCooldown: 10,
    });
  });

  it('reads the environment', () => {
    const config = readConfig({
      PORT: '9000',
      ULM_BASE_URL: 'http://ulm:8000',
      ULM_TIMEOUT: '2.5',
      ULM_SERVICE_TOKEN: 'tok',
      ULM_AUTH_PATH: '/auth/me',
      ULM_HEALTH_PATH: '/ping',
      AUTH_CACHE_TTL: '0',
      ULM_BREAKER_THRESHOLD: '2',
      ULM_BREAKER_COOLDOWN: '1.5',
    });

    expect(config.port).toBe(9000);
    expect(config.ulm).toEqual({
      baseUrl: 'http://ulm:8000',
      timeout: 2.5,
      token: 'tok',
      authPath: '/auth/me',
      healthPath: '/ping',
      authCacheTtl: 0,
      userCacheTtl: 30,
      breakerThreshold: 2,
      breakerCooldown: 1.5,
    });
  });

  it('refuses invalid numbers', () => {
    expect(() => readConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => readConfig({ ULM_TIMEOUT: '0' })).toThrow(/ULM_TIMEOUT/);
    expect(() => readConfig({ ULM_BREAKER_THRESHOLD: '0' })).toThrow(/ULM_BREAKER_THRESHOLD/);
    expect(() => readConfig({ AUTH_CACHE_TTL: '-1' })).toThrow(/AUTH_CACHE_TTL/);
  });
});
