// `update` as an attacker with write access to the workspace would try it: the version in
// `<app>/.ovu-app.json` names code to run (a `file:` package with a prepare script, a tag, a
// range, a path, a URL), a registry that serves another package or version, a --base whose bin
// reads its environment. Nothing the workspace names may run, and the old release never sees a secret.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, runCli, snapshotDir, tempDir } from '../helpers/cli.ts';

const CURRENT = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const OLD = '0.0.9';

/** The environment every run here has: what the old release must never see. */
const SECRETS = { PGPASSWORD: 'pg-secret-do-not-leak', PGUSER: 'postgres', ADMIN_DB_PASSWORD: 'another-secret', GITHUB_TOKEN: 'ghp_notleaked', npm_config__authToken: 'npm-token-not-leaked' };

/**
 * A stand-in create-ovu-app package at `version` (name overridable): its bin writes its
 * environment, cwd and argv to `<pkg>/ran.json` (or `report`) and then runs this build's CLI
 * with the same arguments, so the update can go on.
 */
function fakePackage(version: string, opts: { name?: string; report?: string } = {}): string {
  const dir = tempDir('ovu-fake-base-');
  const report = opts.report ?? path.join(dir, 'ran.json');
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.mkdirSync(path.join(dir, 'dist'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: opts.name ?? 'create-ovu-app', version, bin: { 'create-ovu-app': 'bin/create-ovu-app.js' }, type: 'module', scripts: { prepare: `node -e "require('fs').writeFileSync('${report}.prepare','ran')"` } }));
  fs.writeFileSync(path.join(dir, 'dist', 'cli.js'), '');
  fs.writeFileSync(
    path.join(dir, 'bin', 'create-ovu-app.js'),
    `import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
fs.writeFileSync(${JSON.stringify(report)}, JSON.stringify({ env: process.env, cwd: process.cwd(), argv: process.argv.slice(2) }));
const r = spawnSync(process.execPath, [${JSON.stringify(BIN)}, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
`,
  );
  return dir;
}

async function packDir(dir: string): Promise<string> {
  const dest = tempDir('ovu-fake-pack-');
  const r = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: dir, env: { npm_config_cache: tempDir('ovu-npm-cache-') }, reject: false });
  expect(r.exitCode, r.stderr).toBe(0);
  return path.join(dest, (JSON.parse(r.stdout) as { filename: string }[])[0]!.filename);
}

/** A workspace with `inventory` whose answers file records `version`. */
async function appRecording(version: unknown, ws = tempDir()): Promise<string> {
  const r = await runCli(['inventory', '--yes', '--workspace', ws]);
  expect(r.exitCode, r.stderr).toBe(0);
  const file = path.join(ws, 'inventory', '.ovu-app.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), version }, null, 2) + '\n');
  return ws;
}

/** A one-package npm registry on loopback serving `tarball` as create-ovu-app@<version>. */
let registry: http.Server;
let registryUrl: string;
const served = new Map<string, { tarball: string; version: string }>();
beforeAll(async () => {
  registry = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', registryUrl);
    if (url.pathname === '/create-ovu-app') {
      const versions = Object.fromEntries(
        [...served.values()].map(({ tarball, version }) => {
          const bytes = fs.readFileSync(tarball);
          const integrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
          const shasum = createHash('sha1').update(bytes).digest('hex');
          return [version, { name: 'create-ovu-app', version, dist: { tarball: `${registryUrl}tarballs/${version}.tgz`, integrity, shasum } }];
        }),
      );
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: 'create-ovu-app', 'dist-tags': { latest: Object.keys(versions).at(-1) }, versions }));
      return;
    }
    const m = /^\/tarballs\/(.+)\.tgz$/.exec(url.pathname);
    const entry = m ? served.get(m[1]!) : undefined;
    if (entry) res.end(fs.readFileSync(entry.tarball));
    else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  registryUrl = `http://127.0.0.1:${(registry.address() as { port: number }).port}/`;
});
afterAll(() => new Promise<void>((resolve) => registry.close(() => resolve())));

const registryEnv = (): NodeJS.ProcessEnv => ({ ...SECRETS, npm_config_registry: registryUrl, npm_config_fetch_retries: '0', npm_config_cache: tempDir('ovu-npm-cache-') });

describe('update runs no code the workspace names', () => {
  it('refuses a recorded version that is not a release, in one line, running nothing and writing nothing', async () => {
    const marker = path.join(tempDir('ovu-marker-'), 'prepared');
    const cases: unknown[] = ['ABSOLUTE', 'file:inventory/tools', 'file:../x', '../x', './inventory/tools', 'latest', '^0.1.0', '0.1.x', '>=0.0.1', 'github:someone/create-ovu-app', 'https://example.invalid/x.tgz', '0.1.0 || file:x', '1.0.0\nerror: injected', 'v0.1.0'];
    for (const given of cases) {
      const ws = tempDir();
      // The file: spec points at a package whose prepare script would leave the marker.
      const tools = path.join(ws, 'inventory', 'tools');
      const version = given === 'ABSOLUTE' ? `file:${tools}` : given;
      await appRecording(version, ws);
      fs.mkdirSync(tools);
      fs.writeFileSync(path.join(tools, 'package.json'), JSON.stringify({ name: 'create-ovu-app', version: '0.0.1', scripts: { prepare: `node -e "require('fs').writeFileSync('${marker}','x')"`, prepack: `node -e "require('fs').writeFileSync('${marker}','x')"` } }));
      const before = snapshotDir(ws);
      for (const dryRun of [['--dry-run'], []]) {
        const r = await runCli(['update', 'inventory', ...dryRun, '--workspace', ws], { env: registryEnv() });
        expect(r.exitCode, `${JSON.stringify(version)}: ${r.stderr}`).toBe(2);
        expect(r.stderr.trim().split('\n'), JSON.stringify(version)).toHaveLength(1);
        expect(r.stderr).toMatch(/inventory\/\.ovu-app\.json records version .*not a create-ovu-app release \(X\.Y\.Z\).*--base/);
        expect(r.stderr).not.toContain('injected\n');
      }
      expect(fs.existsSync(marker), JSON.stringify(version)).toBe(false);
      expect(snapshotDir(ws)).toEqual(before);
    }
  });

  it('fetches an exact release without its scripts, says where the base came from, and gives it no secret', async () => {
    const report = path.join(tempDir('ovu-report-'), 'ran.json');
    const tarball = await packDir(fakePackage(OLD, { report }));
    served.set(OLD, { tarball, version: OLD });
    const ws = await appRecording(OLD);
    const r = await runCli(['update', 'inventory', '--dry-run', '--workspace', ws], { env: registryEnv() });
    expect(r.exitCode, r.stderr).toBe(0);
    const integrity = `sha512-${createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
    expect(r.stdout).toContain(`base: create-ovu-app ${OLD}, the npm registry's tarball (integrity ${integrity})`);
    // npm pack ran no script of the package (prepare would have left a file beside the report).
    expect(fs.existsSync(`${report}.prepare`)).toBe(false);
    const ran = JSON.parse(fs.readFileSync(report, 'utf8')) as { env: Record<string, string>; cwd: string; argv: string[] };
    const keys = Object.keys(ran.env);
    expect(keys.filter((k) => /^PG|PASSWORD|TOKEN|SECRET|_auth/i.test(k))).toEqual([]);
    expect(JSON.stringify(ran.env)).not.toMatch(/secret|notleaked|npm-token/);
    // Its own HOME, temporary directory and cwd, all in one scratch directory outside the workspace.
    const scratch = path.dirname(ran.env['HOME']!);
    expect(ran.env['TMPDIR']!.startsWith(scratch + path.sep)).toBe(true);
    expect(ran.cwd.startsWith(scratch + path.sep)).toBe(true);
    expect(ran.argv[ran.argv.indexOf('--workspace') + 1]!.startsWith(scratch + path.sep)).toBe(true);
    expect(ws.startsWith(scratch)).toBe(false);
    // And that scratch directory is gone.
    expect(fs.existsSync(scratch)).toBe(false);
  });

  it('refuses a registry tarball that is another package or another version, before running it', async () => {
    for (const [name, version] of [['not-create-ovu-app', '0.0.8'], ['create-ovu-app', '0.0.7']] as const) {
      const report = path.join(tempDir('ovu-report-'), 'ran.json');
      // The registry says 0.0.8 / 0.0.6; the tarball's own package.json says otherwise.
      const claimed = version === '0.0.8' ? '0.0.8' : '0.0.6';
      served.set(claimed, { tarball: await packDir(fakePackage(version, { name, report })), version: claimed });
      const ws = await appRecording(claimed);
      const r = await runCli(['update', 'inventory', '--dry-run', '--workspace', ws], { env: registryEnv() });
      expect(r.exitCode, r.stderr).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(name === 'create-ovu-app' ? /is create-ovu-app 0\.0\.7, but the app was generated by 0\.0\.6/ : /not create-ovu-app@0\.0\.8|not a create-ovu-app package/);
      expect(fs.existsSync(report)).toBe(false);
    }
  });

  it('runs a --base the person names with no secret in its environment, and says so', async () => {
    const dir = fakePackage(OLD);
    const ws = await appRecording(OLD);
    const r = await runCli(['update', 'inventory', '--base', dir, '--dry-run', '--workspace', ws], { env: SECRETS });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`base: create-ovu-app ${OLD} from --base ${dir}`);
    const ran = JSON.parse(fs.readFileSync(path.join(dir, 'ran.json'), 'utf8')) as { env: Record<string, string> };
    expect(Object.keys(ran.env).filter((k) => /^PG|PASSWORD|TOKEN|_auth/i.test(k))).toEqual([]);
    expect(ran.env['HOME']).not.toBe(process.env['HOME']);
    // A recorded version that is no release: --base is the person's word for which release wrote it.
    const tampered = await appRecording('file:../evil');
    const named = await runCli(['update', 'inventory', '--base', dir, '--dry-run', '--workspace', tampered], { env: SECRETS });
    expect(named.exitCode, named.stderr).toBe(0);
    expect(named.stdout).toContain(`Updating inventory (create-ovu-app ${OLD} to ${CURRENT}) would:`);
  });
});

describe('update never writes a conflict into SQL that runs', () => {
  it("keeps init-db.sql as it was, puts the conflict beside it, and says so without a ✔ (exit 1)", async () => {
    const ws = tempDir();
    expect((await runCli(['inventory', '--yes', '--workspace', ws])).exitCode).toBe(0);
    const initDb = path.join(ws, 'init-db.sql');
    // The team rewords the line the template changes with a new pool size: a conflict in the block.
    const text = fs.readFileSync(initDb, 'utf8');
    const line = /^-- sees the password\. CONNECTION LIMIT 11 = .*$/m.exec(text)![0];
    fs.writeFileSync(initDb, text.replace(line, '-- sees the password. CONNECTION LIMIT 11: the team checked this.'));
    const before = fs.readFileSync(initDb, 'utf8');
    for (const json of [false, true]) {
      const r = await runCli(['update', 'inventory', '--db-pool-size', '7', '--workspace', ws, ...(json ? ['--json'] : [])]);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(fs.readFileSync(initDb, 'utf8')).toBe(before);
      expect(fs.readFileSync(initDb, 'utf8')).not.toMatch(/^(<<<<<<<|=======|>>>>>>>)/m);
      const conflict = fs.readFileSync(`${initDb}.conflict`, 'utf8');
      expect(conflict).toMatch(/^<<<<<<< yours$/m);
      expect(conflict).toContain('CONNECTION LIMIT 13 = (pool 7 + overflow 5)');
      if (json) {
        expect(JSON.parse(r.stdout).update.conflicts).toEqual(['init-db.sql.conflict']);
        continue;
      }
      expect(r.stdout).not.toContain('✔');
      expect(r.stdout.split('\n')[0]).toBe('✖ Updated inventory (create-ovu-app ' + CURRENT + ') with conflicts in 1 file: not finished until they are resolved:');
      expect(r.stdout).toMatch(/init-db\.sql is unchanged: inventory's block conflicts, and the merge is in init-db\.sql\.conflict: resolve its markers, then move it over init-db\.sql/);
      expect(r.stdout).toMatch(/1 file has conflicts: .*\n {2}init-db\.sql\.conflict/);
      // The second run starts from the answers the first recorded: put the pool size back.
      const answers = path.join(ws, 'inventory', '.ovu-app.json');
      fs.writeFileSync(answers, fs.readFileSync(answers, 'utf8').replace('"dbPoolSize": 7', '"dbPoolSize": 5'));
    }
  });
});
