/** ULMClient against a scripted fake fetch: no network, no real ULM. */
import { describe, expect, it } from 'vitest';
import {
  clientOptions,
  ULMClient,
  ULMError,
  ULMNotFoundError,
  ULMTimeoutError,
  ULMUnauthorizedError,
  ULMUnavailableError,
  type ULMClientOptions,
} from '../src/clients/ulm.js';
import { readConfig } from '../src/config.js';

const BASE = 'http://ulm.test';
const USER = { id: '42', email: 'ada@example.com', name: 'Ada', password_hash: 'secret' };
const ADA = { id: '42', email: 'ada@example.com', name: 'Ada' };

type Answer = Response | Error;

/** A fetch that answers from a script (the last answer repeats) and records requests. */
function recorder(...answers: Answer[]) {
  const requests: Request[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    requests.push(new Request(input, init));
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer === undefined) throw new Error('the script has no answer');
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer.clone());
  };
  return { fetch, requests };
}

/** A clock the fake sleep moves forward. */
function makeClient(fetch: typeof globalThis.fetch, options: Partial<ULMClientOptions> = {}) {
  const delays: number[] = [];
  const clock = { now: 1000 };
  const client = new ULMClient({
    baseUrl: BASE,
    fetch,
    now: () => clock.now,
    random: () => 0.5,
    // Each call reaches the fake: the user cache has tests of its own.
    userCacheTtlMs: 0,
    sleep: (ms) => {
      delays.push(ms);
      clock.now += ms;
      return Promise.resolve();
    },
    ...options,
  });
  return { client, delays, clock };
}

const json = (body: unknown, status = 200) => Response.json(body, { status });
const empty = (status: number) => new Response(null, { status });
const connectionRefused = () =>
  new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }) });
const reset = () => new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });

describe('the user cache', () => {
  it('asks ULM for a user once within the TTL, again after it, and never caches "not found"', async () => {
    const calls: string[] = [];
    const fetch: typeof globalThis.fetch = (input) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      calls.push(url.pathname);
      return Promise.resolve(url.pathname.endsWith('/u-1') ? Response.json({ id: 'u-1' }) : Response.json({}, { status: 404 }));
    };
    const { client, clock } = makeClient(fetch, { userCacheTtlMs: 1000 });

    await client.getUser('u-1');
    await client.getUser('u-1');
    await expect(client.getUser('ghost')).rejects.toThrow(ULMNotFoundError);
    await expect(client.getUser('ghost')).rejects.toThrow(ULMNotFoundError);
    clock.now += 1001;
    await client.getUser('u-1');

    expect(calls).toEqual(['/api/v1/users/u-1', '/api/v1/users/ghost', '/api/v1/users/ghost', '/api/v1/users/u-1']);
  });
});

describe('ULMClient', () => {
  it('gets a user, with only the allow-listed fields', async () => {
    const ulm = recorder(json(USER));
    const { client, delays } = makeClient(ulm.fetch);

    expect(await client.getUser(42)).toEqual(ADA);
    expect(ulm.requests[0].url).toBe(`${BASE}/api/v1/users/42`);
    expect(delays).toEqual([]);
  });

  it('makes numeric ids strings, missing fields null, and refuses a user without id', async () => {
    expect(await makeClient(recorder(json({ id: 7 })).fetch).client.getUser(7)).toEqual({ id: '7', email: null, name: null });
    await expect(makeClient(recorder(json({ email: 'x' })).fetch).client.getUser(7)).rejects.toBeInstanceOf(ULMError);
  });

  it('turns a 404 into ULMNotFoundError, without retrying', async () => {
    const ulm = recorder(json({ detail: 'not found' }, 404));
    const { client } = makeClient(ulm.fetch);

    const error = await client.getUser('ghost').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ULMNotFoundError);
    expect((error as ULMNotFoundError).userId).toBe('ghost');
    expect(ulm.requests).toHaveLength(1);
  });

  it('retries 503 after a jittered backoff', async () => {
    const ulm = recorder(empty(503), empty(503), json(USER));
    const { client, delays } = makeClient(ulm.fetch, { backoffBaseMs: 100, random: () => 0.5 });

    expect(await client.getUser('42')).toEqual(ADA);
    expect(ulm.requests).toHaveLength(3);
    // Full jitter: a random share (here 0.5) of 100 ms, then of 200 ms.
    expect(delays).toEqual([50, 100]);
  });

  it('retries 502 and 504', async () => {
    const ulm = recorder(empty(502), empty(504), json(USER));
    expect(await makeClient(ulm.fetch).client.getUser('42')).toEqual(ADA);
    expect(ulm.requests).toHaveLength(3);
  });

  it('does not retry a 500', async () => {
    const ulm = recorder(empty(500), json(USER));
    const { client, delays } = makeClient(ulm.fetch);

    await expect(client.getUser('42')).rejects.toBeInstanceOf(ULMUnavailableError);
    expect(ulm.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('retries connection errors, then gives up', async () => {
    const ulm = recorder(connectionRefused());
    const { client, delays } = makeClient(ulm.fetch, { maxAttempts: 3 });

    const error = await client.getUser('42').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ULMUnavailableError);
    expect((error as Error).message).toContain('3 attempts');
    expect(ulm.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it('does not retry an error after the request may have reached ULM', async () => {
    const ulm = recorder(reset(), json(USER));

    await expect(makeClient(ulm.fetch).client.getUser('42')).rejects.toBeInstanceOf(ULMUnavailableError);
    expect(ulm.requests).toHaveLength(1);
  });

  it('gives a hanging ULM one deadline, not one per attempt', async () => {
    const hang: typeof fetch = (_input, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted', 'TimeoutError'))));
    const client = new ULMClient({ baseUrl: BASE, fetch: hang, timeoutMs: 200 });

    const started = performance.now();
    await expect(client.getUser('42')).rejects.toBeInstanceOf(ULMTimeoutError);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('gives a retry only what is left of the deadline', async () => {
    let calls = 0;
    // Refused at once, then hanging: the second attempt may take only what the first left.
    const refusedThenHang: typeof fetch = (_input, init) =>
      calls++ === 0
        ? Promise.reject(connectionRefused())
        : new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted', 'TimeoutError'))));
    const client = new ULMClient({ baseUrl: BASE, fetch: refusedThenHang, timeoutMs: 300, backoffBaseMs: 200, random: () => 1 });

    const started = performance.now();
    await expect(client.getUser('42')).rejects.toBeInstanceOf(ULMTimeoutError);
    expect(calls).toBe(2);
    expect(performance.now() - started).toBeLessThan(450);
  });

  it('keeps retries and their backoff inside the deadline', async () => {
    const ulm = recorder(connectionRefused());
    // Ten attempts with these backoffs would take 1 + 2 + 4 + ... seconds.
    const { client, delays } = makeClient(ulm.fetch, { timeoutMs: 300, maxAttempts: 10, backoffBaseMs: 1000, random: () => 1 });

    await expect(client.getUser('42')).rejects.toBeInstanceOf(ULMTimeoutError);
    expect(delays.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(300);
  });

  it('opens the breaker after consecutive failures, and then fails without asking ULM', async () => {
    const ulm = recorder(empty(503));
    const { client } = makeClient(ulm.fetch, { maxAttempts: 1, breakerThreshold: 2, breakerCooldownMs: 10_000 });
    for (let i = 0; i < 2; i++) await expect(client.getUser('42')).rejects.toBeInstanceOf(ULMUnavailableError);
    expect(ulm.requests).toHaveLength(2);

    const error = await client.getUser('42').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ULMUnavailableError);
    expect((error as ULMUnavailableError).retryAfter).toBe(10);
    expect(ulm.requests).toHaveLength(2);
  });

  it('lets one trial through after the cooldown: a failure reopens it, a success closes it', async () => {
    const ulm = recorder(empty(503), empty(503), empty(503), json(USER));
    const { client, clock } = makeClient(ulm.fetch, { maxAttempts: 1, breakerThreshold: 2, breakerCooldownMs: 10_000 });
    for (let i = 0; i < 2; i++) await expect(client.getUser('42')).rejects.toThrow();

    clock.now += 10_000;
    await expect(client.getUser('42')).rejects.toBeInstanceOf(ULMUnavailableError);
    expect(ulm.requests).toHaveLength(3);
    await expect(client.getUser('42')).rejects.toBeInstanceOf(ULMUnavailableError);
    expect(ulm.requests).toHaveLength(3);

    clock.now += 10_000;
    expect(await client.getUser('42')).toEqual(ADA);
    expect(await client.getUser('42')).toEqual(ADA);
    expect(ulm.requests).toHaveLength(5);
  });

  it('keeps the breaker closed for answers that are not outages', async () => {
    const ulm = recorder(json({}, 404));
    const { client } = makeClient(ulm.fetch, { breakerThreshold: 1 });
    for (let i = 0; i < 3; i++) await expect(client.getUser('x')).rejects.toBeInstanceOf(ULMNotFoundError);
    expect(ulm.requests).toHaveLength(3);
  });

  it('sends the service token on lookups, and no Authorization header without one', async () => {
    const withToken = recorder(json(USER));
    await makeClient(withToken.fetch, { token: 's3cret' }).client.getUser('42');
    expect(withToken.requests[0].headers.get('authorization')).toBe('Bearer s3cret');

    const without = recorder(json(USER));
    await makeClient(without.fetch).client.getUser('42');
    expect(without.requests[0].headers.has('authorization')).toBe(false);
  });

  it("authenticates a caller at the auth path, with the caller's token", async () => {
    const ulm = recorder(json(USER));
    const { client } = makeClient(ulm.fetch, { token: 'service', authPath: '/auth/whoami' });

    expect(await client.authenticate('caller-token')).toEqual(ADA);
    expect(new URL(ulm.requests[0].url).pathname).toBe('/auth/whoami');
    expect(ulm.requests[0].headers.get('authorization')).toBe('Bearer caller-token');
  });

  it('caches an accepted token for its TTL', async () => {
    const ulm = recorder(json(USER));
    const { client, clock } = makeClient(ulm.fetch, { authCacheTtlMs: 30_000 });

    await client.authenticate('t');
    clock.now += 29_000;
    await client.authenticate('t');
    expect(ulm.requests).toHaveLength(1);
    clock.now += 2000;
    await client.authenticate('t');
    expect(ulm.requests).toHaveLength(2);
    await client.authenticate('other');
    expect(ulm.requests).toHaveLength(3);
  });

  it('rejects a token ULM refuses, and does not cache the refusal', async () => {
    const ulm = recorder(empty(401), json(USER));
    const { client } = makeClient(ulm.fetch);

    await expect(client.authenticate('t')).rejects.toBeInstanceOf(ULMUnauthorizedError);
    expect(await client.authenticate('t')).toEqual(ADA);
  });

  it('treats ULM refusing the service token as an unusable answer, not the caller being unauthorized', async () => {
    const error = await makeClient(recorder(empty(401)).fetch).client.getUser('42').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ULMError);
    expect(error).not.toBeInstanceOf(ULMUnauthorizedError);
    expect((error as Error).message).toContain('ULM_SERVICE_TOKEN');
  });

  it('gets several users in one call', async () => {
    const ulm = recorder(json([USER, { id: '43', email: 'alan@example.com' }]));
    const { client } = makeClient(ulm.fetch);

    expect(await client.getUsers(['42', 43])).toEqual([ADA, { id: '43', email: 'alan@example.com', name: null }]);
    expect(new URL(ulm.requests[0].url).searchParams.get('ids')).toBe('42,43');
    expect(await client.getUsers([])).toEqual([]);
    expect(ulm.requests).toHaveLength(1);
    await expect(makeClient(recorder(json({ items: [] })).fetch).client.getUsers(['1'])).rejects.toBeInstanceOf(ULMError);
  });

  it('escapes the user id in the path', async () => {
    const ulm = recorder(json(USER));
    await makeClient(ulm.fetch).client.getUser('../admin');
    expect(ulm.requests[0].url).toBe(`${BASE}/api/v1/users/..%2Fadmin`);
  });

  it('pings the health path: any answer below 500 is up', async () => {
    const ulm = recorder(empty(404), empty(500));
    const { client } = makeClient(ulm.fetch, { healthPath: '/healthz' });

    await client.ping(1000);
    expect(new URL(ulm.requests[0].url).pathname).toBe('/healthz');
    await expect(client.ping(1000)).rejects.toBeInstanceOf(ULMUnavailableError);
  });
});

describe('the ULM settings', () => {
  it('each reach the client', () => {
    const config = readConfig({
      ULM_BASE_URL: 'http://ulm.example:9000/',
      ULM_TIMEOUT: '2.5',
      ULM_SERVICE_TOKEN: 'svc',
      ULM_AUTH_PATH: '/auth/whoami',
      ULM_HEALTH_PATH: '/healthz',
      AUTH_CACHE_TTL: '12',
      ULM_BREAKER_THRESHOLD: '7',
      ULM_BREAKER_COOLDOWN: '3',
    });

    const client = new ULMClient(clientOptions(config.ulm));

    expect(client.baseUrl).toBe('http://ulm.example:9000');
    expect(client.timeoutMs).toBe(2500);
    expect(client.authPath).toBe('/auth/whoami');
    expect(client.healthPath).toBe('/healthz');
    expect(client.authCacheTtlMs).toBe(12_000);
    expect(client.breaker.threshold).toBe(7);
    expect(client.breaker.cooldownMs).toBe(3000);
  });

  it('send the service token', async () => {
    const ulm = recorder(json(USER));
    const client = new ULMClient({ ...clientOptions(readConfig({ ULM_SERVICE_TOKEN: 'svc-secret' }).ulm), fetch: ulm.fetch });

    await client.getUser('42');

    expect(ulm.requests[0].headers.get('authorization')).toBe('Bearer svc-secret');
  });
});
