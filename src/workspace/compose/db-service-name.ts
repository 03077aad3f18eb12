/** The workspace's database service, as ovu-db-init in apps.compose.yaml reaches it (its PGHOST). */
import path from 'node:path';
import { parse } from 'yaml';
import { APPS_COMPOSE_FILE, DB_INIT_SERVICE } from './model.ts';

/** e.g. `db`; undefined when apps.compose.yaml is missing or does not say. */
export function databaseServiceName(root: string, read: (file: string) => string | undefined): string | undefined {
  try {
    const js = parse(read(path.join(root, APPS_COMPOSE_FILE)) ?? '') as { services?: Record<string, { environment?: Record<string, unknown> }> } | null;
    const host = js?.services?.[DB_INIT_SERVICE]?.environment?.['PGHOST'];
    return typeof host === 'string' && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(host) ? host : undefined;
  } catch {
    return undefined;
  }
}
