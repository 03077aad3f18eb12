/**
 * The PostgreSQL client programs backup, restore and remove run: the real pg_dump and pg_restore.
 * pg_dump refuses a server of a newer major than itself (pg_dump 15 cannot dump PostgreSQL 17),
 * so the one chosen, from OVU_PG_BIN, PATH and Debian's /usr/lib/postgresql/<major>/bin, is of the
 * server's major, else newer; when none is, the run stops before anything is done, saying which
 * client to install. Passwords go to them through PGPASSWORD, never the command line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InterruptedError, UserError } from '../errors.ts';
import { oneLine } from './error-text.ts';

export type PgTool = 'pg_dump' | 'pg_restore';

export interface FoundTool {
  path: string;
  /** e.g. "15.20". */
  version: string;
  major: number;
}

function candidates(tool: PgTool, env: NodeJS.ProcessEnv): string[] {
  const dirs: string[] = [];
  if (env['OVU_PG_BIN']) dirs.push(env['OVU_PG_BIN']);
  dirs.push(...(env['PATH'] ?? '').split(path.delimiter).filter(Boolean));
  try {
    const debian = '/usr/lib/postgresql';
    const majors = fs.readdirSync(debian).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    dirs.push(...majors.map((m) => path.join(debian, m, 'bin')));
  } catch {
    // not a Debian-style install
  }
  const seen = new Set<string>();
  return dirs.map((d) => path.join(d, tool)).filter((p) => {
    if (seen.has(p)) return false;
    seen.add(p);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

async function versionOf(file: string): Promise<FoundTool | undefined> {
  const { execa } = await import('execa');
  const r = await execa(file, ['--version'], { reject: false, stdin: 'ignore', timeout: 10_000 });
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(String(r.stdout));
  if (r.exitCode !== 0 || !m) return undefined;
  return { path: file, version: m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`, major: Number(m[1]) };
}

/**
 * The tool to use against a server of `serverMajor` (undefined: any): OVU_PG_BIN's when it can,
 * else the one of the server's major; else for pg_dump the oldest newer one, for pg_restore the newest.
 */
export async function findPgTool(tool: PgTool, serverMajor: number | undefined, serverVersion: string, env: NodeJS.ProcessEnv = process.env): Promise<FoundTool> {
  const found: FoundTool[] = [];
  for (const file of candidates(tool, env)) {
    const v = await versionOf(file);
    if (v) found.push(v);
  }
  // The server's own major first: a dump made by pg_dump 17 sets transaction_timeout, which
  // PostgreSQL 16 and older refuse at restore. Then the oldest newer pg_dump; for pg_restore,
  // which reads the archives of every older pg_dump but not of a newer one, the newest there is.
  // OVU_PG_BIN is the user's choice: taken when it can do the job.
  const chosen = env['OVU_PG_BIN'] ? found.find((v) => path.dirname(v.path) === path.resolve(env['OVU_PG_BIN']!)) : undefined;
  if (chosen && (tool === 'pg_restore' || serverMajor === undefined || chosen.major >= serverMajor)) return chosen;
  const exact = found.find((v) => v.major === serverMajor);
  if (exact) return exact;
  const newest = [...found].sort((a, b) => b.major - a.major);
  if (tool === 'pg_restore' && newest[0]) return newest[0];
  const newer = newest.filter((v) => serverMajor !== undefined && v.major > serverMajor).at(-1);
  if (newer) return newer;
  const client = `postgresql-client-${serverMajor ?? ''}`.replace(/-$/, '');
  if (found.length === 0) throw new UserError(`${tool} was not found (looked in OVU_PG_BIN, PATH and /usr/lib/postgresql/*/bin): install ${client} (apt-get install ${client}), or set OVU_PG_BIN to the directory that has ${tool}.`);
  const best = newest[0]!;
  throw new UserError(
    `${tool} ${best.version} (${best.path}) cannot dump PostgreSQL ${serverVersion}, a newer major: install ${client} (or use the server image's own, e.g. docker compose exec postgres ${tool}), or set OVU_PG_BIN to the bin directory of a ${tool} ${serverMajor} or newer.`,
  );
}

/** libpq's connection settings for `url` less its password, which goes in PGPASSWORD. */
export function toolConnection(url: string, database: string, password: string): { dbname: string; env: Record<string, string> } {
  const u = new URL(url);
  u.password = '';
  u.searchParams.delete('password');
  u.pathname = `/${encodeURIComponent(database)}`;
  const env: Record<string, string> = {};
  if (password) env['PGPASSWORD'] = password;
  return { dbname: u.toString(), env };
}

export interface ToolRun {
  stdout: string;
  stderr: string;
}

/**
 * Runs `tool` with `args` (the connection as --dbname, no secret in it); a failure is one line,
 * what the tool said, with `secrets` masked. Ctrl-C stops it (InterruptedError).
 */
export async function runPgTool(tool: FoundTool, args: string[], opts: { env: Record<string, string>; signal?: AbortSignal | undefined; secrets: string[]; what: string }): Promise<ToolRun> {
  const { execa } = await import('execa');
  // The caller's PG* settings must not redirect the tool (--dbname names the server, database and
  // login); TLS settings and PGPASSFILE stay, as node-postgres uses them too.
  const routing = new Set(['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSERVICE', 'PGOPTIONS']);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !routing.has(k))) as Record<string, string>;
  const r = await execa(tool.path, args, {
    env: { ...base, PGCONNECT_TIMEOUT: '10', ...opts.env },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  if (opts.signal?.aborted || r.isCanceled) throw new InterruptedError();
  if (r.exitCode !== 0) {
    let said = String(r.stderr).split('\n').filter((l) => l.trim() && !/^\s*(HINT|DETAIL|LINE \d+|Command was):/.test(l)).slice(0, 3).join('; ');
    if (/unrecognized configuration parameter "transaction_timeout"/.test(said)) {
      said += `; the dump was made by pg_dump 17 or newer, whose dumps restore only into PostgreSQL 17 or newer: dump and restore with the server's own major (OVU_PG_BIN)`;
    }
    if (/unsupported version \([\d.]+\) in file header/.test(said)) {
      said += `; the dump was made by a newer pg_dump than ${path.basename(tool.path)} ${tool.version}: set OVU_PG_BIN to the bin directory of a client as new as that pg_dump`;
    }
    throw new UserError(oneLine(`${opts.what} failed: ${said || `${path.basename(tool.path)} exited with ${r.exitCode ?? r.signal}`}`, opts.secrets));
  }
  return { stdout: String(r.stdout), stderr: String(r.stderr) };
}
