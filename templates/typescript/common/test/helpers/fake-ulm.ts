/**
 * An in-memory stand-in for ULM's API, as a `fetch` function: no network, no real ULM.
 *
 * - `users`  what /api/v1/users serves; `tokens`: access token -> user id, for the auth endpoint;
 * - `down`   every call fails to connect; `status`: every call answers it; `hang`: every call
 *   waits until the caller gives up (its abort signal);
 * - `requests` what it was asked, in order; `onRequest` is called with each.
 */
export const FAKE_ULM_URL = 'http://ulm.test';
export const AUTH_PATH = '/api/v1/auth/me';
export const TOKEN = 'good-token';

export class FakeULM {
  users: Record<string, Record<string, unknown>> = {
    'u-1': { id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace', password_hash: 'x' },
    'u-2': { id: 'u-2', email: 'alan@example.com', name: 'Alan Turing', roles: ['admin'] },
  };
  tokens: Record<string, string> = { [TOKEN]: 'u-1' };
  down = false;
  hang = false;
  status: number | undefined;
  readonly requests: Request[] = [];
  onRequest: ((request: Request) => void) | undefined;

  paths(): string[] {
    return this.requests.map((r) => new URL(r.url).pathname);
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    this.requests.push(request);
    this.onRequest?.(request);
    if (this.down) {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    }
    if (this.hang) {
      await new Promise((_, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted', 'TimeoutError')));
      });
    }
    if (this.status !== undefined) return Response.json({ detail: 'fake ULM error' }, { status: this.status });
    const url = new URL(request.url);
    if (url.pathname === '/health') return Response.json({ status: 'ok' });
    if (url.pathname === AUTH_PATH) {
      const token = (request.headers.get('authorization') ?? '').replace(/^Bearer /, '');
      const userId = this.tokens[token];
      return userId ? Response.json(this.users[userId]) : Response.json({ detail: 'Not authenticated' }, { status: 401 });
    }
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
