/**
 * What remove takes out of the workspace's files: each function is the inverse of what `new`
 * appends, byte for byte, and leaves every other byte (line endings, the user's own lines).
 */
import { describe, expect, it } from 'vitest';
import { ensureEnvVar, removeEnvVar, setEnvVar } from '../../../src/workspace/env-file.ts';
import { editInitDb, removeInitDbBlock } from '../../../src/workspace/init-db.ts';
import { HEADER, PAST_HEADERS } from '../../../src/workspace/init-db-blocks.ts';
import { testAppSpec } from '../../helpers/postgres.ts';

const inventory = testAppSpec('inventory');
const orders = testAppSpec('orders');

/** .env as `new` writes it for `slugs`, in order (password, verifier, then the shared token). */
function envFor(slugs: string[], start = ''): string {
  let env: string | undefined = start || undefined;
  for (const [i, slug] of slugs.entries()) {
    const up = slug.toUpperCase();
    env = ensureEnvVar(env, `${up}_DB_PASSWORD`, `pw-${slug}`, `${slug}: password of ${slug}_user (compose passes it to the app)`);
    env = setEnvVar(env, `${up}_DB_VERIFIER`, `SCRAM-SHA-256$4096:${slug}`, `${slug}: SCRAM-SHA-256 verifier of ${up}_DB_PASSWORD (read by init-db.sql)`);
    if (i === 0) env = ensureEnvVar(env, 'ULM_SERVICE_TOKEN', '', 'Bearer token apps send to ULM for service-to-service calls');
  }
  return env!;
}

const removeApp = (env: string | undefined, slug: string): string | undefined => {
  const up = slug.toUpperCase();
  return [`${up}_DB_VERIFIER`, `${up}_DB_PASSWORD`].reduce((t, k) => removeEnvVar(t, k, `${slug}: `), env);
};

describe('removeEnvVar', () => {
  it('takes the last app\'s lines out: the file is what it was before that app', () => {
    expect(removeApp(envFor(['inventory', 'orders']), 'orders')).toBe(envFor(['inventory']));
  });

  it('takes the first app\'s lines out, comments and the blank lines that kept them apart', () => {
    const out = removeApp(envFor(['inventory', 'orders']), 'inventory')!;
    expect(out).not.toMatch(/INVENTORY|inventory:/);
    expect(out.startsWith('# Bearer token')).toBe(true);
    expect(out).not.toMatch(/\n\n\n/);
    expect(out).toContain('ORDERS_DB_VERIFIER=');
  });

  it("keeps the user's own lines, a comment that is not create-ovu-app's, and CRLF endings", () => {
    const crlf = 'MINE=1\r\n# my own note\r\nORDERS_DB_PASSWORD=x\r\nTAIL=2\r\n';
    expect(removeEnvVar(crlf, 'ORDERS_DB_PASSWORD', 'orders: ')).toBe('MINE=1\r\n# my own note\r\nTAIL=2\r\n');
    const mine = 'A=1\n\n# orders: password of orders_user\nORDERS_DB_PASSWORD=x\nB=2';
    expect(removeEnvVar(mine, 'ORDERS_DB_PASSWORD', 'orders: ')).toBe('A=1\nB=2');
    expect(removeEnvVar('A=1\nORDERS_DB_PASSWORD=x', 'ORDERS_DB_PASSWORD', 'orders: ')).toBe('A=1');
  });

  it('leaves a file without the key, and a missing file, as they are', () => {
    expect(removeEnvVar('A=1\n', 'B', 'b: ')).toBe('A=1\n');
    expect(removeEnvVar(undefined, 'B', 'b: ')).toBeUndefined();
  });
});

describe('removeInitDbBlock', () => {
  const one = editInitDb(undefined, inventory, { force: false }).text;
  const two = editInitDb(one, orders, { force: false }).text;

  it('takes the last app\'s block out: the file is what it was before that app', () => {
    expect(removeInitDbBlock(two, 'orders')).toEqual({ text: one, notes: ["removed the init-db.sql block for 'orders'"] });
  });

  it('takes the first app\'s block out: the file is what it would be with only the other app', () => {
    expect(removeInitDbBlock(two, 'inventory').text).toBe(editInitDb(undefined, orders, { force: false }).text);
  });

  it('the file goes when no app block is left and nothing in it is the user\'s', () => {
    const r = removeInitDbBlock(one, 'inventory');
    expect(r.text).toBeUndefined();
    expect(r.notes.at(-1)).toMatch(/removed init-db.sql/);
  });

  it("stays, with the user's lines, when they have some; CRLF files keep their endings", () => {
    const mine = `CREATE DATABASE ulm_db;\n\n${one}`;
    const r = removeInitDbBlock(mine, 'inventory');
    expect(r.text).toBeDefined();
    expect(r.text).toContain('CREATE DATABASE ulm_db;');
    expect(r.text).not.toContain('create-ovu-app: inventory');
    const crlf = two.replace(/\n/g, '\r\n');
    expect(removeInitDbBlock(crlf, 'orders').text).toBe(one.replace(/\n/g, '\r\n'));
  });

  it('the file also goes when it has the header an earlier version wrote (it said the verifiers were in .env)', () => {
    expect(one).toContain('ovu-db-init/verifiers/.env (its own env_file)');
    const old = one.replace([...HEADER].join('\n'), PAST_HEADERS[0]!.join('\n'));
    expect(old).toContain('INVENTORY_DB_VERIFIER from .env;');
    expect(removeInitDbBlock(old, 'inventory').text).toBeUndefined();
    // A header someone edited is theirs: the file stays.
    expect(removeInitDbBlock(old.replace('from .env;', 'from our vault;'), 'inventory').text).toBeDefined();
  });

  it('leaves a file without the block as it is', () => {
    expect(removeInitDbBlock(one, 'orders').text).toBe(one);
  });
});
