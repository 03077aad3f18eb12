import { describe, expect, it } from 'vitest';
import { parseAnswersFile } from '../../../src/app/answers-file.ts';
import { UserError } from '../../../src/errors.ts';

const file = (answers: Record<string, unknown>): string => JSON.stringify({ generator: 'create-ovu-app', version: '0.1.0', answers });
const BEFORE_PROCESSES = { name: 'shop', stack: 'python', kind: 'crud', port: 8001, dbPoolSize: 20, dbMaxOverflow: 10, dbPoolTimeout: 30, ulmUrl: 'http://ulm-backend:8000' };

describe('parseAnswersFile', () => {
  it('reads a file written before --processes existed, with its default (1)', () => {
    expect(parseAnswersFile(file(BEFORE_PROCESSES), 'shop/.ovu-app.json').answers.processes).toBe(1);
  });

  it('keeps a saved --processes, and refuses one out of range', () => {
    expect(parseAnswersFile(file({ ...BEFORE_PROCESSES, processes: 4 }), 'f').answers.processes).toBe(4);
    expect(() => parseAnswersFile(file({ ...BEFORE_PROCESSES, processes: 0 }), 'f')).toThrow(UserError);
    expect(() => parseAnswersFile(file({ ...BEFORE_PROCESSES, processes: 0 }), 'f')).toThrow(/processes: --processes must be a whole number from 1 to 256/);
  });

  it('still refuses a file that lacks an answer that was always saved', () => {
    const { port: _, ...noPort } = BEFORE_PROCESSES;
    expect(() => parseAnswersFile(file(noPort), 'f')).toThrow(/has no port/);
  });
});
