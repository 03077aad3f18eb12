/**
 * Each app's secrets file, `<app>/.env`: its database password, read by Compose when it
 * interpolates `<app>/compose.yaml` (an included file's own directory's .env) and by
 * `provision`. Not the workspace .env: services that load that whole file (`env_file: .env`)
 * would receive every app's password (ADR-002: one app must not reach another's database).
 * The workspace .env keeps what is shared (ULM_SERVICE_TOKEN) and each role's SCRAM-SHA-256
 * verifier, which ovu-db-init needs and which cannot be used to log in.
 */
import path from 'node:path';
import type { AppNames } from '../app/spec.ts';
import { readEnvVar } from './env-file.ts';
import type { Workspace } from './workspace.ts';

export interface AppEnvFiles {
  /** `<app>/.env`: the password (mode 0600, ignored by git through the workspace's `.env` line). */
  env: string;
  /** `<app>/.env.example`: the same variables with placeholders, to commit. */
  example: string;
}

export function appEnvFiles(root: string, slug: string): AppEnvFiles {
  return { env: path.join(root, slug, '.env'), example: path.join(root, slug, '.env.example') };
}

export interface FoundPassword {
  value: string | undefined;
  /** The file it was found in, or where it belongs when it is missing. */
  file: string;
  /** It was found in the workspace .env, where workspaces made by create-ovu-app 0.1 kept it. */
  legacy: boolean;
}

/** The app's password: its own .env first, else the workspace .env of a 0.1 workspace. */
export function findAppPassword(read: (file: string) => string | undefined, ws: Workspace, names: Pick<AppNames, 'slug' | 'passwordVar'>): FoundPassword {
  const own = appEnvFiles(ws.root, names.slug).env;
  const value = readEnvVar(read(own), names.passwordVar);
  if (value !== undefined) return { value, file: own, legacy: false };
  const legacy = readEnvVar(read(ws.envFile), names.passwordVar);
  if (legacy !== undefined) return { value: legacy, file: ws.envFile, legacy: true };
  return { value: undefined, file: own, legacy: false };
}
