import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addAppToCompose, readComposeProject, type KnownApp } from '../../../src/workspace/compose/index.ts';
import { parseCompose } from '../../../src/workspace/compose/parse.ts';
import { composeInfo } from '../../../src/workspace/compose/model.ts';
import { UserError } from '../../../src/errors.ts';
import type { AppSpec, Kind } from '../../../src/app/spec.ts';
import { appSpec } from '../../helpers/spec.ts';
import { UPLOAD_LOOP, forCompose } from '../../../src/workspace/backup/scripts.ts';

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
  return { text: r.text, apps: r.appsFile.text, app: r.appFile.text, dbInitEnv: r.dbInitEnv, notes: r.notes, project };
}
const known = (s: AppSpec): KnownApp => ({ dir: s.names.slug, spec: s, hasComposeFile: true });

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


const INCLUDE = '\ninclude:\n  - apps.compose.yaml\n';

const INVENTORY_FILE = `# inventory's service, written by create-ovu-app and yours to edit. apps.compose.yaml includes
# this file; paths here are relative to this directory.
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
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=4)"]
      interval: 10s
      timeout: 5s
      retries: 5
      start_period: 10s
    depends_on:
      ovu-db-init:
        condition: service_completed_successfully
`;

const APPS_HEADER = `# apps.compose.yaml: written by create-ovu-app from the apps in this workspace; do not edit.
# Each app's own service is in <app>/compose.yaml (edit that one). The workspace's compose file includes
# this one. ovu-db-init runs create-ovu-app's blocks of init-db.sql on every \`docker compose up\`;
# ovu-backup (\`docker compose --profile backup up -d ovu-backup\`) dumps each app's database nightly to ./backups/.
# ovu-backup-upload (same profile) uploads them to s3://$OVU_BACKUP_S3_BUCKET/<app>/ when .env sets OVU_BACKUP_S3_BUCKET.
`;

const DB_INIT_COMMAND = String.raw`"i=0; until pg_isready -q; do i=$$((i+1)); if [ \"$$i\" -ge 60 ]; then echo \"ovu-db-init: $$PGHOST:$$PGPORT did not accept connections in 60 s\" >&2; exit 1; fi; sleep 1; done; sed -n '/^-- >>> create-ovu-app: /,/^-- <<< create-ovu-app: /p' /ovu/init-db.sql | psql -v ON_ERROR_STOP=1 -v ovu_db_init=1 --no-psqlrc -f -"`;

// As it is in the file: a YAML double-quoted string (`$$` is a literal `$` for Compose).
const BACKUP_COMMAND = "\"keep=$${OVU_BACKUP_KEEP:-7}; dir=$${OVU_BACKUP_DIR:-/backups}; while :; do if [ -z \\\"$$OVU_BACKUP_NOW\\\" ]; then now=$$(date -u +%s); next=$$((now / 86400 * 86400 + $${OVU_BACKUP_HOUR:-3} * 3600)); [ \\\"$$next\\\" -gt \\\"$$now\\\" ] || next=$$((next + 86400)); sleep $$((next - now)); fi; failed=0; for pair in $$(env | sed -n \\\"s/^OVU_BACKUP_APP_[A-Z0-9_]*=//p\\\" | sort); do app=$${pair%%:*}; db=$${pair#*:}; mkdir -p \\\"$$dir/$$app\\\"; f=\\\"$$dir/$$app/$$db-$$(date -u +%Y%m%dT%H%M%SZ).dump\\\"; if pg_dump -Fc -f \\\"$$f.partial\\\" \\\"$$db\\\"; then chmod 600 \\\"$$f.partial\\\"; mv \\\"$$f.partial\\\" \\\"$$f\\\"; echo \\\"ovu-backup: $$f\\\"; printf '%s\\\\n' \\\"COMMENT ON DATABASE \\\\\\\"$$db\\\\\\\" IS 'create-ovu-app backup $$(date -u +%s)';\\\" | psql -q -v ON_ERROR_STOP=1 --no-psqlrc -d \\\"$$db\\\" || echo \\\"ovu-backup: could not record the dump of $$db\\\" >&2; ls -1 \\\"$$dir/$$app/\\\" | grep -E \\\"^$$db-[0-9]{8}T[0-9]{6}Z\\\\.dump$$\\\" | sort -r | tail -n +$$((keep + 1)) | while read -r old; do rm -f \\\"$$dir/$$app/$$old\\\"; done; else rm -f \\\"$$f.partial\\\"; failed=$$((failed + 1)); echo \\\"ovu-backup: pg_dump of $$db failed\\\" >&2; fi; done; if [ -n \\\"$$OVU_BACKUP_NOW\\\" ]; then exit \\\"$$failed\\\"; fi; sleep 60; done\"";

/** The ovu-backup service for `apps` ([env prefix, slug]). */
const backupBlock = (apps: [string, string][]): string => `  ovu-backup:
    image: postgres:15
    profiles:
      - backup
    command:
      - sh
      - -c
      - ${BACKUP_COMMAND}
    environment:
      PGHOST: postgres
      PGPORT: "5432"
      PGUSER: postgres
      PGDATABASE: postgres
      OVU_BACKUP_KEEP: "7"
      OVU_BACKUP_HOUR: "3"
${apps.map(([prefix, slug]) => `      OVU_BACKUP_APP_${prefix}: ${slug}:${slug}_db\n`).join('')}    env_file:
      - ./ovu-db-init/.env
    volumes:
      - ./backups:/backups
    depends_on:
      postgres:
        condition: service_started
    restart: unless-stopped
  ovu-backup-upload:
    image: amazon/aws-cli:2.17.0
    profiles:
      - backup
    entrypoint:
      - sh
      - -c
      - ${JSON.stringify(forCompose(UPLOAD_LOOP))}
    environment:
      OVU_BACKUP_S3_BUCKET: \${OVU_BACKUP_S3_BUCKET:-}
      OVU_BACKUP_S3_ENDPOINT: \${OVU_BACKUP_S3_ENDPOINT:-}
      OVU_BACKUP_S3_KEEP: \${OVU_BACKUP_S3_KEEP:-30}
      AWS_ACCESS_KEY_ID: \${OVU_BACKUP_S3_ACCESS_KEY_ID:-}
      AWS_SECRET_ACCESS_KEY: \${OVU_BACKUP_S3_SECRET_ACCESS_KEY:-}
      AWS_DEFAULT_REGION: \${OVU_BACKUP_S3_REGION:-us-east-1}
    volumes:
      - ./backups:/backups
    restart: on-failure
`;

const INVENTORY_APPS = `${APPS_HEADER}include:
  - inventory/compose.yaml
  - monitoring/compose.yaml

services:
  ovu-db-init:
    image: postgres:15
    command:
      - sh
      - -c
      - ${DB_INIT_COMMAND}
    environment:
      PGHOST: postgres
      PGPORT: "5432"
      PGUSER: postgres
      PGDATABASE: postgres
    env_file:
      - ./ovu-db-init/.env
      - ./ovu-db-init/verifiers/.env
    volumes:
      - ./init-db.sql:/ovu/init-db.sql:ro
    depends_on:
      postgres:
        condition: service_started
${backupBlock([['INVENTORY', 'inventory']])}`;

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
  it("knows the services and ports of included files: apps from their answers, the team's files by parsing them", () => {
    const main = fixture('adr.yml') + '\ninclude:\n  - apps.compose.yaml\n  - path: ./ops/compose.yaml\n';
    const ops = 'services:\n  grafana:\n    image: grafana/grafana\n    ports: ["3000:3000"]\n';
    const files: Record<string, string> = { '/ws/ops/compose.yaml': ops, '/ws/apps.compose.yaml': APPS_HEADER };
    const project = readComposeProject('/ws', FILE, main, [known(spec('inventory', 8010))], (f) => files[f]);
    expect([...project.services]).toEqual([
      ['postgres', FILE],
      ['app1-backend', FILE],
      ['app2-backend', FILE],
      ['inventory-backend', 'inventory/compose.yaml'],
      ['ovu-db-init', 'apps.compose.yaml'],
      ['grafana', 'ops/compose.yaml'],
    ]);
    expect([...project.portOwners]).toEqual([
      [5432, 'postgres'],
      [8010, 'inventory-backend'],
      [3000, 'grafana'],
    ]);
    expect(project.postgres).toMatchObject({ name: 'postgres', file: FILE });
    expect(project.includesApps).toBe(true);
  });

  it('refuses an include that does not exist, an apps.compose.yaml it did not write, and checks references across files', () => {
    expect(catchError(() => readComposeProject('/ws', FILE, 'include:\n  - nope/compose.yaml\n', [], () => undefined)).message).toBe(
      'docker-compose.yml: include: names nope/compose.yaml, which does not exist; create it or remove the entry',
    );
    expect(catchError(() => readComposeProject('/ws', FILE, 'include:\n  - apps.compose.yaml\n', [], () => 'services: {}\n')).message).toBe(
      'apps.compose.yaml was not written by create-ovu-app, which writes that file itself: rename yours and include it under its new name',
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

  it("adds only the include of apps.compose.yaml to the team's file; the service goes to the app's own file", () => {
    expect(result.text).toBe(source + INCLUDE);
    expect(result.app).toBe(INVENTORY_FILE);
    expect(result.apps).toBe(INVENTORY_APPS);
    // The team's postgres service is left as it is: a note says what monitoring needs added.
    expect(result.notes).toEqual([
      expect.stringMatching(/^monitoring reads pg_stat_statements, which postgres does not load: add `-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all` to its command in docker-compose.yml/),
      'docker-compose.yml: included apps.compose.yaml',
      'added service inventory-backend (in inventory/compose.yaml)',
    ]);
  });

  it('writes files that validate, with exactly the intended values', () => {
    const before = load(source);
    before['include'] = ['apps.compose.yaml'];
    expect(load(result.text)).toEqual(before);
    parseCompose(result.text, FILE, new Set(['inventory-backend', 'ovu-db-init']));
    parseCompose(result.apps, 'apps.compose.yaml', new Set(['postgres', 'inventory-backend']), true);
    parseCompose(result.app, 'inventory/compose.yaml', new Set(['ovu-db-init']), true);
    const { healthcheck, ...service } = load(result.app)['services']['inventory-backend'];
    expect(healthcheck.test.slice(0, 3)).toEqual(['CMD', 'python', '-c']);
    expect(healthcheck.test[3]).toContain("urlopen('http://127.0.0.1:8000/health/ready'");
    expect(service).toEqual({
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
      depends_on: { 'ovu-db-init': { condition: 'service_completed_successfully' } },
    });
  });

  it("a second app leaves the team's file alone and adds its line and verifier to apps.compose.yaml", () => {
    const files = { '/ws/apps.compose.yaml': result.apps };
    const second = edit(result.text, spec('crm', 8011), [known(spec('inventory', 8010))], { 'apps.compose.yaml': files['/ws/apps.compose.yaml'] });
    expect(second.text).toBe(result.text);
    expect(second.notes).toEqual([expect.stringMatching(/^monitoring reads pg_stat_statements/), 'added service crm-backend (in crm/compose.yaml)']);
    expect(insertedLines(result.apps, second.apps)).toEqual(['  - crm/compose.yaml\n', '      OVU_BACKUP_APP_CRM: crm:crm_db\n']);
    expect(second.app).toContain('      DATABASE_URL: postgresql://crm_user:${CRM_DB_PASSWORD}@postgres:5432/crm_db\n');
  });

  it('is idempotent: the same app again (--force) writes the same files', () => {
    const again = edit(result.text, spec('inventory', 8010), [known(spec('inventory', 8010))], { 'apps.compose.yaml': result.apps });
    expect([again.text, again.apps, again.app]).toEqual([result.text, result.apps, result.app]);
  });

  it('readonly apps get no DATABASE_URL, no DB settings, no dependency, and no ovu-db-init of their own', () => {
    const ro = edit(source, spec('reports', 8030, 'readonly'));
    expect(ro.text).toBe(source + INCLUDE);
    expect(ro.apps).toBe(`${APPS_HEADER}include:\n  - reports/compose.yaml\n`);
    const { healthcheck: _ready, ...roService } = load(ro.app)['services']['reports-backend'];
    expect(roService).toEqual({
      build: './backend',
      environment: { ULM_BASE_URL: 'http://ulm-backend:8000', ULM_SERVICE_TOKEN: '${ULM_SERVICE_TOKEN}' },
      ports: ['8030:8000'],
    });
  });

  it('appends to an include list the file already has, in its style', () => {
    const withInclude = source.replace("version: '3.8'\n", "version: '3.8'\ninclude: [ops/compose.yaml]\n");
    const out = edit(withInclude, spec('inventory', 8010), [], { 'ops/compose.yaml': 'services:\n  grafana:\n    image: grafana/grafana\n' });
    expect(out.text).toBe(withInclude.replace('include: [ops/compose.yaml]', 'include: [ops/compose.yaml, apps.compose.yaml]'));
  });
});

describe('adding an app keeps comments, anchors, quoting and layout', () => {
  const source = fixture('commented.yml');
  const result = edit(source);

  it("adds only the include to the team's file and reuses its token variable", () => {
    expect(insertedLines(source, result.text)).toEqual(['\n', 'include:\n', '  - apps.compose.yaml\n']);
    expect(load(result.app)['services']['inventory-backend'].environment.ULM_SERVICE_TOKEN).toBe('${ULM_TOKEN}');
    expect(load(result.text)['services']['ulm-backend'].restart).toBe('unless-stopped'); // <<: *common still merges
    expect(result.notes[0]).toBe('inventory-backend: ULM_SERVICE_TOKEN reads ${ULM_TOKEN}, the variable the other services use');
  });

  it('keeps CRLF line endings everywhere, and writes the new files with them', () => {
    const crlf = fixture('commented-crlf.yml');
    expect(/(?<!\r)\n/.test(crlf)).toBe(false);
    const out = edit(crlf);
    for (const text of [out.text, out.apps, out.app]) expect(/(?<!\r)\n/.test(text)).toBe(false);
    expect(out.text.replace(/\r\n/g, '\n')).toBe(result.text);
    expect(out.app.replace(/\r\n/g, '\n')).toBe(result.app);
    expect(out.apps.replace(/\r\n/g, '\n')).toBe(result.apps);
  });
});

describe("adding an app follows the file's style", () => {
  it('4-space indentation', () => {
    const out = edit(fixture('four-space.yml'));
    expect(out.text.endsWith('include:\n    - apps.compose.yaml\n')).toBe(true);
    expect(out.app).toContain('\n    inventory-backend:\n        build: ./backend\n        environment:\n            DATABASE_URL: ');
    expect(out.app).toContain('\n        ports:\n            - "8010:8000"\n');
    expect(out.apps).toContain('\n    ovu-db-init:\n        image: postgres:15\n');
  });

  it('sequences not indented under their key stay that way', () => {
    const out = edit(fixture('flat-seq.yml'));
    expect(out.text).toContain('include:\n- apps.compose.yaml\n');
    expect(out.app).toContain('    ports:\n    - "8010:8000"\n');
    expect(out.apps).toContain('include:\n- inventory/compose.yaml\n');
  });

  it('list-style environment: ovu-db-init logs in as the database service says', () => {
    const out = edit(fixture('list-env.yml'));
    // The literal password is not copied into apps.compose.yaml: ovu-db-init/.env (git-ignored) holds it.
    const init = load(out.apps)['services']['ovu-db-init'];
    expect(init.environment).toMatchObject({ PGUSER: 'admin' });
    expect(init.environment.PGPASSWORD).toBeUndefined();
    expect(init.env_file).toEqual(['./ovu-db-init/.env', './ovu-db-init/verifiers/.env']);
    expect(out.apps).not.toMatch(/PGPASSWORD/);
    expect(out.dbInitEnv).toContain("PGPASSWORD='admin'\n");
    expect(out.app).toContain('      ULM_SERVICE_TOKEN: ${ULM_TOKEN}\n');
  });

  it('no trailing newline stays without one; a postgres image under another name is used', () => {
    const source = fixture('no-trailing-newline.yml');
    const out = edit(source);
    expect(out.text).toBe(`${source}\n\ninclude:\n  - apps.compose.yaml`);
    const svc = load(out.app)['services']['inventory-backend'];
    expect(svc.environment.DATABASE_URL).toBe('postgresql://inventory_user:${INVENTORY_DB_PASSWORD}@db:5432/inventory_db');
    const init = load(out.apps)['services']['ovu-db-init'];
    expect(init).toMatchObject({ image: 'postgres:15-alpine', environment: { PGHOST: 'db', PGUSER: 'postgres' }, env_file: ['./ovu-db-init/.env', './ovu-db-init/verifiers/.env'], depends_on: { db: { condition: 'service_started' } } });
    expect(out.apps).not.toContain('secret');
    expect(out.dbInitEnv).toContain("PGPASSWORD='secret'\n");
  });

  it('splices into flow collections without reformatting them', () => {
    const source = fixture('flow-postgres.yml');
    const out = edit(source);
    expect(out.text).toBe(`${source}include:\n  - apps.compose.yaml\n`); // no blank lines between top-level keys here
  });

  it('adds a postgres service to an empty flow mapping', () => {
    const out = edit('services: {}\n');
    expect(out.text).toMatch(/^services: \{postgres: \{image: postgres:15, .*\}\}\n\nvolumes:\n {2}postgres_data:\n\ninclude:\n {2}- apps.compose.yaml\n$/);
    expect(Object.keys(load(out.text)['services'])).toEqual(['postgres']);
  });

  it('uses single quotes when the file does', () => {
    const source = "services:\n  postgres:\n    image: 'postgres:15'\n    ports: ['5432:5432']\n    environment: {POSTGRES_PASSWORD: '${PG_PW}'}\n";
    const out = edit(source);
    expect(out.app).toContain("      DB_POOL_SIZE: '20'\n");
    expect(out.app).toContain("      - '8010:8000'\n");
    expect(out.apps).toContain("      PGPORT: '5432'\n");
    expect(out.text.startsWith(source)).toBe(true);
  });

  it('adds a postgres service and its volume when the file has none', () => {
    const source = fixture('no-postgres.yml');
    const out = edit(source);
    const after = load(out.text);
    expect(after['services'].postgres).toEqual({
      image: 'postgres:15',
      command: ['postgres', '-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'],
      environment: { POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'postgres' },
      ports: ['5432:5432'],
      volumes: ['postgres_data:/var/lib/postgresql/data'],
      healthcheck: { test: ['CMD-SHELL', 'pg_isready -U postgres'], interval: '5s', timeout: '5s', retries: 10 },
    });
    expect(after['volumes']).toEqual({ postgres_data: null });
    expect(out.text.startsWith(source)).toBe(true);
    expect(out.text.endsWith('\n\nvolumes:\n  postgres_data:\n' + INCLUDE)).toBe(true);
    expect(out.notes).toContain('added volume postgres_data');
    expect(load(out.apps)['services']['ovu-db-init'].environment.PGHOST).toBe('postgres');
  });
});

describe('ovu-db-init reaches the database however the project connects it', () => {
  it('joins its named networks and profiles, and so does the app', () => {
    const src = 'services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${PG_PW}\n    networks: [backend]\n    profiles: [data]\nnetworks:\n  backend: {}\n';
    const out = edit(src);
    expect(load(out.apps)['services']['ovu-db-init']).toMatchObject({ image: 'postgres:16', networks: ['backend'], profiles: ['data'], environment: { PGPASSWORD: '${PG_PW}' } });
    expect(load(out.app)['services']['inventory-backend']).toMatchObject({ networks: ['backend'], profiles: ['data'] });
  });

  it('uses the database defined in an included file, without editing it', () => {
    const main = 'include:\n  - db/compose.yaml\n';
    const db = 'services:\n  postgres:\n    image: postgres:13\n    environment:\n      - POSTGRES_PASSWORD\n';
    const out = edit(main, spec('inventory', 8010), [], { 'db/compose.yaml': db });
    expect(out.text).toBe('include:\n  - db/compose.yaml\n  - apps.compose.yaml\n');
    // psql 15+ runs init-db.sql (\\getenv), whatever the server's version.
    expect(load(out.apps)['services']['ovu-db-init']).toMatchObject({ image: 'postgres:17-alpine', environment: { PGPASSWORD: '${POSTGRES_PASSWORD}' } });
  });

  it('stops a crud app, saying what to set, when it cannot tell how the database service\'s superuser logs in', () => {
    for (const source of ['services:\n  postgres:\n    image: postgres:15\n', 'services:\n  postgres:\n    image: postgres:15\n    environment:\n      POSTGRES_PASSWORD_FILE: /etc/pw\n']) {
      const err = catchError(() => edit(source));
      expect(err).toBeInstanceOf(UserError);
      expect(err.message).toMatch(/^docker-compose\.yml: (ovu-db-init cannot tell how to log in to postgres in docker-compose\.yml: it sets no POSTGRES_PASSWORD|postgres in docker-compose\.yml reads its password from POSTGRES_PASSWORD_FILE=\/etc\/pw, which is not one of its secrets)/);
    }
    // A readonly app needs no login.
    expect(edit('services:\n  postgres:\n    image: postgres:15\n', spec('reports', 8030, 'readonly')).apps).toBeDefined();
  });
});

describe('the database service is recognised by what it is', () => {
  const pgOf = (source: string, files: Record<string, string> = {}, dbService?: string) => {
    const project = readComposeProject('/ws', FILE, source, [], (f) => files[f.replace('/ws/', '')], dbService);
    return project.postgresProblem?.message ?? project.postgres?.name;
  };

  it.each([
    ['a variable tag', 'services:\n  database:\n    image: "postgres:${POSTGRES_VERSION:-16}"\n'],
    ['PostGIS', 'services:\n  gis:\n    image: postgis/postgis:16-3.4\n'],
    ['Supabase', 'services:\n  supa:\n    image: supabase/postgres:15.1.0.147\n'],
    ['TimescaleDB', 'services:\n  ts:\n    image: timescale/timescaledb:latest-pg16\n'],
    // sourcegraph/deploy-sourcegraph-docker names its images after the major.
    ['an image named with its major', "services:\n  pgsql:\n    image: 'index.docker.io/sourcegraph/postgresql-16:6.1.2889@sha256:8cb7b0f54c7ab464f8e3b26918a70bebcb060219dd0b91084209563238ec1dd5'\n"],
    ["the official image's environment", 'services:\n  mydb:\n    image: registry.internal/db:3\n    environment:\n      POSTGRES_PASSWORD: x\n'],
  ])('%s', (_what, source) => {
    const name = pgOf(source);
    expect(name).toMatch(/^(database|gis|supa|ts|mydb|pgsql)$/);
    // And no second server is added: ovu-db-init and the app use it.
    const out = edit(source.includes('POSTGRES_PASSWORD') ? source : `${source}    environment:\n      POSTGRES_PASSWORD: \${PG_PW}\n`);
    expect(load(out.text)['services']['postgres']).toBeUndefined();
    expect(load(out.apps)['services']['ovu-db-init'].environment.PGHOST).toBe(name);
  });

  it('a build whose Dockerfile is FROM postgres', () => {
    expect(pgOf('services:\n  db:\n    build: ./db\n', { 'db/Dockerfile': '# ours\nFROM postgres:16-bookworm\nCOPY x /x\n' })).toBe('db');
  });

  // Shapes of awesome-compose/spring-postgres and taiga-docker: the app sets POSTGRES_* for its client.
  it('a client that sets POSTGRES_* for itself is not a second server', () => {
    const spring = 'services:\n  backend:\n    build: backend\n    environment:\n      - POSTGRES_DB=example\n  db:\n    image: postgres\n    environment:\n      - POSTGRES_DB=example\n';
    expect(pgOf(spring)).toBe('db');
    const taiga = 'x-env: &env\n  POSTGRES_USER: "${POSTGRES_USER}"\n  POSTGRES_HOST: "taiga-db"\nservices:\n  taiga-db:\n    image: postgres:12.3\n  taiga-back:\n    image: taigaio/taiga-back:latest\n    environment: *env\n';
    expect(pgOf(taiga)).toBe('taiga-db');
    // Without a postgres image anywhere the environment still decides, but not a client's (POSTGRES_HOST).
    const zulip = 'services:\n  database:\n    image: zulip/zulip-postgresql:14\n    environment:\n      POSTGRES_USER: zulip\n  nc:\n    image: nextcloud:apache\n    environment:\n      - POSTGRES_HOST=database\n      - POSTGRES_USER=nc\n';
    expect(pgOf(zulip)).toBe('database');
  });

  // Shape of sourcegraph's compose file: three servers, only one of them with POSTGRES_* environment.
  it('several servers named with their major are several: --db-service says which, not the one with POSTGRES_*', () => {
    const sg = 'services:\n  pgsql:\n    image: sourcegraph/postgresql-16:6.1\n  codeintel-db:\n    image: sourcegraph/postgresql-16:6.1\n  codeinsights-db:\n    image: sourcegraph/postgresql-16-codeinsights:6.1\n    environment:\n      - POSTGRES_PASSWORD=password\n  pgsql-exporter:\n    image: sourcegraph/postgres_exporter:6.1\n  meta:\n    image: supabase/postgres-meta:v0.91.0\n';
    expect(pgOf(sg)).toMatch(/^the compose project has several PostgreSQL services, pgsql \(.*\), codeintel-db \(.*\), codeinsights-db \(.*\): pass --db-service <name>/);
    expect(pgOf(sg, {}, 'pgsql')).toBe('pgsql');
  });

  // Shape of awesome-compose/nginx-flask-mysql: a MariaDB named db is no PostgreSQL to ask about.
  it('another database named db is not a look-alike: a PostgreSQL server is added', () => {
    const mysql = 'services:\n  db:\n    image: mariadb:10-focal\n    expose:\n      - 3306\n  backend:\n    build: backend\n    depends_on:\n      - db\n';
    expect(pgOf(mysql)).toBeUndefined();
    const out = edit(mysql);
    expect(load(out.text)['services']['postgres'].image).toBe('postgres:15');
    expect(load(out.apps)['services']['ovu-db-init'].environment.PGHOST).toBe('postgres');
  });

  // Shape of a mastodon deployment's file (db: lindwurm/pg_repack:9.6): --db-service is never saved.
  it('the database an earlier run chose stands: later runs need no --db-service, and a readonly one keeps ovu-db-init', () => {
    const two = 'services:\n  main:\n    image: postgres:16\n  analytics:\n    image: timescale/timescaledb:2\n    environment: {POSTGRES_PASSWORD: "${TS_PW}"}\n';
    const first = spec('inventory', 8010);
    const r = addAppToCompose(readComposeProject('/ws', FILE, two, [], () => undefined, 'analytics'), first);
    const files: Record<string, string> = { 'apps.compose.yaml': r.appsFile.text };
    const later = (s: AppSpec) => edit(r.text, s, [known(first)], files);
    expect(later(spec('reports', 8030, 'readonly')).project.postgres?.name).toBe('analytics');
    expect(load(later(spec('reports', 8030, 'readonly')).apps)['services']['ovu-db-init'].environment.PGHOST).toBe('analytics');
    expect(load(later(spec('orders', 8020)).app)['services']['orders-backend'].environment.DATABASE_URL).toMatch(/@analytics:5432\//);
    // A flag still decides.
    expect(readComposeProject('/ws', FILE, r.text, [known(first)], (f) => files[f.replace('/ws/', '')], 'main').postgres?.name).toBe('main');
    // A look-alike chosen once stays chosen when a service that is PostgreSQL by its image comes along.
    const lookalike = 'services:\n  db:\n    image: registry.internal/ourdb:1\n    environment: {POSTGRES_HOST_AUTH_METHOD: trust}\n';
    const withDb = addAppToCompose(readComposeProject('/ws', FILE, lookalike, [], () => undefined, 'db'), first);
    const grown = withDb.text.replace('services:\n', 'services:\n  analytics:\n    image: postgres:16\n');
    expect(edit(grown, spec('orders', 8020), [known(first)], { 'apps.compose.yaml': withDb.appsFile.text }).project.postgres?.name).toBe('db');
    // Without that record, a readonly run refuses too rather than drop the ovu-db-init the crud app needs.
    expect(catchError(() => edit(r.text, spec('reports', 8030, 'readonly'), [known(first)], { 'apps.compose.yaml': r.appsFile.text.replace(/PGHOST: analytics/, 'PGHOST: gone') })).message).toMatch(/pass --db-service <name>/);
  });

  it('asks for --db-service when there are several, or only a look-alike, and never adds a second server', () => {
    const two = 'services:\n  main:\n    image: postgres:16\n  analytics:\n    image: timescale/timescaledb:2\n';
    expect(pgOf(two)).toMatch(/^the compose project has several PostgreSQL services, main \(docker-compose\.yml: image postgres:16\), analytics .*: pass --db-service <name>/);
    expect(catchError(() => edit(two)).message).toMatch(/pass --db-service <name>/);
    // The run lacks a flag: a usage error (exit 2).
    expect((catchError(() => edit(two)) as UserError).exitCode).toBe(2);
    expect(pgOf(two, {}, 'analytics')).toBe('analytics');
    const lookalike = 'services:\n  db:\n    image: registry.internal/ourdb:1\n    ports: ["5432:5432"]\n';
    expect(catchError(() => edit(lookalike)).message).toMatch(/^db \(docker-compose\.yml: its name\) may be a database, but it is not recognisably PostgreSQL: pass --db-service <name>/);
    expect(pgOf(lookalike, {}, 'nope')).toMatch(/^--db-service nope: no such service/);
    // A readonly app needs no database: it is not asked.
    expect(edit(two, spec('reports', 8030, 'readonly')).text).toBe(`${two}\ninclude:\n  - apps.compose.yaml\n`);
  });
});

describe('valid files Compose accepts are read; what is refused says why', () => {
  it('reads a stack with hundreds of aliases, refuses an alias bomb', () => {
    let many = 'x-labels: &labels {team: platform}\nservices:\n';
    for (let i = 0; i < 200; i++) many += `  s${i}:\n    image: x\n    labels: *labels\n`;
    expect(readComposeProject('/ws', FILE, many, [], () => undefined).services.size).toBe(200);
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [i, l] of ['b', 'c', 'd', 'e', 'f'].entries()) levels.push(`${l}: &${l} [${Array(10).fill(`*${'abcdef'[i]}`).join(', ')}]`);
    const bomb = `x-bomb:\n${levels.map((l) => `  ${l}`).join('\n')}\nservices:\n  api:\n    image: x\n`;
    expect(catchError(() => readComposeProject('/ws', FILE, bomb, [], () => undefined)).message).toMatch(/^docker-compose\.yml:1: its YAML aliases expand to more than 10000 nodes, which looks like an alias bomb/);
  });

  it('reads a file of several YAML documents as Compose does (merged in order), and edits one of them', () => {
    const source = 'services:\n  postgres:\n    image: postgres:15\n    environment:\n      POSTGRES_PASSWORD: ${PW}\n---\nservices:\n  ulm:\n    image: nginx\n    ports: ["8010:80"]\n---\nservices:\n  postgres:\n    environment:\n      - POSTGRES_USER=admin\n';
    const project = readComposeProject('/ws', FILE, source, [], () => undefined);
    expect(project.postgres?.name).toBe('postgres');
    expect(project.postgres?.service['environment']).toEqual({ POSTGRES_PASSWORD: '${PW}', POSTGRES_USER: 'admin' });
    expect(project.portOwners.get(8010)).toBe('ulm');
    const out = edit(source);
    // Every byte kept; the include goes at the end of the last document.
    expect(out.text).toBe(`${source}\ninclude:\n  - apps.compose.yaml\n`);
    expect(load(out.apps)['services']['ovu-db-init'].environment).toMatchObject({ PGUSER: 'admin', PGPASSWORD: '${PW}' });
    // A document that is not a mapping is refused, saying where.
    const err = catchError(() => readComposeProject('/ws', FILE, 'services:\n  a:\n    image: x\n---\n- just\n- a list\n', [], () => undefined));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/^docker-compose\.yml:5: this YAML document is not a mapping/);
  });
});

describe('a database image older than PostgreSQL 15', () => {
  it('is used through ovu-db-init (a current psql), unless it runs init-db.sql itself: then the run stops before writing', () => {
    const old = 'services:\n  postgres:\n    image: postgres:13.4-alpine\n    environment:\n      POSTGRES_PASSWORD: x\n';
    expect(load(edit(old).apps)['services']['ovu-db-init'].image).toBe('postgres:17-alpine');
    const mounted = old + '    volumes:\n      - ./init-db.sql:/docker-entrypoint-initdb.d/init-db.sql\n';
    expect(catchError(() => edit(mounted)).message).toMatch(/^docker-compose\.yml: postgres \(PostgreSQL 13\) runs \.\/init-db\.sql at its first start with its own psql 13, which lacks \\getenv \(psql 15\+\)/);
    expect(edit(mounted.replace('13.4-alpine', '16'))).toBeDefined();
  });

  // Shape of Kong/docker-kong's compose file (db: postgres:9.5 in the "database" profile).
  it('older than PostgreSQL 11, whose server cannot run init-db.sql, is refused for crud apps only, saying why', () => {
    const kong = 'services:\n  db:\n    image: postgres:9.5\n    profiles: [ "database" ]\n    environment:\n      POSTGRES_DB: kong\n      POSTGRES_PASSWORD: ${KONG_PG_PASSWORD:-kong}\n';
    expect(catchError(() => edit(kong)).message).toMatch(/^docker-compose\.yml: db runs PostgreSQL 9, older than the 11 that init-db\.sql needs \(.*SCRAM-SHA-256.*\): move db to postgres:15 or newer/);
    expect(edit(kong, spec('reports', 8030, 'readonly')).text).toContain('apps.compose.yaml');
    expect(edit(kong.replace('9.5', '11'))).toBeDefined();
  });
});

describe('adding an app without a compose file', () => {
  it('creates a minimal file: postgres:15 and the include', () => {
    const out = edit(undefined);
    expect(out.notes[0]).toBe('created docker-compose.yml (postgres:15)');
    expect(out.text).toBe(
      `services:
  postgres:
    image: postgres:15
    command:
      - postgres
      - -c
      - shared_preload_libraries=pg_stat_statements
      - -c
      - pg_stat_statements.track=all
    environment:
      POSTGRES_USER: postgres
      POSTGRES_PASSWORD: postgres
    ports:
      - "5432:5432"
    volumes:
      - postgres_data:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U postgres"]
      interval: 5s
      timeout: 5s
      retries: 10

volumes:
  postgres_data:
${INCLUDE}`,
    );
    expect(out.app).toBe(INVENTORY_FILE);
    expect(out.apps).toBe(INVENTORY_APPS);
  });

  it('a readonly app alone needs no postgres', () => {
    const out = edit(undefined, spec('reports', 8030, 'readonly'));
    expect(out.text).toBe('include:\n  - apps.compose.yaml\n');
    expect(out.app + out.apps).not.toContain('postgres');
  });

  it('writes any ULM URL quoted as YAML needs it', () => {
    const odd = appSpec('inventory', { port: 8010, ulmUrl: 'http://ulm:8000/a#b: c' });
    expect(load(edit(undefined, odd).app)['services']['inventory-backend'].environment.ULM_BASE_URL).toBe('http://ulm:8000/a#b: c');
  });
});

describe('adding an app refuses what it cannot do safely', () => {
  it('validates the input first', () => {
    expect(catchError(() => edit(fixture('invalid-typo.yml'))).message).toMatch(/^docker-compose\.yml:6: /);
    expect(catchError(() => edit(fixture('unparsable.yml'))).message).toMatch(/^docker-compose\.yml:5:3: /);
    expect(catchError(() => edit(fixture('missing-dep.yml'))).message).toMatch(/^docker-compose\.yml:8: /);
  });

  it('will not edit a mapping shared through an anchor', () => {
    const src = 'x-vols: &v\n  other: {}\nservices:\n  api:\n    image: x\n    volumes: [other:/data]\nvolumes: *v\n';
    const err = catchError(() => edit(src));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/^docker-compose\.yml:7: the top-level volumes: is an alias; add 'postgres_data:' to it by hand/);
    const inc = 'x-inc: &inc\n  - ops.yaml\ninclude: *inc\nservices:\n  api:\n    image: x\n';
    expect(catchError(() => edit(inc, spec('r', 8010, 'readonly'), [], { 'ops.yaml': 'services:\n  o:\n    image: x\n' })).message).toMatch(/^docker-compose\.yml:3: include: must be a list written in this file/);
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
