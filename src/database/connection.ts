/**
 * Connecting with node-postgres: the admin's target, the app user's settings on the same server,
 * and connect failures as one-line UserErrors without secrets.
 *
 * Types only from `pg` here: the module itself is loaded by provision() with a dynamic import.
 */
import type { Client, ClientConfig } from 'pg';
import { UserError } from '../errors.ts';
import { errorCode, errorMessage, messageWithCode, oneLine } from './error-text.ts';

export type Pg = typeof import('pg').default;

/** Connection settings for the app user on the admin's server, for one database. */
export type AppConfig = (database: string, password: string) => ClientConfig;

interface Target {
  host: string;
  port: number;
  user: string;
  /** "host:port" for messages. */
  where: string;
}

/** Where `adminUrl` connects, as node-postgres reads it (PG* variables fill what it leaves out). */
export function adminTarget(pg: Pg, adminUrl: string): Target {
  const probe = new pg.Client({ connectionString: adminUrl });
  return {
    host: probe.host,
    port: probe.port,
    user: probe.user ?? 'postgres',
    where: `${probe.host}:${probe.port}`,
  };
}

/** Settings for `role` on the server `adminUrl` names (TLS settings from the admin URL). */
export function appUserConfig(adminUrl: string, role: string, timeoutMs: number): AppConfig {
  return (database, password) => {
    const u = new URL(adminUrl);
    u.username = encodeURIComponent(role);
    u.password = encodeURIComponent(password);
    u.pathname = `/${encodeURIComponent(database)}`;
    u.searchParams.delete('password');
    u.searchParams.delete('user');
    return { connectionString: u.toString(), connectionTimeoutMillis: timeoutMs };
  };
}

function isTimeout(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ETIMEDOUT' || /timeout|timed out/i.test(errorMessage(error));
}

/**
 * A failed admin connection as a one-line UserError with a hint. `service` is the workspace's
 * database service (ovu-db-init's PGHOST), named in the command that starts it.
 */
export function connectError(error: unknown, target: Target, timeoutMs: number, secrets: string[], service?: string): UserError {
  const code = errorCode(error);
  const hint = service ? `start it with \`docker compose up -d ${service}\`, or pass --admin-url` : 'start it, or pass --admin-url naming a running server';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOENT') {
    return new UserError(`cannot reach PostgreSQL at ${target.where} (${code}); ${hint}.`);
  }
  if (code === '28P01') {
    return new UserError(`authentication failed for user ${target.user} at ${target.where}; check --admin-url or PGPASSWORD`);
  }
  // pg's words when the server asks for a password and none was given (URL, PGPASSWORD, ~/.pgpass).
  if (/client password must be a string|password authentication.*no password|no password supplied/i.test(errorMessage(error))) {
    return new UserError(`PostgreSQL at ${target.where} asks ${target.user} for a password and none was given: put it in --admin-url, or set PGPASSWORD (or ~/.pgpass)`);
  }
  if (isTimeout(error)) {
    return new UserError(`timed out after ${Math.round(timeoutMs / 1000)}s connecting to PostgreSQL at ${target.where}. Is it running and reachable? If not, ${hint}.`);
  }
  if (code === '3D000') {
    return new UserError(`the admin database in --admin-url does not exist at ${target.where}: ${oneLine(errorMessage(error), secrets)}`);
  }
  return new UserError(`cannot connect to PostgreSQL at ${target.where} as ${target.user}: ${oneLine(messageWithCode(error), secrets)}`);
}

/** Connects; `signal` gives up a connection attempt that is still waiting (Ctrl-C). */
export async function connect(pg: Pg, config: ClientConfig, signal?: AbortSignal): Promise<Client> {
  const client = new pg.Client(config);
  // A connection that dies later must not crash the process; the next query reports it.
  client.on('error', () => {});
  // pg's end() waits for a connection still being made; its socket is cut instead.
  let giveUp = (): void => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    giveUp = () => {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      reject(new Error('connection attempt stopped'));
    };
  });
  aborted.catch(() => {});
  if (signal?.aborted) giveUp();
  signal?.addEventListener('abort', giveUp, { once: true });
  try {
    await Promise.race([client.connect(), aborted]);
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener('abort', giveUp);
  }
  return client;
}

/** true if the password logs in (also when the database then refuses or is missing), else the error code/message. */
export async function passwordLogsIn(pg: Pg, config: ClientConfig): Promise<true | string> {
  try {
    const client = await connect(pg, config);
    await client.end().catch(() => {});
    return true;
  } catch (error) {
    const code = errorCode(error);
    // Authentication happens before the CONNECT privilege and database checks.
    // 42501 no CONNECT, 3D000 no such database, 55000 a database not accepting connections yet.
    if (code === '42501' || code === '3D000' || code === '55000') return true;
    if (code === '28P01') return code;
    return messageWithCode(error);
  }
}
