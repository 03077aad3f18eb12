import { describe, expect, it } from 'vitest';
import { APP_STATEMENTS, PLATFORM_STATEMENTS, appValues } from '../../../src/database/statements.ts';
import { renderNode, renderNodeProbe, renderPsql, type Escaper } from '../../../src/database/render.ts';
import { testAppSpec } from '../../helpers/postgres.ts';

const inventory = testAppSpec('inventory');

describe('sql renderers', () => {
  const esc: Escaper = {
    escapeIdentifier: (s) => `"${s.replace(/"/g, '""')}"`,
    escapeLiteral: (s) => `'${s.replace(/'/g, "''")}'`,
  };
  const createRole = APP_STATEMENTS.find((s) => s.id === 'create-role')!;

  it('psql: %-signs and quotes in the template are escaped for format()', () => {
    const out = renderPsql(
      { id: 't', kind: 'ddl', label: '', sql: "COMMENT ON DATABASE {db:ident} IS '100%'", when: 'true' },
      { db: 'x_db' },
    );
    expect(out).toBe("SELECT format('COMMENT ON DATABASE %I IS ''100%%''', 'x_db') WHERE true \\gexec");
  });

  it('psql: refuses plain values that are not identifiers', () => {
    expect(() => renderPsql(createRole, { role: "a'b", verifier: { psqlVar: 'v' } })).toThrow(/invalid/);
  });

  it('int placeholders: digits only, unquoted, %s in format()', () => {
    const limit = APP_STATEMENTS.find((s) => s.id === 'connection-limit')!;
    const values = appValues(inventory, { psqlVar: 'v' }, { connLimit: 11 });
    expect(renderPsql(limit, values)).toBe(
      "SELECT format('ALTER ROLE %I CONNECTION LIMIT %s', 'inventory_user', 11) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'inventory_user' AND rolconnlimit = 11) \\gexec",
    );
    expect(renderNode(limit, appValues(inventory, 'x', { connLimit: 7 }), esc)).toBe('ALTER ROLE "inventory_user" CONNECTION LIMIT 7');
    expect(() => renderNode(limit, { ...values, connLimit: '1; DROP ROLE x' }, esc)).toThrow(/invalid integer/);
    expect(() => renderPsql(limit, { ...values, connLimit: '-1' })).toThrow(/invalid integer/);
  });

  it('node: escapes with the client, never pastes raw values', () => {
    const values = appValues(inventory, "it's \\ secret", { connLimit: 11 });
    expect(renderNode(createRole, values, esc)).toBe(
      `CREATE ROLE "inventory_user" LOGIN PASSWORD 'it''s \\ secret' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`,
    );
    expect(renderNodeProbe(createRole, values, esc)).toBe(
      `SELECT 1 AS needed WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'inventory_user')`,
    );
  });

  it('node: set-based statements take identifiers from the probe row, escaped', () => {
    const harden = PLATFORM_STATEMENTS[0]!;
    expect(renderNodeProbe(harden, {}, esc)).toMatch(/^SELECT d\.datname AS "db" FROM pg_database d WHERE d\.datallowconn/);
    expect(renderNode(harden, {}, esc, { db: 'Odd "Name"' })).toBe(
      'REVOKE CONNECT, TEMPORARY ON DATABASE "Odd ""Name""" FROM PUBLIC',
    );
  });

  it('node: a psql variable value is a programming error', () => {
    expect(() => renderNode(createRole, appValues(inventory, { psqlVar: 'pw' }, { connLimit: 1 }), esc)).toThrow(/psql variable/);
  });
});
