// The interactive path, through a real pseudo-terminal: the built CLI runs in a tmux pane, keys are
// typed with send-keys and the screen is read with capture-pane, as a person would see it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { adrWorkspace, appPassword, BIN, fakeInstaller, runCli, RUNNER, snapshotDir } from '../helpers/cli.ts';
import { withClient } from '../helpers/postgres.ts';
import { VERSION } from '../../src/version.ts';

const TMUX = process.env.OVU_TMUX ?? 'tmux';

function tmuxAvailable(): string | undefined {
  try {
    return execFileSync(TMUX, ['-V'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

let sessions = 0;

export interface TerminalOptions {
  columns?: number;
  rows?: number;
  /** More environment for the CLI, e.g. a PATH with stand-in programs. */
  env?: Record<string, string>;
}

/** One tmux server (its own socket) running one CLI invocation in a pane (120×40 unless told). */
class Terminal {
  readonly socket = `ovu-e2e-${process.pid}-${++sessions}`;
  private alive = true;
  private socketPath = '';

  constructor(args: string[], cwd: string, opts: TerminalOptions = {}) {
    // The pane runs the CLI directly (no interactive shell echoing a command line), prints its exit
    // code, then stays open so the final screen can still be read. The shell outlives a Ctrl-C
    // (a trap with a command is reset in the CLI, which gets the signal as from any shell). CI is
    // removed: CI=true (as in .ci/run) turns prompting off.
    const script = 'trap ":" INT; "$@"; echo "EXIT=$?"; exec sleep 3600';
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    this.tmux('-u', '-f', '/dev/null', 'new-session', '-d', '-s', 'ovu', '-x', String(opts.columns ?? 120), '-y', String(opts.rows ?? 40), '-c', cwd, '--',
      'env', '-u', 'CI', '-u', 'FORCE_COLOR', '-u', 'npm_config_user_agent', 'NO_COLOR=1', 'TERM=xterm-256color', ...env,
      'sh', '-c', script, 'sh', process.execPath, BIN, ...args);
    this.socketPath = this.tmux('display-message', '-p', '-t', 'ovu', '#{socket_path}').trim();
  }

  private tmux(...args: string[]): string {
    return execFileSync(TMUX, ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The whole pane, scroll-back included, wrapped lines joined, trailing blanks dropped. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'ovu').replace(/\s+$/, '');
  }

  /** Types text literally (no key-name lookup). */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'ovu', '-l', text);
  }

  /** Presses named keys: Enter, BSpace, C-c, Down… */
  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'ovu', ...keys);
  }

  /** Polls the screen until `pattern` shows up; on timeout fails saying what it waited for, with the screen. */
  async waitFor(pattern: RegExp | string, what: string, timeoutMs = 15_000): Promise<string> {
    const test = (s: string) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s));
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = this.screen();
      if (test(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${String(pattern)}). The screen:\n${last}\n--- end of screen`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Where the cursor is: column and row of the visible pane, from 0. */
  cursor(): { x: number; y: number } {
    const [x, y] = this.tmux('display-message', '-p', '-t', 'ovu', '#{cursor_x} #{cursor_y}').trim().split(' ').map(Number);
    return { x: x!, y: y! };
  }

  /** The visible pane only, line by line, as drawn (no joining of wrapped lines). */
  visible(): string[] {
    return this.tmux('capture-pane', '-p', '-t', 'ovu').split('\n');
  }

  /** Waits for the prompt line `? <message>` (the prompt is live and reading keys). */
  prompt(message: string): Promise<string> {
    return this.waitFor(`? ${message}`, `the prompt "${message}"`);
  }

  /** Waits for the CLI to end; returns its exit code and the final screen. */
  async exit(timeoutMs = 30_000): Promise<{ code: number; screen: string }> {
    const screen = await this.waitFor(/^EXIT=\d+$/m, 'the CLI to exit', timeoutMs);
    return { code: Number(/^EXIT=(\d+)$/m.exec(screen)![1]), screen };
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    // tmux leaves its socket file behind.
    if (this.socketPath) fs.rmSync(this.socketPath, { force: true });
  }
}

const open: Terminal[] = [];
function start(args: string[], cwd: string, opts: TerminalOptions = {}): Terminal {
  const t = new Terminal(args, cwd, opts);
  open.push(t);
  return t;
}

afterEach(() => {
  for (const t of open.splice(0)) t.kill();
});

/** Presses Enter at each prompt in turn (the defaults), answering `n` to install and create-db. */
async function acceptDefaults(t: Terminal): Promise<void> {
  await t.prompt('Backend stack');
  t.press('Enter');
  await t.prompt('Kind of app');
  t.press('Enter');
  await t.prompt('Host port for the backend (8001)');
  t.press('Enter');
  await t.prompt('Customise advanced settings (DB pool, ULM URL)? (y/N)');
  t.press('Enter');
  await t.prompt("Install the app's dependencies now?");
  t.type('n');
  t.press('Enter');
  await t.prompt('Create the database and login on PostgreSQL at');
  t.press('Enter');
}

describe.runIf(process.platform !== 'win32')('interactive prompts in a real terminal (tmux)', () => {
  it('has tmux to drive the terminal', () => {
    expect(tmuxAvailable(), `${TMUX} not found: install tmux (apt-get install tmux) to run the interactive tests`).toMatch(/^tmux /);
  });

  it('asks every question, shows the derived names while typing, confirms the plan and writes the app', async () => {
    const ws = adrWorkspace();
    const t = start([], ws);

    const first = await t.prompt('App name');
    // The intro names the workspace the app goes into.
    expect(first).toContain(`create-ovu-app ${VERSION} · a new app in ${ws} (docker-compose.yml)\n? App name`);
    t.type('invent');
    // Live, before Enter: what the name becomes, under the line being typed.
    await t.waitFor('invent/ · database invent_db · login invent_user · service invent-backend', 'the derived names of "invent"');
    t.type('ory');
    const typing = await t.waitFor('database inventory_db', 'the derived names of "inventory"');
    expect(typing).toContain('? App name inventory\n  → inventory/ · database inventory_db · login inventory_user · service inventory-backend');
    expect(fs.readdirSync(ws)).toEqual(['docker-compose.yml']);
    t.press('Enter');

    await acceptDefaults(t);

    const plan = await t.prompt('Write these files? (Y/n)');
    expect(plan).toContain('✔ App name inventory\n');
    expect(plan).toContain(`inventory (python, crud) will be written to ${ws}:`);
    expect(plan).toContain('backend/ (');
    expect(plan).toContain('changed: docker-compose.yml');
    expect(plan).toContain('service   inventory-backend on port 8001');
    expect(plan).toContain('database  inventory_db, login inventory_user; password INVENTORY_DB_PASSWORD in inventory/.env (only inventory-backend gets it)');
    // Nothing is written before the confirmation; the run holds the workspace's lock while it asks.
    expect(fs.readdirSync(ws).sort()).toEqual(['.create-ovu-app', 'docker-compose.yml']);
    expect(fs.readdirSync(path.join(ws, '.create-ovu-app')).sort()).toEqual(['.gitignore', 'lock']);
    t.press('Enter');

    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    expect(screen).toContain('✔ Write these files? Yes');
    expect(screen).toContain(`✔ Created inventory (python, crud) in ${ws}`);
    expect(screen).toMatch(/Next steps:\n {2}cd inventory\/backend\n {2}python3 -m venv \.venv/);
    expect(screen).toContain(`${RUNNER} provision inventory --migrate`);
    expect(screen).not.toMatch(/crashed|error:/);

    expect(fs.existsSync(path.join(ws, 'inventory/backend/app/main.py'))).toBe(true);
    expect(fs.existsSync(path.join(ws, 'inventory/backend/.venv'))).toBe(false); // install: no
    const saved = JSON.parse(fs.readFileSync(path.join(ws, 'inventory/.ovu-app.json'), 'utf8'));
    expect(saved.answers).toEqual({ name: 'inventory', stack: 'python', kind: 'crud', port: 8001, dbPoolSize: 5, dbMaxOverflow: 5, dbPoolTimeout: 30, processes: 1, pgbouncer: false, ulmUrl: 'http://ulm-backend:8000' });
    expect(fs.readFileSync(path.join(ws, 'docker-compose.yml'), 'utf8')).toMatch(/^ {2}- apps\.compose\.yaml$/m);
    expect(fs.readFileSync(path.join(ws, 'inventory/compose.yaml'), 'utf8')).toMatch(/^ {2}inventory-backend:$/m);
  });

  it('shows why a bad name is refused, in place, and takes the corrected one', async () => {
    const ws = adrWorkspace();
    const t = start(['--workspace', ws], ws);

    await t.prompt('App name');
    t.type('2fa');
    const typed = await t.waitFor('? App name 2fa', 'the typed "2fa"');
    // An invalid name derives nothing: just what was typed, no dangling "→".
    expect(typed).toMatch(/^\? App name 2fa$/m);
    t.press('Enter');
    const refused = await t.waitFor('starts with a digit', 'the validation message for "2fa"');
    expect(refused).toContain('"2fa" starts with a digit');
    expect(refused).toContain('e.g. `app-2fa`');
    // Still the same prompt, still running: no exit, no "✔ App name".
    expect(refused).not.toMatch(/^EXIT=/m);
    expect(refused).not.toContain('✔ App name');

    t.press('BSpace', 'BSpace', 'BSpace');
    t.type('select');
    t.press('Enter');
    await t.waitFor('"select" is a PostgreSQL reserved word', 'the validation message for "select"');

    t.press(...Array<string>(6).fill('BSpace'));
    t.type('Stock Keeper');
    await t.waitFor('database stock_keeper_db', 'the derived names of "Stock Keeper"');
    t.press('Enter');
    await t.waitFor('✔ App name Stock Keeper', 'the accepted name');

    await acceptDefaults(t);
    await t.prompt('Write these files? (Y/n)');
    t.type('y');
    t.press('Enter');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    expect(fs.existsSync(path.join(ws, 'stock-keeper/backend/app/main.py'))).toBe(true);
    expect(fs.existsSync(path.join(ws, '2fa'))).toBe(false);
    expect(fs.readFileSync(path.join(ws, 'stock-keeper', '.env'), 'utf8')).toMatch(/^STOCK_KEEPER_DB_PASSWORD=[\w-]{43}$/m);
  });

  it.each([
    ['the name prompt', async (t: Terminal) => {
      await t.prompt('App name');
      t.type('inventory');
      await t.waitFor('database inventory_db', 'the derived names');
    }],
    ['a choice prompt', async (t: Terminal) => {
      await t.prompt('App name');
      t.type('inventory');
      t.press('Enter');
      await t.prompt('Backend stack');
      t.press('Down');
      await t.waitFor('❯ TypeScript', 'the cursor on TypeScript');
    }],
    ['the final confirmation', async (t: Terminal) => {
      await t.prompt('App name');
      t.type('inventory');
      t.press('Enter');
      await acceptDefaults(t);
      await t.prompt('Write these files?');
    }],
  ])('Ctrl-C at %s exits 130 and leaves the workspace byte-for-byte as it was', async (_where, reach) => {
    const ws = adrWorkspace();
    fs.writeFileSync(path.join(ws, '.env'), 'EXISTING=1\n', { mode: 0o600 });
    const before = snapshotDir(ws);
    const t = start(['--workspace', ws], ws);
    await reach(t);
    t.press('C-c');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(130);
    expect(screen).toContain('Cancelled: nothing was written.');
    expect(screen).not.toMatch(/crashed|\n\s+at /);
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('asks about the first migration only when the dependencies are being installed', async () => {
    const ws = adrWorkspace();
    // Declined install, accepted database: migrating could not work, so it is not offered.
    const t = start(['inventory', '--workspace', ws], ws);
    for (const p of ['Backend stack', 'Kind of app', 'Host port for the backend', 'Customise advanced settings']) {
      await t.prompt(p);
      t.press('Enter');
    }
    await t.prompt("Install the app's dependencies now?");
    t.type('n');
    t.press('Enter');
    // The question names the server it would use, and the next one lets the person name another.
    const question = await t.prompt('Create the database and login on PostgreSQL at');
    expect(question).toMatch(/on PostgreSQL at \S+:\d+\/\S+ as \S+ now\? \(y\/N\)/);
    t.type('y');
    t.press('Enter');
    await t.prompt('PostgreSQL server: Enter keeps');
    t.type('postgres:secret@db');
    t.press('Enter');
    // Not a URL: refused in place, the password not echoed back in the message.
    const refused = await t.waitFor('> the admin URL is not a valid postgresql:// URL: it must start with postgresql://', 'the refusal of a URL without postgresql://');
    expect(refused).not.toMatch(/not a valid[^\n]*secret/);
    for (let i = 0; i < 'postgres:secret@db'.length; i++) t.press('BSpace');
    t.press('Enter');
    const plan = await t.prompt('Write these files?');
    expect(plan).not.toContain('Run the first migration');
    t.press('C-c');
    expect((await t.exit()).code).toBe(130);

    // Accepted install: it is asked.
    const u = start(['inventory', '--workspace', ws], ws);
    for (const p of ['Backend stack', 'Kind of app', 'Host port for the backend', 'Customise advanced settings']) {
      await u.prompt(p);
      u.press('Enter');
    }
    await u.prompt("Install the app's dependencies now?");
    u.type('y');
    u.press('Enter');
    await u.prompt('Create the database and login on PostgreSQL at');
    u.type('y');
    u.press('Enter');
    await u.prompt('PostgreSQL server: Enter keeps');
    u.press('Enter');
    await u.prompt('Run the first migration now? (Y/n)');
    u.press('C-c');
    expect((await u.exit()).code).toBe(130);
    expect(fs.readdirSync(ws)).toEqual(['docker-compose.yml']);
  });

  it('declining the plan exits 130 and writes nothing', async () => {
    const ws = adrWorkspace();
    const before = snapshotDir(ws);
    const t = start(['inventory', '--workspace', ws], ws);
    // The name was given as an argument: the first question is the stack.
    await acceptDefaults(t);
    const plan = await t.prompt('Write these files? (Y/n)');
    expect(plan).not.toContain('? App name');
    expect(plan).toContain('inventory (python, crud) will be written to');
    t.type('n');
    t.press('Enter');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(130);
    expect(screen).toContain('✔ Write these files? No');
    expect(screen).toContain('Cancelled: nothing was written.');
    expect(screen).not.toContain('✔ Created');
    expect(snapshotDir(ws)).toEqual(before);
  });

  it('asks which service is the database when the compose file has two, and uses the one chosen', async () => {
    const ws = adrWorkspace();
    const compose = path.join(ws, 'docker-compose.yml');
    fs.writeFileSync(compose, fs.readFileSync(compose, 'utf8').replace('\n  ulm-backend:', '\n  analytics-db:\n    image: postgis/postgis:16-3.4\n    environment:\n      POSTGRES_PASSWORD: postgres\n\n  ulm-backend:'));
    const twoServers = fs.readFileSync(compose, 'utf8');
    const t = start(['inventory', '--workspace', ws], ws);
    await acceptDefaults(t);
    const asked = await t.prompt('Which service is the PostgreSQL server apps use?');
    expect(asked).toContain('the compose project has several PostgreSQL services, postgres (docker-compose.yml: image postgres:15), analytics-db (docker-compose.yml: image postgis/postgis:16-3.4).');
    t.press('Down');
    await t.waitFor('❯ analytics-db', 'the cursor on analytics-db');
    t.press('Enter');
    await t.prompt('Write these files? (Y/n)');
    t.press('Enter');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    expect(fs.readFileSync(path.join(ws, 'inventory', 'compose.yaml'), 'utf8')).toContain('@analytics-db:5432/inventory_db');
    // The choice stands (ovu-db-init's PGHOST in apps.compose.yaml): a later run, without a
    // terminal, puts its app on the same server rather than ask again or pick another.
    const r = await runCli(['orders', '--yes', '--workspace', ws]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(ws, 'orders', 'compose.yaml'), 'utf8')).toContain('@analytics-db:5432/orders_db');
    // A fresh copy of the file without that record still needs --db-service: exit 2, naming both.
    const fresh = adrWorkspace();
    fs.writeFileSync(path.join(fresh, 'docker-compose.yml'), twoServers);
    const again = await runCli(['orders', '--yes', '--workspace', fresh]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/several PostgreSQL services, postgres .*, analytics-db .*: pass --db-service <name>/);
  });

  it('update shows the merge and asks; No writes nothing, Yes writes it', async () => {
    const ws = adrWorkspace();
    expect((await runCli(['inventory', '--yes', '--workspace', ws])).exitCode).toBe(0);
    const before = snapshotDir(ws);
    const no = start(['update', 'inventory', '--port', '8020', '--workspace', ws], ws);
    const plan = await no.prompt('Write these files? (Y/n)');
    expect(plan).toContain(`Updating inventory (create-ovu-app ${VERSION}) will:`);
    expect(plan).toMatch(/update +inventory\/compose\.yaml/);
    expect(plan).toContain('+      - "8020:8000"');
    no.type('n');
    no.press('Enter');
    const declined = await no.exit();
    expect(declined.code, declined.screen).toBe(130);
    expect(snapshotDir(ws)).toEqual(before);
    const yes = start(['update', 'inventory', '--port', '8020', '--workspace', ws], ws);
    await yes.prompt('Write these files? (Y/n)');
    yes.press('Enter');
    const done = await yes.exit();
    expect(done.code, done.screen).toBe(0);
    expect(done.screen).toContain('✔ Updated inventory');
    expect(fs.readFileSync(path.join(ws, 'inventory', 'compose.yaml'), 'utf8')).toContain('8020:8000');
  });

  it('keeps the cursor in the typed name, and breaks the preview between its parts to fit 80 columns', async () => {
    const ws = adrWorkspace();
    const t = start(['--workspace', ws], ws, { columns: 80 });
    await t.prompt('App name');
    t.type('inventory-service');
    await t.waitFor('service inventory-service-backend', 'the preview of "inventory-service"');
    const row = t.visible().findIndex((l) => l.startsWith('? App name'));
    await waitForCursor(t, { x: '? App name inventory-service'.length, y: row });
    // Left-arrow edits land where the cursor is seen: before "service".
    t.press(...Array<string>('service'.length).fill('Left'));
    await waitForCursor(t, { x: '? App name inventory-'.length, y: row });
    t.type('x');
    await t.waitFor('database inventory_xservice_db', 'the preview of "inventory-xservice"');
    await waitForCursor(t, { x: '? App name inventory-x'.length, y: row });
    const lines = t.visible();
    expect(lines[row]).toBe('? App name inventory-xservice');
    const preview = lines.slice(row + 1, lines.findIndex((l, i) => i > row && !l.trim()));
    expect(preview.length).toBeGreaterThan(1);
    for (const l of preview) expect(l.length, l).toBeLessThan(80);
    // Each name whole on one line: broken only between the parts.
    for (const part of ['inventory-xservice/', 'database inventory_xservice_db', 'login inventory_xservice_user', 'service inventory-xservice-backend']) {
      expect(preview.some((l) => l.includes(part)), `${part} in ${JSON.stringify(preview)}`).toBe(true);
    }
    t.press('Enter');
    await t.waitFor('✔ App name inventory-xservice', 'the edited name, accepted');
    t.press('C-c');
    expect((await t.exit()).code).toBe(130);
  });

  it('does not ask a readonly app about pool settings', async () => {
    const ws = adrWorkspace();
    const t = start(['catalog', '--workspace', ws], ws);
    await t.prompt('Backend stack');
    t.press('Enter');
    await t.prompt('Kind of app');
    t.press('Down');
    await t.waitFor('❯ readonly', 'the cursor on readonly');
    t.press('Enter');
    await t.prompt('Host port for the backend');
    t.press('Enter');
    await t.prompt('Customise advanced settings (ULM URL)? (y/N)');
    t.type('y');
    t.press('Enter');
    const screen = await t.prompt('ULM base URL');
    expect(screen).not.toMatch(/DB pool/);
    t.press('C-c');
    expect((await t.exit()).code).toBe(130);
  });

  it('counts the time of the run, not the time spent answering', async () => {
    const ws = adrWorkspace();
    const t = start(['inventory', '--workspace', ws], ws);
    await acceptDefaults(t);
    await t.prompt('Write these files? (Y/n)');
    // Answering took at least 5 s; the run (files only) a fraction of that, even on a busy machine.
    const answering = 5;
    await new Promise((r) => setTimeout(r, answering * 1000));
    t.press('Enter');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    const done = Number(/^Done in (\d+\.\d)s\.$/m.exec(screen)?.[1]);
    expect(done, screen).toBeLessThan(answering);
  });

  it('provision shows the SQL it will run (password hidden) and asks; No changes nothing, Yes runs it', async () => {
    const adminUrl = inject('adminUrl');
    const app = `ask${randomBytes(3).toString('hex')}`;
    const ws = adrWorkspace();
    expect((await runCli([app, '--yes', '--workspace', ws])).exitCode).toBe(0);
    const password = appPassword(ws, app)!;
    const roleExists = () => withClient(adminUrl, async (c) => (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${app}_user`])).rowCount === 1);

    const no = start(['provision', app, '--admin-url', adminUrl, '--workspace', ws], ws);
    const plan = await no.prompt('Run these statements on the server? (y/N)');
    expect(plan).toContain(`CREATE ROLE "${app}_user" LOGIN PASSWORD '***'`);
    expect(plan).toContain('Server-wide changes');
    expect(plan).not.toContain(password);
    expect(plan).not.toContain(decodeURIComponent(new URL(adminUrl).password));
    no.type('n');
    no.press('Enter');
    const declined = await no.exit();
    expect(declined.code, declined.screen).toBe(130);
    expect(declined.screen).toContain('Cancelled: nothing was changed on the server.');
    expect(await roleExists()).toBe(false);

    const yes = start(['provision', app, '--admin-url', adminUrl, '--workspace', ws], ws);
    await yes.prompt('Run these statements on the server? (y/N)');
    yes.type('y');
    yes.press('Enter');
    const done = await yes.exit();
    expect(done.code, done.screen).toBe(0);
    expect(done.screen).toContain(`✔ ${app}_db is ready for ${app}_user.`);
    expect(await roleExists()).toBe(true);
  });

  it('remove shows the dump, every statement and every file and asks (default No); No changes nothing, Yes removes', async () => {
    const adminUrl = inject('adminUrl');
    const app = `rm${randomBytes(3).toString('hex')}`;
    const ws = adrWorkspace();
    const made = await runCli([app, '--yes', '--create-db', '--admin-url', adminUrl, '--workspace', ws]);
    expect(made.exitCode, made.stderr).toBe(0);
    const dbExists = () => withClient(adminUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [`${app}_db`])).rowCount === 1);
    const files = snapshotDir(ws);

    const no = start(['remove', app, '--admin-url', adminUrl, '--workspace', ws], ws);
    const plan = await no.prompt(`Remove ${app} and drop its database and login? (y/N)`);
    expect(plan).toContain(`ALTER ROLE "${app}_user" NOLOGIN;`);
    expect(plan).toMatch(new RegExp(`pg_dump --format=custom --file=\\S+/backups/${app}/${app}_db-`));
    expect(plan).toContain(`DROP DATABASE IF EXISTS "${app}_db" WITH (FORCE);`);
    expect(plan).toMatch(new RegExp(`move ${app}/ → \\.create-ovu-app/removed/${app}-`));
    expect(plan).not.toContain(decodeURIComponent(new URL(adminUrl).password));
    no.press('Enter');
    const declined = await no.exit();
    expect(declined.code, declined.screen).toBe(130);
    expect(declined.screen).toContain('Cancelled: nothing was changed.');
    expect(snapshotDir(ws)).toEqual(files);
    expect(await dbExists()).toBe(true);

    const yes = start(['remove', app, '--admin-url', adminUrl, '--workspace', ws], ws);
    await yes.prompt(`Remove ${app} and drop its database and login? (y/N)`);
    yes.type('y');
    yes.press('Enter');
    const done = await yes.exit();
    expect(done.code, done.screen).toBe(0);
    expect(done.screen).toContain(`✔ Removed ${app} from ${ws}`);
    expect(fs.existsSync(path.join(ws, app))).toBe(false);
    expect(await dbExists()).toBe(false);
  });
});

async function waitForCursor(t: Terminal, want: { x: number; y: number }, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let at = t.cursor();
  while ((at.x !== want.x || at.y !== want.y) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    at = t.cursor();
  }
  expect(at, t.visible().join('\n')).toEqual(want);
}

const SPINNER = /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Installing inventory's dependencies \(\d+\.\ds\)$/m;

describe.runIf(process.platform !== 'win32')('slow steps in a real terminal (tmux)', () => {
  it('shows one spinner line with the elapsed time that resolves to ✔ in place, the tool output folded', async () => {
    const ws = adrWorkspace();
    const t = start(['inventory', '--yes', '--install', '--workspace', ws], ws, { env: fakeInstaller(40, 2) });
    await t.waitFor(SPINNER, 'the spinner of the install step');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    const mentions = screen.split('\n').filter((l) => l.includes("Installing inventory's dependencies"));
    expect(mentions).toHaveLength(1);
    expect(mentions[0]).toMatch(/^✔ Installing inventory's dependencies \(\d+\.\ds\)$/);
    expect(screen).not.toMatch(/Collecting package|^… /m);
  });

  it('with --verbose shows the tool output as it comes', async () => {
    const ws = adrWorkspace();
    const t = start(['inventory', '--yes', '--install', '--verbose', '--workspace', ws], ws, { env: fakeInstaller(5, 0.5) });
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/^… Installing inventory's dependencies\n(Collecting package-\d\n){5}✔ Installing inventory's dependencies \(/m);
  });

  it('shows the folded output when the step fails, then the error', async () => {
    const ws = adrWorkspace();
    const t = start(['inventory', '--yes', '--install', '--workspace', ws], ws, { env: fakeInstaller(3, 0.3, 7) });
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(1);
    expect(screen).toMatch(/^✖ Installing inventory's dependencies \(\d+\.\ds\)\nCollecting package-1\nCollecting package-2\nCollecting package-3\nerror: `\.venv\/bin\/pip install .*` failed \(exit code 7\)/m);
  });

  it('Ctrl-C during the install exits 130 with one line: what was written, and the command that continues', async () => {
    const ws = adrWorkspace();
    const t = start(['inventory', '--yes', '--install', '--workspace', ws], ws, { env: fakeInstaller(600, 60) });
    await t.waitFor(SPINNER, 'the spinner of the install step');
    t.press('C-c');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(130);
    const after = screen.split('\n').filter((l) => l.trim() && !l.startsWith('EXIT='));
    expect(after).toEqual([
      `Interrupted: inventory's files were written (inventory/, .env, .env.example, .github/, .gitignore, apps.compose.yaml, deploy/, init-db.sql, monitoring/, ovu-db-init/, docker-compose.yml); to continue: cd inventory/backend && python3 -m venv .venv && .venv/bin/pip install --disable-pip-version-check --quiet uv && .venv/bin/uv sync --extra dev --inexact && ${RUNNER} provision inventory --migrate --workspace ../.. --admin-url postgresql://postgres@localhost:5432/postgres   # with PGPASSWORD set to the database's superuser password (its POSTGRES_PASSWORD)`,
    ]);
    expect(fs.existsSync(path.join(ws, 'inventory/backend/app/main.py'))).toBe(true);
  });

  it('Ctrl-C while the real python3 makes the virtualenv: no traceback, and the printed command finishes the job', async () => {
    const ws = adrWorkspace();
    const t = start(['inventory', '--yes', '--install', '--workspace', ws], ws);
    const venv = path.join(ws, 'inventory/backend/.venv');
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(path.join(venv, 'bin', 'python3')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.press('C-c');
    const { code, screen } = await t.exit();
    expect(code, screen).toBe(130);
    expect(screen).not.toMatch(/Traceback|KeyboardInterrupt/);
    const line = /^Interrupted: .*; to continue: (.*)$/m.exec(screen)![1]!;
    // The command's first steps (not the pip install, which needs the network): the venv is made whole.
    const [cd, venvStep] = line.split(' && ');
    execFileSync('sh', ['-c', `${cd} && ${venvStep}`], { cwd: ws });
    expect(fs.existsSync(path.join(venv, 'bin', 'pip'))).toBe(true);
  });

  /** A server that takes connections and never answers: a database step that hangs. */
  async function silentServer(): Promise<{ port: number; close: () => void }> {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as net.AddressInfo).port, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
  }

  it('Ctrl-C while the database is being created: one line, with the whole command that continues', async () => {
    const db = await silentServer();
    try {
      const ws = adrWorkspace();
      const url = `postgresql://postgres:pw-z@127.0.0.1:${db.port}/postgres`;
      const t = start(['inventory', '--yes', '--create-db', '--admin-url', url, '--workspace', ws], ws);
      await t.waitFor(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Creating inventory_db and inventory_user on /m, 'the spinner of the database step');
      t.press('C-c');
      // At once: not after the connection's own timeout.
      const { code, screen } = await t.exit(2000);
      expect(code, screen).toBe(130);
      expect(screen.split('\n').filter((l) => l.trim() && !l.startsWith('EXIT='))).toEqual([
        "Interrupted: inventory's files were written (inventory/, .env, .env.example, .github/, .gitignore, apps.compose.yaml, deploy/, init-db.sql, monitoring/, ovu-db-init/, docker-compose.yml); to continue: " +
          `cd inventory/backend && python3 -m venv .venv && .venv/bin/pip install --disable-pip-version-check --quiet uv && .venv/bin/uv sync --extra dev --inexact && ${RUNNER} provision inventory --migrate --workspace ../.. --admin-url postgresql://postgres@127.0.0.1:${db.port}/postgres` +
          '   # with PGPASSWORD set: the password is not repeated here',
      ]);
    } finally {
      db.close();
    }
  });

  it('Ctrl-C during provision: one line, nothing written, the same command to run again', async () => {
    const db = await silentServer();
    try {
      const ws = adrWorkspace();
      const generated = start(['inventory', '--yes', '--workspace', ws], ws);
      expect((await generated.exit()).code).toBe(0);
      const before = snapshotDir(ws);
      const url = `postgresql://postgres:pw-z@127.0.0.1:${db.port}/postgres`;
      // --yes: provision does not show its plan and ask first (that would connect to plan).
      const t = start(['provision', 'inventory', '--yes', '--admin-url', url, '--workspace', ws], ws);
      await t.waitFor(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Creating inventory_db/m, 'the spinner of the database step');
      t.press('C-c');
      const { code, screen } = await t.exit(2000);
      expect(code, screen).toBe(130);
      expect(screen.split('\n').filter((l) => l.trim() && !l.startsWith('EXIT='))).toEqual([
        // The server is named before it is touched; the password never.
        `! PostgreSQL server: 127.0.0.1:${db.port}/postgres as postgres (from --admin-url)`,
        `Interrupted: no files were written, and provision can safely run again: ${RUNNER} provision inventory --yes --workspace ${ws} --admin-url postgresql://postgres@127.0.0.1:${db.port}/postgres   # with PGPASSWORD set: the password is not repeated here`,
      ]);
      expect(snapshotDir(ws)).toEqual(before);
    } finally {
      db.close();
    }
  });
});

