import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACKS, stackIds, toolchain } from '../../../src/stacks/index.ts';
import type { StackDef } from '../../../src/stacks/stack.ts';
import type { Stack } from '../../../src/app/spec.ts';
import { QUESTIONS, validateAnswer, type Answers } from '../../../src/app/questions.ts';
import { planNewApp } from '../../../src/commands/new-plan.ts';
import { readSnapshot } from '../../../src/workspace/snapshot.ts';
import { findWorkspace } from '../../../src/workspace/workspace.ts';

/**
 * Adding a stack is a folder and a table row: this one exists only here (its templates in
 * test/fixtures/stacks/minimal/), and nothing else in src/ names it, yet the stack question offers
 * it, its tool is found with the run's others, and `new` writes its app with its own migrations
 * directory, URL quirk and commands.
 */
const minimal: StackDef = {
  id: 'minimal' as Stack,
  label: 'Minimal (a test stack)',
  templates: fileURLToPathOf('../../fixtures/stacks/minimal'),
  tool: { name: 'minimal', find: (env) => (env['MINIMAL_TOOL'] ? 'found' : 'missing') },
  install: (tools) => [{ command: ['minimal-install', String(tools['minimal'])] }],
  installed: () => false,
  migrations: { dir: 'migrations', state: async () => ({ atHead: true, message: 'no migrations' }) },
  pgbouncerUrlQuery: '?minimal=1',
  migrate: { shown: 'minimal migrate', command: () => ['minimal', 'migrate'], inImage: ['minimal', 'migrate'] },
  imageUid: 4242,
  migrateHint: () => 'minimal migrate',
  testHint: () => 'minimal test',
  runHint: () => 'minimal run',
  docsPath: '/docs',
  readyCheck: () => ['true'],
  localEnv: (port) => [`MINIMAL_PORT=${port}`],
};

function fileURLToPathOf(rel: string): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), rel);
}

const table = STACKS as Record<string, StackDef>;
let dir: string;
beforeAll(() => {
  table['minimal'] = minimal;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-third-stack-'));
});
afterAll(() => {
  delete table['minimal'];
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a third stack: a folder and a table row', () => {
  it('is offered by the stack question and its tool is found with the others', () => {
    expect(stackIds()).toEqual(['python', 'typescript', 'minimal']);
    const question = QUESTIONS.find((q) => q.key === 'stack')!;
    expect(question.valueName).toBe('python|typescript|minimal');
    const facts = { usedPorts: new Map(), interactive: false, ownService: undefined };
    expect(validateAnswer(question, 'minimal', {}, facts)).toBeUndefined();
    expect(validateAnswer(question, 'cobol', {}, facts)).toMatch(/python/);
    expect(toolchain({ name: 'npm' }, { MINIMAL_TOOL: '1' })['minimal']).toBe('found');
  });

  it('new writes its app from its own templates, with its URL quirk, tools and hints', async () => {
    const answers: Answers = {
      name: 'inventory',
      stack: 'minimal' as Stack,
      kind: 'crud',
      port: 8001,
      dbPoolSize: 5,
      dbMaxOverflow: 5,
      dbPoolTimeout: 30,
      processes: 1,
      pgbouncer: true,
      ulmUrl: 'http://ulm-backend:8000',
      install: true,
      createDb: false,
      adminUrl: undefined,
      migrate: false,
    };
    const tools = toolchain({ name: 'npm' }, {});
    const app = await planNewApp(readSnapshot(findWorkspace(dir, dir)), answers, { force: false, dbHost: 'localhost:5432', tools });
    const files = new Map(app.plan.list().map((c) => [path.relative(dir, c.path), c.after]));
    expect(files.get('inventory/backend/README.md')).toContain('# Inventory');
    expect(files.get('inventory/backend/app.txt')).toBe('serve on 8000 with inventory_db as inventory_user\n');
    expect(files.has('inventory/backend/app/main.py')).toBe(false);
    expect(files.get('inventory/compose.yaml')).toContain('@ovu-pgbouncer:6432/inventory_db?minimal=1');
    expect(files.get('inventory/backend/.env')).toContain('MINIMAL_PORT=8001');
    expect([...files.values()].some((t) => t?.includes('runAsUser: 4242'))).toBe(true);
    expect(app.tasks.map((t) => t.id)).toContain('install');
  });
});
