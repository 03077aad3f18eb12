#!/usr/bin/env node
// DEVELOPMENT ONLY. A stand-in for ULM with the part of its API the apps call (schema/ulm-contract.openapi.yaml
// in create-ovu-app): GET /api/v1/auth/me, /api/v1/users/{id}, /api/v1/users?ids=a,b and /health.
// Users and tokens come from users.json beside this file. Never deploy it: its tokens are in a file.
// Written by create-ovu-app; no dependencies: `node ulm-dev/server.mjs` (PORT, ULM_DEV_USERS, ULM_SERVICE_TOKEN).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const file = process.env.ULM_DEV_USERS || path.join(path.dirname(fileURLToPath(import.meta.url)), 'users.json');
const port = Number(process.env.PORT || 8100);
const host = process.env.HOST || '127.0.0.1';
// Set (as in the workspace .env), user lookups must carry it; unset, they need no token.
const serviceToken = process.env.ULM_SERVICE_TOKEN || '';

/** users.json, read on every request so that an edit takes effect at once. */
function load() {
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  const users = new Map((data.users ?? []).map((u) => [String(u.id), u]));
  return { users, tokens: data.tokens ?? {} };
}

/** Only what the apps read of a user: id, email, name. */
const shown = (u) => ({ id: String(u.id), email: u.email ?? null, name: u.name ?? null });

function bearer(req) {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : undefined;
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-ulm-dev': 'development only' });
  res.end(JSON.stringify(body));
}

export function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://ulm-dev');
  if (req.method !== 'GET') return send(res, 405, { detail: 'method not allowed' });
  if (url.pathname === '/health' || url.pathname === '/health/ready' || url.pathname === '/health/live') return send(res, 200, { status: 'ok', development: true });
  let db;
  try {
    db = load();
  } catch (err) {
    return send(res, 500, { detail: `cannot read ${file}: ${err.message}` });
  }
  if (url.pathname === '/api/v1/auth/me') {
    const token = bearer(req);
    const id = token === undefined ? undefined : db.tokens[token];
    const user = id === undefined ? undefined : db.users.get(String(id));
    return user ? send(res, 200, shown(user)) : send(res, 401, { detail: 'unknown token' });
  }
  if (url.pathname === '/api/v1/users' || url.pathname.startsWith('/api/v1/users/')) {
    if (serviceToken && bearer(req) !== serviceToken) return send(res, 401, { detail: 'a user lookup needs the service token' });
    if (url.pathname === '/api/v1/users') {
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
      return send(res, 200, ids.flatMap((id) => (db.users.has(id) ? [shown(db.users.get(id))] : [])));
    }
    const id = decodeURIComponent(url.pathname.slice('/api/v1/users/'.length));
    const user = db.users.get(id);
    return user ? send(res, 200, shown(user)) : send(res, 404, { detail: `no user ${id}` });
  }
  return send(res, 404, { detail: 'not a path of the development ULM' });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const server = http.createServer(handle);
  server.on('error', (err) => {
    // Started again beside a second app: the one already running serves both.
    if (err.code === 'EADDRINUSE') console.log(`something already listens on ${host}:${port} (a development ULM started earlier?): leaving it be`);
    else console.error(`development ULM: ${err.message}`);
    process.exit(err.code === 'EADDRINUSE' ? 0 : 1);
  });
  server.listen(port, host, () => {
    console.log(`DEVELOPMENT ULM (not for production) on http://${host}:${port}, users and tokens from ${file}`);
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
}
