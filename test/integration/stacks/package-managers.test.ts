import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectPackageManager, installCommand, runScript, runnerWords } from '../../../src/stacks/package-managers.ts';
import { pythonInstaller } from '../../../src/stacks/python-installer.ts';

describe('detectPackageManager', () => {
  it.each([
    ['npm/10.8.2 node/v20.17.0 linux x64 workspaces/false', 'npm', 10],
    ['pnpm/9.12.0 npm/? node/v20.17.0 linux x64', 'pnpm', 9],
    ['yarn/1.22.22 npm/? node/v20.17.0 linux x64', 'yarn', 1],
    ['yarn/4.5.0 npm/? node/v20.17.0 linux x64', 'yarn', 4],
    ['bun/1.1.30 npm/? node/v22.6.0 linux x64', 'bun', 1],
  ])('reads %s', (agent, name, major) => {
    expect(detectPackageManager(agent)).toEqual({ name, major });
  });

  it.each([undefined, '', 'deno/2.0', 'something npm/10'])('falls back to npm for %j', (agent) => {
    expect(detectPackageManager(agent)).toEqual({ name: 'npm' });
  });
});

describe('what each package manager runs', () => {
  it.each([
    [{ name: 'npm' as const }, 'npx create-ovu-app', 'npm install --no-audit --no-fund', 'npm test', 'npm run migrate'],
    [{ name: 'pnpm' as const, major: 9 }, 'pnpm dlx create-ovu-app', 'pnpm install', 'pnpm test', 'pnpm run migrate'],
    [{ name: 'yarn' as const, major: 1 }, 'yarn create ovu-app', 'yarn install', 'yarn test', 'yarn run migrate'],
    [{ name: 'yarn' as const, major: 4 }, 'yarn dlx create-ovu-app', 'yarn install', 'yarn test', 'yarn run migrate'],
    [{ name: 'bun' as const, major: 1 }, 'bunx create-ovu-app', 'bun install', 'bun run test', 'bun run migrate'],
  ])('%j', (pm, runner, install, test, migrate) => {
    expect(runnerWords(pm).join(' ')).toBe(runner);
    expect(installCommand(pm).join(' ')).toBe(install);
    expect(runScript(pm, 'test')).toBe(test);
    expect(runScript(pm, 'migrate')).toBe(migrate);
  });
});

describe('pythonInstaller', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-path-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);

  it('is pip when uv is not on PATH', () => {
    expect(pythonInstaller({ PATH: bin })).toBe('pip');
    expect(pythonInstaller({})).toBe('pip');
  });

  it('is uv when an executable uv is on PATH, and not for a uv that cannot run or is a directory', () => {
    const other = path.join(dir, 'other');
    fs.mkdirSync(path.join(other, 'uv'), { recursive: true });
    expect(pythonInstaller({ PATH: [other, bin].join(path.delimiter) })).toBe('pip');
    fs.writeFileSync(path.join(bin, 'uv'), '#!/bin/sh\n', { mode: 0o644 });
    expect(pythonInstaller({ PATH: bin })).toBe('pip');
    fs.chmodSync(path.join(bin, 'uv'), 0o755);
    expect(pythonInstaller({ PATH: [other, bin].join(path.delimiter) })).toBe('uv');
  });
});
