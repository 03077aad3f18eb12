/**
 * What the stack contract (test/e2e/stack-contract.test.ts) needs from a generated app's stack:
 * only what really differs between stacks (how to select it, run its tests, start its server,
 * look into its packages and settings), plus its own checks. Entries: test/e2e/stacks/*.ts.
 */
import type { Result, ResultPromise } from 'execa';
import type { Stack as AppStack } from '../../src/app/spec.ts';

/** The app's own test run, in one shape for every stack's runner. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** One generated app, as the contract made it; `databaseUrl` is filled in once it is generated. */
export interface GeneratedApp {
  /** The workspace (with the ADR's compose file) the app was generated into. */
  ws: string;
  slug: string;
  backend: string;
  /** The admin URL of the suite's PostgreSQL. */
  adminUrl: string;
  /** DATABASE_URL from the app's backend/.env (crud apps). */
  databaseUrl: string;
}

/** A check only one stack has; it runs in the stack's describe, in the listed order. */
export interface StackCheck {
  name: string;
  run(app: GeneratedApp): Promise<void>;
}

export interface Stack {
  name: AppStack;
  /** Added to the CLI's arguments to pick this stack. */
  cliArgs: string[];
  /** Slugs of the crud and the readonly app (distinct per stack: they share one PostgreSQL). */
  crudSlug: string;
  readonlySlug: string;
  /** The migration command the CLI names in its "Running the first migration (...)" step. */
  migrateCommand: string;
  /** A path in backend/ that only exists once the crud app's dependencies are installed. */
  installedMarker: string;
  /** The folder of the app's own sources, under backend/. */
  sourceDir: string;
  /** Where the app's API routes are (`/api/v1`), health probes aside. */
  api: string;
  /** The OpenAPI path of one item: each framework spells the path parameter its own way. */
  itemRoute: string;
  /** A POST body for an item named `name` (the owner comes from the caller's token where the app takes it so). */
  itemBody(name: string): Record<string, string>;
  /** Runs the app's own unit (or integration: crud only) tests; must fail on a failing run. */
  ownTests(backend: string, suite: 'unit' | 'integration'): Promise<Counts>;
  /** The database drivers, ORMs and migrators the app's installed packages provide. */
  databasePackages(backend: string): Promise<string[]>;
  /** The names of the settings the app's config knows. */
  settingNames(backend: string): Promise<string[]>;
  /** Starts the server on 127.0.0.1:port; `env` is all it gets besides PATH and HOME. */
  start(backend: string, port: number, env: NodeJS.ProcessEnv): ResultPromise;
  /** How a server that shut down gracefully on SIGTERM ended: by exiting, or by the signal re-raised. */
  stoppedBy: 'exit' | 'SIGTERM';
  /** What a graceful shutdown writes to the server's output, last. */
  shutdownLog: RegExp;
  /** This stack's own checks, run after generation and before the app's tests and boot. */
  crudChecks: StackCheck[];
  readonlyChecks: StackCheck[];
}

/** Env for running the app's tools: only what the app's own .env does not set. */
export const appEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra });

/** How a stopped server's process ended, in the terms of `Stack.stoppedBy`. */
export const endedBy = (r: Result): string => r.signal ?? (r.exitCode === 0 ? 'exit' : `exit code ${r.exitCode}`);

/** A request the fake ULM received. */
export interface UlmRequest {
  path: string;
  authorization: string | undefined;
  /** X-Request-ID, as the app passed it on. */
  requestId?: string | undefined;
}

/**
 * A stand-in for ULM's HTTP API that a test can slow down, hang, stop and start again (on the
 * same port): GET /api/v1/users/{id}, GET /api/v1/users?ids=a,b, GET /api/v1/auth/me (the user a
 * bearer token of `tokens` belongs to, else 401) and GET /health.
 */
export interface FakeUlm {
  url: string;
  port: number;
  users: Map<string, Record<string, unknown>>;
  /** Access token -> user id. */
  tokens: Map<string, string>;
  /** Milliseconds every answer waits. */
  delayMs: number;
  /** Accept requests and never answer them. */
  hang: boolean;
  requests: UlmRequest[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startFakeUlm(): Promise<FakeUlm> {
  const http = await import('node:http');
  const { freePort } = await import('./postgres.ts');
  const port = await freePort();
  const ulm: FakeUlm = {
    url: `http://127.0.0.1:${port}`,
    port,
    users: new Map(),
    tokens: new Map(),
    delayMs: 0,
    hang: false,
    requests: [],
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    start: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
  };
  const answer = (req: import('node:http').IncomingMessage): [number, unknown] => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/health') return [200, { status: 'ok' }];
    if (url.pathname === '/api/v1/auth/me') {
      const userId = ulm.tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
      const user = userId === undefined ? undefined : ulm.users.get(userId);
      return user ? [200, user] : [401, { detail: 'Not authenticated' }];
    }
    const one = /^\/api\/v1\/users\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const user = ulm.users.get(decodeURIComponent(one[1]!));
      return user ? [200, user] : [404, { detail: 'User not found' }];
    }
    if (url.pathname === '/api/v1/users') {
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
      return [200, ids.map((id) => ulm.users.get(id)).filter(Boolean)];
    }
    return [404, { detail: 'Not found' }];
  };
  const server = http.createServer((req, res) => {
    ulm.requests.push({ path: new URL(req.url ?? '/', 'http://x').pathname, authorization: req.headers.authorization, requestId: req.headers['x-request-id'] as string | undefined });
    if (ulm.hang) return;
    const [status, body] = answer(req);
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }, ulm.delayMs);
  });
  await ulm.start();
  return ulm;
}

/** A TCP proxy in front of PostgreSQL: `stop()` is the database going away (every connection cut), `start()` its return. */
export interface TcpProxy {
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const net = await import('node:net');
  const { freePort } = await import('./postgres.ts');
  const port = await freePort();
  const sockets = new Set<import('node:net').Socket>();
  const track = (s: import('node:net').Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const proxy: TcpProxy = {
    port,
    start: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    close: async () => {
      if (server.listening) await proxy.stop();
    },
  };
  await proxy.start();
  return proxy;
}

/** Strings that would reveal an internal address or path in an answer meant for a client. */
export function internals(body: string, ports: number[]): string[] {
  const found = [/127\.0\.0\.1/, /localhost/, /\/api\/v1/, /ECONNREFUSED/, /Traceback|at .*\.(js|ts|py):\d+/, ...ports.map((p) => new RegExp(`\\b${p}\\b`))]
    .filter((re) => re.test(body))
    .map(String);
  return found;
}

/**
 * A Node.js binary of `spec` (e.g. '22'), from the npm registry's `node` package, kept between
 * runs in the cache test/e2e/pack.test.ts uses too.
 */
export async function nodeBinary(spec: string): Promise<string> {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { execa } = await import('execa');
  const cache = process.env.OVU_NODE_MATRIX_CACHE ?? path.join(os.homedir(), '.cache', 'ovu-node-matrix');
  const dir = path.join(cache, `node-${spec}`);
  const bin = path.join(dir, 'node_modules', 'node', 'bin', 'node');
  const works = async () => (await execa(bin, ['--version'], { reject: false })).exitCode === 0;
  if (fs.existsSync(bin) && (await works())) return bin;
  fs.mkdirSync(cache, { recursive: true });
  const staging = fs.mkdtempSync(path.join(cache, `.staging-${spec}-`));
  try {
    fs.writeFileSync(path.join(staging, 'package.json'), '{"private":true}\n');
    const r = await execa('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node@${spec}`], {
      cwd: staging,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: path.join(staging, '.npm-cache') },
      extendEnv: false,
      reject: false,
      timeout: 300_000,
    });
    if (r.exitCode !== 0) throw new Error(`npm install node@${spec} failed:\n${r.stderr}`);
    fs.rmSync(path.join(staging, '.npm-cache'), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  if (!(await works())) throw new Error(`${bin} does not run`);
  return bin;
}
