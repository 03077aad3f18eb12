import { expect } from 'vitest';
import { UserError } from '../../src/errors.ts';

/** The UserError `promise` rejects with, checked to be one line (what a person sees); fails if it resolves. */
export async function userErrorOf(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).not.toContain('\n');
    return error as UserError;
  }
  throw new Error('expected a UserError');
}
