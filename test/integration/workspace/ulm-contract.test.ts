/**
 * The ULM contract (schema/ulm-contract.openapi.yaml) against everything that speaks it: the
 * development ULM a workspace without ULM gets (run for real, on a free port), the paths both
 * stacks' clients call (read from the template files), and the paths their test fakes serve.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, runMainInProcess, tempDir } from '../../helpers/cli.ts';
import { freePort } from '../../helpers/postgres.ts';

const contract = parse(fs.readFileSync(path.join(ROOT, 'schema/ulm-contract.openapi.yaml'), 'utf8')) as {
  paths: Record<string, { get: { responses: Record<string, { content?: { 'application/json': { schema: object } } }> } }>;
  components: { schemas: Record<string, object> };
};
const CONTRACT_PATHS = Object.keys(contract.paths).sort();
const template = (rel: string): string => fs.readFileSync(path.join(ROOT, 'templates', rel), 'utf8');

/** The ULM paths a source file names in its code (comments and docstrings left out); `/users/` + an id is `/users/{id}`. */
function ulmPaths(source: string, lang: 'py' | 'ts'): string[] {
  const code = lang === 'py' ? source.replace(/"""[\s\S]*?"""/g, '').replace(/(^|\s)#.*$/gm, '') : source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '');
  const found = new Set<string>();
  for (const m of code.matchAll(/["'`](\/api\/v1\/[A-Za-z0-9_/]*|\/health)(?=["'`?$]|\{)/g)) {
    found.add(m[1]!.endsWith('/') ? `${m[1]}{id}` : m[1]!);
  }
  return [...found].sort();
}

describe('the ULM contract', () => {
  it('both stacks call exactly its paths (the clients, with the default auth and health paths of their settings)', () => {
    const python = new Set([...ulmPaths(template('python/common/app/clients/ulm.py'), 'py'), ...ulmPaths(template('python/common/app/core/config.py'), 'py')]);
    const typescript = new Set([...ulmPaths(template('typescript/common/src/clients/ulm.ts'), 'ts'), ...ulmPaths(template('typescript/common/src/config.ts'), 'ts')]);
    expect([...python].sort()).toEqual(CONTRACT_PATHS);
    expect([...typescript].sort()).toEqual(CONTRACT_PATHS);
  });

  it("both stacks' test fakes serve exactly its paths", () => {
    expect(ulmPaths(template('python/common/tests/fake_ulm.py'), 'py')).toEqual(CONTRACT_PATHS);
    expect(ulmPaths(template('typescript/common/test/helpers/fake-ulm.ts'), 'ts')).toEqual(CONTRACT_PATHS);
  });

  it('the path reader sees a path a client adds, so the checks above can fail', () => {
    expect(ulmPaths('path = "/api/v1/roles"\n# "/api/v1/ignored"', 'py')).toEqual(['/api/v1/roles']);
    expect(ulmPaths('const p = `/api/v1/users/${id}`; // "/api/v1/x"', 'ts')).toEqual(['/api/v1/users/{id}']);
  });
});

describe('the development ULM (ulm-dev/server.mjs, as a workspace gets it)', () => {
  let ws: string;
  let server: ChildProcess;
  let base: string;
  let withToken: ChildProcess;
  let baseWithToken: string;
  const ajv = new Ajv({ strict: false });
  for (const [name, schema] of Object.entries(contract.components.schemas)) ajv.addSchema(schema, `#/components/schemas/${name}`);

  async function start(env: NodeJS.ProcessEnv): Promise<[ChildProcess, string]> {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ws, 'ulm-dev/server.mjs')], { env: { PATH: process.env.PATH, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`ulm-dev/server.mjs exited ${code}`)));
    });
    return [child, `http://127.0.0.1:${port}`];
  }

  beforeAll(async () => {
    // A workspace with no ULM service: its app points at the development ULM.
    ws = tempDir();
    expect(await runMainInProcess(['inventory', '--yes', '--workspace', ws])).toBe(0);
    [server, base] = await start({});
    [withToken, baseWithToken] = await start({ ULM_SERVICE_TOKEN: 'service-secret' });
  });
  afterAll(() => {
    server?.kill();
    withToken?.kill();
  });

  /** A 200 body must match the contract's schema for that path. */
  function matches(contractPath: string, body: unknown): void {
    const schema = contract.paths[contractPath]!.get.responses['200']!.content?.['application/json'].schema;
    if (!schema) return;
    const validate = ajv.compile(schema);
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  }

  const get = async (url: string, token?: string) => {
    const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: r.status, body: (await r.json()) as unknown };
  };

  it('answers every path of the contract as it says, with the seeded users and tokens', async () => {
    const me = await get(`${base}/api/v1/auth/me`, 'dev-token-ada');
    expect(me).toEqual({ status: 200, body: { id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace' } });
    matches('/api/v1/auth/me', me.body);
    const one = await get(`${base}/api/v1/users/u-2`);
    expect(one.status).toBe(200);
    matches('/api/v1/users/{id}', one.body);
    const some = await get(`${base}/api/v1/users?ids=u-1,nobody,u-3`);
    expect(some.status).toBe(200);
    expect((some.body as { id: string }[]).map((u) => u.id)).toEqual(['u-1', 'u-3']);
    matches('/api/v1/users', some.body);
    expect((await get(`${base}/health`)).status).toBe(200);
    // Each path of the contract was asked above.
    expect(CONTRACT_PATHS).toEqual(['/api/v1/auth/me', '/api/v1/users', '/api/v1/users/{id}', '/health']);
  });

  it('refuses a token it does not know, and no token, with 401; an unknown user is 404', async () => {
    expect((await get(`${base}/api/v1/auth/me`, 'made-up-token')).status).toBe(401);
    expect((await get(`${base}/api/v1/auth/me`)).status).toBe(401);
    expect((await get(`${base}/api/v1/users/nobody`)).status).toBe(404);
  });

  it('with ULM_SERVICE_TOKEN set, user lookups need it', async () => {
    expect((await get(`${baseWithToken}/api/v1/users/u-1`)).status).toBe(401);
    expect((await get(`${baseWithToken}/api/v1/users?ids=u-1`, 'dev-token-ada')).status).toBe(401);
    expect((await get(`${baseWithToken}/api/v1/users/u-1`, 'service-secret')).status).toBe(200);
    expect((await get(`${baseWithToken}/api/v1/auth/me`, 'dev-token-ada')).status).toBe(200);
  });

  it('users.json is the one the team edits: a new token works at once', async () => {
    const file = path.join(ws, 'ulm-dev/users.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    data.tokens['dev-token-new'] = 'u-2';
    fs.writeFileSync(file, JSON.stringify(data));
    expect((await get(`${base}/api/v1/auth/me`, 'dev-token-new')).body).toMatchObject({ id: 'u-2' });
  });

  it('is development only: named so, and in no Kubernetes manifest', () => {
    expect(fs.readFileSync(path.join(ws, 'ulm-dev/server.mjs'), 'utf8')).toMatch(/^\/\/ DEVELOPMENT ONLY/m);
    expect(fs.readFileSync(path.join(ws, 'ulm-dev/README.md'), 'utf8')).toMatch(/never for production/);
    const deployFiles = ['deploy', 'inventory/deploy'].flatMap((d) => fs.readdirSync(path.join(ws, d), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)));
    expect(deployFiles.length).toBeGreaterThan(5);
    for (const f of deployFiles) expect(fs.readFileSync(f, 'utf8'), f).not.toMatch(/ulm-dev/);
    expect(fs.readFileSync(path.join(ws, 'inventory/deploy/k8s/kustomization.yaml'), 'utf8')).toContain('ULM_BASE_URL=http://ulm-backend:8000');
  });
});
