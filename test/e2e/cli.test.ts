import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { composeConfig } from '../helpers/compose.ts';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { adrWorkspace, BIN, fakeInstaller, fakePrograms, runCli, RUNNER, RUNNER_RE, snapshotDir, tempDir } from '../helpers/cli.ts';
import { expectResult } from '../helpers/result-schema.ts';

describe('create-ovu-app CLI (built, as a subprocess)', () => {
  it('prints help generated from the schema and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Usage: create-ovu-app \[new\] <app-name> \[options\]/);
    for (const flag of ['--stack', '--kind', '--workspace', '--port', '--db-pool-size', '--db-max-overflow', '--db-pool-timeout', '--ulm-url', '--create-db', '--admin-url', '--migrate', '--yes', '--dry-run', '--force', '--json', '--version']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('prints the help of provision for `provision --help`', async () => {
    const r = await runCli(['provision', '--help'], { env: { npm_config_user_agent: 'pnpm/9.12.0 npm/? node/v20.17.0 linux x64' } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Usage: create-ovu-app provision <app-name> \[options\]\n\nCreate an existing app's database/);
    expect(r.stdout).not.toMatch(/for --create-db|--port|--stack/);
    // Started from this clone: its examples run it from here, whichever package manager ran it.
    expect(r.stdout).toContain(`  ${RUNNER} provision inventory --migrate`);
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
    expect(saved.answers).toEqual({ name: 'inventory', stack: 'python', kind: 'crud', port: 8001, dbPoolSize: 5, dbMaxOverflow: 5, dbPoolTimeout: 30, processes: 1, pgbouncer: false, ulmUrl: 'http://ulm-backend:8000' });
    expect(fs.statSync(path.join(ws, '.env')).mode & 0o777).toBe(0o600);
    // No temporary siblings left behind.
    expect(fs.readdirSync(ws).sort()).toEqual(['.env', '.env.example', '.github', '.gitignore', 'apps.compose.yaml', 'deploy', 'docker-compose.yml', 'init-db.sql', 'inventory', 'monitoring', 'ovu-db-init']);
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
    [['inv', '--yes', '--migrate'], new RegExp(`--migrate needs --create-db in the same run: add --create-db, or run this later: ${RUNNER_RE} provision inv --migrate --workspace `)],
    // Nothing would have installed the migration tool: refused before anything is written.
    [['inv', '--yes', '--create-db', '--migrate'], /--migrate runs the app's own migration tool, which only --install puts in place: add --install/],
    [['inv', '--yes', '--create-db', '--migrate', '--stack', 'typescript'], /add --install/],
    [['inv', '--yes', '--package-manager', 'deno'], /--package-manager must be one of npm, pnpm, yarn, bun/],
    [['inv', '--yes', '--ulm-url', 'http://x/"+__import__("os").popen("id").read()+"'], /characters create-ovu-app does not write into code/],
    [['inv', '--yes', '--ulm-url', 'http://x/\nEVIL=1'], /characters create-ovu-app does not write into code/],
    [['inv', '--yes', '--ulm-url', "http://x/'+process.exit(1)+'"], /characters create-ovu-app does not write into code/],
    [['help-desk', '--yes', '--db-pool-size', 'x'], /--db-pool-size must be a whole number/],
    // update is a command now: without an app name it says how to give one.
    [['update', '--yes'], new RegExp(`Missing the app name: run \`${RUNNER_RE} update '<app-name>' --workspace `)],
    // remove is a command now: without an app name it says what to run.
    [['remove', '--yes'], new RegExp(`Missing the app name: run \`${RUNNER_RE} remove '<app-name>'`)],
    [['backup', 'remove'], /"remove" is a create-ovu-app command word/],
    [['new', 'doctor', '--yes'], /"doctor" is a create-ovu-app command word/],
    [['new', 'list', '--yes'], /"list" is a create-ovu-app command word/],
    [['doctor', '--yes'], /--yes goes with --fix: doctor alone changes nothing/],
    [['doctor', '--fix'], /doctor --fix changes files and the server: pass --yes/],
    [['list', '--yes'], /Unknown option '--yes'/],
    [['inv', '--yes', '--kind', 'readonly', '--create-db'], /readonly apps/],
    [['inv', '--bogus'], /Unknown option '--bogus'/],
    [['--yes'], new RegExp(`Missing the app name.*\`${RUNNER_RE} inventory --yes --workspace \\S+\``)],
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

  it('treats `help` and `version` as the flags, and refuses a --workspace that does not exist', async () => {
    const ws = adrWorkspace();
    const before = snapshotDir(ws);
    const help = await runCli(['help'], { cwd: ws });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: create-ovu-app/);
    expect((await runCli(['help', 'provision'], { cwd: ws })).stdout).toMatch(/^Usage: create-ovu-app provision/);
    expect((await runCli(['version'], { cwd: ws })).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(snapshotDir(ws)).toEqual(before);

    const missing = path.join(ws, 'no-such-dir');
    const r = await runCli(['inventory', '--yes', '--workspace', missing]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--workspace .*no-such-dir does not exist: pass the platform root, or create it first \(mkdir -p /);
    expect(fs.existsSync(missing)).toBe(false);

    const empty = tempDir();
    const ok = await runCli(['inventory', '--yes', '--workspace', empty]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('is empty: starting a new platform workspace there');
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
    // The team's work: a new file, an edited one, installed dependencies.
    fs.writeFileSync(path.join(ws, 'inventory/backend/app/team.py'), 'TEAM = 1\n');
    fs.appendFileSync(path.join(ws, 'inventory/backend/app/main.py'), '# the team was here\n');
    fs.mkdirSync(path.join(ws, 'inventory/backend/.venv/bin'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'inventory/backend/.venv/bin/python'), '#!/bin/sh\n');
    const generatedConfig = fs.readFileSync(path.join(ws, 'inventory/backend/app/core/config.py'), 'utf8');
    fs.writeFileSync(path.join(ws, 'inventory/backend/app/core/config.py'), generatedConfig.replace('\n', '\n\n'));
    fs.writeFileSync(path.join(ws, 'inventory/backend/app/core/config.py'), generatedConfig); // changed back: unchanged
    const dry = await runCli(['inventory', '--yes', '--force', '--dry-run', '--db-pool-size', '7', '--port', '8001', '--workspace', ws]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('= keep backend/app/team.py (not generated: kept)');
    expect(dry.stdout).toContain('= keep backend/app/main.py (changed since it was generated: yours is kept)');
    expect(dry.stdout).toContain('= keep backend/.venv/ (installed dependencies: kept)');
    expect(dry.stdout).toContain('~ update inventory/compose.yaml');
    const forced = await runCli(['inventory', '--yes', '--force', '--db-pool-size', '7', '--port', '8001', '--workspace', ws]);
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toMatch(/keep +backend\/app\/team\.py/);
    expect(fs.readFileSync(path.join(ws, 'inventory/backend/app/team.py'), 'utf8')).toBe('TEAM = 1\n');
    expect(fs.readFileSync(path.join(ws, 'inventory/backend/app/main.py'), 'utf8')).toMatch(/# the team was here\n$/);
    expect(fs.existsSync(path.join(ws, 'inventory/backend/.venv/bin/python'))).toBe(true);
    expect(fs.readFileSync(path.join(ws, 'inventory/compose.yaml'), 'utf8')).toContain('DB_POOL_SIZE: "7"');
    // Its own service and block were replaced, not duplicated; the password was kept.
    const compose = fs.readFileSync(path.join(ws, 'docker-compose.yml'), 'utf8');
    expect(compose.match(/^ {2}- apps\.compose\.yaml$/gm)).toHaveLength(1);
    expect(fs.readFileSync(path.join(ws, 'apps.compose.yaml'), 'utf8').match(/^ {2}- inventory\/compose\.yaml$/gm)).toHaveLength(1);
    expect(Object.keys((await composeConfig(ws)).services).filter((s) => s === 'inventory-backend')).toHaveLength(1);
    const initDb = fs.readFileSync(path.join(ws, 'init-db.sql'), 'utf8');
    expect(initDb.match(/-- >>> create-ovu-app: inventory$/gm)).toHaveLength(1);
    expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).toBe(envBefore);
  });

  it("minds the file system: edits a symlinked compose file through its link, refuses read-only and non-UTF-8 files, tightens .env", async () => {
    const ws = adrWorkspace();
    const shared = path.join(tempDir(), 'platform-compose.yml');
    fs.renameSync(path.join(ws, 'docker-compose.yml'), shared);
    fs.symlinkSync(shared, path.join(ws, 'docker-compose.yml'));
    // No token line yet: the run adds ULM_SERVICE_TOKEN, a secret, so it writes .env (with mode 600).
    fs.writeFileSync(path.join(ws, '.env'), 'TEAM_SETTING=1\n', { mode: 0o644 });
    fs.chmodSync(path.join(ws, '.env'), 0o644);
    const r = await runCli(['inventory', '--yes', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.lstatSync(path.join(ws, 'docker-compose.yml')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(shared, 'utf8')).toMatch(/^ {2}- apps\.compose\.yaml$/m);
    expect(fs.statSync(path.join(ws, '.env')).mode & 0o777).toBe(0o600);
    expect(r.stdout).toContain('.env was readable by others (mode 644): it is written with mode 600');

    fs.chmodSync(path.join(ws, 'init-db.sql'), 0o444);
    let before = snapshotDir(ws);
    const ro = await runCli(['crm', '--yes', '--workspace', ws]);
    expect(ro.exitCode).toBe(1);
    expect(ro.stderr).toMatch(/init-db\.sql is read-only: make it writable \(chmod u\+w .*init-db\.sql\) and run again; nothing was written\.$/);
    expect(snapshotDir(ws)).toEqual(before);
    fs.chmodSync(path.join(ws, 'init-db.sql'), 0o644);

    fs.appendFileSync(path.join(ws, '.env.example'), Buffer.from([0x23, 0x20, 0xff, 0xfe, 0x0a]));
    before = snapshotDir(ws);
    const bin = await runCli(['crm', '--yes', '--workspace', ws]);
    expect(bin.exitCode).toBe(1);
    expect(bin.stderr).toMatch(/\.env\.example is not valid UTF-8: convert it .* create-ovu-app will not rewrite it\.$/);
    expect(snapshotDir(ws)).toEqual(before);
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
    expect(r.stdout).toContain('+ create apps.compose.yaml');
    expect(r.stdout).toMatch(/^\+ {2}- apps\.compose\.yaml$/m);
    expect(r.stdout).not.toMatch(/INVENTORY_DB_PASSWORD=\S{20,}/);
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('--dry-run --create-db says what would run on which server; --yes closes other databases only on a server the person named', async () => {
    const ws = adrWorkspace();
    const before = snapshotDir(ws);
    const noPg = { PGHOST: '', PGPORT: '', PGUSER: '', PGPASSWORD: '', PGDATABASE: '' };
    const unnamed = await runCli(['inventory', '--yes', '--create-db', '--dry-run', '--workspace', ws], { env: noPg });
    expect(unnamed.exitCode, unnamed.stderr).toBe(0);
    expect(unnamed.stdout).toMatch(/^Then it would:$/m);
    expect(unnamed.stdout).toContain('create inventory_db and inventory_user on localhost:5432/postgres as postgres');
    expect(unnamed.stdout).toContain('other databases of that server stay as they are');
    const named = await runCli(['inventory', '--yes', '--create-db', '--dry-run', '--admin-url', 'postgresql://admin@db.internal:6543/postgres', '--workspace', ws], { env: noPg });
    expect(named.exitCode, named.stderr).toBe(0);
    expect(named.stdout).toContain('create inventory_db and inventory_user on db.internal:6543/postgres as admin');
    expect(named.stdout).toContain('and to every other database of that server (--yes)');
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('--json prints one object of the shipped schema, also for errors', async () => {
    const ws = adrWorkspace();
    const r = await runCli(['inventory', '--yes', '--json', '--workspace', ws], { env: { FORCE_COLOR: '1' } });
    expect(r.exitCode).toBe(0);
    const out = expectResult(r.stdout);
    expect(out).toMatchObject({
      schemaVersion: 1,
      command: 'new',
      ok: true,
      exitCode: 0,
      dryRun: false,
      written: true,
      workspace: ws,
      app: { name: 'inventory', directory: 'inventory', stack: 'python', kind: 'crud', service: 'inventory-backend', database: 'inventory_db', user: 'inventory_user', passwordVariable: 'INVENTORY_DB_PASSWORD' },
      steps: [],
      provision: null,
      error: null,
    });
    expect(out.changes.created).toContain(path.join('inventory', 'backend', 'app', 'main.py'));
    expect(out.changes.changed).toEqual(['docker-compose.yml']);
    expect(out.changes.created).toContain('apps.compose.yaml');
    expect(out.nextSteps.length).toBeGreaterThan(2);
    // Machine output: no colours even when forced.
    expect(r.stdout).not.toMatch(/\x1b\[/);

    const bad = await runCli(['9lives', '--json', '--workspace', ws]);
    expect(bad.exitCode).toBe(2);
    expect(expectResult(bad.stdout)).toMatchObject({ schemaVersion: 1, command: 'new', ok: false, exitCode: 2, written: false, app: null, changes: { created: [], changed: [] }, error: { exitCode: 2, message: expect.stringMatching(/starts with a digit/) } });
  });

  it.each([
    [{ FORCE_COLOR: '1' }, true],
    [{ FORCE_COLOR: '3', NO_COLOR: '1' }, true],
    [{ FORCE_COLOR: '0' }, false],
    [{ NO_COLOR: '1' }, false],
    [{ TERM: 'dumb', NO_COLOR: '' }, false],
    [{ NO_COLOR: '' }, false], // a pipe, nothing forcing: plain
  ])('colours a pipe only when forced: %j', async (env, coloured) => {
    const ws = adrWorkspace();
    const r = await runCli(['inventory', '--yes', '--workspace', ws], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.includes('\x1b[32m✔\x1b[39m Created')).toBe(coloured);
    if (!coloured) expect(r.stdout).not.toMatch(/\x1b\[/);
    const bad = await runCli(['2fa', '--yes', '--workspace', ws], { env });
    expect(bad.stderr.startsWith('\x1b[31merror:\x1b[39m ')).toBe(coloured);
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

describe('package managers and the commands the CLI suggests', () => {
  const nextSteps = (stdout: string): string[] =>
    stdout.split('\nNext steps:\n')[1]!.split('\n\n')[0]!.split('\n').map((l) => l.trim());

  it.each([
    // From this clone the CLI is `node …/bin/create-ovu-app.js` whatever ran it (the registry's
    // runners, which test/unit/cli/launcher.test.ts covers, would 404 before publication).
    ['pnpm/9.12.0 npm/? node/v20.17.0 linux x64', 'pnpm install', `${RUNNER} provision`, 'pnpm test', 'pnpm run dev'],
    ['yarn/4.5.0 npm/? node/v20.17.0 linux x64', 'yarn install', `${RUNNER} provision`, 'yarn test', 'yarn run dev'],
    ['yarn/1.22.22 npm/? node/v20.17.0 linux x64', 'yarn install', `${RUNNER} provision`, 'yarn test', 'yarn run dev'],
    ['bun/1.1.30 npm/? node/v22.6.0 linux x64', 'bun install', `${RUNNER} provision`, 'bun run test', 'bun run dev'],
    ['', 'npm install --no-audit --no-fund', `${RUNNER} provision`, 'npm test', 'npm run dev'],
  ])('started by %j, the next steps of a TypeScript app use it', async (agent, install, provision, test, dev) => {
    const ws = adrWorkspace();
    const r = await runCli(['inventory', '--stack', 'typescript', '--yes', '--workspace', ws], { env: { npm_config_user_agent: agent } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(nextSteps(r.stdout)).toEqual([
      `cd ${path.relative(process.cwd(), path.join(ws, 'inventory/backend'))}`,
      install,
      `${provision} inventory --migrate --workspace ../.. --admin-url postgresql://postgres@localhost:5432/postgres   # creates inventory_db and inventory_user, then migrates; with PGPASSWORD set to the database's superuser password (its POSTGRES_PASSWORD)`,
      test,
      `${dev}   # the app on port 8001, with ULM at the ULM_BASE_URL of backend/.env`,
      'curl -H "Authorization: Bearer $ULM_TOKEN" http://localhost:8001/api/v1/items   # from another terminal, with ULM_TOKEN a token your ULM accepts: 200 with the items',
      'docker compose -f ../../docker-compose.yml up --build inventory-backend   # then open http://localhost:8001/docs',
    ]);
    expect(r.stdout).not.toMatch(agent ? /\bnpm |\bnpx / : /pnpm|yarn|bun/);
  });

  it('--package-manager wins over the one that ran it', async () => {
    const ws = adrWorkspace();
    const r = await runCli(['inventory', '--stack', 'typescript', '--yes', '--package-manager', 'yarn', '--workspace', ws], { env: { npm_config_user_agent: 'pnpm/9.12.0 npm/? node/v20.17.0' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(nextSteps(r.stdout)).toContain('yarn install');
    expect(r.stdout).not.toContain('pnpm');
  });

  it('installs a TypeScript app with the package manager that ran it', async () => {
    const ws = adrWorkspace();
    const fake = fakePrograms(['npm', 'pnpm', 'yarn', 'bun']);
    const r = await runCli(['inventory', '--stack', 'typescript', '--yes', '--install', '--workspace', ws], {
      env: { PATH: fake.PATH, npm_config_user_agent: 'pnpm/9.12.0 npm/? node/v20.17.0 linux x64' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fake.calls()).toEqual([`pnpm install @ ${path.join(ws, 'inventory/backend')}`]);
  });

  it("folds the tools' output: only the step's line, unless it fails or --verbose", async () => {
    const ws = adrWorkspace();
    const ok = await runCli(['inventory', '--yes', '--install', '--workspace', ws], { env: fakeInstaller(30, 0.3) });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/^✔ Installing inventory's dependencies \(\d+\.\ds\)$/);
    const verbose = await runCli(['shop', '--yes', '--install', '--verbose', '--workspace', ws], { env: fakeInstaller(3, 0.1) });
    expect(verbose.stderr).toMatch(/^… Installing shop's dependencies\nCollecting package-1\nCollecting package-2\nCollecting package-3\n✔ Installing shop's dependencies \(/);
    const failed = await runCli(['crm', '--yes', '--install', '--workspace', ws], { env: fakeInstaller(2, 0.1, 5) });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/^✖ Installing crm's dependencies \(\d+\.\ds\)\nCollecting package-1\nCollecting package-2\nerror: `\.venv\/bin\/pip install /);
  });

  it('installs a Python app with uv when uv is installed, else with python3 -m venv and pip', async () => {
    const ws = adrWorkspace();
    const withUv = fakePrograms(['uv', 'python3']);
    const r = await runCli(['inventory', '--yes', '--install', '--workspace', ws], { env: { PATH: withUv.PATH } });
    expect(r.exitCode, r.stderr).toBe(0);
    const backend = path.join(ws, 'inventory/backend');
    expect(withUv.calls()).toEqual([`uv sync --extra dev --inexact @ ${backend}`]);
    // Not installed for real, and the next steps do not pretend otherwise; they name uv too.
    const noInstall = await runCli(['catalog', '--yes', '--workspace', ws], { env: { PATH: withUv.PATH } });
    expect(nextSteps(noInstall.stdout)[1]).toBe('uv sync --extra dev --inexact');

    const withoutUv = fakePrograms(['python3']);
    const pip = await runCli(['shop', '--yes', '--workspace', ws], { env: { PATH: withoutUv.PATH } });
    expect(nextSteps(pip.stdout)[1]).toBe("python3 -m venv .venv && .venv/bin/pip install --disable-pip-version-check --quiet uv && .venv/bin/uv sync --extra dev --inexact");
  });

  it('suggests a provision command that works as printed, from the backend directory it says to cd into', async () => {
    const ws = adrWorkspace();
    const adminUrl = 'postgresql://postgres:pw-secret@127.0.0.1:9/postgres';
    const r = await runCli(['inventory', '--yes', '--admin-url', adminUrl, '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('pw-secret');
    const steps = nextSteps(r.stdout);
    const provision = steps.find((s) => s.startsWith(`${RUNNER} provision`))!;
    expect(provision).toBe(`${RUNNER} provision inventory --migrate --workspace ../.. --admin-url postgresql://postgres@127.0.0.1:9/postgres   # creates inventory_db and inventory_user, then migrates; with PGPASSWORD set: the password is not repeated here`);
    // Run as printed (`node …/bin/create-ovu-app.js`: the built CLI), from where the steps cd into.
    const words = provision.split('   #')[0]!.split(' ').slice(2);
    const backend = path.resolve(process.cwd(), steps[0]!.replace(/^cd /, ''));
    expect(backend).toBe(path.join(ws, 'inventory/backend'));
    const again = await runCli(words, { cwd: backend });
    // It finds the app (not "No app …"), and stops at what is really missing: the install.
    expect(again.stderr).toMatch(/^error: inventory's dependencies are not installed, so --migrate cannot run/);
    expect(again.exitCode).toBe(2);
    // Without --migrate it goes as far as the server the URL names.
    const provisionOnly = await runCli(words.filter((w) => w !== '--migrate'), { cwd: backend, env: { PGPASSWORD: 'pw-secret' } });
    expect(provisionOnly.stderr).toMatch(/cannot reach PostgreSQL at 127\.0\.0\.1:9/);
  });
});

describe('host ports some process listens on', () => {
  const servers: net.Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });
  /** Listens on `port` (0: any) on every IPv4 address; resolves to the port, or undefined when it is taken already. */
  const hold = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '0.0.0.0', () => {
        servers.push(s);
        resolve((s.address() as net.AddressInfo).port);
      });
    });

  it('are skipped by the default: with 8001 taken the first app does not get it', async () => {
    await hold(8001); // held by us, or by something else already: taken either way
    const ws = adrWorkspace();
    const r = await runCli(['inventory', '--yes', '--json', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    const port = JSON.parse(r.stdout).app.port as number;
    expect(port).toBeGreaterThan(8001);
    expect(fs.readFileSync(path.join(ws, 'inventory/compose.yaml'), 'utf8')).toContain(`${port}:8000`);
  });

  it('are refused when given, naming the process, with exit 2 and nothing written', async () => {
    const port = (await hold(0))!;
    const ws = adrWorkspace();
    const before = snapshotDir(ws);
    const r = await runCli(['inventory', '--yes', '--port', String(port), '--workspace', ws]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: Port ${port} is in use on this machine by \\S+ \\(pid ${process.pid}\\): pass another --port, e.g. \\d+\\.$`));
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('but the app being replaced with --force keeps its own port while it runs', async () => {
    const ws = adrWorkspace();
    const first = await runCli(['inventory', '--yes', '--json', '--workspace', ws]);
    const port = JSON.parse(first.stdout).app.port as number;
    expect(await hold(port)).toBe(port);
    const forced = await runCli(['inventory', '--yes', '--force', '--json', '--workspace', ws]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).app.port).toBe(port);
  });
});

describe('--json: one result shape (schema/result-v1.schema.json) for every command, success and error', () => {
  it.each([
    ['a readonly TypeScript app', ['catalog', '--kind', 'readonly', '--stack', 'typescript', '--yes'], { kind: 'readonly', stack: 'typescript', database: null, user: null, passwordVariable: null }],
    ['a dry run', ['inventory', '--yes', '--dry-run'], { kind: 'crud', stack: 'python', database: 'inventory_db' }],
  ])('new: %s', async (_what, args, app) => {
    const ws = adrWorkspace();
    const before = snapshotDir(ws);
    const r = await runCli([...args, '--json', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = expectResult(r.stdout);
    expect(out.app).toMatchObject(app);
    expect(out.written).toBe(!args.includes('--dry-run'));
    expect(out.dryRun).toBe(args.includes('--dry-run'));
    expect(out.changes.created.length).toBeGreaterThan(5);
    if (args.includes('--dry-run')) expect(snapshotDir(ws)).toEqual(before);
  });

  it.each([
    ['a usage error', ['inv', '--bogus'], 2, /Unknown option '--bogus'/],
    ['a missing name', ['--yes'], 2, /Missing the app name/],
    ['an impossible combination', ['inv', '--yes', '--create-db', '--migrate'], 2, /add --install/],
    ['provision of an app that is not there', ['provision', 'nosuchapp'], 1, /No app "nosuchapp"/],
    ['provision without a name', ['provision'], 2, /Missing the app name/],
  ])('an error before anything is written: %s', async (_what, args, code, message) => {
    const ws = adrWorkspace();
    const r = await runCli([...args, '--json', '--workspace', ws]);
    expect(r.exitCode).toBe(code);
    const out = expectResult(r.stdout);
    expect(out).toMatchObject({ ok: false, exitCode: code, written: false, changes: { created: [], changed: [] }, nextSteps: [] });
    expect(out.command).toBe(args[0] === 'provision' ? 'provision' : 'new');
    expect(out.error.message).toMatch(message);
  });

  it('an invalid compose file: exit 1, nothing written', async () => {
    const ws = tempDir();
    fs.writeFileSync(path.join(ws, 'docker-compose.yml'), 'services:\n  api: [\n');
    const r = await runCli(['inventory', '--yes', '--json', '--workspace', ws]);
    expect(r.exitCode).toBe(1);
    expect(expectResult(r.stdout)).toMatchObject({ ok: false, written: false, error: { exitCode: 1 } });
  });

  it('Ctrl-C (SIGINT) after the write: exit 130, and the result says what was written and how to go on', async () => {
    const ws = adrWorkspace();
    const sub = execa(process.execPath, [BIN, 'inventory', '--yes', '--install', '--json', '--workspace', ws], {
      env: { CI: 'true', NO_COLOR: '1', npm_config_user_agent: '', ...fakeInstaller(600, 60) },
      reject: false,
      stdin: 'ignore',
    });
    const pip = path.join(ws, 'inventory/backend/.venv/bin/pip');
    const deadline = Date.now() + 20_000;
    while (!fs.existsSync(pip) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // pip is running
    sub.kill('SIGINT');
    const r = await sub;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    const out = expectResult(String(r.stdout));
    expect(out).toMatchObject({ ok: false, exitCode: 130, written: true, steps: [{ id: 'install', ok: false }], error: { exitCode: 130 } });
    expect(out.error.message).toMatch(/^Interrupted: inventory's files were written \(inventory\/, .*\); to continue: cd \S+ && python3 -m venv \.venv && /);
    expect(out.nextSteps[1]).toMatch(/^python3 -m venv \.venv && /);
    expect(String(r.stderr).trim().split('\n')).toEqual([out.error.message]);
  });

  it('a failure after the write says what was written, which step failed, and how to go on', async () => {
    const ws = adrWorkspace();
    const failing = fakePrograms(['python3'], 3);
    const r = await runCli(['inventory', '--yes', '--install', '--json', '--workspace', ws], { env: { PATH: failing.PATH } });
    expect(r.exitCode).toBe(1);
    const out = expectResult(r.stdout);
    expect(out).toMatchObject({ ok: false, exitCode: 1, written: true, app: { name: 'inventory' }, steps: [{ id: 'install', ok: false }] });
    expect(out.changes.created).toContain(path.join('inventory', '.ovu-app.json'));
    for (const f of out.changes.created) expect(fs.existsSync(path.join(ws, f)), f).toBe(true);
    expect(out.error.message).toMatch(/python3 -m venv \.venv` failed \(exit code 3\)\. The app's files were written; retry with: /);
    expect(out.nextSteps[1]).toMatch(/^python3 -m venv \.venv && /);
  });
});

function execaFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
