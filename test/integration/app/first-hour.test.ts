/**
 * What a new user meets in the first hour, on a fresh workspace: no leftovers once the last app is
 * removed, a readonly app's backend/.env naming no password it does not have, and this clone never
 * taken for a workspace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runMainInProcess, tempDir } from '../../helpers/cli.ts';
import { composeConfig } from '../../helpers/compose.ts';

const files = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter((p) => !p.startsWith('.create-ovu-app'))
    .sort();

describe('the first hour', () => {
  it('removing the last app leaves no empty monitoring/, deploy/ or ulm-dev/, and no monitoring verifier', async () => {
    const ws = tempDir();
    expect(await runMainInProcess(['inventory', '--yes', '--workspace', ws])).toBe(0);
    expect(files(ws)).toEqual(expect.arrayContaining(['monitoring', 'deploy', 'ulm-dev']));
    expect(fs.readFileSync(path.join(ws, 'ovu-db-init', 'verifiers', '.env'), 'utf8')).toContain('OVU_MONITOR_DB_VERIFIER=');
    expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).not.toContain('_VERIFIER=');
    expect(await runMainInProcess(['remove', 'inventory', '--yes', '--keep-db', '--workspace', ws])).toBe(0);
    expect(files(ws)).toEqual(['.env', '.env.example', '.gitignore', 'apps.compose.yaml', 'docker-compose.yml']);
    expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).not.toMatch(/OVU_MONITOR|monitoring/);
  });

  it('a users.json the team changed stays when the last app leaves', async () => {
    const ws = tempDir();
    expect(await runMainInProcess(['inventory', '--yes', '--kind', 'readonly', '--workspace', ws])).toBe(0);
    fs.appendFileSync(path.join(ws, 'ulm-dev/users.json'), '\n');
    expect(await runMainInProcess(['remove', 'inventory', '--yes', '--workspace', ws])).toBe(0);
    expect(files(ws).filter((f) => f.startsWith('ulm-dev'))).toEqual(['ulm-dev', 'ulm-dev/users.json']);
  });

  it('the development ULM joins the network the apps reach their database on (real Compose)', async () => {
    const ws = tempDir();
    fs.writeFileSync(
      path.join(ws, 'docker-compose.yml'),
      'services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: example\n    networks: [backend]\nnetworks:\n  backend: {}\n',
    );
    expect(await runMainInProcess(['inventory', '--yes', '--workspace', ws])).toBe(0);
    const project = await composeConfig(ws);
    const app = project['services']['inventory-backend'];
    expect(Object.keys(app.networks)).toEqual(['backend']);
    expect(app.environment.ULM_BASE_URL).toBe('http://ovu-ulm-dev:8100');
    expect(app.depends_on['ovu-ulm-dev']).toMatchObject({ condition: 'service_healthy' });
    expect(Object.keys(project['services']['ovu-ulm-dev'].networks).sort()).toEqual(['backend', 'default']);
    expect(project['services']['ovu-ulm-dev'].profiles).toBeUndefined();
  });

  it("a readonly app's backend/.env names no database password", async () => {
    const ws = tempDir();
    expect(await runMainInProcess(['reports', '--yes', '--kind', 'readonly', '--workspace', ws])).toBe(0);
    const env = fs.readFileSync(path.join(ws, 'reports/backend/.env'), 'utf8');
    expect(env).not.toMatch(/DB_PASSWORD|database password/);
    expect(env).toContain('ULM_BASE_URL=http://127.0.0.1:8100');
  });

  it('run inside this clone without --workspace, it refuses and writes nothing there', async () => {
    const listing = () => [...fs.readdirSync(ROOT), ...fs.readdirSync(path.join(ROOT, 'src')).map((f) => `src/${f}`)].sort();
    const before = listing();
    const cwd = process.cwd();
    process.chdir(path.join(ROOT, 'src'));
    try {
      expect(await runMainInProcess(['inventory', '--yes'])).toBe(2);
    } finally {
      process.chdir(cwd);
    }
    expect(listing()).toEqual(before);
  });
});
