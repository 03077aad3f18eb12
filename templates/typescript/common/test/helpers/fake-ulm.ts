/**
 * An in-memory stand-in for ULM's user API, as a `fetch` function: no network, no real ULM.
 *
 * Set `down = true` to make every call fail to connect, or `status` to an HTTP status to make
 * every call answer with it.
 */
import type { ULMUser } from '../../src/clients/ulm.js';

export const FAKE_ULM_URL = 'http://ulm.test';

export class FakeULM {
  users: Record<string, ULMUser> = {
    'u-1': { id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace' },
    'u-2': { id: 'u-2', email: 'alan@example.com', name: 'Alan Turing' },
  };
  down = false;
  status: number | undefined;
  readonly requests: Request[] = [];

  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    this.requests.push(request);
    if (this.down) {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') });
    }
    if (this.status !== undefined) return Response.json({ detail: 'fake ULM error' }, { status: this.status });
    const url = new URL(request.url);
    if (url.pathname === '/api/v1/users') {
      const ids = (url.searchParams.get('ids') ?? '').split(',');
      return Response.json(ids.filter((id) => id in this.users).map((id) => this.users[id]));
    }
    const prefix = '/api/v1/users/';
    if (url.pathname.startsWith(prefix)) {
      const user = this.users[decodeURIComponent(url.pathname.slice(prefix.length))];
      return user ? Response.json(user) : Response.json({ detail: 'User not found' }, { status: 404 });
    }
    return Response.json({ detail: 'Not Found' }, { status: 404 });
  };
}
