import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { python } from '../../../src/stacks/python/index.ts';

describe('the Python install steps', () => {
  it('uv: one uv sync, which makes (or repairs) the virtualenv and leaves uv.lock', () => {
    expect(python.install({ pm: { name: 'npm' }, python: 'uv' })).toEqual([{ command: ['uv', 'sync', '--extra', 'dev', '--inexact'] }]);
  });

  it.each(['pip'] as const)('%s: makes the virtualenv again when an interrupted run left it without its tools', (installer) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-venv-'));
    const [venv] = python.install({ pm: { name: 'npm' }, python: installer });
    expect(venv!.skip!(dir)).toBe(false);
    fs.mkdirSync(path.join(dir, '.venv', 'bin'), { recursive: true });
    expect(venv!.skip!(dir)).toBe(false);
    fs.writeFileSync(path.join(dir, '.venv', 'bin', 'python'), '');
    // pip's own venv needs its pip.
    expect(venv!.skip!(dir)).toBe(false);
    fs.writeFileSync(path.join(dir, '.venv', 'bin', 'pip'), '');
    expect(venv!.skip!(dir)).toBe(true);
  });
});
