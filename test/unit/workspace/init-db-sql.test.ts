import { describe, expect, it } from 'vitest';
import { editInitDb, initDbProblems } from '../../../src/workspace/init-db.ts';
import { appSpec } from '../../helpers/spec.ts';

const spec = appSpec('inventory');
const ULM = "SELECT 'CREATE ROLE ulm_user LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ulm_user') \\gexec\n";

describe('the team\'s own statements in init-db.sql, as psql reads them', () => {
  it.each([
    ['over two lines', 'CREATE\n  DATABASE inventory_db;\n', 1],
    ['a block comment inside', 'CREATE /* the app */ DATABASE inventory_db;\n', 1],
    ['a line comment inside', 'CREATE -- the app\nDATABASE\ninventory_db;\n', 1],
    ['another case', 'create database Inventory_DB;\n', 1],
    ['quoted', 'CREATE DATABASE "inventory_db" OWNER x;\n', 1],
    ['through \\gexec', "SELECT 'CREATE DATABASE inventory_db' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'inventory_db') \\gexec\n", 1],
    ['the login', 'CREATE\tUSER\ninventory_user PASSWORD :\'pw\';\n', 1],
  ])('sees CREATE … the app\'s own database or login %s, naming the line', (_what, sql, line) => {
    expect(() => editInitDb(ULM + sql, spec, { force: false })).toThrow(new RegExp(`^init-db\\.sql:${line + 1}: your own lines already create the (database inventory_db|login inventory_user)`));
  });

  it.each([
    ['in a line comment', '-- CREATE DATABASE inventory_db;\n'],
    ['in a block comment', '/* CREATE\n DATABASE inventory_db; */\n'],
    ['another name', 'CREATE DATABASE inventory_db2;\nCREATE DATABASE "Inventory_DB";\n'],
  ])('leaves a CREATE %s alone', (_what, sql) => {
    expect(editInitDb(ULM + sql, spec, { force: false }).text).toContain('-- >>> create-ovu-app: inventory');
  });

  it('finds what stops psql: a merge-conflict marker, a quote or comment never closed', () => {
    expect(initDbProblems(ULM + 'SELECT 1;\n')).toEqual([]);
    const conflicted = `${ULM}<<<<<<< HEAD\nSELECT 1;\n=======\nSELECT 2;\n>>>>>>> theirs\n`;
    expect(initDbProblems(conflicted)).toHaveLength(3);
    expect(initDbProblems(conflicted)[0]).toMatch(/^init-db\.sql:2: a git merge-conflict marker \(<<<<<<<\)/);
    expect(initDbProblems(`${ULM}SELECT 'oops;\nSELECT 2;\n`)).toEqual([expect.stringMatching(/^init-db\.sql:2: a quoted string that is never closed/)]);
    expect(initDbProblems(`${ULM}/* a /* nested */ comment\n`)).toEqual([expect.stringMatching(/^init-db\.sql:2: a \/\* comment that is never closed/)]);
    expect(initDbProblems(`DO $x$ BEGIN\n`)).toEqual([expect.stringMatching(/a \$x\$ quote/)]);
    // Dollar quotes, doubled quotes and nested comments that are closed are fine.
    expect(initDbProblems("DO $x$ BEGIN RAISE NOTICE 'it''s'; END $x$;\nSELECT $$a$$, 'b''c' /* x /* y */ z */;\n")).toEqual([]);
    expect(() => editInitDb(conflicted, spec, { force: false })).toThrow(/^init-db\.sql:2: a git merge-conflict marker .*nothing was written\.$/);
  });
});
