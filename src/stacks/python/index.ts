import fs from 'node:fs';
import path from 'node:path';
import { pythonInstaller, type PythonInstaller } from './installer.ts';
import { MIGRATIONS_DIR, alembicState } from './migrations.ts';
import type { InstallStep, StackDef, Toolchain } from '../stack.ts';

const venvBin = (backendDir: string, tool: string): string => path.join(backendDir, '.venv', 'bin', tool);

/**
 * FastAPI + SQLAlchemy 2 (async) + Alembic in a virtualenv in .venv, managed with uv: `--install`
 * always leaves a uv.lock (which the Dockerfile installs with `uv sync --frozen`). With uv on PATH
 * it is used as it is; otherwise python3 makes the virtualenv and pip brings uv into it. A .venv an
 * interrupted run left without its pip (or python) is made again rather than skipped.
 * `--inexact` keeps pip and uv in the virtualenv, which the lock does not list.
 */
function installSteps(installer: PythonInstaller): InstallStep[] {
  if (installer === 'uv') return [{ command: ['uv', 'sync', '--extra', 'dev', '--inexact'] }];
  return [
    { command: ['python3', '-m', 'venv', '.venv'], skip: (dir) => fs.existsSync(venvBin(dir, 'python')) && fs.existsSync(venvBin(dir, 'pip')) },
    { command: [path.join('.venv', 'bin', 'pip'), 'install', '--disable-pip-version-check', '--quiet', 'uv'], skip: (dir) => fs.existsSync(venvBin(dir, 'uv')) },
    { command: [path.join('.venv', 'bin', 'uv'), 'sync', '--extra', 'dev', '--inexact'] },
  ];
}

/** The run's Python installer (pip when none was found, as for a Toolchain made by hand). */
const installerOf = (tools: Toolchain): PythonInstaller => (tools['python'] === 'uv' ? 'uv' : 'pip');

/** FastAPI + SQLAlchemy 2 (async) + Alembic, in a virtualenv in the backend directory. */
export const python: StackDef = {
  id: 'python',
  label: 'Python (FastAPI + SQLAlchemy + Alembic)',
  templates: 'python',
  ciWorkflow: 'python/ci/workflow.yml',
  tool: { name: 'python', find: pythonInstaller },
  install: (tools) => installSteps(installerOf(tools)),
  installed: (dir) => fs.existsSync(venvBin(dir, 'alembic')),
  migrations: { dir: MIGRATIONS_DIR, state: alembicState },
  pgbouncerUrlQuery: '',
  migrate: { shown: 'alembic upgrade head', command: (dir) => [venvBin(dir, 'alembic'), 'upgrade', 'head'], inImage: ['alembic', 'upgrade', 'head'] },
  // The Dockerfile's `useradd --uid 10001 app`.
  imageUid: 10001,
  migrateHint: () => '.venv/bin/alembic upgrade head',
  testHint: () => '.venv/bin/pytest',
  runHint: (_tools, port) => `.venv/bin/uvicorn app.main:app --port ${port}`,
  docsPath: '/docs',
  readyCheck: (port) => ['python', '-c', `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port}/health/ready', timeout=4)`],
  localEnv: () => [],
};
