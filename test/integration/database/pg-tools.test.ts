/**
 * Which pg_dump and pg_restore backup, restore and remove run (src/database/pg-tools.ts): stand-in
 * programs that print a version, on a PATH of their own, beside whatever the machine has in
 * /usr/lib/postgresql (its majors are read from there too, so the expectations use majors no
 * machine has: 90 to 93).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPgTool, toolConnection } from '../../../src/database/pg-tools.ts';
import { UserError } from '../../../src/errors.ts';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ovu-pgtools-'));
/** A directory with pg_dump and pg_restore that say they are `version`. */
function client(version: string): string {
  const dir = path.join(base, version);
  fs.mkdirSync(dir, { recursive: true });
  for (const tool of ['pg_dump', 'pg_restore']) {
    fs.writeFileSync(path.join(dir, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) ${version}"\n`, { mode: 0o755 });
  }
  return dir;
}
const v90 = client('90.1');
const v92 = client('92.3');
const v93 = client('93.0');
const PATH = [v93, v90, v92, '/usr/bin', '/bin'].join(':');

afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('findPgTool', () => {
  it("takes the server's own major, wherever it is on PATH", async () => {
    expect(await findPgTool('pg_dump', 92, '92.1', { PATH })).toMatchObject({ path: path.join(v92, 'pg_dump'), major: 92, version: '92.3' });
    expect(await findPgTool('pg_restore', 90, '90.0', { PATH })).toMatchObject({ path: path.join(v90, 'pg_restore') });
  });

  it('else the oldest newer pg_dump, and the newest pg_restore', async () => {
    expect((await findPgTool('pg_dump', 91, '91.0', { PATH })).major).toBe(92);
    expect((await findPgTool('pg_restore', 91, '91.0', { PATH })).major).toBe(93);
  });

  it('OVU_PG_BIN wins when it can do the job', async () => {
    expect((await findPgTool('pg_dump', 90, '90.0', { PATH, OVU_PG_BIN: v93 })).path).toBe(path.join(v93, 'pg_dump'));
    // Too old for the server: the others are looked at.
    expect((await findPgTool('pg_dump', 92, '92.0', { PATH, OVU_PG_BIN: v90 })).major).toBe(92);
  });

  it('a server newer than every pg_dump: one line naming the client to install', async () => {
    const err = await findPgTool('pg_dump', 95, '95.2', { PATH }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `pg_dump 93.0 (${path.join(v93, 'pg_dump')}) cannot dump PostgreSQL 95.2, a newer major: install postgresql-client-95 (or use the server image's own, e.g. docker compose exec postgres pg_dump), or set OVU_PG_BIN to the bin directory of a pg_dump 95 or newer.`,
    );
  });
});

describe('toolConnection', () => {
  it('keeps the password out of the URL the tool gets on its command line', () => {
    const c = toolConnection('postgresql://admin:s%40cret@db.example:6432/postgres?sslmode=require&password=other', 'shop_db', 's@cret');
    expect(c.dbname).toBe('postgresql://admin@db.example:6432/shop_db?sslmode=require');
    expect(c.env).toEqual({ PGPASSWORD: 's@cret' });
  });
});
