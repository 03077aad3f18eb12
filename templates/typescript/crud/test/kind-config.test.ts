/** A crud app's database settings and deadlines (src/kind-config.ts). */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.js';

describe('database settings', () => {
  it('has defaults', () => {
    expect(readConfig({}).database).toEqual({
      url: 'postgresql://{{app.user}}@localhost:5432/{{app.db}}',
      readUrl: undefined,
      poolSize: {{pool.size}},
      maxOverflow: {{pool.maxOverflow}},
      poolTimeout: {{pool.timeout}},
      connectTimeout: 3,
      statementTimeout: 5,
      lockTimeout: 2,
      queryTimeout: 6,
      pgbouncer: false,
    });
  });

  it('reads the environment', () => {
    const config = readConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      DATABASE_READ_URL: 'postgresql://u:p@db-ro:5432/x',
      DB_POOL_SIZE: '5',
      DB_MAX_OVERFLOW: '2',
      DB_POOL_TIMEOUT: '7',
      DB_CONNECT_TIMEOUT: '2',
      DB_STATEMENT_TIMEOUT: '3',
      DB_LOCK_TIMEOUT: '1',
      DB_PGBOUNCER: 'true',
    });

    expect(config.database).toEqual({
      url: 'postgresql://u:p@db:5432/x',
      readUrl: 'postgresql://u:p@db-ro:5432/x',
      poolSize: 5,
      maxOverflow: 2,
      poolTimeout: 7,
      connectTimeout: 2,
      statementTimeout: 3,
      lockTimeout: 1,
      queryTimeout: 4,
      pgbouncer: true,
    });
  });

  it('refuses invalid numbers', () => {
    expect(() => readConfig({ DB_POOL_SIZE: '0' })).toThrow(/DB_POOL_SIZE/);
    expect(() => readConfig({ DB_STATEMENT_TIMEOUT: '0' })).toThrow(/DB_STATEMENT_TIMEOUT/);
  });
});
