import fs from 'node:fs';
import path from 'node:path';
import { composeConfig } from '../helpers/compose.ts';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { adrWorkspace, runCli, snapshotDir, tempDir } from '../helpers/cli.ts';

describe('create-ovu-app CLI (built, as a subprocess)', () => {
  it('prints help generated from the schema and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Usage: create-ovu-app \[new\] <app-name> \[options\]/);
    for (const flag of ['--stack', '--kind', '--workspace', '--port', '--db-pool-size', '--db-max-overflow', '--db-pool-timeout', '--ulm-url', '--create-db', '--admin-url', '--migrate', '--yes', '--dry-run', '--force', '--json', '--version']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('prints the package version', async () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const r = await runCli(['--version']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('generates inventory non-interactively into an ADR workspace', async () => {
    const ws = adrWorkspace();
    const r = await runCli(['inventory', '--yes', '--workspace', ws]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Created inventory (python, crud)');
    expect(r.stdout).toContain('inventory_db');
    expect(r.stdout).toContain('Next steps:');
    for (const f of ['app/main.py', 'app/core/config.py', 'app/core/database.py', 'app/clients/ulm.py', 'app/api/health.py', 'alembic.ini', 'alembic/env.py', 'alembic/versions/2025_12_16_0000-5d2f1c7a9b3e_initial.py', 'pyproject.toml', 'Dockerfile', '.env.example', '.env', '.gitignore', 'README.md']) {
      expect(fs.existsSync(path.join(ws, 'inventory/backend', f)), f).toBe(true);
    }
    const saved = JSON.parse(fs.readFileSync(path.join(ws, 'inventory/.ovu-app.json'), 'utf8'));
    expect(saved.answers).toEqual({ name: 'inventory', stack: 'python', kind: 'crud', port: 8001, dbPoolSize: 20, dbMaxOverflow: 10, dbPoolTimeout: 30, ulmUrl: 'http://ulm-backend:8000' });
    expect(fs.statSync(path.join(ws, '.env')).mode & 0o777).toBe(0o600);
    // No temporary siblings left behind.
    expect(fs.readdirSync(ws).sort()).toEqual(['.env', '.env.example', '.gitignore', 'docker-compose.yml', 'init-db.sql', 'inventory']);
  });

  it('writes Python that compiles', async () => {
    const ws = tempDir();
    expect((await runCli(['inventory', '--yes', '--workspace', ws])).exitCode).toBe(0);
    expect((await runCli(['catalog', '--kind', 'readonly', '--yes', '--workspace', ws])).exitCode).toBe(0);
    for (const app of ['inventory', 'catalog']) {
      const r = await execa('python3', ['-m', 'compileall', '-q', path.join(ws, app, 'backend')], { reject: false });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
    }
  });

  it('gives a readonly app no database, no Alembic and no DB settings', async () => {
    const ws = tempDir();
    expect((await runCli(['catalog', '--kind', 'readonly', '--yes', '--workspace', ws])).exitCode).toBe(0);
    const backend = path.join(ws, 'catalog/backend');
    for (const f of ['alembic.ini', 'alembic', 'app/core/database.py']) expect(fs.existsSync(path.join(backend, f)), f).toBe(false);
    const all = execaFiles(backend).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    expect(all).not.toMatch(/DATABASE_URL|DB_POOL_SIZE|sqlalchemy|asyncpg|alembic/i);
    expect(fs.existsSync(path.join(ws, 'init-db.sql'))).toBe(false);
  });

  it.each([
    [['2fa', '--yes'], /starts with a digit/],
    [['select', '--yes'], /reserved word/],
    [['!!!', '--yes'], /no letters or digits/],
    [['a'.repeat(70), '--yes'], /too long/],
    [['ulm', '--yes'], /belongs to the platform/],
    [['inv', '--yes', '--port', 'x'], /--port must be a whole number/],
    [['inv', '--yes', '--port', '8000'], /already published by the compose service "ulm-backend"/],
    [['inv', '--yes', '--ulm-url', 'ftp://x'], /not an http\(s\) URL/],
    [['inv', '--yes', '--migrate'], /--migrate needs --create-db/],
    [['inv', '--yes', '--kind', 'readonly', '--create-db'], /readonly apps/],
    [['inv', '--bogus'], /Unknown option '--bogus'/],
    [['--yes'], /Missing the app name.*create-ovu-app inventory --yes/],
  ])('refuses %j with exit 2, one line, and writes nothing', async (args, message) => {
    const ws = adrWorkspace();
    const before = snapshotDir(ws);
    const started = Date.now();
    const r = await runCli([...args, '--workspace', ws]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(snapshotDir(ws)).toEqual(before);
  });

  it.each([
    ['does not validate', 'services:\n  api:\n    image: x\n    enviroment:\n      A: b\n', /docker-compose\.yml:4: services\.api has unknown property 'enviroment'/],
    ['does not parse', 'services:\n  api: [\n', /docker-compose\.yml:\d+(:\d+)?: .*YAML/i],
  ])('stops with exit 1 when the compose file %s, naming file and line, writing nothing', async (_what, compose, message) => {
    const ws = tempDir();
    fs.writeFileSync(path.join(ws, 'docker-compose.yml'), compose);
    const before = snapshotDir(ws);
    const r = await runCli(['inventory', '--yes', '--workspace', ws]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('refuses a name that already exists, and replaces it with --force', async () => {
    const ws = adrWorkspace();
    expect((await runCli(['inventory', '--yes', '--workspace', ws])).exitCode).toBe(0);
    const before = snapshotDir(ws);
    const again = await runCli(['Inventory', '--yes', '--workspace', ws]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/inventory\/ already exists.*--force/);
    expect(snapshotDir(ws)).toEqual(before);

    const envBefore = fs.readFileSync(path.join(ws, '.env'), 'utf8');
    fs.writeFileSync(path.join(ws, 'inventory/backend/stray.txt'), 'x');
    const forced = await runCli(['inventory', '--yes', '--force', '--port', '8001', '--workspace', ws]);
    expect(forced.exitCode).toBe(0);
    expect(fs.existsSync(path.join(ws, 'inventory/backend/stray.txt'))).toBe(false);
    // Its own service and block were replaced, not duplicated; the password was kept.
    const compose = fs.readFileSync(path.join(ws, 'docker-compose.yml'), 'utf8');
    expect(compose.match(/^ {2}- inventory\/compose\.yaml$/gm)).toHaveLength(1);
    expect(Object.keys((await composeConfig(ws)).services).filter((s) => s === 'inventory-backend')).toHaveLength(1);
    const initDb = fs.readFileSync(path.join(ws, 'init-db.sql'), 'utf8');
    expect(initDb.match(/-- >>> create-ovu-app: inventory$/gm)).toHaveLength(1);
    expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).toBe(envBefore);
  });

  it('writes nothing outside the workspace: HOME and XDG_CACHE_HOME stay empty', async () => {
    const ws = adrWorkspace();
    const home = tempDir('ovu-home-');
    const cache = tempDir('ovu-cache-');
    for (const app of ['one', 'two']) {
      const r = await runCli([app, '--yes', '--workspace', ws], { env: { HOME: home, XDG_CACHE_HOME: cache } });
      expect(r.exitCode, r.stderr).toBe(0);
    }
    expect(fs.readdirSync(home)).toEqual([]);
    expect(fs.readdirSync(cache)).toEqual([]);
  });

  it('--dry-run shows the plan with diffs and writes nothing', async () => {
    const ws = adrWorkspace();
    const before = snapshotDir(ws);
    const r = await runCli(['inventory', '--yes', '--dry-run', '--workspace', ws]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('+ create inventory/backend/app/main.py');
    expect(r.stdout).toContain('~ update docker-compose.yml');
    expect(r.stdout).toContain('+ create init-db.sql');
    expect(r.stdout).toContain('+ create inventory/compose.yaml');
    expect(r.stdout).toMatch(/^\+ {2}- inventory\/compose\.yaml$/m);
    expect(r.stdout).not.toMatch(/INVENTORY_DB_PASSWORD=\S{20,}/);
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('--json prints one parseable object, also for errors', async () => {
    const ws = adrWorkspace();
    const r = await runCli(['inventory', '--yes', '--json', '--workspace', ws]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      ok: true,
      dryRun: false,
      app: { name: 'inventory', service: 'inventory-backend', database: 'inventory_db', user: 'inventory_user', port: 8001 },
    });
    expect(out.created).toContain(path.join('inventory', 'backend', 'app', 'main.py'));
    expect(out.changed).toEqual(['docker-compose.yml']);
    expect(out.nextSteps.length).toBeGreaterThan(2);
    expect(r.stdout).not.toMatch(/\x1b\[/);

    const bad = await runCli(['9lives', '--json', '--workspace', ws]);
    expect(bad.exitCode).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, exitCode: 2 });
  });

  it('finds the workspace from a subdirectory and picks the next free port', async () => {
    const ws = adrWorkspace();
    fs.mkdirSync(path.join(ws, 'docs/deep'), { recursive: true });
    expect((await runCli(['one', '--yes'], { cwd: path.join(ws, 'docs/deep') })).exitCode).toBe(0);
    expect((await runCli(['two', '--yes'], { cwd: path.join(ws, 'docs/deep') })).exitCode).toBe(0);
    expect(fs.existsSync(path.join(ws, 'one/backend'))).toBe(true);
    const { services } = await composeConfig(ws);
    expect(services['one-backend'].ports).toMatchObject([{ published: '8001', target: 8000 }]);
    expect(services['two-backend'].ports).toMatchObject([{ published: '8002', target: 8000 }]);
  });
});

function execaFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
