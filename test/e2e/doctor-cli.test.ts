/**
 * `list` and `doctor` through the built CLI: two apps (Python and TypeScript) generated into a git
 * workspace, provisioned and migrated with their own tools on the suite's PostgreSQL 15; doctor
 * passes; then one thing at a time is broken, the matching check fails with exit 1, and --fix
 * repairs what it calls safe.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { BIN, ROOT, runCli, tempDir, type CliResult } from '../helpers/cli.ts';
import { withClient } from '../helpers/postgres.ts';
import { expectResult } from '../helpers/result-schema.ts';
import { findAppPassword } from '../../src/workspace/app-env.ts';
import { findWorkspace } from '../../src/workspace/workspace.ts';
import { readEnvVar, setEnvVar } from '../../src/workspace/env-file.ts';
import { VERIFIERS_ENV_FILE } from '../../src/workspace/verifiers.ts';

const adminUrl = inject('adminUrl');
const tag = randomBytes(3).toString('hex');
const inv = `inv${tag}`;
const ord = `ord${tag}`;
const ws = tempDir('ovu-doctor-');
const read = (f: string): string | undefined => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);
const passwordOf = (app: string) => findAppPassword(read, findWorkspace(ws, '/'), { slug: app, passwordVar: `${app.toUpperCase()}_DB_PASSWORD` });

interface Check {
  id: string;
  ok: boolean;
  status: string;
  message: string;
  fix?: string;
  fixable: boolean;
}

async function doctor(...extra: string[]): Promise<{ r: CliResult; json: Record<string, any>; checks: Check[] }> {
  const r = await runCli(['doctor', '--json', '--admin-url', adminUrl, '--workspace', ws, ...extra], { timeout: 120_000 });
  const json = expectResult(r.stdout);
  for (const app of [inv, ord]) expect(r.stdout + r.stderr).not.toContain(passwordOf(app).value);
  expect(r.stdout + r.stderr).not.toContain(decodeURIComponent(new URL(adminUrl).password));
  return { r, json, checks: json.checks as Check[] };
}

const failedIds = (checks: Check[]): string[] => checks.filter((c) => c.status === 'failed').map((c) => c.id);

async function expectAllHold(): Promise<Check[]> {
  const { r, json, checks } = await doctor();
  expect(failedIds(checks), r.stdout).toEqual([]);
  expect(checks.filter((c) => c.status === 'skipped')).toEqual([]);
  expect(r.exitCode).toBe(0);
  expect(json.ok).toBe(true);
  return checks;
}

async function git(...args: string[]): Promise<void> {
  await execa('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: ws });
}

beforeAll(async () => {
  for (const [app, stack] of [[inv, 'python'], [ord, 'typescript']] as const) {
    const r = await runCli([app, '--stack', stack, '--yes', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
  }
  // The apps' own migration tools: Alembic in the Python app's virtualenv, the TypeScript app's
  // migrate script with node-postgres (linked from this package: no Prisma engine can be had here).
  const backend = path.join(ws, inv, 'backend');
  await execa('python3', ['-m', 'venv', '.venv'], { cwd: backend });
  await execa(path.join(backend, '.venv/bin/pip'), ['install', '--quiet', '--disable-pip-version-check', 'alembic>=1.16,<2', 'sqlalchemy[asyncio]>=2.0.36,<3', 'asyncpg>=0.30,<1.0', 'pydantic-settings>=2.4,<3'], {
    cwd: backend,
    timeout: 300_000,
  });
  fs.mkdirSync(path.join(ws, ord, 'backend', 'node_modules'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'pg'), path.join(ws, ord, 'backend', 'node_modules', 'pg'));
  for (const app of [inv, ord]) {
    // --yes: consent to close postgres and template1 too (server-wide), as doctor expects them closed.
    const r = await runCli(['provision', app, '--migrate', '--yes', '--admin-url', adminUrl, '--workspace', ws], { timeout: 300_000 });
    expect(r.exitCode, r.stderr).toBe(0);
  }
  fs.writeFileSync(path.join(ws, '.gitignore'), `${fs.readFileSync(path.join(ws, '.gitignore'), 'utf8')}.venv/\nnode_modules/\n`);
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'platform');
}, 600_000);

describe('create-ovu-app list', () => {
  it('lists both apps with their stack, kind, service, port, database, login and version', async () => {
    const r = await runCli(['list', '--json', '--workspace', ws]);
    expect(r.exitCode).toBe(0);
    const json = expectResult(r.stdout);
    expect(json.command).toBe('list');
    expect(json.apps.map((a: { name: string }) => a.name)).toEqual([inv, ord].sort());
    const app = json.apps.find((a: { name: string }) => a.name === ord);
    expect(app).toMatchObject({ stack: 'typescript', kind: 'crud', service: `${ord}-backend`, database: `${ord}_db`, user: `${ord}_user`, version: expect.any(String), error: null });
    const table = await runCli(['list', '--workspace', ws]);
    expect(table.stdout).toMatch(new RegExp(`^${inv}\\s+python\\s+crud\\s+${inv}-backend\\s+\\d+\\s+${inv}_db\\s+${inv}_user\\s+\\S+$`, 'm'));
  });
});

describe('create-ovu-app doctor', () => {
  it('passes on the provisioned, migrated workspace, with a line per check', async () => {
    const checks = await expectAllHold();
    const ids = checks.map((c) => c.id);
    for (const app of [inv, ord]) {
      for (const c of ['compose-service', 'init-db', 'env-password', 'env-example', 'verifier', 'backend-env', 'database', 'login', 'own-database', 'superuser', 'connection-limit', 'migrations']) {
        expect(ids).toContain(`app.${app}.${c}`);
      }
      // Refused by the other app's database, by postgres, by template1.
      for (const db of [`${app === inv ? ord : inv}_db`, 'postgres', 'template1']) expect(ids).toContain(`app.${app}.refused.${db}`);
    }
    expect(ids).toEqual(expect.arrayContaining(['workspace.secrets', 'workspace.env-ignored', 'workspace.env-mode', 'server.budget', `server.public.${inv}_db`]));
    const human = await runCli(['doctor', '--admin-url', adminUrl, '--workspace', ws]);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/✔ All checks hold/);
    expect(human.stdout).not.toMatch(/✖/);
  });

  it('mode 644 on .env fails workspace.env-mode; --fix --yes puts it back to 600', async () => {
    fs.chmodSync(path.join(ws, '.env'), 0o644);
    const { r, checks } = await doctor();
    expect(r.exitCode).toBe(1);
    expect(failedIds(checks)).toEqual(['workspace.env-mode']);
    expect(checks.find((c) => c.id === 'workspace.env-mode')).toMatchObject({ fixable: true, fix: expect.stringContaining('chmod 600') });
    const dry = await doctor('--fix', '--dry-run');
    expect(dry.json.fixes).toMatchObject({ applied: false, files: expect.arrayContaining(['.env']) });
    expect(fs.statSync(path.join(ws, '.env')).mode & 0o777).toBe(0o644);
    const fixed = await doctor('--fix', '--yes');
    expect(fixed.json.fixes.applied).toBe(true);
    expect(fixed.r.exitCode).toBe(0);
    expect(fs.statSync(path.join(ws, '.env')).mode & 0o777).toBe(0o600);
  });

  it('GRANT CONNECT … TO PUBLIC fails server.public and the other login\'s refusal; --fix revokes it', async () => {
    await withClient(adminUrl, (c) => c.query(`GRANT CONNECT ON DATABASE ${inv}_db TO PUBLIC`));
    const { r, checks } = await doctor();
    expect(r.exitCode).toBe(1);
    expect(failedIds(checks)).toEqual(expect.arrayContaining([`server.public.${inv}_db`, `app.${ord}.refused.${inv}_db`]));
    expect(checks.find((c) => c.id === `server.public.${inv}_db`)!.fix).toContain(`REVOKE CONNECT ON DATABASE ${inv}_db FROM PUBLIC`);
    const fixed = await doctor('--fix', '--yes');
    expect(fixed.json.fixes.sql).toEqual([`REVOKE CONNECT ON DATABASE ${inv}_db FROM PUBLIC`]);
    expect(failedIds(fixed.checks)).toEqual([]);
    expect(fixed.r.exitCode).toBe(0);
  });

  it('another password in .env fails the login, backend/.env and verifier checks; --fix mends only the verifier', async () => {
    const found = passwordOf(inv);
    const original = fs.readFileSync(found.file, 'utf8');
    // The verifiers live in ovu-db-init/verifiers/.env (only ovu-db-init loads it), never in .env.
    const verifiersFile = path.join(ws, VERIFIERS_ENV_FILE);
    const verifiers = fs.readFileSync(verifiersFile, 'utf8');
    const rootEnv = fs.readFileSync(path.join(ws, '.env'), 'utf8');
    const verifierVar = `${inv.toUpperCase()}_DB_VERIFIER`;
    expect(readEnvVar(rootEnv, verifierVar)).toBeUndefined();
    fs.writeFileSync(found.file, setEnvVar(original, `${inv.toUpperCase()}_DB_PASSWORD`, randomBytes(24).toString('hex')));
    const { r, checks } = await doctor();
    expect(r.exitCode).toBe(1);
    expect(failedIds(checks).sort()).toEqual([`app.${inv}.backend-env`, `app.${inv}.login`, `app.${inv}.verifier`].sort());
    expect(checks.find((c) => c.id === `app.${inv}.login`)!.fix).toContain('--reset-password');
    const fixed = await doctor('--fix', '--yes');
    expect(fixed.r.exitCode).toBe(1);
    expect(failedIds(fixed.checks).sort()).toEqual([`app.${inv}.backend-env`, `app.${inv}.login`].sort());
    // --fix replaced the verifier where it lives, and put none into the workspace .env.
    expect(readEnvVar(fs.readFileSync(verifiersFile, 'utf8'), verifierVar)).not.toBe(readEnvVar(verifiers, verifierVar));
    expect(readEnvVar(fs.readFileSync(path.join(ws, '.env'), 'utf8'), verifierVar)).toBeUndefined();
    expect(fs.statSync(verifiersFile).mode & 0o777).toBe(0o600);
    fs.writeFileSync(found.file, original);
    fs.writeFileSync(verifiersFile, verifiers);
    await expectAllHold();
  });

  it('a deleted init-db.sql block fails app.<app>.init-db', async () => {
    const file = path.join(ws, 'init-db.sql');
    const original = fs.readFileSync(file, 'utf8');
    const start = original.indexOf(`-- >>> create-ovu-app: ${ord}\n`);
    const endMarker = `-- <<< create-ovu-app: ${ord}\n`;
    const end = original.indexOf(endMarker) + endMarker.length;
    fs.writeFileSync(file, original.slice(0, start) + original.slice(end));
    const { r, checks } = await doctor();
    expect(r.exitCode).toBe(1);
    expect(failedIds(checks)).toEqual([`app.${ord}.init-db`]);
    fs.writeFileSync(file, original);
    await expectAllHold();
  });

  it('a migration that has not run fails app.<app>.migrations, for Prisma and for Alembic', async () => {
    const prisma = path.join(ws, ord, 'backend', 'prisma', 'migrations', '20990101000000_add_notes');
    fs.mkdirSync(prisma);
    fs.writeFileSync(path.join(prisma, 'migration.sql'), 'CREATE TABLE "notes" ("id" SERIAL PRIMARY KEY);\n');
    const versions = path.join(ws, inv, 'backend', 'alembic', 'versions');
    const head = /^revision(?:: str)? = "([^"]+)"/m.exec(fs.readFileSync(path.join(versions, fs.readdirSync(versions).find((f) => f.endsWith('.py'))!), 'utf8'))![1];
    const alembic = path.join(versions, '2099_01_01_0000-aa11bb22cc33_add_notes.py');
    fs.writeFileSync(alembic, `"""add notes"""\n\nrevision: str = "aa11bb22cc33"\ndown_revision: str | None = "${head}"\n\n\ndef upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n`);
    const { r, checks } = await doctor();
    expect(r.exitCode).toBe(1);
    expect(failedIds(checks).sort()).toEqual([`app.${inv}.migrations`, `app.${ord}.migrations`].sort());
    expect(checks.find((c) => c.id === `app.${ord}.migrations`)!.message).toContain('20990101000000_add_notes');
    expect(checks.find((c) => c.id === `app.${inv}.migrations`)!.message).toContain('aa11bb22cc33');
    fs.rmSync(prisma, { recursive: true });
    fs.rmSync(alembic);
    await expectAllHold();
  });

  it('a password in a committed file fails workspace.secrets without printing it', async () => {
    const notes = path.join(ws, 'NOTES.md');
    fs.writeFileSync(notes, `db password: ${passwordOf(ord).value}\n`);
    await git('add', 'NOTES.md');
    const { r, checks } = await doctor();
    expect(r.exitCode).toBe(1);
    expect(failedIds(checks)).toEqual(['workspace.secrets']);
    expect(checks.find((c) => c.id === 'workspace.secrets')!.message).toContain(`${ord.toUpperCase()}_DB_PASSWORD in NOTES.md`);
    await git('rm', '-q', '--cached', 'NOTES.md');
    fs.rmSync(notes);
    await expectAllHold();
  });

  it('in a terminal, --fix shows its plan and asks: No changes nothing, Yes applies it', async () => {
    const env = path.join(ws, '.env');
    fs.chmodSync(env, 0o644);
    const answer = async (key: string): Promise<{ code: number; screen: string }> => {
      const socket = `ovu-doctor-${process.pid}-${key}`;
      const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const script = 'trap ":" INT; "$@"; echo "EXIT=$?"; exec sleep 3600';
      tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'ovu', '-x', '160', '-y', '50', '-c', ws, '--', 'env', '-u', 'CI', 'NO_COLOR=1', 'TERM=xterm-256color', 'sh', '-c', script, 'sh', process.execPath, BIN, 'doctor', '--fix', '--admin-url', adminUrl, '--workspace', ws);
      const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'ovu');
      const waitFor = async (re: RegExp): Promise<string> => {
        for (let i = 0; i < 600; i += 1) {
          const s = screen();
          if (re.test(s)) return s;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`timed out waiting for ${re}:\n${screen()}`);
      };
      try {
        const asked = await waitFor(/\? Apply these fixes\? \(y\/N\)/);
        expect(asked).toContain('doctor --fix would apply');
        expect(asked).toContain('chmod 600 .env');
        tmux('send-keys', '-t', 'ovu', '-l', key);
        tmux('send-keys', '-t', 'ovu', 'Enter');
        const end = await waitFor(/^EXIT=\d+$/m);
        return { code: Number(/^EXIT=(\d+)$/m.exec(end)![1]), screen: end };
      } finally {
        tmux('kill-server');
      }
    };
    const no = await answer('n');
    expect(no.code, no.screen).toBe(130);
    expect(fs.statSync(env).mode & 0o777).toBe(0o644);
    const yes = await answer('y');
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).toContain('doctor --fix applied');
    expect(fs.statSync(env).mode & 0o777).toBe(0o600);
  });

  it('without a reachable server the server checks are reported as not run, and the run does not pass', async () => {
    const r = await runCli(['doctor', '--json', '--admin-url', 'postgresql://postgres:x@127.0.0.1:1/postgres', '--workspace', ws]);
    const json = expectResult(r.stdout);
    expect(r.exitCode).toBe(1);
    const checks = json.checks as Check[];
    expect(checks.find((c) => c.id === 'server.connect')).toMatchObject({ status: 'skipped', ok: false });
    expect(checks.filter((c) => c.id.startsWith('server.') || /\.(database|login|migrations)$/.test(c.id)).every((c) => c.status === 'skipped')).toBe(true);
    expect(failedIds(checks)).toEqual([]);
  });
});
