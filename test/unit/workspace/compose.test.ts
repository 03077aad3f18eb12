import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addAppToCompose, readComposeProject, type KnownApp } from '../../../src/workspace/compose/index.ts';
import { parseCompose } from '../../../src/workspace/compose/parse.ts';
import { composeInfo } from '../../../src/workspace/compose/model.ts';
import { UserError } from '../../../src/errors.ts';
import type { AppSpec, Kind } from '../../../src/app/spec.ts';
import { appSpec } from '../../helpers/spec.ts';

const FILE = 'docker-compose.yml';
const fixture = (name: string): string => fs.readFileSync(new URL(`../../fixtures/compose/${name}`, import.meta.url), 'utf8');

function spec(slug: string, port: number, kind: Kind = 'crud'): AppSpec {
  return appSpec(slug, { port, kind, ulmUrl: 'http://ulm-backend:8000' });
}

const validateCompose = (text: string, file: string): void => void parseCompose(text, file);
const inspectCompose = (text: string, file: string) => composeInfo(parseCompose(text, file).js);

/**
 * Adds `s` to the workspace file `source` (undefined: none yet). `apps` are the apps already in
 * the workspace, as their answers files tell; `files` the team's own included files.
 */
function edit(source: string | undefined, s: AppSpec = spec('inventory', 8010), apps: KnownApp[] = [], files: Record<string, string> = {}) {
  const project = readComposeProject('/ws', FILE, source, apps, (f) => files[f.replace('/ws/', '')]);
  const r = addAppToCompose(project, s);
  return { text: r.text, app: r.appFile.text, notes: r.notes, project };
}
const known = (s: AppSpec): KnownApp => ({ dir: s.names.slug, service: s.names.service, port: s.settings.port });

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

const INCLUDE = '\ninclude:\n  - inventory/compose.yaml\n';

const INVENTORY_FILE = `# inventory's service, written by create-ovu-app. The workspace's compose file includes this file;
# paths here are relative to this directory.
services:
  inventory-backend:
    build: ./backend
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

describe('readComposeProject', () => {
  it('knows the services and ports of included files: apps from their answers, the team\'s files by parsing them', () => {
    const main = fixture('adr.yml') + '\ninclude:\n  - inventory/compose.yaml\n  - path: ./ops/compose.yaml\n';
    const ops = 'services:\n  grafana:\n    image: grafana/grafana\n    ports: ["3000:3000"]\n';
    const project = readComposeProject('/ws', FILE, main, [known(spec('inventory', 8010))], (f) => (f === '/ws/ops/compose.yaml' ? ops : undefined));
    expect([...project.services]).toEqual([
      ['postgres', FILE],
      ['app1-backend', FILE],
      ['app2-backend', FILE],
      ['inventory-backend', 'inventory/compose.yaml'],
      ['grafana', 'ops/compose.yaml'],
    ]);
    expect([...project.portOwners]).toEqual([
      [5432, 'postgres'],
      [8010, 'inventory-backend'],
      [3000, 'grafana'],
    ]);
    expect(project.postgres).toEqual({ name: 'postgres', file: FILE });
  });

  it('refuses an include that does not exist and checks references across files', () => {
    expect(catchError(() => readComposeProject('/ws', FILE, 'include:\n  - nope/compose.yaml\n', [], () => undefined)).message).toBe(
      'docker-compose.yml: include: names nope/compose.yaml, which does not exist; create it or remove the entry',
    );
    const main = 'include:\n  - ops/compose.yaml\nservices:\n  api:\n    image: x\n    depends_on: [grafana, redis]\n';
    const ops = 'services:\n  grafana:\n    image: grafana/grafana\n';
    expect(catchError(() => readComposeProject('/ws', FILE, main, [], () => ops)).message).toBe(
      "docker-compose.yml:6: services.api.depends_on[1] refers to service 'redis', which is not defined in this file or the files it includes (services: grafana, api)",
    );
  });
});

describe('adding an app to the ADR file', () => {
  const source = fixture('adr.yml');
  const result = edit(source);

  it('inserts exactly the password variable, the healthcheck and the include; the service goes to its own file', () => {
    let expected = insertAfter(source, '      POSTGRES_PASSWORD: postgres', '      INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}\n');
    expected = insertAfter(expected, '      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql', HEALTHCHECK);
    expect(result.text).toBe(expected + INCLUDE);
    expect(result.text.startsWith("# docker-compose.yml\nversion: '3.8'\n")).toBe(true);
    expect(result.app).toBe(INVENTORY_FILE);
    expect(result.notes).toEqual([
      'postgres: added INVENTORY_DB_PASSWORD to environment',
      'postgres: added healthcheck (pg_isready -U postgres)',
      'docker-compose.yml: included inventory/compose.yaml',
      'added service inventory-backend (in inventory/compose.yaml)',
    ]);
  });

  it('yields the original object plus the additions, valid against the schema', () => {
    parseCompose(result.text, FILE, new Set(['inventory-backend']));
    parseCompose(result.app, 'inventory/compose.yaml', new Set(['postgres']));
    const before = load(source);
    before['services'].postgres.environment.INVENTORY_DB_PASSWORD = '${INVENTORY_DB_PASSWORD}';
    before['services'].postgres.healthcheck = { test: ['CMD-SHELL', 'pg_isready -U postgres'], interval: '5s', timeout: '5s', retries: 10 };
    before['include'] = ['inventory/compose.yaml'];
    expect(load(result.text)).toEqual(before);
    expect(load(result.app)).toEqual({
      services: {
        'inventory-backend': {
          build: './backend',
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
        },
      },
    });
  });

  it('is idempotent: the same app again (--force) changes nothing in the workspace file', () => {
    const again = edit(result.text, spec('inventory', 8010), [known(spec('inventory', 8010))]);
    expect(again.text).toBe(result.text);
    expect(again.app).toBe(result.app);
  });

  it('adds a second app with two lines in the workspace file', () => {
    const second = edit(result.text, spec('crm', 8011), [known(spec('inventory', 8010))]);
    expect(insertedLines(result.text, second.text)).toEqual(['      CRM_DB_PASSWORD: ${CRM_DB_PASSWORD}\n', '  - crm/compose.yaml\n']);
    expect(second.app).toContain('      DATABASE_URL: postgresql://crm_user:${CRM_DB_PASSWORD}@postgres:5432/crm_db\n');
  });

  it('readonly apps get no DATABASE_URL, no DB settings, no postgres dependency and leave postgres alone', () => {
    const ro = edit(source, spec('reports', 8030, 'readonly'));
    expect(ro.text).toBe(`${source}\ninclude:\n  - reports/compose.yaml\n`);
    const svc = load(ro.app)['services']['reports-backend'];
    expect(svc).toEqual({ build: './backend', environment: { ULM_BASE_URL: 'http://ulm-backend:8000', ULM_SERVICE_TOKEN: '${ULM_SERVICE_TOKEN}' }, ports: ['8030:8000'] });
    expect(ro.notes).toEqual(['docker-compose.yml: included reports/compose.yaml', 'added service reports-backend (in reports/compose.yaml)']);
  });

  it('appends to an include list the file already has, in its style', () => {
    const withInclude = source.replace("version: '3.8'\n", "version: '3.8'\ninclude: [ops/compose.yaml]\n");
    const out = edit(withInclude, spec('inventory', 8010), [], { 'ops/compose.yaml': 'services:\n  grafana:\n    image: grafana/grafana\n' });
    expect(out.text).toContain('include: [ops/compose.yaml, inventory/compose.yaml]\n');
    expect(out.text.replace(', inventory/compose.yaml]', ']')).toBe(insertAfter(insertAfter(withInclude, '      POSTGRES_PASSWORD: postgres', '      INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}\n'), '      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql', HEALTHCHECK));
  });
});

describe('adding an app keeps comments, anchors, quoting and layout', () => {
  const source = fixture('commented.yml');
  const result = edit(source);

  it('inserts only the additions, each where it belongs', () => {
    let expected = insertAfter(source, '      ULM_DB_PASSWORD: ${ULM_DB_PASSWORD}', '      INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}\n');
    expected = insertAfter(
      expected,
      '      - postgres_data:/var/lib/postgresql/data   # data files',
      '      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql\n',
    );
    expected = insertAfter(expected, '      # more mounts below', HEALTHCHECK);
    expect(insertedLines(expected, result.text)).toEqual(['\n', 'include:\n', '  - inventory/compose.yaml\n']);
  });

  it('reuses the token variable the other services use and keeps anchors working', () => {
    const after = load(result.text);
    expect(load(result.app)['services']['inventory-backend'].environment.ULM_SERVICE_TOKEN).toBe('${ULM_TOKEN}');
    expect(after['services']['ulm-backend'].restart).toBe('unless-stopped'); // <<: *common still merges
    expect(after['services']['ulm-backend'].healthcheck.interval).toBe('10s'); // <<: *hc still merges
    expect(result.text).toContain('x-common: &common   # shared by every service\n');
    expect(result.notes).toEqual([
      'inventory-backend: ULM_SERVICE_TOKEN reads ${ULM_TOKEN}, the variable the other services use',
      'postgres: added INVENTORY_DB_PASSWORD to environment',
      'postgres: mounted ./init-db.sql in /docker-entrypoint-initdb.d',
      'postgres: added healthcheck (pg_isready -U postgres)',
      'docker-compose.yml: included inventory/compose.yaml',
      'added service inventory-backend (in inventory/compose.yaml)',
    ]);
  });

  it('is idempotent', () => {
    expect(edit(result.text, spec('inventory', 8010), [known(spec('inventory', 8010))]).text).toBe(result.text);
  });

  it('keeps CRLF line endings everywhere, with the same edits, and writes the app file with them', () => {
    const crlf = fixture('commented-crlf.yml');
    expect(crlf).toContain('\r\n');
    expect(/(?<!\r)\n/.test(crlf)).toBe(false);
    const out = edit(crlf);
    expect(/(?<!\r)\n/.test(out.text)).toBe(false);
    expect(out.text.replace(/\r\n/g, '\n')).toBe(result.text);
    expect(insertedLines(crlf, out.text).every((l) => l.endsWith('\r\n'))).toBe(true);
    expect(out.app.replace(/\r\n/g, '\n')).toBe(result.app);
    expect(/(?<!\r)\n/.test(out.app)).toBe(false);
    expect(edit(out.text, spec('inventory', 8010), [known(spec('inventory', 8010))]).text).toBe(out.text);
  });
});

describe('adding an app follows the file’s indentation', () => {
  it('4-space indentation, existing healthcheck left alone; the app file is indented alike', () => {
    const source = fixture('four-space.yml');
    const out = edit(source);
    expect(insertedLines(source, out.text).join('')).toBe(
      ['            INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}', '            - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql', 'include:', '    - inventory/compose.yaml', ''].join('\n'),
    );
    expect(out.app).toContain('\n    inventory-backend:\n        build: ./backend\n        environment:\n            DATABASE_URL: ');
    expect(out.app).toContain('\n        ports:\n            - "8010:8000"\n');
    expect(out.notes).not.toContain('postgres: added healthcheck (pg_isready -U postgres)');
    expect(edit(out.text, spec('inventory', 8010), [known(spec('inventory', 8010))]).text).toBe(out.text);
  });

  it('sequences not indented under their key stay that way', () => {
    const source = fixture('flat-seq.yml');
    const out = edit(source);
    const added = insertedLines(source, out.text);
    expect(added).toContain('    - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql\n');
    expect(added).toContain('- inventory/compose.yaml\n');
    expect(out.app).toContain('    ports:\n    - "8010:8000"\n');
    expect(added[0]).toBe('      INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}\n');
    expect(out.text.indexOf('    - ./init-db.sql')).toBeLessThan(out.text.indexOf('    healthcheck:'));
    expect(out.text.indexOf('    healthcheck:')).toBeLessThan(out.text.indexOf('  web:'));
  });

  it('list-style postgres environment; an existing initdb directory mount is enough', () => {
    const source = fixture('list-env.yml');
    const out = edit(source);
    const added = insertedLines(source, out.text);
    expect(added[0]).toBe('      - INVENTORY_DB_PASSWORD=${INVENTORY_DB_PASSWORD}\n');
    expect(added.some((l) => l.includes('init-db.sql'))).toBe(false);
    expect(added).toContain('      test: ["CMD-SHELL", "pg_isready -U admin"]\n');
    expect(out.app).toContain('      ULM_SERVICE_TOKEN: ${ULM_TOKEN}\n');
    expect(load(out.text)['services'].postgres.environment).toEqual([
      'POSTGRES_USER=admin',
      'POSTGRES_PASSWORD=admin',
      'INVENTORY_DB_PASSWORD=${INVENTORY_DB_PASSWORD}',
    ]);
  });

  it('no trailing newline stays without one; a postgres image under another name is used', () => {
    const source = fixture('no-trailing-newline.yml');
    expect(source.endsWith('\n')).toBe(false);
    const out = edit(source);
    expect(out.text.endsWith('include:\n  - inventory/compose.yaml')).toBe(true);
    insertedLines(source, out.text);
    const svc = load(out.app)['services']['inventory-backend'];
    expect(svc.environment.DATABASE_URL).toBe('postgresql://inventory_user:${INVENTORY_DB_PASSWORD}@db:5432/inventory_db');
    expect(svc.depends_on).toEqual({ db: { condition: 'service_healthy' } });
    expect(load(out.text)['services'].postgres).toBeUndefined();
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
    // Removing the insertions gives back the original bytes.
    const stripped = out.text
      .replace(', INVENTORY_DB_PASSWORD: "${INVENTORY_DB_PASSWORD}"', '')
      .replace(', ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql', '')
      .replace(/ {4}healthcheck:\n(?: {6}.*\n){4}/, '')
      .replace('include:\n  - inventory/compose.yaml\n', ''); // no blank lines between top-level keys here
    expect(stripped).toBe(source);
  });

  it('joins an addition to an empty flow mapping', () => {
    const out = edit('services: {}\n');
    expect(out.text).toMatch(/^services: \{postgres: \{image: postgres:15, .*\}\}\n\nvolumes:\n {2}postgres_data:\n\ninclude:\n {2}- inventory\/compose.yaml\n$/);
    expect(Object.keys(load(out.text)['services'])).toEqual(['postgres']);
    expect(edit(out.text, spec('inventory', 8010), [known(spec('inventory', 8010))]).text).toBe(out.text);
  });

  it('uses single quotes when the file does', () => {
    const source = "services:\n  postgres:\n    image: 'postgres:15'\n    ports: ['5432:5432']\n    healthcheck: {test: ['CMD', 'true']}\n";
    const out = edit(source);
    expect(out.app).toContain("      DB_POOL_SIZE: '20'\n");
    expect(out.app).toContain("      - '8010:8000'\n");
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
    expect(Object.keys(after['services'])).toEqual(['ulm-backend', 'postgres']);
    expect(out.text.startsWith(source)).toBe(true);
    expect(out.text.endsWith('\n\nvolumes:\n  postgres_data:\n' + INCLUDE)).toBe(true);
    expect(out.notes).toContain('added volume postgres_data');
    expect(edit(out.text, spec('inventory', 8010), [known(spec('inventory', 8010))]).text).toBe(out.text);
  });
});

describe('adding an app without a compose file', () => {
  it('creates a minimal file: postgres:15 with init-db.sql, and the include', () => {
    const out = edit(undefined);
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
${HEALTHCHECK}
volumes:
  postgres_data:
${INCLUDE}`,
    );
    expect(out.app).toBe(INVENTORY_FILE);
    expect(edit(out.text, spec('inventory', 8010), [known(spec('inventory', 8010))]).text).toBe(out.text);
  });

  it('a readonly app alone needs no postgres', () => {
    const out = edit(undefined, spec('reports', 8030, 'readonly'));
    expect(out.text).toBe('include:\n  - reports/compose.yaml\n');
    expect(out.app).not.toContain('postgres');
  });

  it('writes any ULM URL quoted as YAML needs it', () => {
    const odd = appSpec('inventory', { port: 8010, ulmUrl: 'http://ulm:8000/a#b: c' });
    const out = edit(undefined, odd);
    expect(load(out.app)['services']['inventory-backend'].environment.ULM_BASE_URL).toBe('http://ulm:8000/a#b: c');
  });
});

describe('adding an app refuses what it cannot do safely', () => {
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

  it('says what to do when the database service is in an included file', () => {
    const main = 'include:\n  - db/compose.yaml\n';
    const db = 'services:\n  postgres:\n    image: postgres:16\n';
    expect(catchError(() => edit(main, spec('inventory', 8010), [], { 'db/compose.yaml': db })).message).toBe(
      "the database service 'postgres' is defined in db/compose.yaml: add 'INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}' to its environment by hand, or move it into docker-compose.yml",
    );
  });

  it('leaves postgres alone when everything is already there', () => {
    const src = fixture('adr.yml').replace(
      '      POSTGRES_PASSWORD: postgres\n',
      '      POSTGRES_PASSWORD: postgres\n      INVENTORY_DB_PASSWORD: ${INVENTORY_DB_PASSWORD}\n',
    ).replace('      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql\n', `      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql\n${HEALTHCHECK}`);
    const out = edit(src);
    expect(out.text).toBe(src + INCLUDE);
    expect(out.notes).toEqual(['docker-compose.yml: included inventory/compose.yaml', 'added service inventory-backend (in inventory/compose.yaml)']);
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
