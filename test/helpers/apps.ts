import http from 'node:http';
import { execa, type ResultPromise } from 'execa';
import { freePort } from './postgres.ts';

export { freePort };

export interface FakeUlm {
  url: string;
  /** Users it serves; anything else is a 404. */
  users: Map<string, Record<string, unknown>>;
  /** Authorization headers it received, newest last. */
  authHeaders: (string | undefined)[];
  stop(): Promise<void>;
}

/** A stand-in for ULM's HTTP API: GET /api/v1/users/{id} and GET /api/v1/users?ids=a,b. */
export async function startFakeUlm(): Promise<FakeUlm> {
  const users = new Map<string, Record<string, unknown>>();
  const authHeaders: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    authHeaders.push(req.headers.authorization);
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const one = /^\/api\/v1\/users\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const user = users.get(decodeURIComponent(one[1]!));
      return user ? send(200, user) : send(404, { detail: 'User not found' });
    }
    if (url.pathname === '/api/v1/users') {
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
      return send(200, ids.map((id) => users.get(id)).filter(Boolean));
    }
    send(404, { detail: 'Not found' });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    users,
    authHeaders,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `url` until it answers (any status) or `ms` pass. */
export async function waitForHttp(url: string, ms = 30_000, proc?: ResultPromise): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  void proc?.finally(() => (exited = true));
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (exited) throw new Error(`the server exited before answering ${url}`);
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Runs a command that must succeed; its output is returned (and shown when it fails). */
export async function mustRun(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }) {
  const r = await execa(cmd, args, { cwd: opts.cwd, env: opts.env, reject: false, all: true, timeout: opts.timeout ?? 300_000 });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.exitCode}:\n${r.all}`);
  return String(r.all);
}

/** pytest's closing counts: "12 passed, 3 deselected in 1.2s" → { passed: 12, ... }. */
export function pytestCounts(output: string): Record<string, number> {
  const last = output.trim().split('\n').reverse().find((l) => /\d+ (passed|failed|skipped|error)/.test(l)) ?? '';
  const counts: Record<string, number> = {};
  for (const m of last.matchAll(/(\d+) (passed|failed|skipped|deselected|errors?|xfailed|xpassed)/g)) counts[m[2]!] = Number(m[1]);
  return counts;
}
