#!/usr/bin/env node
// `npm run bench:apps`: the generated crud apps of each stack under load, next to a minimal
// hand-written app of the same stack doing the same work (check the caller's token with ULM,
// cached; read the item; read its owner from ULM; answer the allow-listed owner), as CPU
// milliseconds per request of the server process (goal: at most 1.3x the minimal app's). Then
// the fault scenarios of issue #18 against the generated apps, as counts of answers by status.
// Loopback only (a fake ULM and a TCP proxy in this process), bounded in time. A measurement,
// not a test: it exits 0 whatever it finds, and says MISS where the goal is not met.
//
//   node scripts/bench-apps.mjs --admin-url postgresql://… [--requests N] [--concurrency N]
//                               [--stacks python,typescript] [--json]
//
//   --admin-url   (or OVU_BENCH_ADMIN_URL) a PostgreSQL admin URL: the apps are generated with
//                 --install --create-db --migrate on it (in a throwaway workspace).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'create-ovu-app.js');
const { values: opt } = parseArgs({
  options: {
    'admin-url': { type: 'string' },
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    stacks: { type: 'string', default: 'python,typescript' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 15).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const ADMIN_URL = opt['admin-url'] ?? process.env.OVU_BENCH_ADMIN_URL;
const REQUESTS = Number(opt.requests);
const CONCURRENCY = Number(opt.concurrency);
const say = (line) => process.stderr.write(`${line}\n`);
if (!ADMIN_URL) {
  say('bench:apps needs a PostgreSQL admin URL: --admin-url postgresql://… or OVU_BENCH_ADMIN_URL. Nothing measured.');
  process.exit(0);
}

const TOKEN = 'bench-token';
const ADA = { id: 'u-1', email: 'ada@example.com', name: 'Ada', password_hash: 'x' };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU milliseconds a process has used (Linux). */
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The fake ULM: users, tokens, and knobs for faults. */
async function fakeUlm() {
  const port = await freePort();
  const ulm = { url: `http://127.0.0.1:${port}`, delayMs: 0, hang: false };
  const server = http.createServer((req, res) => {
    if (ulm.hang) return;
    const url = new URL(req.url ?? '/', 'http://x');
    let status = 404;
    let body = { detail: 'Not found' };
    if (url.pathname === '/health') [status, body] = [200, { status: 'ok' }];
    else if (url.pathname === '/api/v1/auth/me') [status, body] = req.headers.authorization === `Bearer ${TOKEN}` ? [200, ADA] : [401, { detail: 'no' }];
    else if (url.pathname === `/api/v1/users/${ADA.id}`) [status, body] = [200, ADA];
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }, ulm.delayMs);
  });
  ulm.start = () => new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  ulm.stop = () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  await ulm.start();
  return ulm;
}

/** A TCP proxy in front of PostgreSQL: stop() cuts every connection, start() lets them in again. */
async function tcpProxy(host, targetPort) {
  const port = await freePort();
  const sockets = new Set();
  const track = (s) => (sockets.add(s), s.on('close', () => sockets.delete(s)), s.on('error', () => s.destroy()));
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, host);
    track(client);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const proxy = {
    port,
    start: () => new Promise((resolve) => server.listen(port, '127.0.0.1', resolve)),
    stop: () => new Promise((resolve) => (server.close(() => resolve()), sockets.forEach((s) => s.destroy()))),
  };
  await proxy.start();
  return proxy;
}

function run(cmd, args, cwd, env = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`.slice(-4000));
  return r.stdout;
}

/** Starts a server and waits until `probe` answers; returns the process. */
async function serve(cmd, args, cwd, env, probe) {
  const proc = spawn(cmd, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${cmd} exited ${proc.exitCode}:\n${stderr}`);
    if (await fetch(probe).then(() => true, () => false)) return proc;
    if (Date.now() > deadline) throw new Error(`${probe} did not answer within 60 s:\n${stderr}`);
    await sleep(200);
  }
}

async function stop(proc) {
  if (proc.exitCode !== null) return;
  const ended = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  await Promise.race([ended, sleep(15_000).then(() => proc.kill('SIGKILL'))]);
}

/** `n` GETs of `url`, `concurrency` at a time: answers by status (0 = no answer) and wall time. */
async function load(url, n, concurrency, headers = { authorization: `Bearer ${TOKEN}` }) {
  const statuses = {};
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      const status = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return { statuses, ms: performance.now() - started };
}

const timed = async (url) => {
  const started = performance.now();
  const status = await fetch(url, { signal: AbortSignal.timeout(30_000) }).then((r) => r.status, () => 0);
  return { status, ms: Math.round(performance.now() - started) };
};

const MINIMAL_PY = `# A minimal hand-written FastAPI + SQLAlchemy (ORM) app doing what the generated app's
# GET /api/v1/items/{id} does: the caller's token checked with ULM (cached 30 s), the item read,
# its owner asked of ULM (cached 30 s, as the generated app's USER_CACHE_TTL), the allow-listed
# owner answered. Its pool is the generated app's (DB_POOL_SIZE + DB_MAX_OVERFLOW from its
# .env), which the login's CONNECTION LIMIT fits.
import os, time
from datetime import datetime
import httpx
from fastapi import FastAPI, Header, HTTPException
from sqlalchemy import DateTime, Text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    owner_user_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

engine = create_async_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1),
    pool_size=int(os.environ["DB_POOL_SIZE"]),
    max_overflow=int(os.environ["DB_MAX_OVERFLOW"]),
)
ulm = httpx.AsyncClient(base_url=os.environ["ULM_BASE_URL"], timeout=5)
tokens = {}
users = {}
app = FastAPI()

def cached(cache, key):
    hit = cache.get(key)
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None

@app.get("/api/v1/items/{item_id}")
async def get_item(item_id: int, authorization: str = Header()):
    if cached(tokens, authorization) is None:
        r = await ulm.get("/api/v1/auth/me", headers={"Authorization": authorization})
        if r.status_code != 200:
            raise HTTPException(401)
        tokens[authorization] = (time.monotonic() + 30, r.json())
    async with AsyncSession(engine, expire_on_commit=False) as session:
        item = await session.get(Item, item_id)
    if item is None:
        raise HTTPException(404)
    owner = cached(users, item.owner_user_id)
    if owner is None:
        owner = (await ulm.get(f"/api/v1/users/{item.owner_user_id}")).json()
        users[item.owner_user_id] = (time.monotonic() + 30, owner)
    return {
        "item": {
            "id": item.id, "name": item.name, "description": item.description, "owner_user_id": item.owner_user_id,
            "created_at": item.created_at, "updated_at": item.updated_at,
        },
        "owner": {k: owner.get(k) for k in ("id", "email", "name")},
    }
`;

const MINIMAL_TS = `// A minimal hand-written Fastify + Prisma app doing what the generated app's GET /api/v1/items/:itemId
// does: a request id (taken or made, returned, sent to ULM), the caller's token checked with ULM and
// cached, the item read, its owner read from ULM and cached as long, the allow-listed owner answered.
// Its pool is the generated app's (DB_POOL_SIZE + DB_MAX_OVERFLOW, within the login's limit).
import crypto from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './dist/generated/prisma/client.js';

const ULM = process.env.ULM_BASE_URL;
const max = Number(process.env.DB_POOL_SIZE) + Number(process.env.DB_MAX_OVERFLOW);
const prisma = new PrismaClient({ adapter: new PrismaPg(new pg.Pool({ connectionString: process.env.DATABASE_URL, max })) });
const tokens = new Map();
const users = new Map();
const app = Fastify({ genReqId: (req) => (typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : crypto.randomUUID()) });
app.get('/api/v1/items/:id', async (request, reply) => {
  reply.header('x-request-id', request.id);
  const auth = request.headers.authorization ?? '';
  let hit = tokens.get(auth);
  if (!hit || hit.until < Date.now()) {
    const r = await fetch(ULM + '/api/v1/auth/me', { headers: { authorization: auth, 'x-request-id': request.id } });
    if (r.status !== 200) return reply.code(401).send({});
    hit = { until: Date.now() + 30_000, user: await r.json() };
    tokens.set(auth, hit);
  }
  const item = await prisma.item.findUnique({ where: { id: BigInt(request.params.id) } });
  if (!item) return reply.code(404).send({});
  let owner = users.get(item.ownerUserId);
  if (!owner || owner.until < Date.now()) {
    const user = await (await fetch(ULM + '/api/v1/users/' + encodeURIComponent(item.ownerUserId), { headers: { 'x-request-id': request.id } })).json();
    owner = { until: Date.now() + 30_000, user: { id: user.id, email: user.email ?? null, name: user.name ?? null } };
    users.set(item.ownerUserId, owner);
  }
  return {
    item: { id: Number(item.id), name: item.name, owner_user_id: item.ownerUserId, created_at: item.createdAt.toISOString(), updated_at: item.updatedAt.toISOString() },
    owner: owner.user,
  };
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
`;

const STACKS = {
  python: {
    slug: `benchpy${process.pid}`,
    cliArgs: [],
    api: '/api/v1',
    itemBody: { name: 'Bench' },
    prepare: (backend) => fs.writeFileSync(path.join(backend, 'bench_minimal.py'), MINIMAL_PY),
    app: (backend, port) => [path.join(backend, '.venv/bin/uvicorn'), ['app.main:app', '--host', '127.0.0.1', '--port', String(port), '--no-access-log']],
    minimal: (backend, port) => [path.join(backend, '.venv/bin/uvicorn'), ['bench_minimal:app', '--host', '127.0.0.1', '--port', String(port), '--no-access-log']],
  },
  typescript: {
    slug: `benchts${process.pid}`,
    cliArgs: ['--stack', 'typescript'],
    api: '/api/v1',
    itemBody: { name: 'Bench' },
    prepare: (backend) => {
      run('npm', ['run', 'build'], backend);
      fs.writeFileSync(path.join(backend, 'bench-minimal.mjs'), MINIMAL_TS);
    },
    app: (_backend, port) => [process.execPath, ['dist/server.js'], { PORT: String(port), HOST: '127.0.0.1' }],
    minimal: (backend, port) => [
      process.execPath,
      ['bench-minimal.mjs'],
      { PORT: String(port), DB_POOL_SIZE: readEnv(path.join(backend, '.env'), 'DB_POOL_SIZE'), DB_MAX_OVERFLOW: readEnv(path.join(backend, '.env'), 'DB_MAX_OVERFLOW') },
    ],
  },
};

function readEnv(file, name) {
  return fs.readFileSync(file, 'utf8').match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];
}

async function benchStack(name, ws, ulm) {
  const stack = STACKS[name];
  const backend = path.join(ws, stack.slug, 'backend');
  say(`\n${name}: generate, install, create the database, migrate …`);
  run(process.execPath, [BIN, stack.slug, ...stack.cliArgs, '--yes', '--install', '--create-db', '--migrate', '--admin-url', ADMIN_URL, '--workspace', ws], ROOT, { OVU_CACHE_DIR: 'off' });
  stack.prepare(backend);
  const databaseUrl = readEnv(path.join(backend, '.env'), 'DATABASE_URL');
  // The generated app reads its pool from its .env; the minimal one gets the same numbers here.
  const pool = { DB_POOL_SIZE: readEnv(path.join(backend, '.env'), 'DB_POOL_SIZE') ?? '5', DB_MAX_OVERFLOW: readEnv(path.join(backend, '.env'), 'DB_MAX_OVERFLOW') ?? '5' };
  const env = { ULM_BASE_URL: ulm.url, DATABASE_URL: databaseUrl, ...pool };
  const items = `${stack.api}/items`;
  const result = { stack: name };

  // Load on the same item, in four runs of half the requests each: app, minimal, minimal, app.
  // On a machine whose load drifts (other work, throttling), a steady drift then weighs on both
  // sides alike, where one run each would charge it all to whichever ran second. Only one server
  // runs at a time: the two pools together would exceed the login's connection limit.
  let itemId;
  const half = Math.ceil(REQUESTS / 2);
  const sums = { app: { cpu: 0, ms: 0, n: 0, statuses: {} }, minimal: { cpu: 0, ms: 0, n: 0, statuses: {} } };
  for (const which of ['app', 'minimal', 'minimal', 'app']) {
    const port = await freePort();
    const [cmd, args, extra = {}] = stack[which](backend, port);
    const base = `http://127.0.0.1:${port}`;
    const proc = await serve(cmd, args, backend, { ...env, ...extra }, which === 'app' ? `${base}/health/live` : `${base}/docs`);
    try {
      if (itemId === undefined) {
        const created = await fetch(`${base}${items}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify(stack.itemBody),
        });
        itemId = (await created.json()).id;
      }
      const url = `${base}${items}/${itemId}`;
      await load(url, Math.min(300, half), CONCURRENCY); // warm-up
      const before = cpuMs(proc.pid);
      const r = await load(url, half, CONCURRENCY);
      const sum = sums[which];
      sum.cpu += cpuMs(proc.pid) - before;
      sum.ms += r.ms;
      sum.n += half;
      for (const [status, count] of Object.entries(r.statuses)) sum.statuses[status] = (sum.statuses[status] ?? 0) + count;
    } finally {
      await stop(proc);
    }
  }
  for (const which of ['app', 'minimal']) {
    const { cpu, ms, n, statuses } = sums[which];
    result[which] = { cpuMsPerRequest: cpu / n, requestsPerSecond: (n / ms) * 1000, statuses };
    say(`  ${which.padEnd(8)} ${(cpu / n).toFixed(3)} CPU ms/request, ${((n / ms) * 1000).toFixed(0)} req/s, ${JSON.stringify(statuses)}`);
  }
  // A ratio against a run that failed requests compares unlike work: none is given.
  const failing = ['app', 'minimal'].filter((w) => Object.keys(result[w].statuses).some((status) => status !== '200'));
  if (failing.length) {
    result.ratio = null;
    say(`  ratio    none: ${failing.join(' and ')} answered other than 200 (${failing.map((w) => JSON.stringify(result[w].statuses)).join(', ')}); fix that first`);
  } else {
    result.ratio = result.app.cpuMsPerRequest / result.minimal.cpuMsPerRequest;
    say(`  ratio    ${result.ratio.toFixed(2)}x ${result.ratio <= 1.3 ? 'ok' : 'MISS'} (goal <= 1.3x)`);
  }

  // Faults, each on a fresh server of the generated app.
  const faults = {};
  const db = new URL(databaseUrl);
  const proxy = await tcpProxy(db.hostname === 'localhost' ? '127.0.0.1' : db.hostname, Number(db.port || 5432));
  const viaProxy = new URL(databaseUrl);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const scenario = async (label, extraEnv, body) => {
    const port = await freePort();
    const [cmd, args, extra = {}] = stack.app(backend, port);
    const base = `http://127.0.0.1:${port}`;
    const proc = await serve(cmd, args, backend, { ...env, DATABASE_URL: viaProxy.toString(), ...extra, ...extraEnv }, `${base}/health/live`);
    try {
      await load(`${base}${items}/${itemId}`, 1, 1); // the token, checked and cached
      faults[label] = await body(base);
      say(`  ${label}: ${JSON.stringify(faults[label])}`);
    } finally {
      ulm.delayMs = 0;
      ulm.hang = false;
      await stop(proc);
    }
  };
  await scenario('ULM slow (2 s), 60 requests at once; /health/ready meanwhile', { DB_POOL_SIZE: '5', DB_MAX_OVERFLOW: '0' }, async (base) => {
    ulm.delayMs = 2000;
    const requests = load(`${base}${items}/${itemId}`, 60, 60);
    await sleep(300);
    const ready = await timed(`${base}/health/ready`);
    return { items: (await requests).statuses, ready };
  });
  await scenario('ULM hanging, ULM_TIMEOUT=2: 20 requests, 10 at a time', { ULM_TIMEOUT: '2' }, async (base) => {
    ulm.hang = true;
    const r = await load(`${base}${items}/${itemId}`, 20, 10);
    return { items: r.statuses, wallMs: Math.round(r.ms) };
  });
  await scenario('ULM stopped: 50 requests', {}, async (base) => {
    await ulm.stop();
    try {
      return { items: (await load(`${base}${items}/${itemId}`, 50, 10)).statuses, list: (await load(`${base}${items}`, 50, 10)).statuses };
    } finally {
      await ulm.start();
    }
  });
  await scenario('database stopped: 50 requests each; then started again', {}, async (base) => {
    await proxy.stop();
    const down = {
      items: (await load(`${base}${items}/${itemId}`, 50, 10)).statuses,
      list: (await load(`${base}${items}`, 50, 10)).statuses,
      live: await timed(`${base}/health/live`),
      ready: await timed(`${base}/health/ready`),
    };
    await proxy.start();
    const deadline = Date.now() + 15_000;
    while ((await timed(`${base}/health/ready`)).status !== 200 && Date.now() < deadline) await sleep(200);
    return { ...down, afterRestart: (await load(`${base}${items}/${itemId}`, 50, 10)).statuses };
  });
  await proxy.stop();
  result.faults = faults;
  return result;
}

const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-bench-apps-'));
const ulm = await fakeUlm();
const results = [];
try {
  say(`bench:apps: ${REQUESTS} requests, ${CONCURRENCY} at a time, per app; Node ${process.version}, ${os.cpus().length} CPUs`);
  for (const name of opt.stacks.split(',')) {
    try {
      results.push(await benchStack(name, ws, ulm));
    } catch (error) {
      say(`  ${name}: could not be measured: ${error instanceof Error ? error.message : error}`);
      results.push({ stack: name, error: String(error) });
    }
  }
} finally {
  await ulm.stop();
  fs.rmSync(ws, { recursive: true, force: true });
}
if (opt.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
