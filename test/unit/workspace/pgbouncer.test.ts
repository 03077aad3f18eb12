import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { pgbouncerKind } from '../../../src/workspace/pgbouncer/index.ts';
import { appsComposeFile } from '../../../src/workspace/compose/apps-file.ts';
import { appService } from '../../../src/workspace/compose/model.ts';
import { DEFAULT_STYLE, yToJS } from '../../../src/workspace/compose/render.ts';
import { serverConnectionLimit } from '../../../src/database/budget.ts';
import { initDbBlock } from '../../../src/workspace/init-db.ts';
import { appSpec } from '../../helpers/spec.ts';

const ROOT = '/nonexistent-ws';
const DB = { name: 'db', file: 'docker-compose.yml', service: { image: 'postgres:16', environment: { POSTGRES_PASSWORD: '${PG_PW}' }, networks: ['backend'] }, login: { how: 'environment' as const, user: undefined, password: '${PG_PW}' } };
const pool = { size: 4, maxOverflow: 2, timeout: 30 };
const inventory = appSpec('inventory', { pgbouncer: true, pool, processes: 8 });
const orders = appSpec('orders', { stack: 'typescript', pgbouncer: true, port: 8002 });
const direct = appSpec('direct', { port: 8003 });

function run(specs: ReturnType<typeof appSpec>[], env = '') {
  const apps = specs.map((spec) => ({ dir: spec.names.slug, spec }));
  const files: Record<string, string> = { 'apps.compose.yaml': appsComposeFile(apps, DB, DEFAULT_STYLE).text, '.env': env };
  const out = pgbouncerKind({ root: ROOT, apps, read: (f) => files[path.relative(ROOT, f)] });
  return { files, out: new Map(out.map((f) => [f.path, f])) };
}

const ENV = [
  "INVENTORY_DB_VERIFIER='SCRAM-SHA-256$4096:aW52$c3Q=:c2s='",
  "ORDERS_DB_VERIFIER='SCRAM-SHA-256$4096:b3Jk$c3Q=:c2s='",
  "DIRECT_DB_VERIFIER='SCRAM-SHA-256$4096:ZGly$c3Q=:c2s='",
].join('\n');

describe('pgbouncer files derived from the apps', () => {
  it('an entry per --pgbouncer app with its pool, the verifiers in the userlist, the database reached as ovu-db-init reaches it', () => {
    const { files, out } = run([inventory, orders, direct], ENV);
    expect(parse(files['apps.compose.yaml']!).include).toContain('pgbouncer/compose.yaml');
    const ini = out.get('pgbouncer/pgbouncer.ini')!.text!;
    expect(ini).toContain('inventory_db = host=db port=5432 dbname=inventory_db pool_size=6 max_db_connections=6\n');
    expect(ini).toContain('orders_db = host=db port=5432 dbname=orders_db pool_size=30 max_db_connections=30\n');
    expect(ini).not.toContain('direct_db');
    expect(ini).toMatch(/^pool_mode = transaction$/m);
    expect(ini).toMatch(/^auth_type = scram-sha-256$/m);
    expect(out.get('pgbouncer/userlist.txt')!.text).toBe(
      '; pgbouncer/userlist.txt: written by create-ovu-app from the apps in this workspace; do not edit.\n"inventory_user" "SCRAM-SHA-256$4096:aW52$c3Q=:c2s="\n"orders_user" "SCRAM-SHA-256$4096:b3Jk$c3Q=:c2s="\n',
    );
    expect(out.get('.gitignore')!.text).toContain('/pgbouncer/userlist.txt\n');
    const svc = parse(out.get('pgbouncer/compose.yaml')!.text!).services['ovu-pgbouncer'];
    expect(svc.networks).toEqual(['backend']);
  });

  it('no --pgbouncer app: no files, no include', () => {
    const { files, out } = run([direct], ENV);
    expect(parse(files['apps.compose.yaml']!).include).not.toContain('pgbouncer/compose.yaml');
    expect([...out.values()].every((f) => f.text === undefined)).toBe(true);
  });

  it("the app's URL goes through ovu-pgbouncer; its CONNECTION LIMIT is PgBouncer's pool + 1, whatever the processes", () => {
    const env = (yToJS(appService(inventory, 'db', 'ULM_SERVICE_TOKEN')) as { environment: Record<string, string> }).environment;
    expect(env['DATABASE_URL']).toBe('postgresql://inventory_user:${INVENTORY_DB_PASSWORD}@ovu-pgbouncer:6432/inventory_db');
    expect(env['DB_PGBOUNCER']).toBe('true');
    const ts = (yToJS(appService(orders, 'db', 'ULM_SERVICE_TOKEN')) as { environment: Record<string, string> }).environment;
    expect(ts['DATABASE_URL']).toMatch(/@ovu-pgbouncer:6432\/orders_db\?pgbouncer=true$/);
    expect(serverConnectionLimit(inventory.settings)).toBe(7);
    expect(serverConnectionLimit({ ...inventory.settings, pgbouncer: false })).toBe(49);
    expect(initDbBlock(inventory)).toContain("CONNECTION LIMIT 7 = PgBouncer's pool for it (6 = pool 4 + overflow 2) + 1.");
  });
});
