import { describe, expect, it } from 'vitest';
import { dbInitEnvText, dbLogin, literalProblem, loginScript } from '../../../src/workspace/compose/db-login.ts';

const files = (map: Record<string, string>) => (f: string) => map[f.replace('/ws/', '')];
const login = (service: Record<string, unknown>, map: Record<string, string> = {}, file = 'docker-compose.yml') => dbLogin('db', file, service, '/ws', files(map));

describe('how the database service\'s superuser logs in', () => {
  it('a ${VAR} in environment is referenced, a literal is not copied', () => {
    expect(login({ environment: { POSTGRES_PASSWORD: '${PG_PW:-x}' } })).toEqual({ how: 'environment', user: undefined, password: '${PG_PW:-x}' });
    expect(login({ environment: ['POSTGRES_PASSWORD'] })).toMatchObject({ how: 'environment', password: '${POSTGRES_PASSWORD}' });
    const literal = login({ environment: { POSTGRES_USER: 'admin', POSTGRES_PASSWORD: 1234 } });
    expect(literal).toEqual({ how: 'literal', user: 'admin', password: '1234' });
    expect(dbInitEnvText(literal)).toContain("PGPASSWORD='1234'\n");
    // `$$` is a literal dollar for Compose: a literal password.
    expect(login({ environment: { POSTGRES_PASSWORD: 'a$$b' } })).toMatchObject({ how: 'literal', password: 'a$b' });
    expect(literalProblem(login({ environment: { POSTGRES_PASSWORD: "it's" } }), 'x')).toMatch(/put it in \.env as a variable/);
  });

  it('an env_file: the same files, their paths as seen from the workspace root', () => {
    const l = login({ env_file: ['pg.env', { path: 'extra.env', required: false }] }, { 'db/pg.env': 'POSTGRES_PASSWORD=s\nPOSTGRES_USER=nb\n' }, 'db/compose.yaml');
    expect(l).toEqual({ how: 'env_file', user: undefined, envFiles: ['./db/pg.env', { path: './db/extra.env', required: false }], secrets: [] });
    expect(loginScript(l)).toContain('$${POSTGRES_PASSWORD:-}');
    // One outside the workspace is not read here, but loaded the same way; $$ in a literal is one $.
    expect(login({ env_file: ['/etc/pg/pg.env'] })).toMatchObject({ how: 'env_file', envFiles: ['/etc/pg/pg.env'] });
    expect(login({ env_file: ['../secrets/pg.env'] }, {}, 'docker-compose.yml')).toMatchObject({ how: 'env_file', envFiles: ['./../secrets/pg.env'] });
    expect(login({ environment: { POSTGRES_PASSWORD: 'pa$$word' } })).toMatchObject({ how: 'literal', password: 'pa$word' });
    // environment wins over env_file, as in Compose.
    expect(login({ env_file: 'pg.env', environment: { POSTGRES_PASSWORD: '${X}' } }, { 'pg.env': 'POSTGRES_PASSWORD=s\n' })).toMatchObject({ how: 'environment' });
  });

  it('POSTGRES_PASSWORD_FILE: only a file one of its secrets puts there', () => {
    expect(login({ secrets: ['pw'], environment: { POSTGRES_PASSWORD_FILE: '/run/secrets/pw' } })).toEqual({ how: 'secret', user: undefined, passwordFile: '/run/secrets/pw', secrets: ['pw'] });
    expect(login({ secrets: [{ source: 'a', target: 'b' }], environment: { POSTGRES_PASSWORD_FILE: '/run/secrets/b' } })).toMatchObject({ how: 'secret' });
    expect(login({ secrets: [{ source: 'a', target: '/etc/pg/pw' }], environment: { POSTGRES_PASSWORD_FILE: '/etc/pg/pw' } })).toMatchObject({ how: 'secret' });
    expect(login({ secrets: ['other'], environment: { POSTGRES_PASSWORD_FILE: '/run/secrets/pw' } })).toMatchObject({ how: 'unknown', why: expect.stringMatching(/not one of its secrets/) });
    // The file's name from an env_file: ovu-db-init loads the env_file and mounts the secrets.
    expect(login({ secrets: ['pw'], env_file: 'pg.env' }, { 'pg.env': 'POSTGRES_PASSWORD_FILE=/run/secrets/pw\n' })).toMatchObject({ how: 'env_file', secrets: ['pw'] });
  });

  it('trust needs no password; nothing at all cannot be told', () => {
    expect(login({ environment: { POSTGRES_HOST_AUTH_METHOD: 'trust' } })).toMatchObject({ how: 'trust' });
    expect(login({ image: 'postgres:16' })).toMatchObject({ how: 'unknown', why: expect.stringMatching(/^ovu-db-init cannot tell how to log in to db in docker-compose\.yml/) });
    expect(login({ environment: { POSTGRES_PASSWORD: '' } })).toMatchObject({ how: 'unknown' });
  });
});
