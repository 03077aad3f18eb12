/**
 * The backups' upload and restore against a real S3-compatible server (moto_server, PyPI's
 * moto[server]) with the real AWS CLI (PyPI's awscli, the commands the amazon/aws-cli image runs)
 * and a real PostgreSQL 15:
 *
 * - compose: the workspace's ovu-db-init, then ovu-backup and ovu-backup-upload as Compose resolves
 *   them (their own command and environment, OVU_BACKUP_NOW=1, the host's paths for the mounts);
 * - Kubernetes: the CronJobs' scripts from deploy/k8s/backups.yaml and backups/inventory.yaml (dump, upload, mark as the app's
 *   own login; fetch and restore as the app's own login).
 *
 * Each upload is checked by listing the bucket; each successful dump by the exporter's query.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT, adrWorkspace, appPassword, runMainInProcess, tempDir } from '../../helpers/cli.ts';
import { composeConfig, runDbInit } from '../../helpers/compose.ts';
import { freePort, startTestPostgres, urlFor, withClient, type TestPostgres } from '../../helpers/postgres.ts';

const TOOLS = process.env.OVU_S3_TOOLS ?? path.join(ROOT, '.cache', 's3-tools', 'bin');
const BUCKET = 'ovu-backups';
const KEYS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_DEFAULT_REGION: 'us-east-1' };

let pg: TestPostgres;
let moto: ChildProcess;
let endpoint: string;
let ws: string;

async function aws(...args: string[]): Promise<string> {
  const r = await execa(path.join(TOOLS, 'aws'), ['--endpoint-url', endpoint, ...args], { env: { ...KEYS, HOME: tempDir('ovu-aws-') }, extendEnv: false });
  return String(r.stdout);
}
const listed = async (prefix: string): Promise<string[]> =>
  (await aws('s3', 'ls', `s3://${BUCKET}/${prefix}/`))
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3])
    .filter((n): n is string => !!n)
    .sort();

/** The exporter's ovu_backup query (monitoring/queries.yaml), run as the admin: datname → timestamp. */
async function lastBackups(): Promise<Record<string, number>> {
  const queries = parse(fs.readFileSync(path.join(ws, 'monitoring', 'queries.yaml'), 'utf8')) as Record<string, { query: string }>;
  return withClient(pg.adminUrl, async (c) => Object.fromEntries((await c.query(queries['ovu_backup']!.query)).rows.map((r) => [r.datname, r.last_success_timestamp_seconds])));
}

beforeAll(async () => {
  for (const bin of ['aws', 'moto_server']) {
    if (!fs.existsSync(path.join(TOOLS, bin))) throw new Error(`no ${bin} in ${TOOLS}: python3 -m venv .cache/s3-tools && .cache/s3-tools/bin/pip install 'moto[server]==5.2.5' awscli==1.46.2 (or set OVU_S3_TOOLS)`);
  }
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  moto = spawn(path.join(TOOLS, 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  pg = await startTestPostgres();
  ws = adrWorkspace();
  for (const args of [['inventory'], ['orders', '--stack', 'typescript']]) expect(await runMainInProcess([...args, '--yes', '--workspace', ws])).toBe(0);
  const project = await composeConfig(ws, 'docker-compose.yml', ['backup']);
  const init = await runDbInit(project.services['ovu-db-init'], pg.adminUrl);
  expect(init.exitCode, init.stderr).toBe(0);
  for (let i = 0; ; i++) {
    try {
      await aws('s3', 'mb', `s3://${BUCKET}`);
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}, 180_000);

afterAll(async () => {
  moto?.kill();
  await pg?.stop();
});

/** A service's command as Compose passes it to the container (`$$` is `$`). */
const script = (svc: Record<string, any>): string => (svc.entrypoint ?? svc.command)[2].replace(/\$\$/g, '$');
const env = (svc: Record<string, any>): Record<string, string> => Object.fromEntries(Object.entries(svc.environment as Record<string, string>).map(([k, v]) => [k, String(v ?? '').replace(/\$\$/g, '$')]));

describe('compose: ovu-backup dumps, ovu-backup-upload uploads (moto_server, awscli, PostgreSQL 15)', () => {
  it('uploads each new dump to s3://<bucket>/<app>/ once, keeps OVU_BACKUP_S3_KEEP, and records the dump for the exporter', async () => {
    const project = await composeConfig(ws, 'docker-compose.yml', ['backup']);
    const backup = project.services['ovu-backup'];
    const upload = project.services['ovu-backup-upload'];
    expect(upload.profiles).toEqual(['backup']);
    const dir = tempDir('ovu-backups-');
    const u = new URL(pg.adminUrl);
    const before = Math.floor(Date.now() / 1000);
    // ovu-backup as its service says, the server being the test's.
    const dumped = await execa('sh', ['-c', script(backup)], {
      env: { PATH: process.env.PATH!, ...env(backup), PGHOST: u.hostname, PGPORT: u.port, PGUSER: pg.user, PGPASSWORD: pg.password, OVU_BACKUP_DIR: dir, OVU_BACKUP_NOW: '1' },
      extendEnv: false,
      reject: false,
    });
    expect(dumped.exitCode, dumped.stderr).toBe(0);
    const backups = await lastBackups();
    for (const db of ['inventory_db', 'orders_db']) expect(backups[db]).toBeGreaterThanOrEqual(before);

    // Without a bucket it uploads nothing and exits 0 (the service's default).
    const idle = await execa('sh', ['-c', script(upload)], { env: { PATH: `${TOOLS}:${process.env.PATH}`, ...env(upload), OVU_BACKUP_DIR: dir }, extendEnv: false });
    expect(idle.stdout).toContain('OVU_BACKUP_S3_BUCKET is not set');

    // Two older dumps of inventory beside the new one: the bucket keeps the newest 2.
    const [dump] = fs.readdirSync(path.join(dir, 'inventory'));
    for (const old of ['inventory_db-20250101T030000Z.dump', 'inventory_db-20250102T030000Z.dump']) fs.copyFileSync(path.join(dir, 'inventory', dump!), path.join(dir, 'inventory', old));
    const run = () =>
      execa('sh', ['-c', script(upload)], {
        env: { PATH: `${TOOLS}:${process.env.PATH}`, ...env(upload), OVU_BACKUP_DIR: dir, OVU_BACKUP_NOW: '1', OVU_BACKUP_S3_BUCKET: BUCKET, OVU_BACKUP_S3_ENDPOINT: endpoint, OVU_BACKUP_S3_KEEP: '2', HOME: tempDir('ovu-aws-'), ...KEYS },
        extendEnv: false,
        reject: false,
      });
    const first = await run();
    expect(first.exitCode, first.stderr).toBe(0);
    expect(await listed('inventory')).toEqual(['inventory_db-20250102T030000Z.dump', dump!].sort());
    expect(await listed('orders')).toEqual(fs.readdirSync(path.join(dir, 'orders')));
    // Each file once: the second run uploads nothing.
    const second = await run();
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).not.toContain('s3://');
    // The credentials were in the environment only.
    expect(JSON.stringify(project.services['ovu-backup-upload'].entrypoint)).not.toContain('testing');
  }, 120_000);
});

describe("Kubernetes: the backup CronJob's scripts, then the restore CronJob's, as the app's own login", () => {
  it('dumps inventory_db, uploads it, records it; a restore brings back what the dump held', async () => {
    const docs = ['backups.yaml', 'backups/inventory.yaml'].flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(ws, 'deploy', 'k8s', f), 'utf8')).map((d) => d.toJS()));
    const scripts = docs.find((d: any) => d.kind === 'ConfigMap' && d.metadata.name === 'ovu-backup-scripts').data as Record<string, string>;
    const settings = docs.find((d: any) => d.kind === 'ConfigMap' && d.metadata.name === 'ovu-backup-settings').data as Record<string, string>;
    const cron = docs.find((d: any) => d.kind === 'CronJob' && d.metadata.name === 'inventory-db-backup');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect([...pod.initContainers, ...pod.containers].map((c: any) => `${c.name}:${c.command.join(' ')}`)).toEqual(['dump:sh /scripts/dump.sh', 'upload:sh /scripts/upload.sh', 'mark:sh /scripts/mark.sh']);
    const dir = tempDir('ovu-k8s-scripts-');
    for (const [name, text] of Object.entries(scripts)) fs.writeFileSync(path.join(dir, name), text);
    const work = tempDir('ovu-k8s-work-');
    const u = new URL(pg.adminUrl);
    const password = appPassword(ws, 'inventory')!;
    // The pod's environment: the app's login from its Secret, the bucket from the ConfigMap (its endpoint: moto's).
    const asApp = { PGHOST: u.hostname, PGPORT: u.port, PGDATABASE: 'inventory_db', PGUSER: 'inventory_user', PGPASSWORD: password };
    const s3 = { ...settings, OVU_BACKUP_S3_ENDPOINT: endpoint, OVU_BACKUP_APP: 'inventory', PGDATABASE: 'inventory_db', HOME: work, ...KEYS };
    const sh = (file: string, e: Record<string, string>) => execa('sh', [path.join(dir, file)], { env: { PATH: `${TOOLS}:${process.env.PATH}`, OVU_BACKUP_WORK: work, ...e }, extendEnv: false, reject: false });
    const app = urlFor(pg.adminUrl, 'inventory_user', password, 'inventory_db');
    await withClient(app, (c) => c.query("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'kept'), (2, 'kept')"));

    const before = Math.floor(Date.now() / 1000);
    for (const [file, e] of [['dump.sh', asApp], ['upload.sh', s3], ['mark.sh', asApp]] as const) {
      const r = await sh(file, e);
      expect(r.exitCode, `${file}: ${r.stderr}`).toBe(0);
    }
    const [name] = fs.readdirSync(work).filter((f) => f.endsWith('.dump'));
    expect(await listed('inventory')).toContain(name);
    expect((await lastBackups())['inventory_db']).toBeGreaterThanOrEqual(before);

    // Rows changed after the dump; the restore (newest dump) as the app's login puts them back.
    await withClient(app, (c) => c.query("DELETE FROM items WHERE id = 1; INSERT INTO items VALUES (3, 'after')"));
    fs.rmSync(path.join(work, name!));
    for (const [file, e] of [['fetch.sh', { ...s3, RESTORE_KEY: '' }], ['restore.sh', { ...asApp, PGOPTIONS: '-c lock_timeout=60000' }]] as const) {
      const r = await sh(file, e);
      expect(r.exitCode, `${file}: ${r.stderr}`).toBe(0);
    }
    const rows = await withClient(app, async (c) => (await c.query('SELECT id, name FROM items ORDER BY id')).rows);
    expect(rows).toEqual([
      { id: 1, name: 'kept' },
      { id: 2, name: 'kept' },
    ]);
    // Still the app's, owned by its login.
    const owner = await withClient(urlFor(pg.adminUrl, pg.user, pg.password, 'inventory_db'), async (c) => (await c.query("SELECT tableowner FROM pg_tables WHERE tablename = 'items'")).rows[0]?.tableowner);
    expect(owner).toBe('inventory_user');
  }, 120_000);
});
