import { describe, expect, it } from 'vitest';
import { generatePassword } from '../../../src/database/passwords.ts';

describe('passwords', () => {
  it('generates 43-character URL-safe passwords, never the same twice', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generatePassword()).not.toBe(a);
    expect(encodeURIComponent(a)).toBe(a);
  });
});
