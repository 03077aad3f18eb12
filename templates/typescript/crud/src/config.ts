/**
 * Settings, read from the environment and from backend/.env.
 *
 * Environment variables win over .env; .env wins over the defaults below.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const APP_SLUG = '{{app.slug}}';
export const APP_TITLE = '{{app.title}}';
export const APP_VERSION = '0.1.0';

/** backend/.env, from src/ (tsx, tests) and from dist/ (the build) alike. */
export const ENV_FILE = fileURLToPath(new URL('../.env', import.meta.url));

export interface DatabaseConfig {
  /** This app's own database (ADR-002): {{app.db}}, login {{app.user}}. */
  url: string;
  /** DB_POOL_SIZE and DB_MAX_OVERFLOW: node-postgres has a single limit, its `max` is their sum. */
  poolSize: number;
  maxOverflow: number;
  /** Seconds to wait for a connection before failing. */
  poolTimeout: number;
}

export interface ULMConfig {
  /** ULM, the users service: reached over HTTP only, never through ulm_db. */
  baseUrl: string;
  /** Seconds one ULM call may take in all, retries included. */
  timeout: number;
  /** Sent as `Authorization: Bearer <token>` on user lookups when set. */
  token: string | undefined;
  /** Where ULM says whose a caller's token is (200 with the user, 401 otherwise). */
  authPath: string;
  /** What /health/ready asks ULM (any answer below 500 means ULM is up). */
  healthPath: string;
  /** Seconds a token ULM accepted is trusted without asking again. */
  authCacheTtl: number;
  /** After this many failed ULM calls in a row, fail at once for `breakerCooldown` seconds. */
  breakerThreshold: number;
  breakerCooldown: number;
}

export interface Config {
  host: string;
  port: number;
  debug: boolean;
  database: DatabaseConfig;
  ulm: ULMConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value ? value : fallback;
}

function integer(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function seconds(env: Env, name: string, fallback: number, { orZero = false } = {}): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !orZero)) {
    throw new ConfigError(`${name} must be a number of seconds ${orZero ? '>= 0' : '> 0'}, got "${raw}"`);
  }
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

/** Builds the settings from `env` alone (no file access), so tests can pass their own. */
export function readConfig(env: Env = process.env): Config {
  return {
    host: text(env, 'HOST', '0.0.0.0'),
    port: integer(env, 'PORT', {{containerPort}}, 0),
    debug: boolean(env, 'DEBUG', false),
    database: {
      url: text(env, 'DATABASE_URL', 'postgresql://{{app.user}}@localhost:5432/{{app.db}}'),
      poolSize: integer(env, 'DB_POOL_SIZE', {{pool.size}}, 1),
      maxOverflow: integer(env, 'DB_MAX_OVERFLOW', {{pool.maxOverflow}}, 0),
      poolTimeout: seconds(env, 'DB_POOL_TIMEOUT', {{pool.timeout}}),
    },
    ulm: {
      baseUrl: text(env, 'ULM_BASE_URL', '{{ulmUrl}}'),
      timeout: seconds(env, 'ULM_TIMEOUT', 5),
      token: env.ULM_SERVICE_TOKEN?.trim() || undefined,
      authPath: text(env, 'ULM_AUTH_PATH', '/api/v1/auth/me'),
      healthPath: text(env, 'ULM_HEALTH_PATH', '/health'),
      authCacheTtl: seconds(env, 'AUTH_CACHE_TTL', 30, { orZero: true }),
      breakerThreshold: integer(env, 'ULM_BREAKER_THRESHOLD', 5, 1),
      breakerCooldown: seconds(env, 'ULM_BREAKER_COOLDOWN', 10),
    },
  };
}

/** Copies backend/.env into process.env, without replacing variables that are already set. */
export function loadEnvFile(file: string = ENV_FILE): void {
  if (fs.existsSync(file)) process.loadEnvFile(file);
}

/** The settings the server runs with: environment, then backend/.env, then defaults. */
export function loadConfig(): Config {
  loadEnvFile();
  return readConfig(process.env);
}
