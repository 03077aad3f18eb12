import { describe, expect, it } from 'vitest';
import { readServerRecord, recordValue } from '../../../src/database/server-record.ts';

const from = (env: string) => (file: string) => (file.endsWith('/app/.env') ? env : undefined);

describe('the recorded server (OVU_DB_SERVER in <app>/.env)', () => {
  it('keeps no password and no query', () => {
    expect(recordValue('postgresql://admin:hunter2@db.internal:6543/main?sslmode=require&password=x')).toBe('postgresql://admin@db.internal:6543/main');
  });

  it('reads what provision writes', () => {
    expect(readServerRecord('/ws/app', from('OVU_DB_SERVER=postgresql://admin@db.internal:6543/main\n'))).toEqual({ host: 'db.internal', port: 6543, user: 'admin', database: 'main', localDefault: false });
    expect(readServerRecord('/ws/app', from('OVU_DB_SERVER=postgresql://postgres@localhost:5432/postgres\nOVU_DB_SERVER_LOCAL_DEFAULT=1\n'))?.localDefault).toBe(true);
  });

  it('ignores a record provision would not write: a password, a query (host=, sslmode), another scheme, no host', () => {
    for (const value of ['postgresql://admin:pw@evil.example/postgres', 'postgresql://admin@db/postgres?host=/tmp', 'mysql://admin@db/x', 'postgresql:///postgres', 'not a url']) {
      expect(readServerRecord('/ws/app', from(`OVU_DB_SERVER=${value}\n`)), value).toBeUndefined();
    }
    expect(readServerRecord('/ws/app', from(''))).toBeUndefined();
  });
});
