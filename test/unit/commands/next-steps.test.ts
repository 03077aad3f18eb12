import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_PREFIX, continueCommand, nextSteps } from '../../../src/commands/next-steps.ts';
import { ULM_DEV_TOKEN, ULM_DEV_URL } from '../../../src/workspace/ulm-dev/names.ts';
import type { Workspace } from '../../../src/workspace/workspace.ts';
import { appSpec } from '../../helpers/spec.ts';

const root = path.resolve('/srv/platform');
const ws: Workspace = {
  root,
  composeFile: path.join(root, 'docker-compose.yml'),
  initDbFile: path.join(root, 'init-db.sql'),
  envFile: path.join(root, '.env'),
  envExampleFile: path.join(root, '.env.example'),
  gitignoreFile: path.join(root, '.gitignore'),
};
const npm = { name: 'npm' as const };
const tools = { pm: npm, python: 'pip' as const };
const invoked = { pm: npm, runner: ['node', '/src/create-ovu-app/bin/create-ovu-app.js'] };
const done = { installed: true, provisioned: true, migrated: true };
const backend = (slug: string) => path.join(root, slug, 'backend');

describe('next steps end in a working request', () => {
  it('a Python crud app with the development ULM: both started, then a curl with a seeded token to the items route', () => {
    const spec = appSpec('inventory', { ulmUrl: ULM_DEV_URL });
    const steps = nextSteps(spec, ws, backend('inventory'), done, tools, invoked);
    expect(steps.slice(1)).toEqual([
      '.venv/bin/pytest',
      'node ../../ulm-dev/server.mjs & .venv/bin/uvicorn app.main:app --port 8001   # the development ULM (http://127.0.0.1:8100) in the background, then the app on port 8001',
      "curl -H 'Authorization: Bearer dev-token-ada' http://localhost:8001/api/v1/items   # from another terminal: 200 with the items (dev-token-ada is a development token of ulm-dev/users.json)",
      'docker compose -f ../../docker-compose.yml up --build inventory-backend   # or all of it in Docker, ovu-ulm-dev included; then open http://localhost:8001/docs',
    ]);
  });

  it('a TypeScript readonly app: its package manager runs it, and the request reads a user', () => {
    const spec = appSpec('reports', { stack: 'typescript', kind: 'readonly', port: 8002, ulmUrl: ULM_DEV_URL });
    const steps = nextSteps(spec, ws, backend('reports'), { installed: true, provisioned: false, migrated: false }, { ...tools, pm: { name: 'pnpm', major: 9 } }, invoked);
    expect(steps).toContain('node ../../ulm-dev/server.mjs & pnpm run dev   # the development ULM (http://127.0.0.1:8100) in the background, then the app on port 8002');
    expect(steps.some((s) => s.startsWith(`curl -H 'Authorization: Bearer ${ULM_DEV_TOKEN}' http://localhost:8002${API_PREFIX}/users/u-1`))).toBe(true);
  });

  it('with a ULM of its own: only the app is started, and the token is the ULM’s', () => {
    const steps = nextSteps(appSpec('inventory'), ws, backend('inventory'), done, tools, invoked);
    expect(steps.join('\n')).not.toContain('ulm-dev');
    expect(steps).toContain('.venv/bin/uvicorn app.main:app --port 8001   # the app on port 8001, with ULM at the ULM_BASE_URL of backend/.env');
    expect(steps).toContain('curl -H "Authorization: Bearer $ULM_TOKEN" http://localhost:8001/api/v1/items   # from another terminal, with ULM_TOKEN a token your ULM accepts: 200 with the items');
  });

  it("the token and the user are the development ULM's seeded ones", () => {
    const users = JSON.parse(fs.readFileSync(new URL('../../../templates/ulm-dev/common/users.json', import.meta.url), 'utf8')) as { users: { id: string }[]; tokens: Record<string, string> };
    expect(users.tokens[ULM_DEV_TOKEN]).toBe('u-1');
    expect(users.users.map((u) => u.id)).toContain('u-1');
  });

  it('the provision step and the line after Ctrl-C name the CLI as it was started', () => {
    const spec = appSpec('inventory', { ulmUrl: ULM_DEV_URL });
    const notYet = { installed: true, provisioned: false, migrated: false };
    expect(nextSteps(spec, ws, backend('inventory'), notYet, tools, invoked)).toContain(
      "node /src/create-ovu-app/bin/create-ovu-app.js provision inventory --migrate --workspace ../.. --admin-url postgresql://postgres@localhost:5432/postgres   # creates inventory_db and inventory_user, then migrates; with PGPASSWORD set to the database's superuser password (its POSTGRES_PASSWORD)",
    );
    expect(continueCommand(spec, ws, backend('inventory'), notYet, tools, invoked)).toMatch(
      /&& node \/src\/create-ovu-app\/bin\/create-ovu-app\.js provision inventory --migrate --workspace \.\.\/\.\. --admin-url postgresql:\/\/postgres@localhost:5432\/postgres   # with PGPASSWORD set to the database's superuser password \(its POSTGRES_PASSWORD\)$/,
    );
  });

  it('the provision step repeats the server the run was given, without its password', () => {
    const spec = appSpec('inventory', { ulmUrl: ULM_DEV_URL });
    const notYet = { installed: true, provisioned: false, migrated: false };
    const given = { ...invoked, adminUrl: 'postgresql://admin:s3cret@db.example:5433/postgres' };
    const step = nextSteps(spec, ws, backend('inventory'), notYet, tools, given).find((l) => l.includes(' provision '))!;
    expect(step).toContain('--admin-url postgresql://admin@db.example:5433/postgres');
    expect(step).toContain('with PGPASSWORD set: the password is not repeated here');
    expect(step).not.toContain('s3cret');
    expect(step).not.toContain('localhost:5432');
  });
});
