/**
 * What a user wrote survives crashes and teammates: signals injected at each rename of the commit
 * (strace's syscall fault injection), then another run; and several runs started at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { adrWorkspace, appPassword, BIN, runCli, snapshotDir } from '../helpers/cli.ts';
import { composeConfig } from '../helpers/compose.ts';

/** Runs the CLI under strace, with `signal` delivered at the `n`th rename. */
async function runWithSignalAtRename(ws: string, signal: string, n: number) {
  return execa('strace', ['-f', '-qq', '-o', '/dev/null', '-e', `inject=rename:signal=${signal}:when=${n}`, process.execPath, BIN, 'inventory', '--yes', '--workspace', ws], {
    env: { CI: 'true', NO_COLOR: '1' },
    reject: false,
    timeout: 60_000,
  });
}

/** The app is all there or not there at all, and nothing of the commit is left over. */
function expectWholeOrAbsent(ws: string, slug: string): 'whole' | 'absent' {
  const files = fs.readdirSync(ws, { recursive: true }).map(String);
  expect(files.filter((f) => f.startsWith('.create-ovu-app') || f.endsWith('.tmp'))).toEqual([]);
  const apps = fs.existsSync(path.join(ws, 'apps.compose.yaml')) ? fs.readFileSync(path.join(ws, 'apps.compose.yaml'), 'utf8') : '';
  const initDb = fs.existsSync(path.join(ws, 'init-db.sql')) ? fs.readFileSync(path.join(ws, 'init-db.sql'), 'utf8') : '';
  const parts = [
    fs.existsSync(path.join(ws, slug, 'backend', 'app', 'main.py')),
    apps.includes(`- ${slug}/compose.yaml`),
    initDb.includes(`-- >>> create-ovu-app: ${slug}`),
    appPassword(ws, slug) !== undefined,
  ];
  expect(new Set(parts).size, `${slug}: ${JSON.stringify(parts)}`).toBe(1);
  return parts[0] ? 'whole' : 'absent';
}

describe('a signal at any rename of the commit', () => {
  for (const signal of ['SIGKILL', 'SIGTERM', 'SIGHUP', 'SIGINT']) {
    it(`${signal}: the next run finds the first app whole or absent, and no leftovers`, async () => {
      for (let n = 1; n <= 10; n++) {
        const ws = adrWorkspace();
        const before = snapshotDir(ws);
        const r = await runWithSignalAtRename(ws, signal, n);
        // The commit finishes first (it is all this run has to do), then the run ends.
        if (signal !== 'SIGKILL') expect(r.exitCode, `${signal} at rename ${n}: ${r.stderr}`).toBe(0);
        const next = await runCli(['crm', '--yes', '--workspace', ws]);
        expect(next.exitCode, next.stderr).toBe(0);
        const state = expectWholeOrAbsent(ws, 'inventory');
        // Every rename comes before the journal says done: a crash at any of them is rolled back.
        expect(state).toBe(signal === 'SIGKILL' ? 'absent' : 'whole');
        if (state === 'absent') {
          expect(next.stderr).toMatch(/rolled back an earlier run \(pid \d+\) that was interrupted while writing|removed the temporary files of an earlier run that was interrupted before it changed anything/);
          // Only crm's changes on top of the original workspace.
          expect(Object.keys(before).every((f) => fs.existsSync(path.join(ws, f)))).toBe(true);
        }
        expectWholeOrAbsent(ws, 'crm');
        await composeConfig(ws);
      }
    });
  }
});

describe('several runs at once on one workspace', () => {
  it('five names give five complete apps with distinct ports', async () => {
    const ws = adrWorkspace();
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
    const results = await Promise.all(names.map((n) => runCli([n, '--yes', '--workspace', ws], { timeout: 120_000 })));
    for (const r of results) expect(r.exitCode, r.stderr).toBe(0);
    for (const n of names) expect(expectWholeOrAbsent(ws, n)).toBe('whole');
    const ports = names.map((n) => parse(fs.readFileSync(path.join(ws, n, 'compose.yaml'), 'utf8')).services[`${n}-backend`].ports[0]);
    expect(new Set(ports).size).toBe(5);
    const project = await composeConfig(ws);
    expect(Object.keys(project.services)).toEqual(expect.arrayContaining(names.map((n) => `${n}-backend`)));
    expect(results.some((r) => /waiting for another create-ovu-app run/.test(r.stderr))).toBe(true);
  });

  it('the same name twice gives one app and one clear refusal', async () => {
    const ws = adrWorkspace();
    const results = await Promise.all([1, 2].map(() => runCli(['inventory', '--yes', '--workspace', ws], { timeout: 120_000 })));
    expect(results.map((r) => r.exitCode).sort()).toEqual([0, 2]);
    expect(results.find((r) => r.exitCode === 2)!.stderr).toMatch(/inventory\/ already exists: choose another name, or pass --force/);
    expect(expectWholeOrAbsent(ws, 'inventory')).toBe('whole');
  });

  it('a lock left by a dead process is taken over; a live one makes the run wait, then give up', async () => {
    const ws = adrWorkspace();
    fs.mkdirSync(path.join(ws, '.create-ovu-app'));
    fs.writeFileSync(path.join(ws, '.create-ovu-app', 'lock'), JSON.stringify({ pid: 999_999_999, host: (await import('node:os')).hostname(), since: 'then' }));
    expect((await runCli(['alpha', '--yes', '--workspace', ws])).exitCode).toBe(0);
    fs.mkdirSync(path.join(ws, '.create-ovu-app'));
    fs.writeFileSync(path.join(ws, '.create-ovu-app', 'lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), since: 'now' }));
    const before = snapshotDir(ws);
    const r = await runCli(['bravo', '--yes', '--workspace', ws], { env: { OVU_LOCK_TIMEOUT: '1' } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`another create-ovu-app run \\(pid ${process.pid} on .*\\) is changing ${ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: wait for it to finish`));
    expect(snapshotDir(ws)).toEqual(before);
  });
});
