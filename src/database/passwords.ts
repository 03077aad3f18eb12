/** Which app passwords create-ovu-app accepts: long, random-looking, never a placeholder. */
import { randomBytes } from 'node:crypto';
import { isScramSafe } from './scram.ts';

export const MIN_PASSWORD_LENGTH = 32;

/** 32 random bytes as base64url: 43 characters, safe inside a connection URL unescaped. */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

/** Values that come from examples and templates (.env.example writes `change-me`). */
const PLACEHOLDERS = new Set(['change-me', 'changeme', 'change_me', 'password', 'secret', 'postgres', 'xxx', 'todo', 'replace-me']);

/** Why `password` (the value of `variable`) is not acceptable, as a sentence; undefined if it is fine. */
export function passwordProblem(password: string | undefined, variable: string): string | undefined {
  if (password === undefined || password === '') return `${variable} is empty`;
  if (PLACEHOLDERS.has(password.toLowerCase())) return `${variable} is the placeholder "${password}" (as in .env.example), not a password`;
  // Printed only when it is one of the known placeholders above: a real password is never echoed.
  if (/^<.*>$/.test(password) || /change.?me/i.test(password)) return `${variable} looks like a placeholder, not a password`;
  if (!isScramSafe(password)) return `${variable} has characters outside printable ASCII`;
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `${variable} is ${password.length} characters long; it must have at least ${MIN_PASSWORD_LENGTH}`;
  }
  return undefined;
}

/** The fix to append to a passwordProblem(). */
export const PASSWORD_FIX = `set it to ${MIN_PASSWORD_LENGTH}+ random printable characters (e.g. the output of \`openssl rand -hex 24\`)`;

/**
 * Why `password` cannot go into a connection URL as it is (Compose puts it into DATABASE_URL
 * unescaped): `new` and `provision` refuse the same passwords. undefined if it can.
 */
export function passwordUrlProblem(password: string, variable: string, file: string): string | undefined {
  if (/^[A-Za-z0-9._~-]+$/.test(password)) return undefined;
  return `${variable} in ${file} has characters a URL must escape (only letters, digits and . _ ~ - can be used as they are)`;
}
