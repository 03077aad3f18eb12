/**
 * The Python stack (FastAPI, SQLAlchemy + asyncpg, Alembic) for the stack contract: installed from
 * PyPI into backend/.venv, run with its own tools.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { mustRun, pytestCounts } from '../../helpers/apps.ts';
import { ROOT } from '../../helpers/cli.ts';
import { appEnv, type Counts, type Stack, type StackCheck } from '../../helpers/stack.ts';

const python = (backend: string, code: string, env: NodeJS.ProcessEnv = {}) =>
  mustRun('.venv/bin/python', ['-c', code], { cwd: backend, env: appEnv(env) });

const lastLine = (out: string) => out.trim().split('\n').pop()!;

async function pytest(backend: string, args: string[]): Promise<Counts> {
  const c = pytestCounts(await mustRun('.venv/bin/pytest', ['-q', '-p', 'no:cacheprovider', ...args], { cwd: backend, env: appEnv() }));
  return { passed: c.passed ?? 0, failed: (c.failed ?? 0) + (c.error ?? 0) + (c.errors ?? 0), skipped: c.skipped ?? 0 };
}

/** The app's own linters and type checker, with the configuration it ships (pyproject.toml), report nothing. */
async function expertClean(backend: string): Promise<void> {
  const tool = (bin: string, ...args: string[]) => mustRun(`.venv/bin/${bin}`, args, { cwd: backend, env: appEnv() });
  expect(await tool('ruff', 'check', '.')).toContain('All checks passed!');
  expect(await tool('ruff', 'format', '--check', '.')).toMatch(/\d+ files already formatted/);
  expect(await tool('mypy')).toMatch(/^Success: no issues found/m);
}

/** --install leaves a uv.lock that matches pyproject.toml, which the image installs as it is. */
const reproducible: StackCheck = {
  name: 'has the uv.lock that --install wrote, current with pyproject.toml, which the image installs with uv sync --frozen',
  async run({ backend, slug }) {
    const lock = fs.readFileSync(path.join(backend, 'uv.lock'), 'utf8');
    expect(lock).toMatch(new RegExp(`^name = "${slug}"$`, 'm'));
    expect(lock).toMatch(/^name = "fastapi"$/m);
    await mustRun('.venv/bin/uv', ['lock', '--check'], { cwd: backend, env: appEnv() });
    const dockerfile = fs.readFileSync(path.join(backend, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^RUN uv sync --frozen$/m);
    expect(dockerfile).toMatch(/^FROM python:3\.1[3-9]-slim$/m);
    expect(dockerfile).not.toMatch(/^RUN .*pip install/m);
  },
};

export const pythonStack: Stack = {
  name: 'python',
  cliArgs: [],
  crudSlug: 'inventory',
  readonlySlug: 'catalog',
  migrateCommand: 'alembic upgrade head',
  installedMarker: '.venv/bin/alembic',
  sourceDir: 'app',
  api: '/api/v1',
  itemRoute: '/api/v1/items/{item_id}',
  // The owner is the caller (their ULM token); a body naming one is refused.
  itemBody: (name) => ({ name }),
  // `pytest` leaves out the tests marked integration (pyproject's addopts); `-m integration` runs them.
  ownTests: (backend, suite) => pytest(backend, suite === 'integration' ? ['-m', 'integration'] : []),
  async databasePackages(backend) {
    // What `import` would find: a module missing here does not import (the old check: `import sqlalchemy` fails).
    const modules = JSON.stringify(['sqlalchemy', 'asyncpg', 'alembic', 'aiosqlite', 'psycopg', 'psycopg2']);
    return JSON.parse(lastLine(await python(backend, `import importlib.util as u, json; print(json.dumps([m for m in ${modules} if u.find_spec(m)]))`)));
  },
  async settingNames(backend) {
    return JSON.parse(lastLine(await python(backend, 'import json; from app.core.config import settings; print(json.dumps(sorted(settings.model_dump())))')));
  },
  start: (backend, port, env) =>
    execa(path.join(backend, '.venv/bin/uvicorn'), ['app.main:app', '--host', '127.0.0.1', '--port', String(port)], {
      cwd: backend,
      env: appEnv(env),
      extendEnv: false,
      reject: false,
    }),
  // A real difference, not a weaker check: uvicorn (>= 0.29) shuts down gracefully on SIGTERM, then
  // raises the signal again on itself so that its parent sees why it ended. Its last log line
  // proves the graceful part.
  stoppedBy: 'SIGTERM',
  shutdownLog: /Finished server process/,
  crudChecks: [
    reproducible,
    {
      name: 'hands the ADR pool settings to the engine, on asyncpg',
      async run({ backend }) {
        const code = 'from app.core.database import engine; p = engine.pool; print(engine.url.drivername, p.size(), p._max_overflow, p._timeout)';
        const out = await python(backend, code, { DB_POOL_SIZE: '7', DB_MAX_OVERFLOW: '3', DB_POOL_TIMEOUT: '11' });
        expect(lastLine(out)).toBe('postgresql+asyncpg 7 3 11.0'); // DB_POOL_TIMEOUT is a float: sub-second bounds are fine
      },
    },
    {
      name: 'has a reversible first migration that matches the models',
      async run({ backend }) {
        const alembic = (...args: string[]) => mustRun('.venv/bin/alembic', args, { cwd: backend, env: appEnv() });
        await alembic('downgrade', 'base');
        await alembic('upgrade', 'head');
        expect(await alembic('check')).toContain('No new upgrade operations detected');
        expect(await alembic('current')).toMatch(/^5d2f1c7a9b3e \(head\)/m);
      },
    },
    {
      name: "has migrations whose SQL squawk passes with the app's .squawk.toml, as its CI runs it",
      async run({ backend }) {
        const squawk = path.join(process.env['OVU_LINT_TOOLS'] ?? path.join(ROOT, '.cache', 'lint-tools'), 'bin', 'squawk');
        if (!fs.existsSync(squawk)) throw new Error(`no squawk at ${squawk}: .ci/run installs it (squawk-cli==2.70.0 in .cache/lint-tools)`);
        // stdout only: Alembic logs to stderr.
        const offline = await execa('.venv/bin/alembic', ['upgrade', 'head', '--sql'], { cwd: backend, env: appEnv(), reject: false });
        expect(offline.exitCode, String(offline.stderr)).toBe(0);
        const sql = String(offline.stdout)
          .replace(/^CREATE TABLE alembic_version \([\s\S]*?^\);$/m, '');
        expect(sql).toContain('CREATE TABLE items');
        fs.writeFileSync(path.join(backend, 'migrations.sql'), sql);
        try {
          const r = await execa(squawk, ['migrations.sql'], { cwd: backend, reject: false });
          expect(r.exitCode, `${r.stdout}`).toBe(0);
        } finally {
          fs.rmSync(path.join(backend, 'migrations.sql'));
        }
      },
    },
    {
      name: 'is clean under its own ruff (lint and format) and mypy --strict, a migration autogenerated later included',
      async run({ backend }) {
        await expertClean(backend);
        // A new revision: named by date, written from script.py.mako, then ruff's post-write hooks.
        const versions = path.join(backend, 'alembic', 'versions');
        const before = new Set(fs.readdirSync(versions));
        await mustRun('.venv/bin/alembic', ['revision', '--autogenerate', '-m', 'add nothing yet'], { cwd: backend, env: appEnv() });
        const added = fs.readdirSync(versions).filter((f) => !before.has(f));
        try {
          expect(added).toEqual([expect.stringMatching(/^\d{4}_\d{2}_\d{2}_\d{4}-[0-9a-f]{12}_add_nothing_yet\.py$/)]);
          await expertClean(backend);
        } finally {
          for (const f of added) fs.rmSync(path.join(versions, f));
        }
      },
    },
  ],
  readonlyChecks: [reproducible, { name: 'is clean under its own ruff (lint and format) and mypy --strict', run: ({ backend }) => expertClean(backend) }],
};
