/**
 * Error answers: `{"code": <stable code>, "detail": <human message>}`, as in the Python stack,
 * and never a bare 500:
 *
 * - `ApiError`              -> its status and code (routes throw it)
 * - `ULMNotFoundError`      -> 404 `user_not_found`
 * - `ULMUnauthorizedError`  -> 401 `invalid_token`
 * - `ULMTimeoutError`       -> 504 `ulm_timeout`, with `Retry-After`
 * - `ULMUnavailableError`   -> 503 `ulm_unavailable`, with `Retry-After`
 * - any other `ULMError`    -> 502 `ulm_bad_answer`
 * - an outage (`isOutage`, e.g. the database down) -> 503 with `Retry-After`
 * - request validation      -> 422 `validation_error`, `detail` lists the problems (`loc`, `msg`, `type`)
 * - unknown route           -> 404 `not_found`
 * - anything else           -> 500 `internal_error`
 *
 * What went wrong in detail (hosts, ports, paths, other users' ids) goes to the log; the answer
 * only says what the caller can act on.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ULMError, ULMNotFoundError, ULMTimeoutError, ULMUnauthorizedError, ULMUnavailableError } from './clients/ulm.js';

/** Throw this from a route to answer `statusCode` with `{"code": code, "detail": detail}`. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export function unauthorized(code: string, detail: string): ApiError {
  return new ApiError(401, code, detail, { 'WWW-Authenticate': 'Bearer' });
}

/** An outage another part of the app recognises (src/db.ts: the database down). */
export interface Outage {
  code: string;
  detail: string;
  retryAfter: number;
}

export interface ErrorHandlerOptions {
  isOutage?: (error: unknown) => Outage | undefined;
}

/** A Retry-After header value: whole seconds, at least 1. */
export function retryAfter(seconds: number): string {
  return String(Math.max(1, Math.ceil(seconds)));
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

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'not_authenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

function send(reply: FastifyReply, status: number, code: string, detail: unknown, headers: Record<string, string> = {}) {
  return reply.code(status).headers(headers).send({ code, detail });
}

function ulmError(error: ULMError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ULMNotFoundError) return send(reply, 404, 'user_not_found', error.message);
  if (error instanceof ULMUnauthorizedError) {
    return send(reply, 401, 'invalid_token', 'The access token was not accepted.', { 'WWW-Authenticate': 'Bearer' });
  }
  if (error instanceof ULMUnavailableError) {
    request.log.warn(`ULM unavailable during ${request.method} ${request.url}: ${error.message}`);
    const headers = { 'Retry-After': retryAfter(error.retryAfter) };
    return error instanceof ULMTimeoutError
      ? send(reply, 504, 'ulm_timeout', 'The user service (ULM) did not answer in time, try again later.', headers)
      : send(reply, 503, 'ulm_unavailable', 'The user service (ULM) is unavailable, try again later.', headers);
  }
  request.log.error(`Unusable answer from ULM during ${request.method} ${request.url}: ${error.message}`);
  return send(reply, 502, 'ulm_bad_answer', 'The user service (ULM) gave an unusable answer.');
}

export function registerErrorHandlers(app: FastifyInstance, options: ErrorHandlerOptions = {}): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ULMError) return ulmError(error, request, reply);
    if (error instanceof ApiError) return send(reply, error.statusCode, error.code, error.detail, error.headers);
    if (error.validation) return send(reply, 422, 'validation_error', validationDetail(error));
    const outage = options.isOutage?.(error);
    if (outage) {
      request.log.warn(`Outage during ${request.method} ${request.url}: ${error.message}`);
      return send(reply, 503, outage.code, outage.detail, { 'Retry-After': retryAfter(outage.retryAfter) });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors: malformed JSON, unsupported media type, body too large...
      return send(reply, status, STATUS_CODES[status] ?? 'bad_request', error.message);
    }
    request.log.error(error);
    return send(reply, 500, 'internal_error', 'Internal Server Error');
  });

  app.setNotFoundHandler((_request, reply) => send(reply, 404, 'not_found', 'Not Found'));
}
