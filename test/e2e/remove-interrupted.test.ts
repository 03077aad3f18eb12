/**
 * remove killed (SIGKILL) while pg_dump runs, through the built CLI against the suite's real
 * PostgreSQL: the login it closed for the dump must not stay closed with nobody told. The partial
 * dump is 0600 from its first byte; every later run that opens the workspace says what is down
 * and how to mend it; remove run again opens the login when its dump fails, or finishes.
 * A stand-in pg_dump (OVU_PG_BIN) writes a few bytes and then waits, so the kill lands in the dump.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { BIN, runCli, tempDir } from '../helpers/cli.ts';
import { canConnect, urlFor, withClient } from '../helpers/postgres.ts';
import { readEnvVar } from '../../src/workspace/env-file.ts';

const adminUrl = inject('adminUrl');

/** A pg_dump stand-in: `slow` writes to --file and waits; `fail` exits 1. Its pid goes to <dir>/pid. */
function fakePgDump(mode: 'slow' | 'fail'): string {
  const dir = tempDir('ovu-fake-pgdump-');
  const body =
    mode === 'slow'
      ? `for a in "$@"; do case "$a" in --file=*) f="\${a#--file=}";; esac; done
printf 'PGDMP half a dump' >> "$f"
echo $$ > ${JSON.stringify(path.join(dir, 'pid'))}
exec sleep 120`
      : `echo "pg_dump: error: connection to server failed (stand-in)" >&2
exit 1`;
  fs.writeFileSync(path.join(dir, 'pg_dump'), `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi\n${body}\n`, { mode: 0o755 });
  return dir;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('remove killed during its pg_dump', () => {
  it('leaves a 0600 partial dump and a note; the next run says how to mend it; remove again opens the login when its dump fails, then finishes', async () => {
    const ws = tempDir();
    const app = `rk${randomBytes(3).toString('hex')}`;
    const made = await runCli([app, '--yes', '--create-db', '--admin-url', adminUrl, '--workspace', ws]);
    expect(made.exitCode, made.stderr).toBe(0);
    const password = readEnvVar(fs.readFileSync(path.join(ws, app, '.env'), 'utf8'), `${app.toUpperCase()}_DB_PASSWORD`)!;
    const appUrl = urlFor(adminUrl, `${app}_user`, password, `${app}_db`);
    await withClient(appUrl, (c) => c.query('CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2)'));

    const slow = fakePgDump('slow');
    const run = execa(process.execPath, [BIN, 'remove', app, '--yes', '--admin-url', adminUrl, '--workspace', ws], { env: { CI: 'true', NO_COLOR: '1', OVU_PG_BIN: slow }, reject: false });
    await until(() => fs.existsSync(path.join(slow, 'pid')), 'the stand-in pg_dump to start');
    const partials = fs.readdirSync(path.join(ws, 'backups', app)).filter((f) => f.endsWith('.partial'));
    expect(partials).toHaveLength(1);
    expect(fs.statSync(path.join(ws, 'backups', app, partials[0]!)).mode & 0o777).toBe(0o600);
    run.kill('SIGKILL');
    await run;
    process.kill(Number(fs.readFileSync(path.join(slow, 'pid'), 'utf8')), 'SIGKILL');

    // The kill landed after NOLOGIN: the app is down, and the workspace knows it.
    expect(await canConnect(appUrl)).toBe('28000');
    expect(fs.existsSync(path.join(ws, app))).toBe(true);

    // Any run that opens the workspace says so, and how to mend it.
    const other = await runCli([`${app}x`, '--yes', '--workspace', ws]);
    expect(other.exitCode, other.stderr).toBe(0);
    expect(other.stderr).toMatch(new RegExp(`${app}_user cannot log in at \\S+ since \\S+: a remove of ${app} was interrupted after closing its login \\(NOLOGIN\\) for the dump, so ${app} is down\\. Run \`.*remove ${app} --yes.*\` to finish the removal .*ALTER ROLE ${app}_user LOGIN`));
    const doctor = await runCli(['doctor', '--admin-url', adminUrl, '--workspace', ws]);
    expect(doctor.stderr).toContain(`${app}_user cannot log in at`);
    const dry = await runCli(['remove', app, '--dry-run', '--admin-url', adminUrl, '--workspace', ws]);
    expect(dry.stdout + dry.stderr).toContain(`${app}_user has been NOLOGIN since an interrupted remove`);

    // remove again, whose dump fails: the login it finds closed is opened again, nothing dropped.
    const failing = await runCli(['remove', app, '--yes', '--admin-url', adminUrl, '--workspace', ws], { env: { OVU_PG_BIN: fakePgDump('fail') } });
    expect(failing.exitCode, failing.stderr).toBe(1);
    expect(failing.stderr).toMatch(/pg_dump of .* failed: .*stand-in.*nothing was dropped/);
    expect(await canConnect(appUrl)).toBe(true);
    expect(await withClient(appUrl, async (c) => (await c.query('SELECT count(*)::int AS n FROM items')).rows)).toEqual([{ n: 2 }]);
    const quiet = await runCli(['backup', app, '--admin-url', adminUrl, '--workspace', ws]);
    expect(quiet.exitCode, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('cannot log in');

    // And with the real pg_dump it finishes: a whole dump, 0600, then the drops.
    const done = await runCli(['remove', app, '--yes', '--admin-url', adminUrl, '--workspace', ws]);
    expect(done.exitCode, done.stderr).toBe(0);
    const dumps = fs.readdirSync(path.join(ws, 'backups', app)).filter((f) => f.endsWith('.dump'));
    for (const f of dumps) expect(fs.statSync(path.join(ws, 'backups', app, f)).mode & 0o777).toBe(0o600);
    expect(await canConnect(appUrl)).not.toBe(true);
    const state = path.join(ws, '.create-ovu-app');
    expect(fs.existsSync(state) ? fs.readdirSync(state).filter((f) => f.startsWith('closed-login-')) : []).toEqual([]);
  });
});
