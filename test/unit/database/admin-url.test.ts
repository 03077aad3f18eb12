import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { redactUrl, resolveAdminUrl } from '../../../src/database/admin-url.ts';

describe('resolveAdminUrl / redactUrl', () => {
  it('prefers the flag, then PG* variables, then the default', () => {
    expect(resolveAdminUrl('postgresql://a:b@h:1/d', { PGHOST: 'x' })).toBe('postgresql://a:b@h:1/d');
    expect(resolveAdminUrl(undefined, {})).toBe('postgresql://postgres:postgres@localhost:5432/postgres');
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
