import { describe, expect, it } from 'vitest';
import { ensureEnvVar, ensureLine, readEnvVar } from '../../../src/workspace/env-file.ts';

describe('env files', () => {
  it('reads values the way dotenv does', () => {
    const src = '# c\nA=1\nexport B="two words"\nC=\'x\'\nD=v # note\nA=last\n';
    expect(readEnvVar(src, 'A')).toBe('last');
    expect(readEnvVar(src, 'B')).toBe('two words');
    expect(readEnvVar(src, 'C')).toBe('x');
    expect(readEnvVar(src, 'D')).toBe('v');
    expect(readEnvVar(src, 'E')).toBeUndefined();
    expect(readEnvVar(undefined, 'A')).toBeUndefined();
  });

  it('finds a key among others that contain it, in comments, values and CRLF lines', () => {
    const src = '# A_DB=comment\r\nXA_DB=1\r\nA_DB_X=2\r\nB=A_DB=3\r\n  A_DB = four \r\nC=5';
    expect(readEnvVar(src, 'A_DB')).toBe('four');
    expect(readEnvVar(src, 'C')).toBe('5');
    expect(readEnvVar('A_DB=1\nA_DB=2', 'A_DB')).toBe('2');
    expect(readEnvVar('B=A_DB', 'A_DB')).toBeUndefined();
  });

  it('appends a missing variable with its comment, keeping everything else', () => {
    const src = '# mine\nULM_DB_PASSWORD=secret\n';
    expect(ensureEnvVar(src, 'INV_DB_PASSWORD', 'pw', 'inventory')).toBe('# mine\nULM_DB_PASSWORD=secret\n\n# inventory\nINV_DB_PASSWORD=pw\n');
  });

  it('never replaces an existing value', () => {
    const src = 'INV_DB_PASSWORD=old\n';
    expect(ensureEnvVar(src, 'INV_DB_PASSWORD', 'new')).toBe(src);
  });

  it('keeps CRLF files CRLF and handles a missing final newline', () => {
    expect(ensureEnvVar('A=1\r\nB=2', 'C', '3')).toBe('A=1\r\nB=2\r\nC=3\r\n');
    expect(ensureEnvVar(undefined, 'C', '3', 'note')).toBe('# note\nC=3\n');
  });

  it('adds .env to .gitignore once', () => {
    expect(ensureLine('node_modules\n', '.env', ['/.env'])).toBe('node_modules\n.env\n');
    expect(ensureLine('/.env\n', '.env', ['/.env'])).toBe('/.env\n');
    expect(ensureLine(undefined, '.env')).toBe('.env\n');
  });
});

describe('line endings', () => {
  it('follows the ending most lines use, LF on a tie or without a file', async () => {
    const { dominantEol } = await import('../../../src/workspace/eol.ts');
    expect(dominantEol(undefined)).toBe('\n');
    expect(dominantEol('no line ending')).toBe('\n');
    expect(dominantEol('a\r\nb\r\nc\n')).toBe('\r\n');
    expect(dominantEol('a\r\nb\nc\n')).toBe('\n');
    expect(dominantEol('a\r\nb\n')).toBe('\n');
    expect(dominantEol('a\rb\rc\r\n')).toBe('\r\n');
    // A hand-edited .env with one CRLF line among LF lines gets LF lines, like compose and init-db.sql.
    expect(ensureEnvVar('A=1\nB=2\r\nC=3\n', 'D', '4')).toBe('A=1\nB=2\r\nC=3\nD=4\n');
  });
});
