import { beforeEach, describe, expect, it, vi } from 'vitest';
import { vol } from 'memfs';

vi.mock('node:fs', async () => {
  const memfs = await vi.importActual<typeof import('memfs')>('memfs');
  return { default: memfs.fs, ...memfs.fs };
});

const { planNewApp, checkCollisions } = await import('../../../src/commands/new-plan.ts');
const { readSnapshot } = await import('../../../src/workspace/snapshot.ts');
const { specFromAnswers } = await import('../../../src/app/spec.ts');
const { TEMPLATES_DIR } = await import('../../../src/stacks/template-source.ts');
const { realTemplates } = await import('../../helpers/templates.ts');
const { findWorkspace } = await import('../../../src/workspace/workspace.ts');
const { parseCompose } = await import('../../../src/workspace/compose/parse.ts');
const { readEnvVar } = await import('../../../src/workspace/env-file.ts');
const { verifierMatches } = await import('../../../src/database/scram.ts');
const { UserError, UsageError } = await import('../../../src/errors.ts');
import type { Answers } from '../../../src/app/questions.ts';
import { ADR_COMPOSE } from '../../helpers/cli.ts';

const TEMPLATES = await realTemplates();

/** What `new` does up to the commit: snapshot, collisions, plan. */
async function planApp(a: Answers, opts: { force: boolean }) {
  const snapshot = readSnapshot(findWorkspace('/ws', '/'));
  checkCollisions(snapshot, specFromAnswers(a), opts.force);
  return planNewApp(snapshot, a, { ...opts, dbHost: 'localhost:5432', tools: { pm: { name: 'npm' }, python: 'pip' } });
}

const answers = (over: Partial<Answers> = {}): Answers => ({
  name: 'inventory',
  stack: 'python',
  kind: 'crud',
  port: 8001,
  dbPoolSize: 20,
  dbMaxOverflow: 10,
  dbPoolTimeout: 30,
  processes: 1,
  pgbouncer: false,
  ulmUrl: 'http://ulm-backend:8000',
  install: false,
  createDb: false,
  adminUrl: undefined,
  migrate: false,
  ...over,
});

/** Everything outside the templates: the workspace as a user sees it. */
const workspace = () => Object.fromEntries(Object.entries(vol.toJSON()).filter(([k]) => !k.startsWith(TEMPLATES_DIR)));

beforeEach(() => {
  vol.reset();
  vol.fromJSON({ ...TEMPLATES, '/ws/docker-compose.yml': ADR_COMPOSE, '/ws/.env': '# mine\nULM_SERVICE_TOKEN=t\n' });
});

describe('planNewApp (in memory)', () => {
  it('plans every file without touching the disk', async () => {
    const before = workspace();
    const app = await planApp(answers(), { force: false });
    expect(workspace()).toEqual(before);
    const paths = app.plan.list().map((c) => c.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/ws/inventory/.ovu-app.json',
        '/ws/inventory/backend/app/main.py',
        '/ws/inventory/backend/alembic/versions/2025_12_16_0000-5d2f1c7a9b3e_initial.py',
        '/ws/inventory/backend/.gitignore',
        '/ws/inventory/backend/.env',
        '/ws/docker-compose.yml',
        '/ws/init-db.sql',
        '/ws/ovu-db-init/verifiers/.env',
        '/ws/.env.example',
        '/ws/.gitignore',
      ]),
    );
    // No template file name leaks through unrendered.
    expect(paths.some((p) => /\/_[a-z]/.test(p))).toBe(false);
  });

  it("writes the app's CI workflow at the root, where GitHub reads it, and records it as one of the app's files", async () => {
    const app = await planApp(answers(), { force: false });
    const workflow = app.plan.list().find((c) => c.path === '/ws/.github/workflows/inventory.yml');
    expect(workflow?.after).toContain('working-directory: inventory/backend');
    const record = JSON.parse(app.plan.list().find((c) => c.path === '/ws/inventory/.ovu-app.json')!.after) as { files: Record<string, string> };
    expect(Object.keys(record.files)).toContain('../.github/workflows/inventory.yml');
    expect(app.plan.list().filter((c) => c.path.includes('/../'))).toEqual([]);
  });

  it('writes a valid compose file, the password only in the app\'s own .env files', async () => {
    const app = await planApp(answers(), { force: false });
    await app.plan.commit();
    const files = workspace();
    parseCompose(files['/ws/docker-compose.yml']!, 'docker-compose.yml');
    parseCompose(files['/ws/apps.compose.yaml']!, 'apps.compose.yaml', new Set(['postgres', 'inventory-backend']), true);
    parseCompose(files['/ws/inventory/compose.yaml']!, 'inventory/compose.yaml', new Set(['ovu-db-init']), true);
    expect(files['/ws/docker-compose.yml']).toMatch(/\ninclude:\n  - apps.compose.yaml\n$/);
    const password = readEnvVar(files['/ws/inventory/.env'] ?? undefined, 'INVENTORY_DB_PASSWORD')!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(files['/ws/.env']).toMatch(/^# mine\nULM_SERVICE_TOKEN=t\n/);
    expect(files['/ws/inventory/.env.example']).toContain('INVENTORY_DB_PASSWORD=change-me\n');
    expect(files['/ws/.env.example']).not.toContain('INVENTORY_DB_PASSWORD');
    for (const [file, content] of Object.entries(files)) {
      if (file === '/ws/inventory/.env' || file === '/ws/inventory/backend/.env') continue;
      expect(content, file).not.toContain(password);
    }
    expect(files['/ws/inventory/backend/.env']).toContain(`DATABASE_URL=postgresql://inventory_user:${password}@localhost:5432/inventory_db`);
    expect(JSON.parse(files['/ws/inventory/.ovu-app.json']!).answers).not.toHaveProperty('adminUrl');
  });

  it('keeps an existing password on a rerun with --force', async () => {
    await (await planApp(answers(), { force: false })).plan.commit();
    const env = workspace()['/ws/.env'];
    const own = workspace()['/ws/inventory/.env'];
    await (await planApp(answers({ dbPoolSize: 5 }), { force: true })).plan.commit();
    expect(workspace()['/ws/.env']).toBe(env);
    expect(workspace()['/ws/inventory/.env']).toBe(own);
    expect(workspace()['/ws/inventory/compose.yaml']).toContain('DB_POOL_SIZE: "5"');
  });

  it('refuses a name in use, before planning anything', async () => {
    await (await planApp(answers(), { force: false })).plan.commit();
    const before = workspace();
    await expect(planApp(answers({ name: 'Inventory' }), { force: false })).rejects.toThrow(UsageError);
    vol.rmSync('/ws/inventory', { recursive: true });
    // init-db.sql still has its block.
    await expect(planApp(answers(), { force: false })).rejects.toThrow(/init-db.sql already has a block for "inventory"/);
    expect(workspace()).toEqual(Object.fromEntries(Object.entries(before).filter(([k]) => !k.startsWith('/ws/inventory/'))));
  });

  it('stops when another app\'s answers file cannot be read, naming it, rather than drop that app from the derived files', async () => {
    await (await planApp(answers({ pgbouncer: true }), { force: false })).plan.commit();
    for (const broken of ['<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> b\n', '{"generator":', '{"generator":"create-ovu-app","version":"0.2.0","answers":{"name":"crm"}}']) {
      vol.writeFileSync('/ws/inventory/.ovu-app.json', broken);
      const before = workspace();
      await expect(planApp(answers({ name: 'crm', port: 8002 }), { force: false })).rejects.toThrow(/^inventory\/\.ovu-app\.json .*will not leave inventory out of them: nothing was written\.$/);
      expect(workspace()).toEqual(before);
    }
    // Replacing that very app (--force) drops nothing: it is written again.
    const again = await planApp(answers(), { force: true });
    expect(again.plan.read('/ws/apps.compose.yaml')).toContain('- inventory/compose.yaml');
  });

  it('stops on a compose file that does not validate, naming file and line', async () => {
    vol.writeFileSync('/ws/docker-compose.yml', 'services:\n  api:\n    image: x\n    enviroment: {}\n');
    const before = workspace();
    await expect(planApp(answers(), { force: false })).rejects.toThrow(UserError);
    await expect(planApp(answers(), { force: false })).rejects.toThrow(/docker-compose.yml:4: .*enviroment/);
    expect(workspace()).toEqual(before);
  });

  it('keeps the password\'s SCRAM-SHA-256 verifier in ovu-db-init/verifiers/.env, and only there (not the workspace .env)', async () => {
    const app = await planApp(answers(), { force: false });
    app.plan.commit();
    const files = workspace();
    const password = readEnvVar(files['/ws/inventory/.env'] ?? undefined, 'INVENTORY_DB_PASSWORD')!;
    const verifier = readEnvVar(files['/ws/ovu-db-init/verifiers/.env'] ?? undefined, 'INVENTORY_DB_VERIFIER')!;
    expect(verifierMatches(password, verifier)).toBe(true);
    expect(files['/ws/.env']).not.toMatch(/_VERIFIER=/);
    for (const [file, content] of Object.entries(files)) if (file !== '/ws/ovu-db-init/verifiers/.env') expect(content, file).not.toContain(verifier);
    // A password changed by hand gets a new verifier on the next --force run; a matching one is kept.
    const other = 'q'.repeat(40);
    vol.writeFileSync('/ws/inventory/.env', files['/ws/inventory/.env']!.replace(password, other));
    (await planApp(answers(), { force: true })).plan.commit();
    const again = readEnvVar(workspace()['/ws/ovu-db-init/verifiers/.env'] ?? undefined, 'INVENTORY_DB_VERIFIER')!;
    expect(verifierMatches(other, again)).toBe(true);
    (await planApp(answers(), { force: true })).plan.commit();
    expect(readEnvVar(workspace()['/ws/ovu-db-init/verifiers/.env'] ?? undefined, 'INVENTORY_DB_VERIFIER')).toBe(again);
  });

  it('refuses an existing placeholder password instead of keeping it, in the app\'s .env or a 0.1 workspace .env', async () => {
    vol.writeFileSync('/ws/.env', 'INVENTORY_DB_PASSWORD=change-me\n');
    await expect(planApp(answers(), { force: false })).rejects.toThrow(
      'INVENTORY_DB_PASSWORD is the placeholder "change-me" (as in .env.example), not a password in .env:',
    );
    vol.mkdirSync('/ws/inventory');
    vol.writeFileSync('/ws/inventory/.env', 'INVENTORY_DB_PASSWORD=change-me\n');
    await expect(planApp(answers(), { force: true })).rejects.toThrow(
      'INVENTORY_DB_PASSWORD is the placeholder "change-me" (as in .env.example), not a password in inventory/.env:',
    );
  });

  it('moves a 0.1 workspace\'s password into the app\'s .env (keeping its value) and says the old line should go', async () => {
    const old = 'p'.repeat(43);
    vol.writeFileSync('/ws/.env', `INVENTORY_DB_PASSWORD=${old}\n`);
    const app = await planApp(answers(), { force: false });
    await app.plan.commit();
    expect(readEnvVar(workspace()['/ws/inventory/.env'] ?? undefined, 'INVENTORY_DB_PASSWORD')).toBe(old);
    expect(app.notes.join('\n')).toContain('INVENTORY_DB_PASSWORD is now in inventory/.env; the copy in the workspace .env reaches every service with `env_file: .env`');
  });

  it('refuses an app that would not fit the database service\'s connections, before writing anything', async () => {
    await (await planApp(answers({ dbPoolSize: 5, dbMaxOverflow: 5, processes: 3 }), { force: false })).plan.commit();
    const before = workspace();
    await expect(planApp(answers({ name: 'orders', port: 8002, dbPoolSize: 5, dbMaxOverflow: 5, processes: 4 }), { force: false })).rejects.toThrow(
      new UsageError(
        'connection budget exceeded at postgres in docker-compose.yml (max_connections 100, PostgreSQL\'s default): 3 reserved + ULM 30 + apps inventory_user 31 + orders_user 41 = 105 connections, but max_connections is 100; use smaller pools (--db-pool-size, --db-max-overflow) or fewer --processes, raise max_connections (e.g. `command: postgres -c max_connections=150` on postgres), or put PgBouncer in front of it. Nothing was written.',
      ),
    );
    expect(workspace()).toEqual(before);
    // The service's own max_connections counts.
    vol.writeFileSync('/ws/docker-compose.yml', before['/ws/docker-compose.yml']!.replace('    image: postgres:15\n', '    image: postgres:15\n    command: ["postgres", "-c", "max_connections=200"]\n'));
    expect((await planApp(answers({ name: 'orders', port: 8002, dbPoolSize: 5, dbMaxOverflow: 5, processes: 4 }), { force: false })).spec.names.slug).toBe('orders');
  });

  it('gives readonly apps no database anywhere', async () => {
    const app = await planApp(answers({ name: 'catalog', kind: 'readonly' }), { force: false });
    await app.plan.commit();
    const files = workspace();
    expect(files['/ws/init-db.sql']).toBeUndefined();
    expect(files['/ws/.env']).not.toContain('CATALOG_DB_PASSWORD');
    expect(files['/ws/catalog/backend/.env']).not.toContain('DATABASE_URL');
    expect(Object.keys(files).filter((f) => f.includes('alembic') || f.endsWith('database.py'))).toEqual([]);
    expect(JSON.parse(files['/ws/catalog/.ovu-app.json']!).answers).toEqual({ name: 'catalog', stack: 'python', kind: 'readonly', port: 8001, ulmUrl: 'http://ulm-backend:8000' });
  });
});
