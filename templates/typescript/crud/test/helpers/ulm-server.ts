/**
 * The fake ULM (test/helpers/fake-ulm.ts) over real HTTP on 127.0.0.1, for tests that run the
 * app with its production ULM client, unchanged: only ULM_BASE_URL points here.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeULM } from './fake-ulm.js';

export interface ULMServer {
  fake: FakeULM;
  url: string;
  close(): Promise<void>;
}

export async function startULMServer(): Promise<ULMServer> {
  const fake = new FakeULM();
  const server = http.createServer((req, res) => {
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
    void fake
      .fetch(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, signal: gone.signal })
      .then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(await answer.text());
      })
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    fake,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
