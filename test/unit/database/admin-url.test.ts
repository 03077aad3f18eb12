import { describe, expect, it } from 'vitest';
import { UsageError, UserError } from '../../../src/errors.ts';
import { LOCAL_DEFAULT_ADMIN_URL, adminUrlProblem, describeServer, parseAdminUrl, redactUrl, resolveAdmin, resolveAdminUrl } from '../../../src/database/admin-url.ts';

describe('resolveAdminUrl / redactUrl', () => {
  it('prefers the flag, then PG* variables, then (for new --create-db only) the local default', () => {
    expect(resolveAdminUrl('postgresql://a:b@h:1/d', { PGHOST: 'x' })).toBe('postgresql://a:b@h:1/d');
    expect(resolveAdminUrl(undefined, {}, { localDefault: true })).toBe('postgresql://postgres:postgres@localhost:5432/postgres');
    expect(resolveAdminUrl(undefined, { PGHOST: 'db', PGPORT: '6543', PGUSER: 'admin', PGPASSWORD: 'p@ss:w/rd', PGDATABASE: 'main' })).toBe(
      'postgresql://admin:p%40ss%3Aw%2Frd@db:6543/main',
    );
    expect(resolveAdminUrl(undefined, { PGPASSWORD: 's3cret' })).toBe('postgresql://postgres:s3cret@localhost:5432/postgres');
    expect(() => resolveAdminUrl('mysql://x@y/z', {})).toThrow(UserError);
  });

  it('hides passwords', () => {
    expect(redactUrl('postgresql://postgres:hunter2@localhost:5432/postgres')).toBe('postgresql://postgres:***@localhost:5432/postgres');
    expect(redactUrl('postgresql://postgres@localhost/postgres')).toBe('postgresql://postgres@localhost/postgres');
    expect(redactUrl('postgresql://u@h/d?password=hunter2&sslmode=require')).toBe('postgresql://u@h/d?password=***&sslmode=require');
    expect(redactUrl('not a url postgres://u:hunter2@h')).not.toContain('hunter2');
  });

  it('a password given through PG* variables is redacted too', () => {
    const url = resolveAdminUrl(undefined, { PGPASSWORD: 'topsecret' });
    expect(redactUrl(url)).not.toContain('topsecret');
  });
});

describe('no silent default server', () => {
  it('nothing named and nothing recorded: a one-line usage error saying what to pass', () => {
    expect(() => resolveAdminUrl(undefined, {})).toThrow(UsageError);
    expect(() => resolveAdminUrl(undefined, {})).toThrow(/^no PostgreSQL server named: pass --admin-url postgresql:\/\/user:password@host:5432\/postgres, or set PGHOST/);
  });

  it('an empty --admin-url is an error, not the defaults (even with PG* set or a recorded server)', () => {
    const recorded = { host: 'db.internal', port: 5433, user: 'admin', database: 'postgres', localDefault: false };
    for (const flag of ['', '  ']) {
      expect(() => resolveAdminUrl(flag, { PGHOST: 'x', PGPASSWORD: 'p' }, { recorded, localDefault: true })).toThrow(/^--admin-url is empty/);
    }
  });

  it('the recorded server is used when neither the flag nor PG* name one; PG* fill in what it leaves out', () => {
    const recorded = { host: 'db.internal', port: 5433, user: 'admin', database: 'postgres', localDefault: false };
    expect(resolveAdmin(undefined, {}, { recorded })).toEqual({ url: 'postgresql://admin@db.internal:5433/postgres', source: 'recorded' });
    expect(resolveAdminUrl(undefined, { PGPASSWORD: 's3cret' }, { recorded })).toBe('postgresql://admin:s3cret@db.internal:5433/postgres');
    expect(resolveAdminUrl(undefined, { PGHOST: 'other' }, { recorded })).toBe('postgresql://admin@other:5433/postgres');
    expect(resolveAdminUrl('postgresql://u:p@flag:1/d', {}, { recorded })).toBe('postgresql://u:p@flag:1/d');
    // The local default's well-known password is marked in the record, never stored.
    expect(resolveAdminUrl(undefined, {}, { recorded: { host: 'localhost', port: 5432, user: 'postgres', database: 'postgres', localDefault: true } })).toBe(LOCAL_DEFAULT_ADMIN_URL);
  });

  it('describeServer names host:port/db and the user, never the password', () => {
    expect(describeServer('postgresql://admin:hunter2@db.example:6543/main')).toBe('db.example:6543/main as admin');
    expect(describeServer('postgresql://u@h/d')).toBe('h:5432/d as u');
    expect(describeServer('postgresql:///postgres?host=/run/postgresql&password=hunter2')).not.toContain('hunter2');
  });
});

describe('malformed admin URLs', () => {
  it.each([
    ['postgres:Secret123@db.example:5432/postgres', 'it must start with postgresql:// (or postgres://)'],
    ['postgresql:/Secret123@db.example/postgres', 'it must start with postgresql:// (or postgres://)'],
    ['mysql://root:Secret123@db.example/x', 'it must start with postgresql:// (or postgres://)'],
    ['postgresql://admin:Secret%ZZ123@db.example:5432/postgres', 'it has a % not followed by two hex digits (write a literal % in the password as %25)'],
    ['postgresql://admin:Secret123@db.example:99999/postgres', 'it does not parse as a URL'],
    ['postgresql://admin:Secret123@/postgres', 'it does not parse as a URL'],
    ['postgresql:///postgres?password=Secret123', 'it names no host'],
    ['postgresql://admin:Secret123@db.example:5432/post%ZZgres', 'it has a % not followed by two hex digits (write a literal % in the password as %25)'],
  ])('%s: a one-line exit-2 error that quotes none of it', (url, why) => {
    let error: unknown;
    try {
      parseAdminUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as UsageError).message;
    expect((error as UsageError).exitCode).toBe(2);
    expect(message).toBe(`--admin-url is not a valid postgresql:// URL: ${why}; expected postgresql://user:password@host:5432/postgres.`);
    expect(message).not.toContain('Secret');
    expect(message).not.toContain('db.example');
    expect(() => resolveAdminUrl(url, {})).toThrow(UsageError);
  });

  it('accepts what libpq accepts: postgres://, a socket directory in ?host=, IPv6, no password', () => {
    for (const url of [
      'postgres://u:p@h/d',
      'postgresql://u:p%25w@h:5432/d',
      'postgresql:///postgres?host=/var/run/postgresql',
      'postgresql://u@[::1]:5432/postgres',
      'POSTGRESQL://u@h/d',
    ]) {
      expect(adminUrlProblem(url), url).toBeUndefined();
    }
  });

  it('a bad PG* variable is named as such', () => {
    expect(() => resolveAdminUrl(undefined, { PGPORT: '70000' })).toThrow(/^the PG\* variables \(PGHOST, PGPORT, …\) is not a valid/);
  });
});
