/**
 * {{app.title}}: the Fastify application.
 *
 * `buildApp()` wires everything from the settings; tests pass their own ULM client
 * instead. src/server.ts starts it.
 */
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { clientOptions, ULMClient, type UserDirectory } from './clients/ulm.js';
import { APP_TITLE, APP_VERSION, readConfig, type Config } from './config.js';
import { registerErrorHandlers } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { userRoutes } from './routes/users.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** ULM's user API (src/clients/ulm.ts). */
    ulm: UserDirectory;
  }
}

export interface BuildOptions {
  /** Defaults to the environment (readConfig()). */
  config?: Config;
  /** Fastify's logger option; off unless given. */
  logger?: FastifyServerOptions['logger'];
  /** Replaces the real ULM client (tests). */
  ulm?: UserDirectory;
}

export async function buildApp(options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = options.config ?? readConfig();
  const app = Fastify({ logger: options.logger ?? false }).withTypeProvider<TypeBoxTypeProvider>();

  const ulm = options.ulm ?? new ULMClient({ ...clientOptions(config.ulm), logger: { warn: (message) => app.log.warn(message) } });
  app.decorate('ulm', ulm);
  app.decorateRequest('user', null);

  // OpenAPI document, served at /openapi.json; must be registered before the routes.
  await app.register(swagger, {
    openapi: {
      info: { title: APP_TITLE, version: APP_VERSION, description: '{{app.title}} backend (OVU platform)' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));

  registerErrorHandlers(app);
  await app.register(healthRoutes);
  await app.register(userRoutes);

  return app;
}
