// Prisma CLI configuration (Prisma 7 reads the connection URL from here, not from the schema).
import fs from 'node:fs';
import { defineConfig } from 'prisma/config';

// Prisma 7 does not read .env by itself. Variables already in the environment win.
if (fs.existsSync('.env')) process.loadEnvFile('.env');

const url = process.env.DATABASE_URL;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // `prisma generate` needs no database; migrate commands need DATABASE_URL.
  ...(url ? { datasource: { url } } : {}),
});
