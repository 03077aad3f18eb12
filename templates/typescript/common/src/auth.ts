/**
 * Who is calling: every app route needs `Authorization: Bearer <token>`.
 *
 * The token is one ULM issued; ULM says whose it is (`GET {ULM_BASE_URL}{ULM_AUTH_PATH}`, 200 with
 * the user or 401), and the client caches the answer for `AUTH_CACHE_TTL` seconds. No token, or
 * one ULM rejects -> 401; ULM down -> 503 (src/errors.ts). Route plugins that need a caller add
 * `app.addHook('onRequest', authenticate)`; /health/* does not.
 */
import type { FastifyRequest } from 'fastify';
import type { ULMUser } from './clients/ulm.js';
import { unauthorized } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The calling user, once `authenticate` ran (null before). */
    user: ULMUser | null;
  }
}

const BEARER = /^Bearer +(\S+) *$/i;

/** An onRequest hook: sets `request.user`, or answers 401. */
export async function authenticate(request: FastifyRequest): Promise<void> {
  const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
  if (!token) throw unauthorized('not_authenticated', 'This route needs an Authorization: Bearer <token> header.');
  request.user = await request.server.ulm.authenticate(token, { requestId: request.id });
}
