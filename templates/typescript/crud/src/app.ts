/**
 * {{app.title}}: the Fastify application.
 *
 * `buildApp()` wires everything from the settings; tests pass their own ULM client
 * and database instead. src/server.ts starts it.
 */
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { clientOptions, ULMClient, type UserDirectory } from './clients/ulm.js';
import { APP_TITLE, APP_VERSION, readConfig, type Config } from './config.js';
import { createDatabase, databaseOutage, type Database } from './db.js';
import { registerErrorHandlers } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { itemRoutes } from './routes/items.js';
import { userRoutes } from './routes/users.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** ULM's user API (src/clients/ulm.ts). */
    ulm: UserDirectory;
    /** This app's own database (src/db.ts). */
    db: Database;
  }
}

export interface BuildOptions {
  /** Defaults to the environment (readConfig()). */
  config?: Config;
  /** Fastify's logger option; off unless given. */
  logger?: FastifyServerOptions['logger'];
  /** Replaces the real ULM client (tests). */
  ulm?: UserDirectory;
  /** Replaces the real database (tests). A database passed in is not closed by the app. */
  db?: Database;
}

export async function buildApp(options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = options.config ?? readConfig();
  const app = Fastify({ logger: options.logger ?? false }).withTypeProvider<TypeBoxTypeProvider>();

  const ulm = options.ulm ?? new ULMClient({ ...clientOptions(config.ulm), logger: { warn: (message) => app.log.warn(message) } });
  app.decorate('ulm', ulm);
  app.decorateRequest('user', null);

  // The pool connects on first use; the app closes it when it closes (server shutdown).
  const db = options.db ?? createDatabase(config.database, { log: (message) => app.log.error(message) });
  app.decorate('db', db);
  if (!options.db) app.addHook('onClose', async () => db.close());

  // OpenAPI document, served at /openapi.json; must be registered before the routes.
  await app.register(swagger, {
    openapi: {
      info: { title: APP_TITLE, version: APP_VERSION, description: '{{app.title}} backend (OVU platform)' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));

  registerErrorHandlers(app, { isOutage: databaseOutage });
  await app.register(healthRoutes);
  await app.register(userRoutes);
  await app.register(itemRoutes);

  return app;
}
