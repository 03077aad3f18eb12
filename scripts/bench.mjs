#!/usr/bin/env node
// `npm run bench`: wall-clock and CPU medians of the built CLI next to a baseline for each case, as a table
// (and JSON). A measurement, not a test: it exits 0 whatever it finds, and says MISS where a
// target is not met.
//
//   node scripts/bench.mjs [--json] [--runs N] [--warmups N] [--npx-runs N] [--apps N]
//                          [--admin-url postgresql://…] [--skip-npx] [--skip-scale] [--skip-apps]
//
//   --json        the results as JSON on stdout (the table goes to stderr)
//   --admin-url   (or OVU_BENCH_ADMIN_URL) a PostgreSQL admin URL: adds the row "generate, install,
//                 create the database, migrate, until /health answers". Provisioning hardens that
//                 server as create-ovu-app always does (PUBLIC loses CONNECT on every database).
//                 With it, scripts/bench-apps.mjs then runs too (unless --skip-apps): each stack's
//                 generated crud app under load next to a minimal hand-written one, and under faults.
//
// Nothing is cached between runs: the CLI keeps no state outside the workspace it edits.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'create-ovu-app.js');
const CLI_JS = path.join(ROOT, 'dist', 'cli.js');
const NODE = process.execPath;
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

const { values: opt } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    runs: { type: 'string', default: '15' },
    warmups: { type: 'string', default: '2' },
    'npx-runs': { type: 'string', default: '7' },
    apps: { type: 'string', default: '200' },
    'admin-url': { type: 'string' },
    'skip-npx': { type: 'boolean', default: false },
    'skip-scale': { type: 'boolean', default: false },
    'skip-apps': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  process.stdout.write(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const RUNS = Number(opt.runs);
const WARMUPS = Number(opt.warmups);
const NPX_RUNS = Number(opt['npx-runs']);
const NTH_APP = Number(opt.apps);
const ADMIN_URL = opt['admin-url'] ?? process.env.OVU_BENCH_ADMIN_URL;

/** Progress and the table: stderr under --json, so stdout is only the JSON. */
const say = (s) => (opt.json ? process.stderr : process.stdout).write(s + '\n');

// Under `npm run`, npm_* variables (npm_config_local_prefix, npm_package_*, …) point npm at this
// project: the children get an environment without them.
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-bench-'));
const CLI_ENV = { ...BASE_ENV, CI: 'true', NO_COLOR: '1' };
const npxEnv = (cache) => ({ ...CLI_ENV, npm_config_cache: cache, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_yes: 'true' });

let dirs = 0;
/** A new empty directory under the bench's own temp dir. */
const fresh = (label = 'd') => {
  const d = path.join(WORK, `${label}-${++dirs}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};
const rm = (d) => fs.rmSync(d, { recursive: true, force: true });

// ---------------------------------------------------------------------------------------------

/**
 * CPU time (user + system, ms) of the children this process has waited for, from /proc/self/stat
 * (cutime + cstime, in clock ticks of 10 ms): the difference around one spawnSync is that child's
 * CPU. Undefined where there is no /proc (the table then shows wall time only).
 */
function childrenCpuMs() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, cutime 16 and cstime 17 (1-based, man 5 proc).
    return (Number(fields[16 - 3]) + Number(fields[17 - 3])) * 10;
  } catch {
    return undefined;
  }
}

/** Runs a command once, returns its wall time and CPU time in ms; throws with its stderr if it fails. */
function timeOnce({ cmd, args, cwd, env }) {
  const cpu0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu1 = childrenCpuMs();
  if (r.status !== 0) {
    throw new Error(`\`${[cmd, ...args].join(' ')}\` (in ${cwd}) exited ${r.status ?? r.signal}: ${String(r.stderr).trim().split('\n').slice(-8).join('\n')}`);
  }
  return { ms, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
};

/**
 * Times `subject` and `baseline` alternately (warm-ups first, then `runs` each; the order flips
 * every round so neither always runs on a warmer machine). `prepare` makes each round's inputs
 * untimed; `cleanup` removes them untimed.
 */
function pair({ name, subjectLabel, baselineLabel, target, runs = RUNS, warmups = WARMUPS, prepare = () => ({}), subject, baseline, cleanup = () => {} }) {
  const s = [];
  const b = [];
  const sc = [];
  const bc = [];
  process.stderr.write(`  ${name}: `);
  for (let i = 0; i < warmups + runs; i++) {
    const ctx = prepare();
    // Flush what preparing wrote (a copy of a 199-app workspace is thousands of files), so its
    // writeback does not land in the timed runs.
    spawnSync('sync');
    try {
      const order = i % 2 ? ['b', 's'] : ['s', 'b'];
      for (const which of order) {
        const t = timeOnce(which === 's' ? subject(ctx) : baseline(ctx));
        if (i >= warmups) {
          (which === 's' ? s : b).push(t.ms);
          if (t.cpuMs !== undefined) (which === 's' ? sc : bc).push(t.cpuMs);
        }
      }
    } finally {
      cleanup(ctx);
    }
    process.stderr.write(i < warmups ? 'w' : '.');
  }
  process.stderr.write('\n');
  return row({ name, subjectLabel, baselineLabel, target, s, b, sc, bc });
}

function row({ name, subjectLabel, baselineLabel, target, s, b, sc, bc, status, note }) {
  const m = median(s);
  const bm = b?.length ? median(b) : undefined;
  const ratio = bm ? m / bm : undefined;
  const cm = sc?.length ? median(sc) : undefined;
  const bcm = bc?.length ? median(bc) : undefined;
  const cpuRatio = cm !== undefined && bcm ? cm / bcm : undefined;
  const met = (r) => r === undefined || r <= target;
  return {
    case: name,
    subject: subjectLabel,
    baseline: baselineLabel ?? null,
    medianMs: round(m),
    baselineMedianMs: bm === undefined ? null : round(bm),
    ratio: ratio === undefined ? null : Math.round(ratio * 100) / 100,
    cpuMs: cm === undefined ? null : round(cm),
    baselineCpuMs: bcm === undefined ? null : round(bcm),
    cpuRatio: cpuRatio === undefined ? null : Math.round(cpuRatio * 100) / 100,
    target: target ?? null,
    // The target holds for both wall and CPU time.
    status: status ?? (ratio === undefined || target === undefined ? 'INFO' : met(ratio) && met(cpuRatio) ? 'PASS' : 'MISS'),
    runs: s.length,
    spreadMs: s.length > 1 ? { min: round(Math.min(...s)), p90: round(quantile(s, 0.9)) } : null,
    baselineSpreadMs: b?.length > 1 ? { min: round(Math.min(...b)), p90: round(quantile(b, 0.9)) } : null,
    ...(note ? { note } : {}),
  };
}
const round = (x) => Math.round(x * 10) / 10;

// ---------------------------------------------------------------------------------------------
// Preparation

/** Rebuilds dist/ only when it is missing or older than src/ (rebuilding under a running test would break it). */
function ensureBuilt() {
  const newest = (dir) =>
    fs
      .readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile())
      .reduce((t, e) => Math.max(t, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs), 0);
  const built = fs.existsSync(CLI_JS) ? fs.statSync(CLI_JS).mtimeMs : 0;
  if (built >= Math.max(newest(path.join(ROOT, 'src')), fs.statSync(path.join(ROOT, 'package.json')).mtimeMs)) return;
  say('dist/ is missing or older than src/: building');
  const r = spawnSync(NODE, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
}

function createViteEntry() {
  const dir = path.join(ROOT, 'node_modules', 'create-vite');
  if (!fs.existsSync(path.join(dir, 'index.js'))) throw new Error('create-vite is not installed: run npm install (it is a devDependency)');
  const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  return { entry: path.join(dir, 'index.js'), version };
}

/** A platform workspace as teams write them: comments, an anchor, aliases (merge keys), ULM. */
const ADR_LIKE_COMPOSE = `# The OVU platform (ADR-002): one PostgreSQL, ULM, and the apps.
x-restart: &restart
  restart: unless-stopped

services:
  postgres:
    <<: *restart
    image: postgres:15
    # Room for 200 apps' connection limits (11 each): new refuses an app that would not fit.
    command: [postgres, -c, max_connections=2500]
    environment:
      POSTGRES_USER: postgres
      POSTGRES_PASSWORD: postgres
    ports:
      - "5432:5432"
    volumes:
      - postgres_data:/var/lib/postgresql/data   # data files

  ulm-backend:
    <<: *restart
    build: ./ulm/backend
    environment:
      DATABASE_URL: postgresql://ulm_user:\${ULM_DB_PASSWORD}@postgres:5432/ulm_db
    ports:
      - "8000:8000"
    depends_on:
      - postgres

volumes:
  postgres_data:
`;

/** A new workspace directory holding only the ADR-like compose file. */
function adrWorkspace(label) {
  const ws = fresh(label);
  fs.writeFileSync(path.join(ws, 'docker-compose.yml'), ADR_LIKE_COMPOSE);
  return ws;
}

/**
 * A workspace holding `n` apps made by the real CLI code: dist/cli.js's main() called in a loop in
 * one node process (a process per app would cost about 0.5 s each for startup and the compose
 * schema's compile, with the same result).
 */
function workspaceWithApps(n) {
  const ws = adrWorkspace('ws-with-apps');
  const code = `
    const { main } = await import(${JSON.stringify(pathToFileURL(CLI_JS).href)});
    process.stdout.write = () => true;
    for (let i = 1; i <= ${n}; i++) {
      const rc = await main(['app' + String(i).padStart(4, '0'), '--yes', '--workspace', ${JSON.stringify(ws)}]);
      if (rc !== 0) { console.error('app #' + i + ' failed with exit code ' + rc); process.exit(1); }
    }`;
  const r = spawnSync(NODE, ['--input-type=module', '-e', code], { cwd: WORK, env: CLI_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`preparing the ${n}-app workspace failed: ${r.stderr}`);
  return ws;
}

/** `npm pack` of this project (spec undefined) or of a registry package, into `dest`. */
function npmPack(spec, dest) {
  // --ignore-scripts: pack the dist/ just checked, without rebuilding it under other users of dist/.
  const args = spec ? ['pack', spec] : ['pack', '--ignore-scripts'];
  const r = spawnSync('npm', [...args, '--json', '--pack-destination', dest], { cwd: spec ? dest : ROOT, env: npxEnv(path.join(WORK, 'npm-cache-pack')), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout);
  return { file: path.join(dest, info.filename), size: info.size };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Cases

const cli = (args, cwd = WORK) => ({ cmd: NODE, args: [BIN, ...args], cwd, env: CLI_ENV });
const nodeNoop = () => ({ cmd: NODE, args: ['-e', '0'], cwd: WORK, env: CLI_ENV });

function startupRows() {
  return [
    pair({ name: '--help', subjectLabel: 'create-ovu-app --help', baselineLabel: 'node -e 0', target: 1.3, subject: () => cli(['--help']), baseline: nodeNoop }),
    pair({ name: '--version', subjectLabel: 'create-ovu-app --version', baselineLabel: 'node -e 0', target: 1.3, subject: () => cli(['--version']), baseline: nodeNoop }),
  ];
}

function generateRow(vite) {
  return pair({
    name: 'generate (files only)',
    subjectLabel: 'create-ovu-app inventory --yes --workspace <empty dir>',
    baselineLabel: `create-vite ${vite.version} app --template vanilla-ts`,
    target: 1.5,
    prepare: () => ({ ws: fresh('ws'), vdir: fresh('vite') }),
    subject: ({ ws }) => cli(['inventory', '--yes', '--workspace', ws]),
    baseline: ({ vdir }) => ({ cmd: NODE, args: [vite.entry, 'app', '--template', 'vanilla-ts', '--no-interactive', '--no-immediate'], cwd: vdir, env: CLI_ENV }),
    cleanup: ({ ws, vdir }) => {
      if (!fs.existsSync(path.join(ws, 'inventory', 'backend', 'app', 'main.py'))) throw new Error('create-ovu-app wrote no app');
      if (!fs.existsSync(path.join(vdir, 'app', 'package.json'))) throw new Error('create-vite wrote no app');
      rm(ws);
      rm(vdir);
    },
  });
}

function scaleRow() {
  const n = NTH_APP - 1;
  const t0 = Date.now();
  say(`  preparing a workspace with ${n} apps …`);
  const template = workspaceWithApps(n);
  const prepMs = Date.now() - t0;
  const apps = fs.readdirSync(template).filter((f) => fs.existsSync(path.join(template, f, '.ovu-app.json'))).length;
  if (apps !== n) throw new Error(`the prepared workspace has ${apps} apps, not ${n}`);
  const r = pair({
    name: `add app #${NTH_APP}`,
    subjectLabel: `create-ovu-app inventory --yes (ADR-like workspace with ${n} apps)`,
    baselineLabel: 'the same into the ADR-like workspace with no app (app #1)',
    target: 1.2,
    prepare: () => {
      const big = fresh('ws-big');
      fs.cpSync(template, big, { recursive: true });
      // The copy's 80 MB would otherwise be written back to disk while the next runs are timed.
      spawnSync('sync');
      return { big, empty: adrWorkspace('ws') };
    },
    subject: ({ big }) => cli(['inventory', '--yes', '--workspace', big]),
    baseline: ({ empty }) => cli(['inventory', '--yes', '--workspace', empty]),
    cleanup: ({ big, empty }) => {
      const apps = fs.readFileSync(path.join(big, 'apps.compose.yaml'), 'utf8');
      if (!/^ {2}- inventory\/compose\.yaml$/m.test(apps)) throw new Error(`app #${NTH_APP} is not in apps.compose.yaml`);
      if (!fs.existsSync(path.join(empty, 'inventory', 'compose.yaml'))) throw new Error('app #1 has no compose file');
      rm(big);
      rm(empty);
    },
  });
  rm(template);
  return { ...r, note: `workspace with ${n} apps prepared in ${(prepMs / 1000).toFixed(1)} s (once, in one process)` };
}

function npxRow(vite) {
  const packDir = fresh('packs');
  const ours = npmPack(undefined, packDir);
  const theirs = npmPack(`create-vite@${vite.version}`, packDir);
  const r = pair({
    name: 'npx <tarball>, empty npm cache',
    subjectLabel: `npx --package ${path.basename(ours.file)} create-ovu-app inventory --yes`,
    baselineLabel: `npx --package ${path.basename(theirs.file)} create-vite app --template vanilla-ts`,
    target: 1.0,
    runs: NPX_RUNS,
    warmups: 1,
    prepare: () => ({ cacheA: fresh('npm-cache'), cacheB: fresh('npm-cache'), ws: fresh('ws'), vdir: fresh('vite') }),
    subject: ({ cacheA, ws }) => ({ cmd: 'npx', args: ['--yes', '--package', ours.file, 'create-ovu-app', 'inventory', '--yes', '--workspace', ws], cwd: ws, env: npxEnv(cacheA) }),
    baseline: ({ cacheB, vdir }) => ({ cmd: 'npx', args: ['--yes', '--package', theirs.file, 'create-vite', 'app', '--template', 'vanilla-ts', '--no-interactive', '--no-immediate'], cwd: vdir, env: npxEnv(cacheB) }),
    cleanup: (ctx) => {
      if (!fs.existsSync(path.join(ctx.ws, 'inventory', 'backend', 'app', 'main.py'))) throw new Error('npx create-ovu-app wrote no app');
      if (!fs.existsSync(path.join(ctx.vdir, 'app', 'package.json'))) throw new Error('npx create-vite wrote no app');
      for (const d of Object.values(ctx)) rm(d);
    },
  });
  return { ...r, note: `tarballs: create-ovu-app ${(ours.size / 1000).toFixed(1)} kB, create-vite ${(theirs.size / 1000).toFixed(1)} kB` };
}

async function healthRow(adminUrl) {
  const name = `benchapp${process.pid}`;
  const ws = fresh('ws-health');
  const backend = path.join(ws, name, 'backend');
  const port = await freePort();
  say(`  generate + install + create-db + migrate + /health (${name}, one run; pip may download) …`);
  const t0 = process.hrtime.bigint();
  const since = () => Number(process.hrtime.bigint() - t0) / 1e6;
  let server;
  try {
    timeOnce(cli([name, '--yes', '--install', '--create-db', '--migrate', '--admin-url', adminUrl, '--workspace', ws]));
    const cliMs = since();
    server = spawn(path.join(backend, '.venv', 'bin', 'uvicorn'), ['app.main:app', '--host', '127.0.0.1', '--port', String(port)], { cwd: backend, env: BASE_ENV, stdio: 'ignore' });
    const exited = new Promise((resolve) => server.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status, () => 0);
      if (status === 200) break;
      if (server.exitCode !== null) throw new Error(`uvicorn exited with ${server.exitCode} before /health/ready answered`);
      if (Date.now() > deadline) throw new Error(`/health/ready did not answer 200 within 60 s (last status ${status})`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const totalMs = since();
    server.kill('SIGTERM');
    await exited;
    return row({
      name: 'to /health (python, crud)',
      subjectLabel: `create-ovu-app ${name} --yes --install --create-db --migrate, then uvicorn until GET /health is 200`,
      s: [totalMs],
      note: `CLI (generate, pip install, create database, migrate) ${(cliMs / 1000).toFixed(1)} s, then uvicorn to /health 200 ${((totalMs - cliMs) / 1000).toFixed(1)} s`,
    });
  } finally {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    await dropApp(adminUrl, name).catch((e) => say(`  (could not drop ${name}_db / ${name}_user: ${e.message})`));
    rm(ws);
  }
}

async function dropApp(adminUrl, name) {
  const { default: pg } = await import(pathToFileURL(path.join(ROOT, 'node_modules', 'pg', 'lib', 'index.js')).href);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name}_db WITH (FORCE)`);
    await client.query(`DROP ROLE IF EXISTS ${name}_user`);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------

function table(rows) {
  const head = ['case', 'median ms', 'baseline ms', 'ratio', 'CPU ms', 'baseline CPU', 'CPU ratio', 'target', 'result'];
  const num = (v) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(1));
  const times = (v) => (v === null || v === undefined ? '—' : `${v.toFixed(2)}×`);
  const body = rows.map((r) => [
    r.case,
    num(r.medianMs),
    num(r.baselineMedianMs),
    times(r.ratio),
    num(r.cpuMs),
    num(r.baselineCpuMs),
    times(r.cpuRatio),
    r.target === null ? '—' : `≤ ${r.target.toFixed(1)}×`,
    r.status,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const last = head.length - 1;
  const line = (cells) => cells.map((c, i) => (i === 0 || i === last ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main() {
  const started = Date.now();
  ensureBuilt();
  const vite = createViteEntry();
  say(`create-ovu-app ${pkg.version} bench: node ${process.version}, ${os.cpus().length} CPUs, ${RUNS} runs after ${WARMUPS} warm-ups (npx: ${NPX_RUNS} after 1); baseline create-vite ${vite.version}`);
  const rows = [];
  const attempt = async (label, fn) => {
    try {
      const r = await fn();
      rows.push(...(Array.isArray(r) ? r : [r]));
    } catch (err) {
      say(`  ${label}: ERROR ${err.message}`);
      rows.push({ case: label, medianMs: null, baselineMedianMs: null, ratio: null, target: null, status: 'ERROR', note: err.message });
    }
  };
  await attempt('startup', startupRows);
  await attempt('generate (files only)', () => generateRow(vite));
  if (opt['skip-scale']) rows.push(skipped(`add app #${NTH_APP}`, '--skip-scale'));
  else await attempt(`add app #${NTH_APP}`, scaleRow);
  if (opt['skip-npx']) rows.push(skipped('npx <tarball>, empty npm cache', '--skip-npx'));
  else await attempt('npx <tarball>, empty npm cache', () => npxRow(vite));
  if (ADMIN_URL) await attempt('to /health (python, crud)', () => healthRow(ADMIN_URL));
  else rows.push(skipped('to /health (python, crud)', 'no PostgreSQL given: pass --admin-url or set OVU_BENCH_ADMIN_URL'));
  // The generated apps under load and faults (scripts/bench-apps.mjs, its own table on stderr).
  if (ADMIN_URL && !opt['skip-apps']) {
    say('\nThe generated apps under load and faults (scripts/bench-apps.mjs; --skip-apps leaves them out):');
    spawnSync(NODE, [path.join(ROOT, 'scripts', 'bench-apps.mjs'), '--admin-url', ADMIN_URL], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 1_800_000 });
  }

  const seconds = (Date.now() - started) / 1000;
  say('');
  say(table(rows));
  for (const r of rows) if (r.note) say(`  ${r.case}: ${r.note}`);
  const misses = rows.filter((r) => r.status === 'MISS');
  say('');
  say('Ratios are measured side by side in one run; on a loaded machine compare them, not the milliseconds.');
  say(misses.length ? `MISS: ${misses.map((r) => `${r.case} (wall ${r.ratio}×, CPU ${r.cpuRatio ?? '—'}×, target ${r.target}×)`).join('; ')}` : 'All targets met.');

  const results = { tool: 'create-ovu-app', version: pkg.version, date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length, runs: RUNS, warmups: WARMUPS, npxRuns: NPX_RUNS, baseline: `create-vite@${vite.version}`, seconds: Math.round(seconds), rows };
  const out = path.join(WORK, 'bench-results.json');
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  for (const e of fs.readdirSync(WORK)) if (e !== 'bench-results.json') rm(path.join(WORK, e));
  if (opt.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  say(`Results: ${out} (${seconds.toFixed(0)} s in all)`);
}

function skipped(name, why) {
  return { case: name, medianMs: null, baselineMedianMs: null, ratio: null, target: null, status: 'SKIP', note: why };
}

await main().catch((err) => {
  say(`bench failed: ${err.stack ?? err}`);
});
process.exitCode = 0;
