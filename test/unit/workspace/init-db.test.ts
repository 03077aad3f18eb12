import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { editInitDb, initDbBlock, initDbBlockOf, listInitDbApps, platformBlock } from '../../../src/workspace/init-db.ts';
import { findBlocks, parse, splitLines } from '../../../src/workspace/init-db-markers.ts';
import { monitoringBlock } from '../../../src/workspace/monitoring/init-db-block.ts';
import { setWorkspaceBlock } from '../../../src/workspace/init-db.ts';
import { APP_STATEMENTS } from '../../../src/database/statements.ts';
import { testAppSpec } from '../../helpers/postgres.ts';

const inventory = testAppSpec('inventory');
const crm = testAppSpec('crm');
/** An app the ADR's own init-db.sql does not create by hand. */
const orders = testAppSpec('orders');

/** The ADR-002 init script, verbatim (non-idempotent, with \c). */
const ADR_SQL = `-- Create databases
CREATE DATABASE ulm_db;
CREATE DATABASE inventory_db;

-- Create users
CREATE USER ulm_user WITH PASSWORD 'ulm_pass';
CREATE USER inventory_user WITH PASSWORD 'inventory_pass';

-- Grant permissions
GRANT ALL PRIVILEGES ON DATABASE ulm_db TO ulm_user;
GRANT ALL PRIVILEGES ON DATABASE inventory_db TO inventory_user;

-- Connect to each DB and grant schema permissions
\\c ulm_db
GRANT ALL ON SCHEMA public TO ulm_user;

\\c inventory_db
GRANT ALL ON SCHEMA public TO inventory_user;
`;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('initDbBlock', () => {
  const block = initDbBlock(inventory);
  const lines = block.split('\n');

  it('is wrapped in the app markers', () => {
    expect(lines[0]).toBe('-- >>> create-ovu-app: inventory');
    expect(lines[lines.length - 1]).toBe('-- <<< create-ovu-app: inventory');
    expect(block.match(/create-ovu-app: /g)).toHaveLength(2);
  });

  it('reads the verifier with \\getenv; unset stops ovu-db-init with an error naming the variable, and skips the block otherwise', () => {
    expect(block).toContain('\\getenv inventory_db_verifier INVENTORY_DB_VERIFIER');
    expect(block).toContain('\\if :{?inventory_db_verifier}');
    expect(block).toContain(
      "SELECT :'inventory_db_verifier' = '' AS inventory_db_verifier_missing, left(:'inventory_db_verifier', 14) <> 'SCRAM-SHA-256$' AS inventory_db_verifier_malformed \\gset",
    );
    const missing = lines.indexOf('\\if :inventory_db_verifier_missing');
    expect(lines[missing + 1]).toBe('\\if :{?ovu_db_init}');
    expect(lines[missing + 2]).toMatch(/^DO \$ovu\$BEGIN RAISE EXCEPTION '[^\n]*INVENTORY_DB_VERIFIER is not set or is empty; keep it in ovu-db-init\/verifiers\/\.env, the env_file of the ovu-db-init service/);
    expect(lines[missing + 3]).toBe('\\else');
    expect(lines[missing + 4]).toMatch(/^\\warn 'init-db\.sql: skipping Inventory/);
    expect(block).not.toContain('\\quit');
    // The statements only run in the last \else branch, under the provisioning lock.
    const lock = lines.findIndex((l) => l.startsWith('SELECT pg_advisory_lock('));
    expect(lines[lock - 1]).toBe('\\else');
    expect(lines.findIndex((l) => l.includes('CREATE ROLE'))).toBeGreaterThan(lock);
    expect(lines.findIndex((l) => l.startsWith('SELECT pg_advisory_unlock('))).toBeGreaterThan(lines.findIndex((l) => l.includes('REVOKE %I FROM CURRENT_USER')));
  });

  it('never contains a password or a verifier, only the psql variable; never reads the password', () => {
    expect(block).not.toMatch(/PASSWORD '/);
    expect(block).not.toMatch(/SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]{8,}/);
    expect(block).not.toContain('INVENTORY_DB_PASSWORD');
    expect(block).toContain("PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', 'inventory_user', :'inventory_db_verifier')");
  });

  it('creates role and database through format() with %I/%L/%s, each guarded, then \\gexec', () => {
    expect(block).toContain(
      "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', 'inventory_user', :'inventory_db_verifier') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'inventory_user') \\gexec",
    );
    expect(block).toContain(
      "SELECT format('CREATE DATABASE %I OWNER %I ALLOW_CONNECTIONS false', 'inventory_db', 'inventory_user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'inventory_db') \\gexec",
    );
    expect(block).toContain("SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', 'inventory_db') WHERE NOT EXISTS");
    expect(block).toContain("SELECT format('ALTER DATABASE %I ALLOW_CONNECTIONS true', 'inventory_db')");
    // The test pool (2 + 1) in one process, plus one: 4.
    expect(block).toContain("SELECT format('ALTER ROLE %I CONNECTION LIMIT %s', 'inventory_user', 4)");
    const sqlLines = lines.filter((l) => l.startsWith('SELECT format('));
    expect(sqlLines).toHaveLength(APP_STATEMENTS.length);
    for (const l of sqlLines) expect(l).toMatch(/ WHERE .* \\gexec$/);
    // The database is opened only after PUBLIC's privileges are revoked.
    const at = (text: string): number => lines.findIndex((l) => l.includes(text));
    expect(at('CREATE DATABASE')).toBeLessThan(at('REVOKE ALL ON DATABASE'));
    expect(at('REVOKE ALL ON DATABASE')).toBeLessThan(at('ALLOW_CONNECTIONS true'));
  });

  it('does not \\c (works from whichever database the session is in)', () => {
    expect(lines.some((l) => /^\\c\b|^\\connect\b/.test(l))).toBe(false);
  });

  it('rejects names that are not plain identifiers', () => {
    const bad = testAppSpec('inventory');
    bad.names.user = 'inventory"; DROP ROLE postgres; --';
    expect(() => initDbBlock(bad)).toThrow(/invalid role name/);
    const reserved = testAppSpec('platform');
    expect(() => initDbBlock(reserved)).toThrow(UserError);
  });
});

describe('platformBlock', () => {
  it('revokes PUBLIC CONNECT, TEMPORARY on every database that allows connections', () => {
    const block = platformBlock();
    expect(block.startsWith('-- >>> create-ovu-app: platform\n')).toBe(true);
    expect(block.endsWith('\n-- <<< create-ovu-app: platform')).toBe(true);
    expect(block).toContain(
      "SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', d.datname) FROM pg_database d WHERE d.datallowconn AND (has_database_privilege('public', d.oid, 'CONNECT') OR has_database_privilege('public', d.oid, 'TEMPORARY')) AND pg_has_role(d.datdba, 'USAGE') \\gexec",
    );
    expect(block).not.toContain('datistemplate');
  });
});

describe('editInitDb', () => {
  it('creates a new file with a header, the app block and the platform block last', () => {
    const edit = editInitDb(undefined, inventory, { force: false });
    expect(edit.created).toBe(true);
    expect(edit.text.startsWith('-- init-db.sql:')).toBe(true);
    expect(edit.text).toContain('manages the blocks between');
    expect(edit.text.endsWith('-- <<< create-ovu-app: platform\n')).toBe(true);
    expect(edit.text.indexOf('-- >>> create-ovu-app: inventory')).toBeLessThan(
      edit.text.indexOf('-- >>> create-ovu-app: platform'),
    );
    expect(listInitDbApps(edit.text)).toEqual(['inventory']);
  });

  it('inserts a new app block before the platform block', () => {
    const one = editInitDb(undefined, inventory, { force: false }).text;
    const two = editInitDb(one, crm, { force: false });
    expect(two.created).toBe(false);
    expect(listInitDbApps(two.text)).toEqual(['inventory', 'crm']);
    const t = two.text;
    expect(t.indexOf('-- <<< create-ovu-app: inventory')).toBeLessThan(t.indexOf('-- >>> create-ovu-app: crm'));
    expect(t.indexOf('-- <<< create-ovu-app: crm')).toBeLessThan(t.indexOf('-- >>> create-ovu-app: platform'));
    expect(t.match(/-- >>> create-ovu-app: platform/g)).toHaveLength(1);
    // Everything before the insertion point is unchanged.
    const cut = one.indexOf('-- >>> create-ovu-app: platform');
    expect(t.startsWith(one.slice(0, cut))).toBe(true);
    expect(t.endsWith(one.slice(cut))).toBe(true);
    expect(two.notes.join(' ')).toMatch(/before the platform block/);
  });

  it('leaves ADR-style content byte-for-byte and appends blocks after it', () => {
    const edit = editInitDb(ADR_SQL, crm, { force: false });
    expect(edit.text.startsWith(ADR_SQL)).toBe(true);
    const rest = edit.text.slice(ADR_SQL.length);
    expect(rest).toBe(`\n${initDbBlock(crm)}\n\n${platformBlock()}\n`);
    const again = editInitDb(edit.text, testAppSpec('reports'), { force: false });
    expect(again.text.startsWith(ADR_SQL)).toBe(true);
    expect(listInitDbApps(again.text)).toEqual(['crm', 'reports']);
  });

  it('adds a line break when the file does not end with one (a pure append)', () => {
    const source = 'CREATE DATABASE ulm_db;';
    const edit = editInitDb(source, crm, { force: false });
    expect(edit.text.startsWith(`${source}\n\n-- >>> create-ovu-app: crm\n`)).toBe(true);
  });

  it('refuses an existing block without --force, names the slug and --force', () => {
    const one = editInitDb(undefined, inventory, { force: false }).text;
    const error = thrown(() => editInitDb(one, inventory, { force: false }));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/^init-db\.sql already has a block for 'inventory' \(line \d+\); pass --force/);
    expect(error.message).not.toContain('\n');
  });

  it('with --force replaces only its own block, in place', () => {
    const base = editInitDb(editInitDb(ADR_SQL, orders, { force: false }).text, crm, { force: false }).text;
    // Tamper with the orders block and add content around it.
    const tampered = base
      .replace('-- Orders: database', '-- hand edit inside the block\n-- Orders: database')
      .replace('-- >>> create-ovu-app: crm', '-- user line between blocks\n-- >>> create-ovu-app: crm');
    const edit = editInitDb(tampered, orders, { force: true });
    expect(edit.text).not.toContain('hand edit inside the block');
    expect(edit.text).toContain('-- user line between blocks\n-- >>> create-ovu-app: crm');
    expect(edit.text).toBe(tampered.replace('-- hand edit inside the block\n', ''));
    expect(listInitDbApps(edit.text)).toEqual(['orders', 'crm']);
    expect(edit.notes).toEqual(["replaced the init-db.sql block for 'orders'"]);
  });

  it('never touches another app block', () => {
    const base = editInitDb(undefined, orders, { force: false }).text;
    const tampered = base.replace('-- Orders: database', '-- their own edit\n-- Orders: database');
    const edit = editInitDb(tampered, crm, { force: true });
    expect(edit.text).toContain('-- their own edit\n-- Orders: database');
  });

  it('keeps CRLF line endings, outside content byte-for-byte', () => {
    const crlf = ADR_SQL.replace(/\n/g, '\r\n');
    const edit = editInitDb(crlf, orders, { force: false });
    expect(edit.text.startsWith(crlf)).toBe(true);
    expect(edit.text.replace(/\r\n/g, '')).not.toContain('\n');
    const two = editInitDb(edit.text, crm, { force: false });
    expect(two.text.replace(/\r\n/g, '')).not.toContain('\n');
    expect(listInitDbApps(two.text)).toEqual(['orders', 'crm']);
    const forced = editInitDb(two.text, orders, { force: true });
    expect(forced.text).toBe(two.text);
  });

  it('is stable: regenerating an unchanged block with --force changes nothing', () => {
    const text = editInitDb(editInitDb(undefined, inventory, { force: false }).text, crm, { force: false }).text;
    const edit = editInitDb(text, crm, { force: true });
    expect(edit.text).toBe(text);
  });

  it('brings an outdated platform block up to date while adding an app', () => {
    const one = editInitDb(undefined, inventory, { force: false }).text;
    const old = one.replace(/(-- >>> create-ovu-app: platform\n)/, '$1-- an older version of this block\n');
    const two = editInitDb(old, crm, { force: false });
    expect(two.text).not.toContain('an older version');
    expect(two.text.endsWith(`${initDbBlock(crm)}\n\n${platformBlock()}\n`)).toBe(true);
    expect(two.notes).toEqual(['updated the init-db.sql platform block', "added an init-db.sql block for 'crm' before the platform block"]);
  });

  it('moves the platform block after an app block that follows it', () => {
    const source = `${platformBlock()}\n\n${initDbBlock(inventory)}\n`;
    const edit = editInitDb(source, crm, { force: false });
    const blocks = listInitDbApps(edit.text);
    expect(blocks).toEqual(['crm', 'inventory']);
    expect(edit.text.lastIndexOf('-- >>> create-ovu-app: platform')).toBeGreaterThan(
      edit.text.indexOf('-- <<< create-ovu-app: inventory'),
    );
    expect(edit.text.match(/-- >>> create-ovu-app: platform/g)).toHaveLength(1);
  });

  describe('malformed markers', () => {
    const good = editInitDb(undefined, inventory, { force: false }).text;
    const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.startsWith(needle)) + 1;

    it('start without end', () => {
      const text = good.replace('-- <<< create-ovu-app: inventory\n', '');
      const error = thrown(() => editInitDb(text, crm, { force: false }));
      expect(error).toBeInstanceOf(UserError);
      // The platform start marker appears while inventory is still open.
      expect(error.message).toContain(`line ${lineOf(text, '-- >>> create-ovu-app: platform')}`);
      expect(error.message).toContain("'inventory'");
    });

    it('start without end at the end of the file', () => {
      const text = `${ADR_SQL}-- >>> create-ovu-app: crm\nSELECT 1;\n`;
      const error = thrown(() => listInitDbApps(text));
      expect(error.message).toMatch(/^init-db\.sql line 19: block 'crm' has no end marker/);
    });

    it('end without start', () => {
      const text = `${ADR_SQL}-- <<< create-ovu-app: crm\n`;
      expect(thrown(() => editInitDb(text, inventory, { force: false })).message).toMatch(
        /^init-db\.sql line 19: end marker for 'crm' without a start marker/,
      );
    });

    it('duplicated block', () => {
      const text = `${good}${initDbBlock(inventory)}\n`;
      const error = thrown(() => editInitDb(text, inventory, { force: true }));
      expect(error).toBeInstanceOf(UserError);
      expect(error.message).toMatch(/second block for 'inventory' \(the first starts on line \d+\)/);
    });

    it('mismatched end and malformed marker lines', () => {
      const mismatched = good.replace('-- <<< create-ovu-app: inventory', '-- <<< create-ovu-app: crm');
      expect(thrown(() => listInitDbApps(mismatched)).message).toMatch(/end marker for 'crm' but the open block is 'inventory'/);
      const noName = `${good}-- >>> create-ovu-app:\n`;
      expect(thrown(() => listInitDbApps(noName)).message).toMatch(/malformed create-ovu-app marker/);
    });
  });
});

describe('findBlocks: markers found by offset, without splitting the file', () => {
  const two = editInitDb(editInitDb(undefined, inventory, { force: false }).text, crm, { force: false }).text;
  const endings: [string, (t: string) => string][] = [
    ['LF', (t) => t],
    ['CRLF', (t) => t.replace(/\n/g, '\r\n')],
    ['lone CR', (t) => t.replace(/\n/g, '\r')],
    ['mixed', (t) => t.split('\n').map((l, i) => l + (i % 3 === 0 ? '\r\n' : i % 3 === 1 ? '\r' : '\n')).join('')],
  ];
  for (const [name, convert] of endings) {
    it(`${name}: each block's offsets and line numbers are those of its marker lines`, () => {
      const text = convert(`${ADR_SQL}${two}`);
      const { lines, terminators } = splitLines(text);
      const offsetOf = (line: number): number => lines.slice(0, line).reduce((n, l, i) => n + l.length + terminators[i]!.length, 0);
      const blocks = parse(text).blocks;
      expect(findBlocks(text)).toEqual(blocks.map(({ slug, from, to }) => ({ slug, from, to })));
      expect(blocks.map((b) => b.slug)).toEqual(['inventory', 'crm', 'platform']);
      for (const b of blocks) {
        expect(lines[b.start]).toBe(`-- >>> create-ovu-app: ${b.slug}`);
        expect(lines[b.end]).toBe(`-- <<< create-ovu-app: ${b.slug}`);
        expect(b.from).toBe(offsetOf(b.start));
        expect(b.to).toBe(offsetOf(b.end + 1));
      }
      expect(initDbBlockOf(text, 'crm')).toBe(lines.slice(blocks[1]!.start, blocks[1]!.end + 1).join('\n'));
      // An error names the line a person's editor shows.
      const broken = convert(`${ADR_SQL}${two.replace('-- <<< create-ovu-app: crm\n', '')}`);
      const at = splitLines(broken).lines.indexOf('-- >>> create-ovu-app: platform') + 1;
      expect(() => findBlocks(broken)).toThrow(`init-db.sql line ${at}: block 'platform' starts inside block 'crm'`);
    });
  }

  it('what create-ovu-app writes is ASCII: a file of 200 apps is a one-byte string, read and written 4x faster', () => {
    const text = setWorkspaceBlock(editInitDb(editInitDb(undefined, inventory, { force: false }).text, crm, { force: false }).text, 'monitoring', monitoringBlock(['inventory_db', 'crm_db']));
    expect(text).toContain('-- >>> create-ovu-app: monitoring');
    expect(text.match(/[^\x00-\x7f]/g) ?? []).toEqual([]);
  });

  it('a marker prefix inside a line is not a marker', () => {
    expect(findBlocks(`SELECT 1; -- >>> create-ovu-app: x\n-- not -- <<< create-ovu-app: x\n`)).toEqual([]);
  });
});

describe('hand-written init-db.sql content', () => {
  const ADR_INIT = ADR_SQL;

  it("refuses an app the file's own lines already create (the ADR's style), naming the line and what to do", () => {
    expect(() => editInitDb(ADR_INIT, testAppSpec('inventory'), { force: false })).toThrow(
      /^init-db\.sql:3: your own lines already create the database inventory_db; remove what init-db\.sql does by hand for inventory .*or choose another app name$/,
    );
    // After create-ovu-app's blocks (left out of the scan), the line is still the file's own.
    const withBlocks = `${editInitDb(undefined, crm, { force: false }).text}\r\n-- mine\nCREATE DATABASE inventory_db;\n`;
    const line = withBlocks.split(/\r?\n/).indexOf('CREATE DATABASE inventory_db;') + 1;
    expect(line).toBeGreaterThan(50);
    expect(() => editInitDb(withBlocks, testAppSpec('inventory'), { force: false })).toThrow(new RegExp(`^init-db\\.sql:${line}: your own lines already create the database inventory_db`));
    // Lone CRs end lines (and so -- comments) for psql: the CREATE after them is the team's own.
    const loneCr = `${editInitDb(undefined, crm, { force: false }).text.replace(/\n/g, '\r')}CREATE DATABASE inventory_db;\r`;
    const crLine = loneCr.split('\r').indexOf('CREATE DATABASE inventory_db;') + 1;
    expect(() => editInitDb(loneCr, testAppSpec('inventory'), { force: false })).toThrow(new RegExp(`^init-db\\.sql:${crLine}: your own lines already create the database inventory_db`));
    // Quoted names and any case count; a comment does not.
    expect(() => editInitDb('create role "crm_user" login;\n', testAppSpec('crm'), { force: false })).toThrow(/^init-db\.sql:1: your own lines already create the login crm_user/);
    expect(editInitDb('-- CREATE DATABASE crm_db;\n', testAppSpec('crm'), { force: false }).text).toContain('-- >>> create-ovu-app: crm');
    // Another app of the same file is fine: inventory_db2 is not inventory_db.
    expect(editInitDb(ADR_INIT.replace(/inventory/g, 'inventory2'), testAppSpec('inventory'), { force: false }).text).toContain('-- >>> create-ovu-app: inventory');
  });
});
