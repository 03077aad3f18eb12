/**
 * The integration database (DATABASE_URL) and schemas of their own in it: each test file works in
 * a fresh schema, reached through Prisma's `?schema=`, and drops it afterwards.
 */
import crypto from 'node:crypto';
import pg from 'pg';

/** DATABASE_URL, or an error saying the integration tests need it. */
export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url?.startsWith('postgres')) {
    throw new Error("integration tests need DATABASE_URL (environment or .env) set to this app's PostgreSQL database");
  }
  return url;
}

/** A schema name no other run uses: `<prefix>_<12 hex digits>`. */
export function schemaName(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
}

/** DATABASE_URL with the app's tables in `schema`. */
export function schemaUrl(schema: string): string {
  const url = new URL(databaseUrl());
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Runs `sql` on DATABASE_URL as the app's login (creating and dropping the test schemas, seeding rows). */
export async function onDatabase(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
