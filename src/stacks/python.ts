import fs from 'node:fs';
import path from 'node:path';
import type { PythonInstaller } from './python-installer.ts';
import type { InstallStep, StackDef } from './stack.ts';

const venvBin = (backendDir: string, tool: string): string => path.join(backendDir, '.venv', 'bin', tool);

/**
 * A virtualenv in .venv with the app installed in it. A .venv an interrupted run left without
 * its pip (or python) is made again rather than skipped.
 */
function installSteps(installer: PythonInstaller): InstallStep[] {
  if (installer === 'uv') {
    return [
      { command: ['uv', 'venv', '--allow-existing', '.venv'], skip: (dir) => fs.existsSync(venvBin(dir, 'python')) },
      { command: ['uv', 'pip', 'install', '--python', path.join('.venv', 'bin', 'python'), '-e', '.[dev]'] },
    ];
  }
  return [
    { command: ['python3', '-m', 'venv', '.venv'], skip: (dir) => fs.existsSync(venvBin(dir, 'python')) && fs.existsSync(venvBin(dir, 'pip')) },
    { command: [path.join('.venv', 'bin', 'pip'), 'install', '--disable-pip-version-check', '-e', '.[dev]'] },
  ];
}

/** FastAPI + SQLAlchemy 2 (async) + Alembic, in a virtualenv in the backend directory. */
export const python: StackDef = {
  id: 'python',
  label: 'Python (FastAPI + SQLAlchemy + Alembic)',
  layers: (kind) => [`python/common`, `python/${kind}`],
  install: (tools) => installSteps(tools.python),
  installed: (dir) => fs.existsSync(venvBin(dir, 'alembic')),
  migrate: { shown: 'alembic upgrade head', command: (dir) => [venvBin(dir, 'alembic'), 'upgrade', 'head'] },
  migrateHint: () => '.venv/bin/alembic upgrade head',
  testHint: () => '.venv/bin/pytest',
  docsPath: '/docs',
  localEnv: () => [],
};
