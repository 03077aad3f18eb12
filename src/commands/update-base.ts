/**
 * The generator an update renders its base with: the release of create-ovu-app that wrote the
 * app, and nothing else. The version in `<app>/.ovu-app.json` is workspace input (anyone who can
 * push a branch writes it), so it is only ever read as an exact release, `X.Y.Z[-pre]`, of the
 * package create-ovu-app: `npm pack create-ovu-app@X.Y.Z --ignore-scripts` fetches its tarball
 * and runs none of its code; a `file:`, directory, git, URL, tag or range spec is refused before
 * npm is started. The tarball's package.json must then name create-ovu-app at exactly that
 * version. The only other base is the `--base` the person names on the command line.
 *
 * Whichever it is, the old release then runs in a scratch directory with an environment that
 * holds no secret (an allow-list: no PG*, no password, no token, no npm credentials), a HOME,
 * npm cache and TMPDIR of its own there, and that directory as its cwd and --workspace.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { UsageError, UserError } from '../errors.ts';
import { readIfExists } from '../workspace/workspace.ts';

const run = promisify(execFile);

export const PACKAGE = 'create-ovu-app';

/** An exact release: X.Y.Z with an optional prerelease, nothing npm would resolve further. */
const RELEASE = /^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function isRelease(version: unknown): version is string {
  return typeof version === 'string' && version.length <= 64 && RELEASE.test(version);
}

/** A recorded value as it may be shown on one line: quoted, control characters escaped, cut short. */
function shown(value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? value : String(value)) ?? '""';
  return text.length > 60 ? `${text.slice(0, 57)}…"` : text;
}

/** Refuses a recorded version that is not a release, naming the file and what to do instead. */
export function assertRelease(version: unknown, answersFile: string): asserts version is string {
  if (isRelease(version)) return;
  throw new UsageError(
    `${answersFile} records version ${shown(version)}, which is not a create-ovu-app release (X.Y.Z): update runs only a release fetched from the npm registry; restore the file from git, or pass --base with the package of the version that generated the app.`,
  );
}

/** Where the base came from, as --dry-run and the summary say it. */
export interface BaseSource {
  kind: 'registry' | 'path' | 'this';
  version: string;
  /** registry: the tarball's integrity (sha512-…); path: the --base given, resolved. */
  detail: string;
}

export function describeBase(b: BaseSource): string {
  if (b.kind === 'this') return `rendered by this create-ovu-app ${b.version} itself`;
  if (b.kind === 'registry') return `create-ovu-app ${b.version}, the npm registry's tarball (integrity ${b.detail}), run without scripts, secrets or network credentials`;
  return `create-ovu-app ${b.version} from --base ${b.detail}, run without secrets`;
}

/**
 * The variables the old release may see. Everything else (PG*, *_PASSWORD, tokens, npm
 * credentials, cloud keys) stays out, whatever it is called.
 */
export function sandboxEnv(scratch: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const keep = (k: string): boolean => k === 'PATH' || k === 'LANG' || k === 'LANGUAGE' || k.startsWith('LC_') || k === 'TZ';
  for (const [k, v] of Object.entries(env)) if (v !== undefined && keep(k)) out[k] = v;
  const home = path.join(scratch, 'home');
  const tmp = path.join(scratch, 'tmp');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  return {
    ...out,
    HOME: home,
    TMPDIR: tmp,
    npm_config_cache: path.join(scratch, 'npm-cache'),
    npm_config_userconfig: path.join(home, '.npmrc'),
    npm_config_update_notifier: 'false',
    npm_config_user_agent: '',
    CI: 'true',
    NO_COLOR: '1',
  };
}

/**
 * npm's own environment for the fetch: the caller's npm settings (registry, proxy: a mirror may
 * need them), but no database setting or password; the cache is the scratch directory's.
 */
function npmEnv(scratch: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || /^PG/.test(k) || /PASSWORD|SECRET/i.test(k)) continue;
    out[k] = v;
  }
  return { ...out, npm_config_cache: path.join(scratch, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_ignore_scripts: 'true' };
}

/** A generator package unpacked in `dir`, checked to be create-ovu-app at `version` and runnable. */
function checkPackage(dir: string, version: string | undefined, given: string): { bin: string; version: string } {
  const pkgText = readIfExists(path.join(dir, 'package.json'));
  let pkg: { name?: unknown; version?: unknown } = {};
  try {
    pkg = pkgText === undefined ? {} : (JSON.parse(pkgText) as typeof pkg);
  } catch {
    // reported below
  }
  const what = given.startsWith(`${PACKAGE}@`) ? `the registry's ${given}` : `--base ${given}`;
  const want = version ?? '<version>';
  if (pkg.name !== PACKAGE) throw new UsageError(`${what} is not a create-ovu-app package (no package.json naming it): pass a tarball from \`npm pack create-ovu-app@${want}\` or its unpacked directory.`);
  // Without a recorded release (the answers file's version is not one), --base is the person's word for it.
  if (version === undefined ? !isRelease(pkg.version) : pkg.version !== version) {
    throw new UsageError(`${what} is create-ovu-app ${shown(pkg.version).replace(/^"|"$/g, '')}, but the app was generated by ${version}: pass create-ovu-app@${version} (the base must be what that version wrote).`);
  }
  const bin = path.join(dir, 'bin', 'create-ovu-app.js');
  if (!fs.existsSync(bin) || !fs.existsSync(path.join(dir, 'dist', 'cli.js'))) {
    throw new UsageError(`${what} has no built CLI (bin/create-ovu-app.js and dist/cli.js): run \`npm run build\` in it, or pass the tarball \`npm pack\` makes.`);
  }
  return { bin, version: pkg.version as string };
}

async function unpack(tarball: string, into: string, given: string): Promise<string> {
  const dir = path.join(into, 'unpacked');
  fs.mkdirSync(dir, { recursive: true });
  try {
    // No owners or modes from the archive, nothing outside `dir` (GNU tar refuses `..` and strips `/`).
    await run('tar', ['-xzf', tarball, '-C', dir, '--no-same-owner', '--no-same-permissions']);
  } catch (err) {
    throw new UsageError(`--base ${given} could not be unpacked (${((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n')[0]}): pass a .tgz from npm pack, or a package directory.`);
  }
  return path.join(dir, 'package');
}

/** create-ovu-app@<version>'s tarball from the registry, with no script run: its file and integrity. */
async function fetchRelease(version: string, scratch: string, signal: AbortSignal): Promise<{ tarball: string; integrity: string }> {
  if (!isRelease(version)) throw new UsageError(`create-ovu-app ${shown(version)} is not a release (X.Y.Z): pass --base.`);
  const spec = `${PACKAGE}@${version}`;
  try {
    const { stdout } = await run('npm', ['pack', spec, '--ignore-scripts', '--json', '--pack-destination', scratch], {
      cwd: scratch,
      env: npmEnv(scratch),
      signal,
      maxBuffer: 16 * 1024 * 1024,
    });
    const packed = (JSON.parse(stdout) as { name?: string; version?: string; filename: string; integrity?: string }[])[0];
    if (!packed || packed.name !== PACKAGE || packed.version !== version) {
      throw new UserError(`npm pack ${spec} gave ${shown(packed?.name)}@${shown(packed?.version)}, not ${spec}: nothing of it was run; pass --base with that version's package.`);
    }
    return { tarball: path.join(scratch, path.basename(packed.filename)), integrity: packed.integrity ?? 'not reported' };
  } catch (err) {
    if (signal.aborted || err instanceof UserError) throw err;
    const why = ((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n').filter((l) => /error/i.test(l))[0] ?? 'npm failed';
    throw new UserError(`could not fetch ${spec} from the npm registry (${why.replace(/^npm (?:ERR!|error) /, '')}): pass --base with that version's package (a tarball from npm pack, or its directory).`);
  }
}

/**
 * The generator that wrote the app: `--base` (a tarball or a directory), else create-ovu-app at
 * the recorded release from the npm registry, packed into `scratch`. Returns its bin and where it came from.
 */
export async function generatorAt(version: string, base: string | undefined, scratch: string, signal: AbortSignal): Promise<{ bin: string; source: BaseSource }> {
  if (base !== undefined) {
    const abs = path.resolve(base);
    const stat = fs.statSync(abs, { throwIfNoEntry: false });
    const want = isRelease(version) ? version : undefined;
    if (!stat) throw new UsageError(`--base ${base} does not exist: pass create-ovu-app@${want ?? '<version>'}'s tarball (npm pack create-ovu-app@${want ?? '<version>'}) or its unpacked directory.`);
    const found = checkPackage(stat.isDirectory() ? abs : await unpack(abs, scratch, base), want, base);
    return { bin: found.bin, source: { kind: 'path', version: found.version, detail: abs } };
  }
  const { tarball, integrity } = await fetchRelease(version, scratch, signal);
  const found = checkPackage(await unpack(tarball, scratch, `${PACKAGE}@${version}`), version, `${PACKAGE}@${version}`);
  return { bin: found.bin, source: { kind: 'registry', version, detail: integrity } };
}
