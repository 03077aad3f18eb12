/**
 * The workspace a platform team really has (a commented compose file with anchors and CRLF line
 * endings, a ULM service, an init-db.sql with its own ULM section and `\c` lines), two apps added
 * by the CLI, and init-db.sql run twice by real psql on a fresh PostgreSQL 15 the way the ovu-db-init
 * service runs it, with the variables from .env that initDbEnvVars names (the apps' verifiers).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.ts';
import { canConnect, runPsqlFile, startTestPostgres, urlFor, type TestPostgres } from '../helpers/postgres.ts';
import { composeConfig, runDbInit } from '../helpers/compose.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';
import { deriveNames, initDbEnvVars } from '../../src/app/names.ts';
import { diffLines } from '../../src/cli/diff.ts';

const FIXTURE = fs.readFileSync(new URL('../fixtures/compose/commented.yml', import.meta.url), 'utf8');
// ULM loads the whole workspace .env, as many real services do: no app's password may be in it.
const COMPOSE = FIXTURE.replace('      context: ./ulm/backend\n', '      context: ./ulm/backend\n    env_file: .env\n').replace(/\r?\n/g, '\r\n');
const ULM_SECTION = [
  '-- ULM (the platform team\'s own section, idempotent)',
  "SELECT 'CREATE ROLE ulm_user LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ulm_user') \\gexec",
  '\\getenv ulm_pw ULM_DB_PASSWORD',
  "ALTER ROLE ulm_user PASSWORD :'ulm_pw';",
  "SELECT 'CREATE DATABASE ulm_db' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ulm_db') \\gexec",
  'GRANT ALL PRIVILEGES ON DATABASE ulm_db TO ulm_user;',
  '\\c ulm_db',
  'GRANT ALL ON SCHEMA public TO ulm_user;',
  '',
].join('\r\n');

let pg: TestPostgres;
const ws = tempDir();
const env: Record<string, string> = {};
const initEnv: Record<string, string> = {};

beforeAll(async () => {
  // Its own server: this test owns ulm_db and hardens the whole server.
  pg = await startTestPostgres();
  fs.writeFileSync(path.join(ws, 'docker-compose.yml'), COMPOSE);
  fs.writeFileSync(path.join(ws, 'init-db.sql'), ULM_SECTION);
  fs.writeFileSync(path.join(ws, '.env'), '# platform secrets\nULM_DB_PASSWORD=ulm-pw-from-env\nULM_TOKEN=\n');
  for (const app of ['alpha', 'beta']) {
    const r = await runCli([app, '--yes', '--workspace', ws]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  }
  const dotenv = fs.readFileSync(path.join(ws, '.env'), 'utf8');
  env.ULM_DB_PASSWORD = readEnvVar(dotenv, 'ULM_DB_PASSWORD')!;
  for (const app of ['alpha', 'beta']) env[`${app.toUpperCase()}_DB_PASSWORD`] = readEnvVar(fs.readFileSync(path.join(ws, app, '.env'), 'utf8'), `${app.toUpperCase()}_DB_PASSWORD`)!;
  expect(Object.values(env).every((v) => v && v.length > 10)).toBe(true);
  // What ovu-db-init gets: the team's own ULM variable and what initDbEnvVars names for each app.
  initEnv.ULM_DB_PASSWORD = env.ULM_DB_PASSWORD!;
  // The verifiers are in ovu-db-init's own env file, not the workspace .env.
  const verifiers = fs.readFileSync(path.join(ws, 'ovu-db-init', 'verifiers', '.env'), 'utf8');
  for (const app of ['alpha', 'beta']) for (const key of initDbEnvVars(deriveNames(app))) initEnv[key] = readEnvVar(verifiers, key)!;
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

describe('a real workspace with two apps', () => {
  it('keeps the compose file CRLF with every original line in order, and Compose reads what the tool says', async () => {
    const after = fs.readFileSync(path.join(ws, 'docker-compose.yml'), 'utf8');
    expect(after.replace(/\r\n/g, '')).not.toContain('\n');
    const ops = diffLines(COMPOSE, after);
    expect(ops.filter((o) => o.kind === '-')).toEqual([]);
    // The team's file gains one include, whatever the number of apps.
    expect(ops.filter((o) => o.kind === '+').map((o) => o.line)).toEqual(['', 'include:', '  - apps.compose.yaml']);
    for (const f of ['apps.compose.yaml', 'alpha/compose.yaml']) expect(fs.readFileSync(path.join(ws, f), 'utf8').replace(/\r\n/g, '')).not.toContain('\n');

    const project = await composeConfig(ws);
    for (const [app, port] of [['alpha', '8002'], ['beta', '8003']] as const) {
      const svc = project.services[`${app}-backend`];
      expect(svc.build.context).toBe(path.join(ws, app, 'backend'));
      expect(svc.environment.DATABASE_URL).toBe(`postgresql://${app}_user:${env[`${app.toUpperCase()}_DB_PASSWORD`]}@postgres:5432/${app}_db`);
      // The workspace's own token variable is reused.
      expect(svc.environment).toHaveProperty('ULM_SERVICE_TOKEN', '');
      expect(svc.depends_on).toMatchObject({ 'ovu-db-init': { condition: 'service_completed_successfully' } });
      // The ULM service took 8001: the apps get the next free ports.
      expect(svc.ports).toMatchObject([{ published: port, target: 8000 }]);
      // An app's password reaches its own service only: ovu-db-init gets its verifier.
      expect(project.services['ovu-db-init'].environment[`${app.toUpperCase()}_DB_VERIFIER`]).toMatch(/^SCRAM-SHA-256\$\$4096:/); // a literal $ as docker compose config writes it
      expect(JSON.stringify(project.services['ovu-db-init'])).not.toContain(env[`${app.toUpperCase()}_DB_PASSWORD`]);
      expect(JSON.stringify(project.services.postgres)).not.toContain(env[`${app.toUpperCase()}_DB_PASSWORD`]);
      expect(JSON.stringify(project.services['ulm-backend'])).not.toContain(env[`${app.toUpperCase()}_DB_PASSWORD`]);
      // Nor the other app's service.
      const other = app === 'alpha' ? 'beta' : 'alpha';
      expect(JSON.stringify(project.services[`${other}-backend`])).not.toContain(env[`${app.toUpperCase()}_DB_PASSWORD`]);
    }
    // No verifier reaches a service that loads the workspace .env: .env holds none, ovu-db-init's own env_file does.
    expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).not.toMatch(/_VERIFIER\s*=/);
    expect(Object.keys(project.services['ulm-backend'].environment).filter((k) => /VERIFIER/.test(k))).toEqual([]);
    expect(JSON.stringify(project.services['ulm-backend'])).not.toContain('SCRAM-SHA-256');
    // Nor any other service Compose resolves, those of the backup and monitoring profiles included:
    // ovu-db-init is the only one with a verifier, by name or by value.
    const everything = await composeConfig(ws, 'docker-compose.yml', ['backup', 'monitoring']);
    expect(Object.keys(everything.services)).toEqual(expect.arrayContaining(['ovu-backup', 'ovu-postgres-exporter']));
    const withVerifier = Object.entries(everything.services as Record<string, object>)
      .filter(([, svc]) => /SCRAM-SHA-256|_DB_VERIFIER/.test(JSON.stringify(svc)))
      .map(([name]) => name);
    expect(withVerifier).toEqual(['ovu-db-init']);
    expect(project.services['ovu-db-init'].environment.OVU_MONITOR_DB_VERIFIER).toMatch(/^SCRAM-SHA-256\$\$4096:/);
    expect(fs.statSync(path.join(ws, 'ovu-db-init', 'verifiers', '.env')).mode & 0o777).toBe(0o600);
    // ULM did load the workspace .env (the check above is not vacuous).
    expect(project.services['ulm-backend'].environment).toHaveProperty('ULM_DB_PASSWORD', 'ulm-pw-from-env');
    expect(project.services['ovu-db-init']).toMatchObject({ image: 'postgres:15', depends_on: { postgres: { condition: 'service_started' } } });
    expect(project.services['ovu-db-init'].volumes).toContainEqual(expect.objectContaining({ target: '/ovu/init-db.sql', source: path.join(ws, 'init-db.sql'), read_only: true }));
  });

  it('keeps the ULM section of init-db.sql byte for byte, and adds blocks before the platform block', () => {
    const sql = fs.readFileSync(path.join(ws, 'init-db.sql'), 'utf8');
    expect(sql.startsWith(ULM_SECTION)).toBe(true);
    const order = ['-- >>> create-ovu-app: alpha', '-- >>> create-ovu-app: beta', '-- >>> create-ovu-app: platform'].map((m) => sql.indexOf(m));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('never writes a password outside .env files', () => {
    const files = fs.readdirSync(ws, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name !== '.env');
    expect(files.length).toBeGreaterThan(40);
    for (const e of files) {
      const text = fs.readFileSync(path.join(e.parentPath, e.name), 'utf8');
      for (const [key, value] of Object.entries({ ...env, ...initEnv })) expect(text, `${e.name} holds ${key}`).not.toContain(value);
    }
    // The workspace .env (which `env_file: .env` services load) holds no app password either.
    const workspaceEnv = fs.readFileSync(path.join(ws, '.env'), 'utf8');
    for (const app of ['ALPHA', 'BETA']) expect(workspaceEnv).not.toContain(env[`${app}_DB_PASSWORD`]);
  });

  it('ovu-db-init, run as Compose resolves it, creates and isolates every app, and can run again', async () => {
    const file = path.join(ws, 'init-db.sql');
    // On an empty volume the postgres image first runs the whole file with its own environment
    // (ULM's password, not the apps'): the ULM section runs, the app blocks are skipped.
    const entry = await runPsqlFile(file, { ULM_DB_PASSWORD: env.ULM_DB_PASSWORD }, pg.adminUrl, { entrypoint: true });
    expect(entry.stderr).not.toMatch(/ERROR/);
    expect(entry.exitCode).toBe(0);
    expect(entry.stderr).toContain('init-db.sql: skipping Alpha (ALPHA_DB_VERIFIER is not in this environment)');
    // ovu-db-init gets each app's verifier, never a password.
    const init = (await composeConfig(ws)).services['ovu-db-init'];
    // Compose passes each verifier as it is in .env (`docker compose config` shows a `$` as `$$`).
    const literal = (v: string): string => v.replace(/\$/g, '$$$$');
    expect(init.environment).toMatchObject({ ALPHA_DB_VERIFIER: literal(initEnv.ALPHA_DB_VERIFIER!), BETA_DB_VERIFIER: literal(initEnv.BETA_DB_VERIFIER!) });
    for (const key of ['ULM_DB_PASSWORD', 'ALPHA_DB_PASSWORD', 'BETA_DB_PASSWORD']) expect(init.environment).not.toHaveProperty(key);
    for (const run of [1, 2]) {
      const r = await runDbInit(init, pg.adminUrl);
      expect(r.stderr, `run ${run}`).not.toMatch(/ERROR/);
      expect(r.exitCode, `run ${run}`).toBe(0);
    }
    const url = (user: string, password: string, db: string) => urlFor(pg.adminUrl, user, password, db);
    for (const [app, other] of [['alpha', 'beta'], ['beta', 'alpha']] as const) {
      const password = env[`${app.toUpperCase()}_DB_PASSWORD`]!;
      expect(await canConnect(url(`${app}_user`, password, `${app}_db`))).toBe(true);
      expect(await canConnect(url(`${app}_user`, 'wrong', `${app}_db`))).toBe('28P01');
      for (const db of [`${other}_db`, 'ulm_db', 'postgres', 'template1']) {
        expect(await canConnect(url(`${app}_user`, password, db)), `${app}_user → ${db}`).toBe('42501');
      }
    }
    expect(await canConnect(url('ulm_user', env.ULM_DB_PASSWORD!, 'ulm_db'))).toBe(true);
  });

  it('stops init-db.sql with a clear error when a verifier is missing', async () => {
    const { ALPHA_DB_VERIFIER: _, ...withoutAlpha } = initEnv;
    const r = await runPsqlFile(path.join(ws, 'init-db.sql'), withoutAlpha, pg.adminUrl);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/ALPHA_DB_VERIFIER is not set or is empty/);
  });
});
