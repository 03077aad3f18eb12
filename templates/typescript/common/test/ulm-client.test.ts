/** ULMClient against a scripted fake fetch: no network, no real ULM. */
import { describe, expect, it } from 'vitest';
import { ULMClient, ULMError, ULMNotFoundError, ULMUnavailableError, type ULMClientOptions } from '../src/clients/ulm.js';

const BASE = 'http://ulm.test';
const USER = { id: '42', email: 'ada@example.com' };

type Answer = Response | Error | (() => Response | Error);

/** A fetch that answers from a script (the last answer repeats) and records requests. */
function recorder(...answers: Answer[]) {
  const requests: Request[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    requests.push(new Request(input, init));
    const next = answers.length > 1 ? answers.shift()! : answers[0]!;
    const answer = typeof next === 'function' ? next() : next;
    if (answer instanceof Error) throw answer;
    return answer.clone();
  };
  return { fetch, requests };
}

function makeClient(fetch: typeof globalThis.fetch, options: Partial<ULMClientOptions> = {}) {
  const delays: number[] = [];
  const client = new ULMClient({
    baseUrl: BASE,
    fetch,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...options,
  });
  return { client, delays };
}

const json = (body: unknown, status = 200) => Response.json(body, { status });
const empty = (status: number) => new Response(null, { status });
const connectionRefused = () => new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8000') });

describe('ULMClient', () => {
  it('gets a user', async () => {
    const ulm = recorder(json(USER));
    const { client, delays } = makeClient(ulm.fetch);

    expect(await client.getUser(42)).toEqual(USER);
    expect(ulm.requests[0]!.url).toBe(`${BASE}/api/v1/users/42`);
    expect(ulm.requests[0]!.method).toBe('GET');
    expect(delays).toEqual([]);
  });

  it('turns a 404 into ULMNotFoundError, without retrying', async () => {
    const ulm = recorder(json({ detail: 'not found' }, 404));
    const { client } = makeClient(ulm.fetch);

    const error = await client.getUser('ghost').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ULMNotFoundError);
    expect(error).toBeInstanceOf(ULMError);
    expect((error as ULMNotFoundError).userId).toBe('ghost');
    expect(ulm.requests).toHaveLength(1);
  });

  it('retries 503 with exponential backoff, then succeeds', async () => {
    const ulm = recorder(empty(503), empty(503), json(USER));
    const { client, delays } = makeClient(ulm.fetch, { maxAttempts: 3, backoffBaseMs: 100 });

    expect(await client.getUser('42')).toEqual(USER);
    expect(ulm.requests).toHaveLength(3);
    expect(delays).toEqual([100, 200]);
  });

  it('retries 502 and 504', async () => {
    const ulm = recorder(empty(502), empty(504), json(USER));
    const { client } = makeClient(ulm.fetch);

    expect(await client.getUser('42')).toEqual(USER);
    expect(ulm.requests).toHaveLength(3);
  });

  it('does not retry a 500, and reports ULM as unavailable', async () => {
    const ulm = recorder(empty(500), json(USER));
    const { client, delays } = makeClient(ulm.fetch);

    await expect(client.getUser('42')).rejects.toBeInstanceOf(ULMUnavailableError);
    expect(ulm.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('retries connection errors, then gives up with ULMUnavailableError', async () => {
    const ulm = recorder(connectionRefused);
    const { client, delays } = makeClient(ulm.fetch, { maxAttempts: 3 });

    const error = await client.getUser('42').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ULMUnavailableError);
    expect((error as Error).message).toContain('3 attempts');
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(ulm.requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it('retries a timeout, then succeeds', async () => {
    const ulm = recorder(new DOMException('The operation was aborted due to timeout', 'TimeoutError'), json(USER));
    const { client } = makeClient(ulm.fetch);

    expect(await client.getUser('42')).toEqual(USER);
    expect(ulm.requests).toHaveLength(2);
  });

  it('gives every attempt a timeout signal', async () => {
    const neverAnswers: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      });
    const { client } = makeClient(neverAnswers, { timeoutMs: 20, maxAttempts: 2 });

    const error = await client.getUser('42').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ULMUnavailableError);
    expect((error as Error).message).toContain('TimeoutError');
  });

  it('sends the bearer token', async () => {
    const ulm = recorder(json(USER));
    const { client } = makeClient(ulm.fetch, { token: 's3cret' });

    await client.getUser('42');

    expect(ulm.requests[0]!.headers.get('Authorization')).toBe('Bearer s3cret');
  });

  it('sends no Authorization header without a token', async () => {
    const ulm = recorder(json(USER));
    const { client } = makeClient(ulm.fetch);

    await client.getUser('42');

    expect(ulm.requests[0]!.headers.has('Authorization')).toBe(false);
  });

  it('gets several users with ?ids=a,b and returns the list', async () => {
    const users = [USER, { id: '43', email: 'alan@example.com' }];
    const ulm = recorder(json(users));
    const { client } = makeClient(ulm.fetch);

    expect(await client.getUsers(['42', 43])).toEqual(users);
    const url = new URL(ulm.requests[0]!.url);
    expect(url.pathname).toBe('/api/v1/users');
    expect(url.searchParams.get('ids')).toBe('42,43');
  });

  it('makes no call for an empty id list', async () => {
    const ulm = recorder(empty(500));
    const { client } = makeClient(ulm.fetch);

    expect(await client.getUsers([])).toEqual([]);
    expect(ulm.requests).toEqual([]);
  });

  it('rejects a user list that is not a JSON list', async () => {
    const ulm = recorder(json({ items: [USER] }));
    const { client } = makeClient(ulm.fetch);

    await expect(client.getUsers(['42'])).rejects.toBeInstanceOf(ULMError);
  });

  it('rejects a body that is not JSON', async () => {
    const ulm = recorder(new Response('<html>oops</html>', { status: 200 }));
    const { client } = makeClient(ulm.fetch);

    await expect(client.getUser('42')).rejects.toThrow('not JSON');
  });

  it('reports a refused token as a ULMError naming ULM_SERVICE_TOKEN', async () => {
    const ulm = recorder(empty(401));
    const { client } = makeClient(ulm.fetch);

    const error = await client.getUser('42').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ULMError);
    expect(error).not.toBeInstanceOf(ULMUnavailableError);
    expect((error as Error).message).toContain('ULM_SERVICE_TOKEN');
  });

  it('escapes the user id in the path', async () => {
    const ulm = recorder(json(USER));
    const { client } = makeClient(ulm.fetch);

    await client.getUser('../admin');

    expect(ulm.requests[0]!.url).toBe(`${BASE}/api/v1/users/..%2Fadmin`);
  });

  it('ignores a trailing slash in the base URL', async () => {
    const ulm = recorder(json(USER));
    const { client } = makeClient(ulm.fetch, { baseUrl: `${BASE}/` });

    await client.getUser('42');

    expect(ulm.requests[0]!.url).toBe(`${BASE}/api/v1/users/42`);
  });
});
