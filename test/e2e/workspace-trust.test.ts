/**
 * A workspace a teammate's branch or a crash has left in a bad state, through the built CLI: an
 * answers file that cannot be read stops every command that writes the files computed from the
 * apps (nothing written), and read-only commands report it; a commit killed half-way is noticed by
 * every command, read-only ones included.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { adrWorkspace, BIN, runCli, snapshotDir, tempDir } from '../helpers/cli.ts';

const adminUrl = inject('adminUrl');

/** A workspace with two crud apps (one through PgBouncer) and a readonly one. */
async function threeApps(): Promise<string> {
  const ws = adrWorkspace({ roomy: true });
  for (const args of [['inventory'], ['billing', '--pgbouncer'], ['reports', '--kind', 'readonly']]) {
    const r = await runCli([...args, '--yes', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
  }
  return ws;
}

const answersOf = (ws: string, app: string): string => path.join(ws, app, '.ovu-app.json');

const TAMPERED: [string, (text: string) => string, RegExp][] = [
  ['git merge-conflict markers', (t) => t.replace('"port": ', '<<<<<<< HEAD\n  "port": 8010,\n=======\n  "port": ').replace(/\n}\n?$/, '\n>>>>>>> theirs\n}\n'), /inventory\/\.ovu-app\.json has git merge-conflict markers/],
  ['invalid JSON', (t) => t.slice(0, -5), /inventory\/\.ovu-app\.json is not valid JSON/],
  ['another shape', () => JSON.stringify({ generator: 'create-ovu-app', version: '0.2.0', answers: { name: 'inventory', stack: 'cobol' } }), /inventory\/\.ovu-app\.json is not valid \(/],
  ['another app\'s answers', (t) => t.replace(/"name": "inventory"/, '"name": "payroll"'), /inventory\/\.ovu-app\.json names the app "payroll", not "inventory"/],
];

describe('an answers file that cannot be read', () => {
  it.each(TAMPERED)('%s: every command that writes the derived files stops, naming it; list and doctor report it', async (_label, tamper, named) => {
    const ws = await threeApps();
    fs.writeFileSync(answersOf(ws, 'inventory'), tamper(fs.readFileSync(answersOf(ws, 'inventory'), 'utf8')));
    const before = snapshotDir(ws);
    for (const args of [['crm'], ['crm', '--dry-run'], ['update', 'billing'], ['update', 'billing', '--dry-run'], ['remove', 'billing', '--keep-db'], ['remove', 'reports'], ['doctor', '--fix', '--admin-url', adminUrl]]) {
      const r = await runCli([...args, '--yes', '--workspace', ws]);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(named);
      expect(lines[0]).toMatch(/will not leave inventory out of them: nothing was written\.$/);
      expect(snapshotDir(ws), args.join(' ')).toEqual(before);
    }

    const list = await runCli(['list', '--workspace', ws]);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^inventory +✖ .*${named.source}`, 'm'));
    expect(list.stdout).toMatch(/^billing +python +crud/m);

    const doctor = await runCli(['doctor', '--json', '--admin-url', adminUrl, '--workspace', ws]);
    expect(doctor.exitCode).toBe(1);
    const checks = JSON.parse(doctor.stdout).checks as { id: string; status: string; message: string; fixable: boolean }[];
    expect(checks.find((c) => c.id === 'app.inventory.answers')).toMatchObject({ status: 'failed', message: expect.stringMatching(named) });
    // The derived files are not offered for rewriting without inventory.
    expect(checks.find((c) => c.id === 'workspace.derived')).toMatchObject({ status: 'failed', fixable: false });
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('new --force may replace the app whose answers file is broken (that app is not dropped, it is written again)', async () => {
    const ws = await threeApps();
    fs.writeFileSync(answersOf(ws, 'inventory'), '<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> x\n');
    const r = await runCli(['inventory', '--force', '--yes', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    const apps = fs.readFileSync(path.join(ws, 'apps.compose.yaml'), 'utf8');
    for (const app of ['billing', 'inventory', 'reports']) expect(apps).toContain(`- ${app}/compose.yaml`);
  });
});

/** `new inventory` killed (SIGKILL) at the `n`th rename of its commit. */
async function killedNew(ws: string, n: number): Promise<void> {
  await execa('strace', ['-f', '-qq', '-o', '/dev/null', '-e', `inject=rename:signal=SIGKILL:when=${n}`, process.execPath, BIN, 'inventory', '--yes', '--workspace', ws], {
    env: { CI: 'true', NO_COLOR: '1' },
    reject: false,
    timeout: 60_000,
  });
}

describe('a commit killed half-way', () => {
  it.each([
    ['list', ['list']],
    ['doctor', ['doctor', '--admin-url']],
    ['new --dry-run', ['crm', '--dry-run']],
    ['update --dry-run', ['update', 'billing', '--dry-run']],
  ])('%s rolls it back under the lock and says so', async (_label, args) => {
    const ws = adrWorkspace();
    expect((await runCli(['billing', '--yes', '--workspace', ws])).exitCode).toBe(0);
    const before = snapshotDir(ws);
    await killedNew(ws, 4);
    expect(fs.existsSync(path.join(ws, '.create-ovu-app', 'journal.json'))).toBe(true);
    const argv = args.includes('--admin-url') ? [...args, adminUrl] : args;
    const r = await runCli([...argv, '--workspace', ws]);
    expect(r.stderr).toMatch(/rolled back an earlier run \(pid \d+\) that was interrupted while writing/);
    expect(r.stdout).not.toMatch(/^inventory/m);
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('when the lock is held by a live run, list marks the half-made app instead of showing it as normal', async () => {
    const ws = adrWorkspace();
    await killedNew(ws, 4);
    expect(fs.existsSync(path.join(ws, 'inventory', '.ovu-app.json'))).toBe(true);
    fs.writeFileSync(path.join(ws, '.create-ovu-app', 'lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), since: 'now' }));
    const r = await runCli(['list', '--workspace', ws]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/another create-ovu-app run is writing .* now/);
    expect(r.stdout).toMatch(/^inventory +✖ half-made: /m);
    expect(r.stdout).not.toMatch(/^inventory +python/m);
    const doctor = await runCli(['doctor', '--json', '--admin-url', adminUrl, '--workspace', ws]);
    expect(JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === 'workspace.journal')).toMatchObject({ status: 'failed' });
  });
});

describe('every byte of the team\'s files', () => {
  it('a UTF-8 byte-order mark at the start of the compose file and of .env is kept; Compose reads the result', async () => {
    const ws = adrWorkspace();
    const compose = path.join(ws, 'docker-compose.yml');
    fs.writeFileSync(compose, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fs.readFileSync(compose)]));
    fs.writeFileSync(path.join(ws, '.env'), '\uFEFFULM_TOKEN=t\n');
    const original = fs.readFileSync(compose);
    const dry = await runCli(['inventory', '--dry-run', '--verbose', '--yes', '--workspace', ws]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    // The diff shows only the include: the first line (with its mark) is not changed.
    expect(dry.stdout + dry.stderr).not.toContain('<U+FEFF>');
    const r = await runCli(['inventory', '--yes', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    const after = fs.readFileSync(compose);
    expect([...after.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(after.subarray(0, original.length).equals(original)).toBe(true);
    expect([...fs.readFileSync(path.join(ws, '.env')).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const { composeConfig } = await import('../helpers/compose.ts');
    expect(Object.keys((await composeConfig(ws)).services)).toContain('inventory-backend');
  });
});

describe('a compose file of several YAML documents', () => {
  it('is read as Compose merges it, every byte kept; Compose resolves the result', async () => {
    const ws = tempDir('ovu-multidoc-');
    const source = 'services:\n  postgres:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${PG_PW:-pw}\n---\nservices:\n  ulm-backend:\n    image: nginx\n    ports: ["8001:80"]\n---\nservices:\n  postgres:\n    ports: ["5432:5432"]\n';
    fs.writeFileSync(path.join(ws, 'docker-compose.yml'), source);
    const r = await runCli(['inventory', '--yes', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(ws, 'docker-compose.yml'), 'utf8').startsWith(source)).toBe(true);
    const { composeConfig } = await import('../helpers/compose.ts');
    const project = await composeConfig(ws);
    // The port of the second document is taken: the app got the next one.
    expect(project.services['inventory-backend'].ports).toMatchObject([{ published: '8002' }]);
    expect(project.services['ovu-db-init'].environment).toMatchObject({ PGHOST: 'postgres', PGPASSWORD: 'pw' });
  });
});

describe('an init-db.sql that would not run', () => {
  it('doctor fails it (✖, exit 1); new will not rewrite it', async () => {
    const ws = adrWorkspace();
    expect((await runCli(['inventory', '--yes', '--workspace', ws])).exitCode).toBe(0);
    const file = path.join(ws, 'init-db.sql');
    const sql = fs.readFileSync(file, 'utf8');
    const doctor = async () => {
      const r = await runCli(['doctor', '--json', '--admin-url', adminUrl, '--workspace', ws]);
      return { exitCode: r.exitCode, check: (JSON.parse(r.stdout).checks as { id: string; status: string; message: string }[]).find((c) => c.id === 'workspace.init-db') };
    };
    expect((await doctor()).check).toMatchObject({ status: 'ok' });
    fs.writeFileSync(file, sql.replace('-- >>> create-ovu-app: inventory', '<<<<<<< HEAD\n-- mine\n=======\n-- theirs\n>>>>>>> feature\n-- >>> create-ovu-app: inventory'));
    const conflicted = await doctor();
    expect(conflicted.exitCode).toBe(1);
    expect(conflicted.check).toMatchObject({ status: 'failed', message: expect.stringMatching(/^init-db\.sql:\d+: a git merge-conflict marker \(<<<<<<<\).*ovu-db-init would fail for every app$/) });
    const before = snapshotDir(ws);
    const r = await runCli(['crm', '--yes', '--workspace', ws]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error: init-db\.sql:\d+: a git merge-conflict marker .*nothing was written\.$/);
    expect(snapshotDir(ws)).toEqual(before);
    fs.writeFileSync(file, `${sql}SELECT 'unfinished;\n`);
    expect((await doctor()).check).toMatchObject({ status: 'failed', message: expect.stringMatching(/a quoted string that is never closed/) });
  });
});

describe('a workspace .env that git tracks', () => {
  it('new warns (one line, in --dry-run too) that it would write secrets into it, and says how to untrack it', async () => {
    const ws = adrWorkspace();
    const git = (...args: string[]) => execa('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: ws });
    await git('init', '-q');
    fs.writeFileSync(path.join(ws, '.env'), 'ULM_TOKEN=\n');
    await git('add', '.env', 'docker-compose.yml');
    await git('commit', '-qm', 'team');
    const warning = /^! git tracks \.env, and this run writes secrets into it: untrack it with `git rm --cached \.env`/m;
    const dry = await runCli(['inventory', '--dry-run', '--workspace', ws]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(warning);
    expect(dry.stderr.split('\n').filter((l) => l.includes('git tracks'))).toHaveLength(1);
    const r = await runCli(['inventory', '--yes', '--workspace', ws]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(warning);
    // Untracked, the next app is written without a word about it.
    await git('rm', '-q', '--cached', '.env');
    const next = await runCli(['crm', '--yes', '--workspace', ws]);
    expect(next.exitCode).toBe(0);
    expect(next.stderr).not.toMatch(/git tracks/);
    // The verifiers' own file, forced into git, is named the same way.
    await git('add', '-f', 'ovu-db-init/verifiers/.env');
    const forced = await runCli(['sales', '--dry-run', '--workspace', ws]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/^! git tracks ovu-db-init\/verifiers\/\.env, and this run writes secrets into it: untrack it with `git rm --cached ovu-db-init\/verifiers\/\.env`/m);
  });
});
