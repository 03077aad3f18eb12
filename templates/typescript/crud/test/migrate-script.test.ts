/** scripts/migrate.mjs without a database: how it splits a script, and which scripts it runs outside a transaction. */
import { describe, expect, it } from 'vitest';
import { needsNoTransaction, splitStatements } from '../scripts/migrate.mjs';

describe('splitStatements', () => {
  it('splits at the semicolons that end statements', () => {
    expect(splitStatements('CREATE TABLE a (id int);\nCREATE INDEX ON a (id);\n')).toEqual(['CREATE TABLE a (id int)', 'CREATE INDEX ON a (id)']);
  });

  it('leaves semicolons in quotes, dollar quotes and comments alone', () => {
    const script = [
      "INSERT INTO t VALUES ('a;b', 'it''s; fine', E'back\\'slash;');",
      'CREATE TABLE "we;ird" (id int);',
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;',
      'DO $$ BEGIN PERFORM 1; END $$;',
      '-- a comment; with a semicolon',
      '/* a block; /* nested; */ comment */ SELECT 2;',
    ].join('\n');

    expect(splitStatements(script)).toHaveLength(5);
    expect(splitStatements(script)[2]).toContain('$body$ SELECT 1; $body$');
  });

  it('drops what holds only comments', () => {
    expect(splitStatements('-- nothing\n/* at all */\n')).toEqual([]);
  });
});

describe('needsNoTransaction', () => {
  it.each([
    'CREATE INDEX CONCURRENTLY ix ON items (name)',
    'create unique index concurrently ix on items (name)',
    'DROP INDEX CONCURRENTLY ix',
    'REINDEX INDEX CONCURRENTLY ix',
    'VACUUM items',
    "ALTER TYPE mood ADD VALUE 'meh'",
    'BEGIN',
    '-- comment first\nCREATE INDEX CONCURRENTLY ix ON items (name)',
  ])('is true for %s', (statement) => {
    expect(needsNoTransaction(['CREATE TABLE a (id int)', statement])).toBe(true);
  });

  it('is false for a plain migration', () => {
    expect(needsNoTransaction(splitStatements('CREATE TABLE a (id int);\nCREATE INDEX ix ON a (id);\n-- CONCURRENTLY later'))).toBe(false);
  });
});
