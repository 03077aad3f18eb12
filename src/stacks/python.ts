import fs from 'node:fs';
import path from 'node:path';
import type { StackDef } from './stack.ts';

const venvBin = (backendDir: string, tool: string): string => path.join(backendDir, '.venv', 'bin', tool);

/**
 * FastAPI + SQLAlchemy 2 (async) + Alembic, managed with uv in a virtualenv in the backend
 * directory. uv itself is brought into that virtualenv with pip when it is not there yet, so
 * `--install` needs only python3, and always leaves a uv.lock (which the Dockerfile installs with
 * `uv sync --frozen`). `--inexact` keeps pip and uv in the virtualenv, which the lock does not list.
 */
export const python: StackDef = {
  id: 'python',
  label: 'Python (FastAPI + SQLAlchemy + Alembic)',
  layers: (kind) => [`python/common`, `python/${kind}`],
  install: [
    { command: ['python3', '-m', 'venv', '.venv'], skip: (dir) => fs.existsSync(path.join(dir, '.venv')) },
    {
      command: [path.join('.venv', 'bin', 'pip'), 'install', '--disable-pip-version-check', '--quiet', 'uv'],
      skip: (dir) => fs.existsSync(venvBin(dir, 'uv')),
    },
    { command: [path.join('.venv', 'bin', 'uv'), 'sync', '--extra', 'dev', '--inexact'] },
  ],
  installed: (dir) => fs.existsSync(venvBin(dir, 'alembic')),
  migrate: { shown: 'alembic upgrade head', command: (dir) => [venvBin(dir, 'alembic'), 'upgrade', 'head'] },
  migrateHint: '.venv/bin/alembic upgrade head',
  testHint: '.venv/bin/pytest',
  docsPath: '/docs',
  localEnv: () => [],
};
