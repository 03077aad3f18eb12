import fs from 'node:fs';
import path from 'node:path';
import type { StackDef } from './stack.ts';

const venvBin = (backendDir: string, tool: string): string => path.join(backendDir, '.venv', 'bin', tool);

/** FastAPI + SQLAlchemy 2 (async) + Alembic, in a virtualenv in the backend directory. */
export const python: StackDef = {
  id: 'python',
  label: 'Python (FastAPI + SQLAlchemy + Alembic)',
  layers: (kind) => [`python/common`, `python/${kind}`],
  install: [
    { command: ['python3', '-m', 'venv', '.venv'], skip: (dir) => fs.existsSync(path.join(dir, '.venv')) },
    { command: [path.join('.venv', 'bin', 'pip'), 'install', '--disable-pip-version-check', '-e', '.[dev]'] },
  ],
  installed: (dir) => fs.existsSync(venvBin(dir, 'alembic')),
  migrate: { shown: 'alembic upgrade head', command: (dir) => [venvBin(dir, 'alembic'), 'upgrade', 'head'] },
  migrateHint: '.venv/bin/alembic upgrade head',
  testHint: '.venv/bin/pytest',
  docsPath: '/docs',
  localEnv: () => [],
};
