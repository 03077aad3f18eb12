import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isScramVerifier, scramVerifier, verifierMatches } from '../../../src/database/scram.ts';
import { passwordProblem } from '../../../src/database/passwords.ts';
import { budgetProblem, connectionLimit } from '../../../src/database/budget.ts';

describe('scramVerifier', () => {
  it("gives the keys of RFC 7677's example exchange (its ServerSignature checks out from our ServerKey)", () => {
    const verifier = scramVerifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const [, , , serverKey] = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier)!;
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    const signature = createHmac('sha256', Buffer.from(serverKey!, 'base64')).update(authMessage).digest('base64');
    expect(signature).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('has the SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> form, a new salt each time', () => {
    const a = scramVerifier('x'.repeat(40));
    expect(isScramVerifier(a)).toBe(true);
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(scramVerifier('x'.repeat(40))).not.toBe(a);
    expect(a).not.toContain('x'.repeat(8));
  });

  it('verifierMatches tells its own password from another', () => {
    const v = scramVerifier("p'w\"\\$%: x".repeat(4));
    expect(verifierMatches("p'w\"\\$%: x".repeat(4), v)).toBe(true);
    expect(verifierMatches("p'w\"\\$%: y".repeat(4), v)).toBe(false);
    expect(verifierMatches('anything', 'md5abc')).toBe(false);
  });

  it('refuses what it cannot compute exactly as the server would (non-ASCII needs SASLprep)', () => {
    expect(() => scramVerifier('pässwörd'.repeat(5))).toThrow(/printable ASCII/);
  });
});

describe('passwordProblem', () => {
  it.each([
    [undefined, 'X is empty'],
    ['', 'X is empty'],
    ['change-me', 'X is the placeholder "change-me" (as in .env.example), not a password'],
    ['CHANGEME', 'X is the placeholder "CHANGEME" (as in .env.example), not a password'],
    ['please-change-me-before-going-live-ok', 'X looks like a placeholder, not a password'],
    ['a'.repeat(31), 'X is 31 characters long; it must have at least 32'],
    ['é'.repeat(40), 'X has characters outside printable ASCII'],
  ])('%s → %s', (password, problem) => {
    expect(passwordProblem(password, 'X')).toBe(problem);
  });

  it('accepts a generated password', () => {
    expect(passwordProblem('Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5', 'X')).toBeUndefined();
  });
});

describe('connection budget', () => {
  it('limit = (pool + overflow) x processes + 1', () => {
    expect(connectionLimit({ size: 5, maxOverflow: 5, timeout: 30 }, 1)).toBe(11);
    expect(connectionLimit({ size: 20, maxOverflow: 10, timeout: 30 }, 4)).toBe(121);
  });

  it("the issue's case: 4 processes with the ADR pool on a default server are refused, naming the numbers", () => {
    const problem = budgetProblem({ maxConnections: 100, reserved: 3, ulm: 30, apps: [{ role: 'shop_user', limit: 121 }] }, 'db:5432');
    expect(problem).toBe(
      'connection budget exceeded at db:5432: 3 reserved + ULM 30 + apps shop_user 121 = 154 connections, but max_connections is 100; use smaller pools (--db-pool-size, --db-max-overflow) or fewer --processes, raise max_connections on the server, or put PgBouncer in front of it',
    );
    expect(budgetProblem({ maxConnections: 100, reserved: 3, ulm: 30, apps: Array.from({ length: 6 }, (_, i) => ({ role: `a${i}`, limit: 11 })) }, 'x')).toBeUndefined();
    expect(budgetProblem({ maxConnections: 100, reserved: 3, ulm: 30, apps: Array.from({ length: 7 }, (_, i) => ({ role: `a${i}`, limit: 11 })) }, 'x')).toMatch(/= 110 connections/);
  });
});
