/**
 * {{app.title}}: the Fastify application.
 *
 * `buildApp()` wires everything from the settings; tests may pass their own ULM client (and, in
 * a crud app, database) instead. What only this kind of app has (its database and items, or
 * ULM as its one dependency) is added by src/kind.ts. src/server.ts starts it.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { clientOptions, ULMClient, type UserDirectory } from './clients/ulm.js';
import { API_PREFIX, APP_TITLE, APP_VERSION, readConfig, type Config } from './config.js';
import { registerErrorHandlers } from './errors.js';
import { registerKind, type KindOptions } from './kind.js';
import { REQUEST_ID_HEADER, requestId } from './request-id.js';
import { healthRoutes } from './routes/health.js';
import { userRoutes } from './routes/users.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** ULM's user API (src/clients/ulm.ts). */
    ulm: UserDirectory;
  }
}

export interface BuildOptions extends KindOptions {
  /** Defaults to the environment (readConfig()). */
  config?: Config;
  /** Fastify's logger option; off unless given. */
  logger?: FastifyServerOptions['logger'];
  /** Replaces the real ULM client (tests). */
  ulm?: UserDirectory;
}

export async function buildApp(options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = options.config ?? readConfig();
  const app = Fastify({
    logger: options.logger ?? false,
    // X-Request-ID: the caller's when it is usable, else a new one; in every log line
    // (`request_id`), in the answer, and sent on to ULM.
    requestIdHeader: false,
    genReqId: (request) => requestId(request.headers[REQUEST_ID_HEADER]),
    requestIdLogLabel: 'request_id',
    // A body field the schema does not name is refused (422), not silently dropped: a client
    // that sends `owner_user_id` learns that the owner is not theirs to choose.
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });

  const ulm = options.ulm ?? new ULMClient({ ...clientOptions(config.ulm), logger: { warn: (message) => app.log.warn(message) } });
  app.decorate('ulm', ulm);
  app.decorateRequest('user', null);

  // OpenAPI document at /openapi.json, and Swagger UI at /docs (its files come with the package:
  // nothing is fetched from a CDN). Registered before the routes, which it describes.
  await app.register(swagger, {
    openapi: {
      info: { title: APP_TITLE, version: APP_VERSION, description: '{{app.title}} backend (OVU platform)' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));

  const kind = await registerKind(app, config, options);
  registerErrorHandlers(app, { isOutage: kind.isOutage });
  await app.register(healthRoutes, { readiness: kind.readiness });
  await app.register(userRoutes, { prefix: API_PREFIX });
  await app.register(kind.routes, { prefix: API_PREFIX });

  return app;
}
