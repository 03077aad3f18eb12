/**
 * doctor's workspace checks on workspaces the generator writes into real temp dirs (git is part
 * of what they check): every check's id on a fresh workspace, each one failing when its part is
 * broken, and the --fix plan repairing the safe ones through the Plan.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runMainInProcess, tempDir } from '../../helpers/cli.ts';
import { auditWorkspace } from '../../../src/doctor/workspace-checks.ts';
import { allHold, type DoctorCheck } from '../../../src/doctor/check.ts';
import { planFixes } from '../../../src/commands/doctor.ts';
import { findWorkspace, readIfExists } from '../../../src/workspace/workspace.ts';
import { readEnvVar, setEnvVar } from '../../../src/workspace/env-file.ts';
import { removeEnvVar } from '../../../src/workspace/legacy-password.ts';
import { findAppPassword } from '../../../src/workspace/app-env.ts';

async function workspace(): Promise<string> {
  const dir = tempDir('ovu-doctor-unit-');
  for (const args of [['inventory', '--yes'], ['orders', '--stack', 'typescript', '--yes'], ['reports', '--kind', 'readonly', '--yes']]) {
    expect(await runMainInProcess([...args, '--workspace', dir])).toBe(0);
  }
  return dir;
}

function audit(dir: string): DoctorCheck[] {
  return auditWorkspace(findWorkspace(dir, '/'), readIfExists).checks;
}

const byId = (checks: DoctorCheck[], id: string): DoctorCheck => {
  const found = checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${checks.map((c) => c.id).join(', ')}`);
  return found;
};
const notOk = (checks: DoctorCheck[]): string[] => checks.filter((c) => c.status === 'failed').map((c) => c.id);

async function applyFixes(dir: string): Promise<void> {
  const { plan, fix } = planFixes(audit(dir), findWorkspace(dir, '/'));
  expect(fix.sql).toEqual([]);
  await plan.commit();
}

const password = (dir: string, slug: string) => findAppPassword(readIfExists, findWorkspace(dir, '/'), { slug, passwordVar: `${slug.toUpperCase()}_DB_PASSWORD` });

describe('doctor: the workspace checks', () => {
  it('names every check it runs on a fresh workspace, and all of them hold', async () => {
    const dir = await workspace();
    const checks = audit(dir);
    // The wiring: removing any check from workspace-checks.ts removes its id here.
    const perCrud = ['answers', 'compose-service', 'ci-workflow', 'init-db', 'env-password', 'env-example', 'verifier', 'backend-env', 'backend-env-ignored', 'backend-env-mode', 'k8s-budget'];
    const expected = [
      'workspace.compose',
      'compose.schema.docker-compose.yml',
      'compose.schema.apps.compose.yaml',
      ...['inventory', 'orders', 'reports', 'monitoring', 'ulm-dev'].map((a) => `compose.schema.${a}/compose.yaml`),
      ...perCrud.map((c) => `app.inventory.${c}`),
      ...perCrud.map((c) => `app.orders.${c}`),
      ...['answers', 'compose-service', 'ci-workflow', 'backend-env-ignored', 'backend-env-mode'].map((c) => `app.reports.${c}`),
      'workspace.env-ignored',
      'workspace.env-mode',
      'workspace.journal',
      'workspace.secrets',
      'workspace.monitoring-env-ignored',
      'workspace.monitoring-env-mode',
      // The ADR's literal POSTGRES_PASSWORD lives in ovu-db-init/.env; ovu-db-init can log in; init-db.sql runs.
      'workspace.db-init-env-ignored',
      'workspace.db-init-env-mode',
      // The roles' verifiers: ovu-db-init's own env file, not the workspace .env.
      'workspace.verifiers-env-ignored',
      'workspace.verifiers-env-mode',
      'workspace.db-login',
      'workspace.init-db',
      'workspace.derived',
    ];
    const ids = checks.map((c) => c.id);
    // <app>/.env exists once the passwords live there (the generator of this branch may still write them to .env).
    expect(ids.filter((id) => !/^app\.\w+\.env-(ignored|mode)$/.test(id)).sort()).toEqual(expected.sort());
    expect(new Set(ids).size).toBe(ids.length);
    expect(notOk(checks)).toEqual([]);
    expect(allHold(checks)).toBe(true);
  });

  it('a password in the workspace .env is a warning whose fix moves it into <app>/.env', async () => {
    const dir = await workspace();
    const ws = findWorkspace(dir, '/');
    // The layout create-ovu-app 0.1 wrote: the password in the workspace .env, its placeholder in .env.example.
    for (const slug of ['inventory', 'orders']) {
      const found = password(dir, slug);
      if (!found.legacy) {
        const v = `${slug.toUpperCase()}_DB_PASSWORD`;
        fs.writeFileSync(ws.envFile, setEnvVar(readIfExists(ws.envFile), v, found.value!));
        fs.writeFileSync(ws.envExampleFile, setEnvVar(readIfExists(ws.envExampleFile), v, 'change-me'));
        fs.writeFileSync(found.file, removeEnvVar(readIfExists(found.file), v)!);
        fs.rmSync(path.join(dir, slug, '.env.example'), { force: true });
      }
    }
    const secret = password(dir, 'inventory').value!;
    const before = audit(dir);
    expect(byId(before, 'app.inventory.env-password')).toMatchObject({ status: 'warning', repair: { kind: 'files' } });
    expect(allHold(before)).toBe(true);
    await applyFixes(dir);
    const after = audit(dir);
    expect(byId(after, 'app.inventory.env-password').status).toBe('ok');
    expect(readEnvVar(readIfExists(path.join(dir, 'inventory', '.env')), 'INVENTORY_DB_PASSWORD')).toBe(secret);
    expect(fs.statSync(path.join(dir, 'inventory', '.env')).mode & 0o777).toBe(0o600);
    expect(readEnvVar(readIfExists(ws.envFile), 'INVENTORY_DB_PASSWORD')).toBeUndefined();
    expect(readEnvVar(readIfExists(path.join(dir, 'ovu-db-init', 'verifiers', '.env')), 'INVENTORY_DB_VERIFIER')).toBeDefined();
    expect(readIfExists(ws.envFile)).not.toMatch(/\n\n\n|^\n/);
    expect(readEnvVar(readIfExists(path.join(dir, 'inventory', '.env.example')), 'INVENTORY_DB_PASSWORD')).toBe('change-me');
    expect(readEnvVar(readIfExists(ws.envExampleFile), 'INVENTORY_DB_PASSWORD')).toBeUndefined();
    expect(notOk(after)).toEqual([]);
    expect(after.filter((c) => c.status === 'warning')).toEqual([]);
  });

  it('a verifier in the workspace .env (the 0.2 layout) is still read, is a warning, and --fix moves it to ovu-db-init/verifiers/.env', async () => {
    const dir = await workspace();
    const ws = findWorkspace(dir, '/');
    const own = path.join(dir, 'ovu-db-init', 'verifiers', '.env');
    const verifier = readEnvVar(readIfExists(own), 'INVENTORY_DB_VERIFIER')!;
    expect(verifier).toMatch(/^SCRAM-SHA-256\$/);
    expect(readIfExists(ws.envFile)).not.toMatch(/_VERIFIER=/);
    // What 0.2 wrote: the verifier in the workspace .env only.
    fs.writeFileSync(ws.envFile, setEnvVar(readIfExists(ws.envFile), 'INVENTORY_DB_VERIFIER', verifier, 'inventory: SCRAM-SHA-256 verifier of INVENTORY_DB_PASSWORD (inventory/.env) for ovu-db-init; it cannot log in'));
    fs.writeFileSync(own, removeEnvVar(readIfExists(own), 'INVENTORY_DB_VERIFIER')!);
    // An apps.compose.yaml of 0.2 (ovu-db-init reads .env): no move that would leave ovu-db-init without it.
    const appsFile = path.join(dir, 'apps.compose.yaml');
    const apps = fs.readFileSync(appsFile, 'utf8');
    fs.writeFileSync(appsFile, apps.replace('      - ./ovu-db-init/verifiers/.env\n', ''));
    const old = byId(audit(dir), 'app.inventory.verifier');
    expect(old).toMatchObject({ status: 'warning', fix: expect.stringContaining('create-ovu-app update inventory') });
    expect(old.repair).toBeUndefined();
    fs.writeFileSync(appsFile, apps);
    const before = audit(dir);
    expect(byId(before, 'app.inventory.verifier')).toMatchObject({ status: 'warning', message: expect.stringContaining('env_file: .env'), repair: { kind: 'files' } });
    expect(notOk(before)).toEqual([]);
    await applyFixes(dir);
    expect(readIfExists(ws.envFile)).not.toMatch(/VERIFIER/);
    expect(readEnvVar(readIfExists(own), 'INVENTORY_DB_VERIFIER')).toBe(verifier);
    expect(fs.statSync(own).mode & 0o777).toBe(0o600);
    const after = audit(dir);
    expect(byId(after, 'app.inventory.verifier').status).toBe('ok');
    expect(notOk(after)).toEqual([]);
  });

  it('a journal an interrupted run left fails workspace.journal', async () => {
    const dir = await workspace();
    fs.mkdirSync(path.join(dir, '.create-ovu-app'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.create-ovu-app', 'journal.json'), '{"pid":1,"steps":[],"madeDirs":[],"done":false}');
    expect(notOk(audit(dir))).toEqual(['workspace.journal']);
  });

  it('mode 644 on a secrets file fails; --fix makes it 600', async () => {
    const dir = await workspace();
    fs.chmodSync(path.join(dir, '.env'), 0o644);
    fs.chmodSync(path.join(dir, 'orders', 'backend', '.env'), 0o640);
    expect(notOk(audit(dir)).sort()).toEqual(['app.orders.backend-env-mode', 'workspace.env-mode']);
    await applyFixes(dir);
    expect(fs.statSync(path.join(dir, '.env')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, 'orders', 'backend', '.env')).mode & 0o777).toBe(0o600);
    expect(notOk(audit(dir))).toEqual([]);
  });

  it('.env not in .gitignore fails every secrets file that it leaves out; --fix adds the line', async () => {
    const dir = await workspace();
    fs.writeFileSync(path.join(dir, '.gitignore'), '/.create-ovu-app/\n');
    // backend/.gitignore still has its own .env line.
    // …and .env, no longer ignored, holds the verifiers (and, in a 0.1 layout, the passwords).
    const ownEnv = ['inventory', 'orders'].filter((a) => fs.existsSync(path.join(dir, a, '.env'))).map((a) => `app.${a}.env-ignored`);
    expect(notOk(audit(dir)).sort()).toEqual(['workspace.env-ignored', 'workspace.monitoring-env-ignored', 'workspace.db-init-env-ignored', 'workspace.verifiers-env-ignored', 'workspace.secrets', ...ownEnv].sort());
    await applyFixes(dir);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('/.create-ovu-app/\n.env\n');
    expect(notOk(audit(dir))).toEqual([]);
  });

  it('reads services defined in the files apps.compose.yaml includes (pgbouncer/, monitoring/): a --pgbouncer app holds', async () => {
    const dir = await workspace();
    expect(await runMainInProcess(['billing', '--pgbouncer', '--yes', '--workspace', dir])).toBe(0);
    const checks = audit(dir);
    expect(byId(checks, 'compose.schema.billing/compose.yaml').status).toBe('ok');
    expect(byId(checks, 'compose.schema.pgbouncer/compose.yaml').status).toBe('ok');
    expect(notOk(checks)).toEqual([]);
    // On Kubernetes it reaches the server through its Pooler's pods only.
    expect(byId(checks, 'app.billing.k8s-budget').message).toBe('on Kubernetes billing_user needs at most 22 connections during a rollout (Pooler 2 + 0 surge pods x pool 10 + 2), within its connectionLimit 22');
    const poolers = path.join(dir, 'deploy', 'k8s', 'poolers.yaml');
    fs.writeFileSync(poolers, fs.readFileSync(poolers, 'utf8').replace('instances: 2', 'instances: 3'));
    expect(byId(audit(dir), 'app.billing.k8s-budget')).toMatchObject({ status: 'failed', message: expect.stringContaining('(Pooler 3 + 0 surge pods x pool 10 + 2) but its connectionLimit is 22') });
  }, 20_000);

  it('files computed from the apps that no longer match them fail; --fix writes them again', async () => {
    const dir = await workspace();
    const queries = path.join(dir, 'monitoring', 'queries.yaml');
    const original = fs.readFileSync(queries, 'utf8');
    // An app taken out by hand (not with remove) leaves its dashboard and its database in the queries.
    fs.rmSync(path.join(dir, 'orders'), { recursive: true });
    let checks = audit(dir);
    expect(byId(checks, 'workspace.derived').status).toBe('failed');
    expect(byId(checks, 'workspace.derived').message).toMatch(/monitoring\/queries\.yaml.*monitoring\/grafana\/dashboards\/orders\.json|monitoring\/grafana\/dashboards\/orders\.json.*monitoring\/queries\.yaml/);
    await applyFixes(dir);
    checks = audit(dir);
    expect(byId(checks, 'workspace.derived').status).toBe('ok');
    expect(fs.existsSync(path.join(dir, 'monitoring', 'grafana', 'dashboards', 'orders.json'))).toBe(false);
    expect(fs.readFileSync(queries, 'utf8')).not.toBe(original);
    expect(fs.readFileSync(queries, 'utf8')).not.toContain('orders_db');
  });

  it("a Deployment whose replicas + maxSurge x pool exceeds its login's connectionLimit on Kubernetes fails app.<app>.k8s-budget", async () => {
    const dir = await workspace();
    const file = path.join(dir, 'inventory', 'deploy', 'k8s', 'deployment.yaml');
    const text = fs.readFileSync(file, 'utf8');
    expect(byId(audit(dir), 'app.inventory.k8s-budget')).toMatchObject({ status: 'ok', message: expect.stringMatching(/needs at most (\d+) connections during a rollout .* within its connectionLimit \1$/) });
    fs.writeFileSync(file, text.replace(/maxSurge: 1\n/, 'maxSurge: 2\n'));
    expect(byId(audit(dir), 'app.inventory.k8s-budget')).toMatchObject({ status: 'failed', message: expect.stringMatching(/can need \d+ connections during a rollout \(\(1 replicas \+ 2 surge\) x pool 10 \+ 2\) but its connectionLimit is 22/) });
    // A strategy left to Kubernetes' default (25%, rounded up) surges too.
    fs.writeFileSync(file, text.replace(/  strategy:\n(    .*\n)+/, '').replace(/replicas: \d+/, 'replicas: 4'));
    expect(byId(audit(dir), 'app.inventory.k8s-budget').message).toContain('(4 replicas + 1 surge) x pool 10 + 2');
    expect(notOk(audit(dir))).toEqual(['app.inventory.k8s-budget']);
  }, 20_000);

  it('in a git repository, asks git: a tracked .env fails even though the rules ignore it', async () => {
    const dir = await workspace();
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' });
    git('init', '-q');
    git('add', '-A');
    expect(notOk(audit(dir))).toEqual([]);
    git('add', '-f', '.env', 'ovu-db-init/verifiers/.env');
    const checks = audit(dir);
    // The workspace .env holds no password or verifier any more: the tracked verifiers file is the secret.
    expect(notOk(checks).sort()).toEqual(['workspace.env-ignored', 'workspace.secrets', 'workspace.verifiers-env-ignored']);
    expect(byId(checks, 'workspace.env-ignored').fix).toContain('git rm --cached .env');
    expect(byId(checks, 'workspace.secrets').message).toMatch(/_DB_VERIFIER in ovu-db-init\/verifiers\/\.env/);
  });

  it('a password in a file git would commit fails workspace.secrets, naming the variable and the file but never the value', async () => {
    const dir = await workspace();
    const secret = password(dir, 'orders').value!;
    fs.writeFileSync(path.join(dir, 'orders', 'backend', 'NOTES.md'), `the db password is ${secret}\n`);
    const check = byId(audit(dir), 'workspace.secrets');
    expect(check.status).toBe('failed');
    expect(check.message).toBe('ORDERS_DB_PASSWORD in orders/backend/NOTES.md: a commit would publish it');
    expect(JSON.stringify(check)).not.toContain(secret);
    expect(check.repair).toBeUndefined();
  });

  it('a missing init-db block, a missing placeholder, another password and a broken compose file each fail their check', async () => {
    const dir = await workspace();
    const ws = findWorkspace(dir, '/');
    const initDb = fs.readFileSync(ws.initDbFile, 'utf8');
    fs.writeFileSync(ws.initDbFile, initDb.replace(/-- >>> create-ovu-app: orders\n[\s\S]*?-- <<< create-ovu-app: orders\n/, ''));
    expect(notOk(audit(dir))).toEqual(['app.orders.init-db']);
    fs.writeFileSync(ws.initDbFile, initDb.replace('CONNECTION LIMIT %s\', \'orders_user\', 11', 'CONNECTION LIMIT %s\', \'orders_user\', 99'));
    expect(byId(audit(dir), 'app.orders.init-db').status).toBe('warning');
    fs.writeFileSync(ws.initDbFile, initDb);

    const found = password(dir, 'inventory');
    const example = found.legacy ? ws.envExampleFile : path.join(dir, 'inventory', '.env.example');
    fs.writeFileSync(example, removeEnvVar(readIfExists(example), 'INVENTORY_DB_PASSWORD')!);
    expect(notOk(audit(dir))).toEqual(['app.inventory.env-example']);
    await applyFixes(dir);
    expect(notOk(audit(dir))).toEqual([]);

    // The fix moved a 0.1 password into inventory/.env.
    const { file } = password(dir, 'inventory');
    const env = readIfExists(file);
    fs.writeFileSync(file, setEnvVar(env, 'INVENTORY_DB_PASSWORD', 'a'.repeat(40)));
    expect(notOk(audit(dir)).sort()).toEqual(['app.inventory.backend-env', 'app.inventory.verifier']);
    fs.writeFileSync(file, setEnvVar(env, 'INVENTORY_DB_PASSWORD', 'short'));
    expect(byId(audit(dir), 'app.inventory.env-password')).toMatchObject({ status: 'failed', message: expect.stringContaining('INVENTORY_DB_PASSWORD is 5 characters long') });
    fs.writeFileSync(file, env!);

    const compose = path.join(dir, 'orders', 'compose.yaml');
    const text = fs.readFileSync(compose, 'utf8');
    fs.writeFileSync(compose, text.replace('    build: ./backend', '    build: ./backend\n    enviroment: {}'));
    const checks = audit(dir);
    expect(notOk(checks)).toEqual(['compose.schema.orders/compose.yaml']);
    expect(byId(checks, 'compose.schema.orders/compose.yaml').message).toMatch(/^orders\/compose\.yaml:\d+: .*enviroment/);
    fs.writeFileSync(compose, text.replace('orders_db', 'inventory_db'));
    expect(notOk(audit(dir))).toEqual(['app.orders.compose-service']);
    fs.writeFileSync(compose, text.replace('"8002:8000"', '"8009:8000"'));
    expect(byId(audit(dir), 'app.orders.compose-service').message).toBe('orders-backend in orders/compose.yaml does not publish host port 8002, which orders/.ovu-app.json records');
  });

  it("warns when an app's CI workflow is missing or no longer runs for the app", async () => {
    const dir = await workspace();
    const workflow = path.join(dir, '.github', 'workflows', 'orders.yml');
    const text = fs.readFileSync(workflow, 'utf8');
    fs.writeFileSync(workflow, text.replaceAll('orders/**', 'elsewhere/**'));
    expect(byId(audit(dir), 'app.orders.ci-workflow')).toMatchObject({ status: 'warning', message: ".github/workflows/orders.yml does not run for changes under orders/ (no 'orders/**' path)" });
    fs.rmSync(workflow);
    expect(byId(audit(dir), 'app.orders.ci-workflow')).toMatchObject({ status: 'warning', message: '.github/workflows/orders.yml is missing: GitHub runs no CI for orders' });
  });
});
