/**
 * {{app.title}}: the Fastify application.
 *
 * `buildApp()` wires everything from the settings; tests pass their own ULM client
 * instead. src/server.ts starts it.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ULMClient, type UserDirectory } from './clients/ulm.js';
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
  const app = Fastify({ logger: options.logger ?? false });

  const ulm =
    options.ulm ??
    new ULMClient({
      baseUrl: config.ulm.baseUrl,
      token: config.ulm.token,
      timeoutMs: config.ulm.timeout * 1000,
      logger: { warn: (message) => app.log.warn(message) },
    });
  app.decorate('ulm', ulm);

  // OpenAPI document, served at /openapi.json; must be registered before the routes.
  await app.register(swagger, {
    openapi: {
      info: { title: APP_TITLE, version: APP_VERSION, description: '{{app.title}} backend (OVU platform)' },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerErrorHandlers(app);
  await app.register(healthRoutes);
  await app.register(userRoutes);

  return app;
}
