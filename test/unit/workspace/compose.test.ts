import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { editCompose, inspectCompose, validateCompose } from '../../../src/workspace/compose/edit.ts';
import { UserError } from '../../../src/errors.ts';
import type { AppSpec, Kind } from '../../../src/app/spec.ts';
import { appSpec } from '../../helpers/spec.ts';

const FILE = 'docker-compose.yml';
const fixture = (name: string): string => fs.readFileSync(new URL(`../../fixtures/compose/${name}`, import.meta.url), 'utf8');

function spec(slug: string, port: number, kind: Kind = 'crud'): AppSpec {
  return appSpec(slug, { port, kind, ulmUrl: 'http://ulm-backend:8000' });
}

const edit = (source: string | undefined, s: AppSpec = spec('inventory', 8010), force = false) =>
  editCompose(source, s, { fileName: FILE, force });

const load = (text: string): Record<string, any> => parse(text, { merge: true }) as Record<string, any>;

/** Lines with their end of line. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * Proves `edited` is `original` plus inserted lines: every original line (with its line ending)
 * appears unchanged and in order (longest common subsequence). Returns the inserted lines.
 */
function insertedLines(original: string, edited: string): string[] {
  const fix = (t: string) => (t.endsWith('\n') ? t : `${t}\n`); // a last line without EOL may gain one
  const a = splitLines(fix(original));
  const b = splitLines(fix(edited));
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const inserted: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
    } else if (lcs[i]![j + 1]! >= lcs[i + 1]![j]!) inserted.push(b[j++]!);
    else throw new Error(`original line ${i + 1} changed or removed: ${JSON.stringify(a[i])}`);
  }
  if (i < a.length) throw new Error(`original line ${i + 1} removed: ${JSON.stringify(a[i])}`);
  inserted.push(...b.slice(j));
  return inserted;
}

/** Inserts `text` right after the (unique) line `after` of `source`. */
function insertAfter(source: string, after: string, text: string): string {
  const idx = source.indexOf(`${after}\n`);
  if (idx < 0 || source.indexOf(`${after}\n`, idx + 1) >= 0) throw new Error(`anchor line not unique: ${after}`);
  const at = idx + after.length + 1;
  return source.slice(0, at) + text + source.slice(at);
}

/** The service block (key line through its last line) of `name` in a 2-space block file. */
function serviceBlock(text: string, name: string): string {
  const start = text.indexOf(`\n  ${name}:\n`);
  if (start < 0) throw new Error(`no service ${name}`);
  const rest = text.slice(start + 1);
  const end = rest.slice(1).search(/\n(?: {0,2}[^ \n]|\n)/);
  return end < 0 ? rest : rest.slice(0, end + 2);
}

const INVENTORY_SERVICE = `
  inventory-backend:
    build: ./inventory/backend
    environment:
      DATABASE_URL: postgresql://inventory_user:\${INVENTORY_DB_PASSWORD}@postgres:5432/inventory_db
      DB_POOL_SIZE: "20"
      DB_MAX_OVERFLOW: "10"
      DB_POOL_TIMEOUT: "30"
      ULM_BASE_URL: http://ulm-backend:8000
      ULM_SERVICE_TOKEN: \${ULM_SERVICE_TOKEN}
    ports:
      - "8010:8000"
    depends_on:
      postgres:
        condition: service_healthy
`;

const HEALTHCHECK = `    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres"]
      interval: 5s
      timeout: 5s
      retries: 10
`;

const GOOD_FIXTURES = [
  'adr.yml',
  'commented.yml',
  'commented-crlf.yml',
  'four-space.yml',
  'flat-seq.yml',
  'list-env.yml',
  'no-trailing-newline.yml',
  'flow-postgres.yml',
  'no-postgres.yml',
];

describe('validateCompose', () => {
  it.each(GOOD_FIXTURES)('accepts %s', (name) => {
    expect(() => validateCompose(fixture(name), FILE)).not.toThrow();
  });

  it('names the file, the line of the misspelt key and the fix', () => {
    const err = catchError(() => validateCompose(fixture('invalid-typo.yml'), FILE));
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(1);
    expect(err.message).toBe("docker-compose.yml:6: services.api has unknown property 'enviroment' (did you mean 'environment'?)");
  });

  it('reports YAML syntax errors with file:line:col on one line', () => {
    const err = catchError(() => validateCompose(fixture('unparsable.yml'), FILE));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/^docker-compose\.yml:5:3: not valid YAML: Flow sequence .*must be sufficiently indented/);
    expect(err.message).not.toContain('\n');
  });

  it('rejects depends_on targets that are not defined (the schema cannot)', () => {
    const err = catchError(() => validateCompose(fixture('missing-dep.yml'), FILE));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(
      "docker-compose.yml:8: services.api.depends_on[1] refers to service 'redis', which is not defined in this file (services: postgres, api)",
    );
  });

  it('points at the line of a wrong type, an unknown top-level key, a bad enum and an undeclared volume', () => {
    expect(catchError(() => validateCompose('services:\n  api:\n    image: x\n    environment: 5\n', FILE)).message).toBe(
      'docker-compose.yml:4: services.api.environment must be a mapping or a list, not number 5',
    );
    expect(catchError(() => validateCompose('servics:\n  api:\n    image: x\n', FILE)).message).toBe(
      "docker-compose.yml:1: unknown top-level key 'servics' (did you mean 'services'?)",
    );
    expect(
      catchError(() =>
        validateCompose('services:\n  db:\n    image: x\n  api:\n    image: x\n    depends_on:\n      db:\n        condition: healthy\n', FILE),
      ).message,
    ).toMatch(/^docker-compose\.yml:8: services\.api\.depends_on\.db\.condition must be one of "service_started"/);
    expect(catchError(() => validateCompose('services:\n  db:\n    image: x\n    volumes:\n      - pgdata:/data\n', FILE)).message).toBe(
      "docker-compose.yml:5: services.db.volumes[0] uses volume 'pgdata', which is not declared under the top-level volumes: (add 'pgdata:' there)",
    );
  });

  it('finds the line of an error inside a merged anchor and of an undefined alias', () => {
    const src = 'x-base: &base\n  restat: always\nservices:\n  api:\n    <<: *base\n    image: x\n';
    expect(catchError(() => validateCompose(src, FILE)).message).toBe(
      "docker-compose.yml:2: services.api has unknown property 'restat' (did you mean 'restart'?)",
    );
    expect(catchError(() => validateCompose('services:\n  api:\n    image: x\n    environment: *nope\n', FILE)).message).toMatch(
      /^docker-compose\.yml:4: not valid YAML: Unresolved alias/,
    );
  });

  it('rejects an empty file and duplicate keys', () => {
    expect(catchError(() => validateCompose('# nothing\n', FILE)).message).toMatch(/^docker-compose\.yml:1: the file has no content/);
    expect(catchError(() => validateCompose('services:\n  a:\n    image: x\n  a:\n    image: y\n', FILE)).message).toMatch(
      /^docker-compose\.yml:4:3: not valid YAML: Map keys must be unique/,
    );
  });
});

describe('inspectCompose', () => {
  it('lists services, published host ports and the ULM token variable', () => {
    const info = inspectCompose(fixture('commented.yml'), FILE);
    expect(info.services).toEqual(['postgres', 'ulm-backend']);
    expect(info.hostPorts).toEqual([5432, 8001, 9001]);
    expect([...info.portOwners]).toEqual([
      [5432, 'postgres'],
      [8001, 'ulm-backend'],
      [9001, 'ulm-backend'],
    ]);
    expect(info.ulmTokenVar).toBe('ULM_TOKEN');
  });

  it('reads every ports syntax and list-style environments', () => {
    const src = [
      'services:',
      '  a:',
      '    image: x',
      '    ports:',
      '      - 3000',
      '      - "8080:80/udp"',
      '      - "[::1]:8443:443"',
      '      - "9000-9002:9000-9002"',
      '      - "${WEB_PORT:-7000}:80"',
      '      - target: 80',
      '        published: "6000"',
      '    environment:',
      '      - ULM_SERVICE_TOKEN=${SVC_TOKEN}',
      '',
    ].join('\n');
    const info = inspectCompose(src, FILE);
    expect(info.hostPorts).toEqual([8080, 8443, 9000, 9001, 9002, 7000, 6000]);
    expect(info.ulmTokenVar).toBe('SVC_TOKEN');
    expect(inspectCompose(fixture('adr.yml'), FILE).ulmTokenVar).toBeUndefined();
  });

  it('validates too', () => {
    expect(() => inspectCompose(fixture('invalid-typo.yml'), FILE)).toThrow(UserError);
  });
});

describe('editCompose on the ADR file', () => {
  const source = fixture('adr.yml');
  const result = edit(source);

  it('inserts exactly the password variable, the healthcheck and the new service', () => {
    let expected = insertAfter(source, '      POSTGRES_PASSWORD: postgres', '      INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}\n');
    expected = insertAfter(expected, '      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql', HEALTHCHECK);
    expected = insertAfter(expected, '      DATABASE_URL: postgresql://app2_user:app2_pass@postgres:5432/app2_db\n    depends_on:\n      - postgres', INVENTORY_SERVICE);
    expect(result.text).toBe(expected);
    expect(result.text.startsWith("# docker-compose.yml\nversion: '3.8'\n")).toBe(true);
    expect(result.created).toBe(false);
    expect(result.notes).toEqual([
      'postgres: added INVENTORY_DB_PASSWORD to environment',
      'postgres: added healthcheck (pg_isready -U postgres)',
      'added service inventory-backend',
    ]);
  });

  it('yields the original object plus the additions, valid against the schema', () => {
    validateCompose(result.text, FILE);
    const before = load(source);
    const after = load(result.text);
    before['services'].postgres.environment.INVENTORY_DB_PASSWORD = '${INVENTORY_DB_PASSWORD}';
    before['services'].postgres.healthcheck = { test: ['CMD-SHELL', 'pg_isready -U postgres'], interval: '5s', timeout: '5s', retries: 10 };
    before['services']['inventory-backend'] = {
      build: './inventory/backend',
      environment: {
        DATABASE_URL: 'postgresql://inventory_user:${INVENTORY_DB_PASSWORD}@postgres:5432/inventory_db',
        DB_POOL_SIZE: '20',
        DB_MAX_OVERFLOW: '10',
        DB_POOL_TIMEOUT: '30',
        ULM_BASE_URL: 'http://ulm-backend:8000',
        ULM_SERVICE_TOKEN: '${ULM_SERVICE_TOKEN}',
      },
      ports: ['8010:8000'],
      depends_on: { postgres: { condition: 'service_healthy' } },
    };
    expect(after).toEqual(before);
  });

  it('is idempotent: the same spec again (with --force) gives identical text', () => {
    expect(edit(result.text, spec('inventory', 8010), true).text).toBe(result.text);
  });

  it('refuses an existing service without --force', () => {
    const err = catchError(() => edit(result.text));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe("docker-compose.yml already has a service 'inventory-backend'; pass --force to replace it or choose another name");
  });

  it('adds a second app without touching the first one', () => {
    const second = edit(result.text, spec('crm', 8011));
    const added = insertedLines(result.text, second.text);
    expect(added).toContain('      CRM_DB_PASSWORD: ${CRM_DB_PASSWORD}\n');
    expect(added).toContain('  crm-backend:\n');
    expect(added).toContain('      DATABASE_URL: postgresql://crm_user:${CRM_DB_PASSWORD}@postgres:5432/crm_db\n');
    expect(added.some((l) => l.includes('healthcheck'))).toBe(false); // already there
    expect(serviceBlock(second.text, 'inventory-backend')).toBe(serviceBlock(result.text, 'inventory-backend'));
    expect(serviceBlock(result.text, 'inventory-backend')).toBe(INVENTORY_SERVICE.slice(1));
  });

  it('--force replaces only its own service, in place', () => {
    const replaced = edit(source, spec('app1', 8020), true);
    const before = splitLines(source);
    const after = splitLines(replaced.text);
    const app1Start = before.indexOf('  app1-backend:\n');
    const app1End = before.indexOf('  app2-backend:\n') - 1; // blank line before app2
    // Everything before app1 (plus the postgres additions) and everything after it is unchanged.
    expect(insertedLines(source.slice(0, source.indexOf('  app1-backend:')), replaced.text.slice(0, replaced.text.indexOf('  app1-backend:')))).toEqual([
      '      APP1_DB_PASSWORD: ${APP1_DB_PASSWORD}\n',
      ...HEALTHCHECK.split(/(?<=\n)/),
    ]);
    expect(replaced.text.endsWith(before.slice(app1End).join(''))).toBe(true);
    expect(serviceBlock(replaced.text, 'app2-backend')).toBe(serviceBlock(source, 'app2-backend'));
    expect(serviceBlock(replaced.text, 'app1-backend')).toBe(
      INVENTORY_SERVICE.slice(1).replace(/inventory/g, 'app1').replace(/INVENTORY/g, 'APP1').replace('8010', '8020'),
    );
    expect(after.length).toBeGreaterThan(before.length);
    expect(before.slice(app1Start, app1End).length).toBe(6);
    expect(replaced.notes).toContain('replaced service app1-backend');
  });

  it('readonly apps get no DATABASE_URL, no DB settings and no postgres dependency', () => {
    const ro = edit(source, spec('reports', 8030, 'readonly'));
    expect(ro.text).toBe(
      insertAfter(source, '      DATABASE_URL: postgresql://app2_user:app2_pass@postgres:5432/app2_db\n    depends_on:\n      - postgres', '\n  reports-backend:\n    build: ./reports/backend\n    environment:\n      ULM_BASE_URL: http://ulm-backend:8000\n      ULM_SERVICE_TOKEN: ${ULM_SERVICE_TOKEN}\n    ports:\n      - "8030:8000"\n'),
    );
    const svc = load(ro.text)['services']['reports-backend'];
    expect(svc.environment.DATABASE_URL).toBeUndefined();
    expect(Object.keys(svc.environment).some((k) => k.startsWith('DB_'))).toBe(false);
    expect(svc.depends_on).toBeUndefined();
    expect(ro.notes).toEqual(['added service reports-backend']);
  });
});

describe('editCompose keeps comments, anchors, quoting and layout', () => {
  const source = fixture('commented.yml');
  const result = edit(source);
  const tokenService = INVENTORY_SERVICE.replace('${ULM_SERVICE_TOKEN}', '${ULM_TOKEN}');

  it('inserts only the additions, each where it belongs', () => {
    let expected = insertAfter(source, '      ULM_DB_PASSWORD: ${ULM_DB_PASSWORD}', '      INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}\n');
    expected = insertAfter(
      expected,
      '      - postgres_data:/var/lib/postgresql/data   # data files',
      '      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql\n',
    );
    expected = insertAfter(expected, '      # more mounts below', HEALTHCHECK);
    expected = insertAfter(expected, '    # end of ulm-backend', tokenService);
    expect(result.text).toBe(expected);
  });

  it('reuses the token variable the other services use and keeps anchors working', () => {
    const after = load(result.text);
    expect(after['services']['inventory-backend'].environment.ULM_SERVICE_TOKEN).toBe('${ULM_TOKEN}');
    expect(after['services']['ulm-backend'].restart).toBe('unless-stopped'); // <<: *common still merges
    expect(after['services']['ulm-backend'].healthcheck.interval).toBe('10s'); // <<: *hc still merges
    expect(result.text).toContain('x-common: &common   # shared by every service\n');
    expect(result.notes).toEqual([
      'inventory-backend: ULM_SERVICE_TOKEN reads ${ULM_TOKEN}, the variable the other services use',
      'postgres: added INVENTORY_DB_PASSWORD to environment',
      'postgres: mounted ./init-db.sql in /docker-entrypoint-initdb.d',
      'postgres: added healthcheck (pg_isready -U postgres)',
      'added service inventory-backend',
    ]);
  });

  it('is idempotent', () => {
    expect(edit(result.text, spec('inventory', 8010), true).text).toBe(result.text);
  });

  it('keeps CRLF line endings everywhere, with the same edits', () => {
    const crlf = fixture('commented-crlf.yml');
    expect(crlf).toContain('\r\n');
    expect(/(?<!\r)\n/.test(crlf)).toBe(false);
    const out = edit(crlf);
    expect(/(?<!\r)\n/.test(out.text)).toBe(false);
    expect(out.text.replace(/\r\n/g, '\n')).toBe(result.text);
    expect(insertedLines(crlf, out.text).every((l) => l.endsWith('\r\n'))).toBe(true);
    expect(edit(out.text, spec('inventory', 8010), true).text).toBe(out.text);
  });
});

describe('editCompose follows the file’s indentation', () => {
  it('4-space indentation, existing healthcheck left alone', () => {
    const source = fixture('four-space.yml');
    const out = edit(source);
    expect(insertedLines(source, out.text).join('')).toBe(
      [
        '            INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}',
        '            - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql',
        '    inventory-backend:',
        '        build: ./inventory/backend',
        '        environment:',
        '            DATABASE_URL: postgresql://inventory_user:${INVENTORY_DB_PASSWORD}@postgres:5432/inventory_db',
        '            DB_POOL_SIZE: "20"',
        '            DB_MAX_OVERFLOW: "10"',
        '            DB_POOL_TIMEOUT: "30"',
        '            ULM_BASE_URL: http://ulm-backend:8000',
        '            ULM_SERVICE_TOKEN: ${ULM_SERVICE_TOKEN}',
        '        ports:',
        '            - "8010:8000"',
        '        depends_on:',
        '            postgres:',
        '                condition: service_healthy',
        '',
      ].join('\n'),
    );
    expect(out.notes).not.toContain('postgres: added healthcheck (pg_isready -U postgres)');
    expect(edit(out.text, spec('inventory', 8010), true).text).toBe(out.text);
  });

  it('sequences not indented under their key stay that way', () => {
    const source = fixture('flat-seq.yml');
    const out = edit(source);
    const added = insertedLines(source, out.text);
    expect(added).toContain('    - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql\n');
    expect(added).toContain('    ports:\n');
    expect(added).toContain('    - "8010:8000"\n');
    expect(added[0]).toBe('      INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}\n');
    expect(out.text.indexOf('    - ./init-db.sql')).toBeLessThan(out.text.indexOf('    healthcheck:'));
    expect(out.text.indexOf('    healthcheck:')).toBeLessThan(out.text.indexOf('  web:'));
    expect(edit(out.text, spec('inventory', 8010), true).text).toBe(out.text);
  });

  it('list-style postgres environment; an existing initdb directory mount is enough', () => {
    const source = fixture('list-env.yml');
    const out = edit(source);
    const added = insertedLines(source, out.text);
    expect(added[0]).toBe('      - INVENTORY_DB_PASSWORD=${INVENTORY_DB_PASSWORD}\n');
    expect(added.some((l) => l.includes('init-db.sql'))).toBe(false);
    expect(added).toContain('      test: ["CMD-SHELL", "pg_isready -U admin"]\n');
    expect(added).toContain('      ULM_SERVICE_TOKEN: ${ULM_TOKEN}\n');
    expect(load(out.text)['services'].postgres.environment).toEqual([
      'POSTGRES_USER=admin',
      'POSTGRES_PASSWORD=admin',
      'INVENTORY_DB_PASSWORD=${INVENTORY_DB_PASSWORD}',
    ]);
    expect(edit(out.text, spec('inventory', 8010), true).text).toBe(out.text);
  });

  it('no trailing newline stays without one; a postgres image under another name is used', () => {
    const source = fixture('no-trailing-newline.yml');
    expect(source.endsWith('\n')).toBe(false);
    const out = edit(source);
    expect(out.text.endsWith('        condition: service_healthy')).toBe(true);
    insertedLines(source, out.text);
    expect(out.text.startsWith(source.slice(0, source.indexOf('      POSTGRES_PASSWORD: secret\n') + 31))).toBe(true);
    const svc = load(out.text)['services']['inventory-backend'];
    expect(svc.environment.DATABASE_URL).toBe('postgresql://inventory_user:${INVENTORY_DB_PASSWORD}@db:5432/inventory_db');
    expect(svc.depends_on).toEqual({ db: { condition: 'service_healthy' } });
    expect(load(out.text)['services'].postgres).toBeUndefined();
    expect(out.text).toContain('  web:\n    image: nginx:1.27\n    ports:\n      - "8080:80"\n  inventory-backend:\n');
    expect(edit(out.text, spec('inventory', 8010), true).text).toBe(out.text);
  });

  it('splices into flow collections without reformatting them', () => {
    const source = fixture('flow-postgres.yml');
    const out = edit(source);
    const lines = out.text.split('\n');
    expect(lines[3]).toBe('    environment: {POSTGRES_USER: admin, POSTGRES_PASSWORD: secret, INVENTORY_DB_PASSWORD: "${INVENTORY_DB_PASSWORD}"}');
    expect(lines[4]).toBe('    ports: ["5432:5432"]');
    expect(lines[5]).toBe('    volumes: [pgdata:/var/lib/postgresql/data, ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql]');
    expect(lines[6]).toBe('    healthcheck:');
    expect(lines[7]).toBe('      test: ["CMD-SHELL", "pg_isready -U admin"]');
    expect(out.text).toContain('  app1-backend: {build: ./app1/backend, depends_on: [postgres]}\n  inventory-backend:\n');
    expect(out.text.endsWith('volumes: {pgdata: {}}\n')).toBe(true);
    // Removing the insertions gives back the original bytes.
    const stripped = out.text
      .replace(', INVENTORY_DB_PASSWORD: "${INVENTORY_DB_PASSWORD}"', '')
      .replace(', ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql', '')
      .replace(/ {4}healthcheck:\n(?: {6}.*\n){4}/, '')
      .replace(INVENTORY_SERVICE.slice(1), '');
    expect(stripped).toBe(source);
    expect(edit(out.text, spec('inventory', 8010), true).text).toBe(out.text);
  });

  it('joins several additions to an empty flow mapping with commas', () => {
    const out = edit('services: {}\n');
    expect(out.text).toMatch(/^services: \{postgres: \{image: postgres:15, .*\}, inventory-backend: \{build: \.\/inventory\/backend, .*\}\}\n\nvolumes:\n {2}postgres_data:\n$/);
    expect(Object.keys(load(out.text)['services'])).toEqual(['postgres', 'inventory-backend']);
    expect(edit(out.text, spec('inventory', 8010), true).text).toBe(out.text);
  });

  it('uses single quotes when the file does', () => {
    const source = "services:\n  postgres:\n    image: 'postgres:15'\n    ports: ['5432:5432']\n    healthcheck: {test: ['CMD', 'true']}\n";
    const out = edit(source);
    expect(out.text).toContain("      DB_POOL_SIZE: '20'\n");
    expect(out.text).toContain("      - '8010:8000'\n");
    expect(out.text.startsWith(source)).toBe(true);
  });

  it('adds a postgres service and its volume when the file has none', () => {
    const source = fixture('no-postgres.yml');
    const out = edit(source);
    const after = load(out.text);
    expect(after['services'].postgres.image).toBe('postgres:15');
    expect(after['services'].postgres.environment).toEqual({
      POSTGRES_USER: 'postgres',
      POSTGRES_PASSWORD: 'postgres',
      INVENTORY_DB_PASSWORD: '${INVENTORY_DB_PASSWORD}',
    });
    expect(after['services'].postgres.volumes).toContain('./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql');
    expect(after['volumes']).toEqual({ postgres_data: null });
    expect(Object.keys(after['services'])).toEqual(['ulm-backend', 'postgres', 'inventory-backend']);
    expect(out.text.startsWith(source)).toBe(true);
    expect(out.text.endsWith('\n\nvolumes:\n  postgres_data:\n')).toBe(true);
    expect(out.notes).toContain('added volume postgres_data');
    expect(edit(out.text, spec('inventory', 8010), true).text).toBe(out.text);
  });
});

describe('editCompose without a compose file', () => {
  it('creates a minimal file: postgres:15 with init-db.sql plus the app', () => {
    const out = edit(undefined);
    expect(out.created).toBe(true);
    expect(out.notes[0]).toBe('created docker-compose.yml (postgres:15 with init-db.sql)');
    expect(out.text).not.toMatch(/^version:/m);
    expect(out.text).toBe(
      `services:
  postgres:
    image: postgres:15
    environment:
      POSTGRES_USER: postgres
      POSTGRES_PASSWORD: postgres
      INVENTORY_DB_PASSWORD: \${INVENTORY_DB_PASSWORD}
    ports:
      - "5432:5432"
    volumes:
      - postgres_data:/var/lib/postgresql/data
      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql
${HEALTHCHECK}${INVENTORY_SERVICE}
volumes:
  postgres_data:
`,
    );
    validateCompose(out.text, FILE);
    expect(edit(out.text, spec('inventory', 8010), true).text).toBe(out.text);
  });

  it('a readonly app alone needs no postgres', () => {
    const out = edit(undefined, spec('reports', 8030, 'readonly'));
    expect(Object.keys(load(out.text)['services'])).toEqual(['reports-backend']);
    expect(out.text).not.toContain('postgres');
  });
});

describe('editCompose refuses what it cannot do safely', () => {
  it('validates the input first', () => {
    expect(catchError(() => edit(fixture('invalid-typo.yml'))).message).toMatch(/^docker-compose\.yml:6: /);
    expect(catchError(() => edit(fixture('unparsable.yml'))).message).toMatch(/^docker-compose\.yml:5:3: /);
    expect(catchError(() => edit(fixture('missing-dep.yml'))).message).toMatch(/^docker-compose\.yml:8: /);
  });

  it('will not edit a postgres environment shared through an anchor', () => {
    const src = 'services:\n  postgres:\n    image: postgres:15\n    environment: &e\n      A: b\n  other:\n    image: x\n    environment: *e\n';
    const err = catchError(() => edit(src));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/^docker-compose\.yml:5: the environment of the postgres service is shared through the YAML anchor '&e'/);
  });

  it('will not guess when the postgres environment comes from a merge key', () => {
    const src = 'x-env: &env\n  environment:\n    A: b\nservices:\n  postgres:\n    <<: *env\n    image: postgres:15\n';
    expect(catchError(() => edit(src)).message).toMatch(/^docker-compose\.yml:\d+: the postgres service gets its environment from a YAML alias or merge key/);
  });

  it('leaves postgres alone when everything is already there', () => {
    const src = fixture('adr.yml').replace(
      '      POSTGRES_PASSWORD: postgres\n',
      '      POSTGRES_PASSWORD: postgres\n      INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}\n',
    ).replace('      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql\n', `      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql\n${HEALTHCHECK}`);
    const out = edit(src);
    expect(out.text).toBe(
      insertAfter(src, '      DATABASE_URL: postgresql://app2_user:app2_pass@postgres:5432/app2_db\n    depends_on:\n      - postgres', INVENTORY_SERVICE),
    );
    expect(out.notes).toEqual(['added service inventory-backend']);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}
