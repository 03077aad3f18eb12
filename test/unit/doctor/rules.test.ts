/** The .gitignore rules as git reads them, and Alembic's head from its revision files. */
import { describe, expect, it } from 'vitest';
import { ignoredByRules } from '../../../src/workspace/gitignore.ts';
import { alembicHeads, parseAlembicRevision } from '../../../src/database/migrations.ts';
import { removeEnvVar } from '../../../src/workspace/legacy-password.ts';

const files = (map: Record<string, string>) => (file: string): string | undefined => map[file];

describe('ignoredByRules', () => {
  const cases: [string, Record<string, string>, string, boolean][] = [
    ['a bare name at any depth', { '/w/.gitignore': '.env\n' }, 'app/.env', true],
    ['a leading slash anchors to the root', { '/w/.gitignore': '/.env\n' }, 'app/.env', false],
    ['…and still matches there', { '/w/.gitignore': '/.env\n' }, '.env', true],
    ['a glob', { '/w/.gitignore': '*.env\n' }, 'app/backend/.env', true],
    ['a negation after it re-includes', { '/w/.gitignore': '.env\n!app/.env\n' }, 'app/.env', false],
    ['a deeper .gitignore overrides', { '/w/.gitignore': '.env\n', '/w/app/.gitignore': '!.env\n' }, 'app/.env', false],
    ['a file in an ignored directory cannot be re-included', { '/w/.gitignore': 'secrets/\n!secrets/.env\n' }, 'secrets/.env', true],
    ['a directory-only pattern does not match a file', { '/w/.gitignore': '.env/\n' }, '.env', false],
    ['** in the middle', { '/w/.gitignore': 'a/**/.env\n' }, 'a/b/c/.env', true],
    ['comments and blank lines', { '/w/.gitignore': '# .env\n\n' }, '.env', false],
    ['no .gitignore', {}, '.env', false],
    ['a name that only ends the same', { '/w/.gitignore': '.env\n' }, '.env.example', false],
  ];
  for (const [what, map, rel, expected] of cases) {
    it(what, () => expect(ignoredByRules('/w', rel, files(map))).toBe(expected));
  }
});

describe('Alembic heads', () => {
  it('reads revision and down_revision with and without annotations, and a merge', () => {
    expect(parseAlembicRevision('revision: str = "a1"\ndown_revision: str | None = None\n', 'x.py')).toEqual({ id: 'a1', down: [], file: 'x.py' });
    expect(parseAlembicRevision("revision = 'm'\ndown_revision = ('b', 'c')\n", 'm.py')?.down).toEqual(['b', 'c']);
    expect(parseAlembicRevision('"""Revision ID: zz"""\n', 'n.py')).toBeUndefined();
  });

  it('the head is the revision nobody names as its down_revision; two branches give two heads', () => {
    const chain = [
      { name: '1.py', text: 'revision = "a"\ndown_revision = None\n' },
      { name: '2.py', text: 'revision = "b"\ndown_revision = "a"\n' },
    ];
    expect(alembicHeads(chain)).toEqual(['b']);
    expect(alembicHeads([...chain, { name: '3.py', text: 'revision = "c"\ndown_revision = "a"\n' }])).toEqual(['b', 'c']);
    expect(alembicHeads([...chain, { name: '3.py', text: 'revision = "c"\ndown_revision = "a"\n' }, { name: '4.py', text: 'revision = "d"\ndown_revision = ("b", "c")\n' }])).toEqual(['d']);
  });
});

describe('removeEnvVar', () => {
  it('removes the assignment, create-ovu-app\'s comment above it and one of the blank lines around it', () => {
    const text = 'A=1\n\n# inv: password of inv_user\nINV_DB_PASSWORD=x\n\n# inv: verifier\nINV_DB_VERIFIER=y\n';
    expect(removeEnvVar(text, 'INV_DB_PASSWORD', 'inv: password of inv_user')).toBe('A=1\n\n# inv: verifier\nINV_DB_VERIFIER=y\n');
    expect(removeEnvVar('# inv: password of inv_user\nINV_DB_PASSWORD=x\n\nB=2\n', 'INV_DB_PASSWORD', 'inv: password of inv_user')).toBe('B=2\n');
    expect(removeEnvVar('# mine\nINV_DB_PASSWORD=x\r\nB=2\r\n', 'INV_DB_PASSWORD', 'inv: password of inv_user')).toBe('# mine\nB=2\r\n');
  });
});
