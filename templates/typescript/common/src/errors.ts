/**
 * Error answers, shaped like the Python stack's (`{"detail": ...}`), so a ULM problem is never
 * a 500:
 *
 * - `ULMNotFoundError`    -> 404, the detail names the user
 * - `ULMUnavailableError` -> 503, ULM is down, failing or timing out
 * - any other `ULMError`  -> 502, ULM answered something we cannot use
 * - request validation    -> 422, `detail` lists the problems (`loc`, `msg`, `type`)
 * - unknown route         -> 404 `{"detail": "Not Found"}`
 *
 * Routes may catch the ULM errors themselves to say more (see routes/items.ts); this handler
 * is the safety net for every route.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ULMError, ULMNotFoundError, ULMUnavailableError } from './clients/ulm.js';

/** Throw this from a route to answer `status` with `{"detail": detail}`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'HttpError';
  }
}

const LOCATIONS: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function validationDetail(error: FastifyError) {
  const where = LOCATIONS[error.validationContext ?? 'body'] ?? 'body';
  return (error.validation as ValidationIssue[]).map((issue) => {
    const loc: (string | number)[] = [where];
    for (const part of issue.instancePath.split('/').slice(1)) {
      loc.push(/^\d+$/.test(part) ? Number(part) : part.replace(/~1/g, '/').replace(/~0/g, '~'));
    }
    if (typeof issue.params.missingProperty === 'string') loc.push(issue.params.missingProperty);
    return { loc, msg: issue.message ?? 'invalid', type: issue.keyword };
  });
}

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ULMNotFoundError) {
      return reply.code(404).send({ detail: error.message });
    }
    if (error instanceof ULMUnavailableError) {
      request.log.warn(`ULM unavailable during ${request.method} ${request.url}: ${error.message}`);
      return reply
        .code(503)
        .send({ detail: `The user service (ULM) is unavailable, try again later: ${error.message}` });
    }
    if (error instanceof ULMError) {
      request.log.error(`Unusable answer from ULM during ${request.method} ${request.url}: ${error.message}`);
      return reply.code(502).send({ detail: `The user service (ULM) gave an unusable answer: ${error.message}` });
    }
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send({ detail: error.detail });
    }
    if (error.validation) {
      return reply.code(422).send({ detail: validationDetail(error) });
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      // Fastify's own client errors: malformed JSON, unsupported media type, body too large...
      return reply.code(status).send({ detail: error.message });
    }
    request.log.error(error);
    return reply.code(500).send({ detail: 'Internal Server Error' });
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));
}
