/**
 * SCRAM-SHA-256 verifiers computed on the client, as psql's `\password` (libpq's
 * PQencryptPasswordConn) does: the server stores `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`
 * as it is, so CREATE/ALTER ROLE never carries the password itself and no server log can show it.
 * (RFC 5802 / RFC 7677; PostgreSQL's src/common/scram-common.c.)
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** PostgreSQL's default (scram_iterations, PG16+; fixed in 15). */
export const SCRAM_ITERATIONS = 4096;
const SALT_BYTES = 16;
const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;

/**
 * PostgreSQL runs the password through SASLprep first, which leaves printable ASCII as it is.
 * Outside ASCII the full SASLprep tables would be needed to match the server byte for byte, so we
 * take printable ASCII only (the generated passwords are base64url); passwords.ts refuses the rest.
 */
export function isScramSafe(password: string): boolean {
  return /^[\x20-\x7e]*$/.test(password);
}

function keys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  if (!isScramSafe(password)) throw new Error('SCRAM verifiers are computed for printable ASCII passwords only');
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

/** A new verifier for `password` (random salt). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = SCRAM_ITERATIONS): string {
  const { storedKey, serverKey } = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Is `verifier` a well-formed SCRAM-SHA-256 verifier? */
export function isScramVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

/** Does `verifier` (e.g. the one kept in ovu-db-init/verifiers/.env) belong to `password`? */
export function verifierMatches(password: string, verifier: string): boolean {
  const m = VERIFIER.exec(verifier);
  if (!m || !isScramSafe(password)) return false;
  const iterations = Number(m[1]);
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 10_000_000) return false;
  const { storedKey, serverKey } = keys(password, Buffer.from(m[2]!, 'base64'), iterations);
  const expected = Buffer.concat([storedKey, serverKey]);
  const actual = Buffer.concat([Buffer.from(m[3]!, 'base64'), Buffer.from(m[4]!, 'base64')]);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
