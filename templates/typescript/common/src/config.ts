/**
 * Settings, read from the environment and from backend/.env.
 *
 * Environment variables win over .env; .env wins over the defaults below. What only this kind
 * of app needs (its database, for a crud app) is read in src/kind-config.ts.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { boolean, integer, optionalText, seconds, text, type Env } from './env.js';
import { readKindConfig, type KindConfig } from './kind-config.js';

export { ConfigError } from './env.js';

export const APP_SLUG = '{{app.slug}}';
export const APP_TITLE = '{{app.title}}';
export const APP_VERSION = '0.1.0';
/** Every app route is under it (health probes are not): ULM's own convention. */
export const API_PREFIX = '/api/v1';

/** backend/.env, from src/ (tsx, tests) and from dist/ (the build) alike. */
export const ENV_FILE = fileURLToPath(new URL('../.env', import.meta.url));

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
  /** Seconds a user ULM returned is reused without asking again (0: always ask). */
  userCacheTtl: number;
  /** After this many failed ULM calls in a row, fail at once for `breakerCooldown` seconds. */
  breakerThreshold: number;
  breakerCooldown: number;
}

export type Config = {
  host: string;
  port: number;
  debug: boolean;
  ulm: ULMConfig;
} & KindConfig;

/** Builds the settings from `env` alone (no file access), so tests can pass their own. */
export function readConfig(env: Env = process.env): Config {
  return {
    host: text(env, 'HOST', '0.0.0.0'),
    port: integer(env, 'PORT', {{containerPort}}, 0),
    debug: boolean(env, 'DEBUG', false),
    ulm: {
      baseUrl: text(env, 'ULM_BASE_URL', '{{ulmUrl}}'),
      timeout: seconds(env, 'ULM_TIMEOUT', 5),
      token: optionalText(env, 'ULM_SERVICE_TOKEN'),
      authPath: text(env, 'ULM_AUTH_PATH', '/api/v1/auth/me'),
      healthPath: text(env, 'ULM_HEALTH_PATH', '/health'),
      authCacheTtl: seconds(env, 'AUTH_CACHE_TTL', 30, { orZero: true }),
      userCacheTtl: seconds(env, 'USER_CACHE_TTL', 30, { orZero: true }),
      breakerThreshold: integer(env, 'ULM_BREAKER_THRESHOLD', 5, 1),
      breakerCooldown: seconds(env, 'ULM_BREAKER_COOLDOWN', 10),
    },
    ...readKindConfig(env),
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
