/**
 * Request ids: taken from the caller's `X-Request-ID` when it is a sensible one (a proxy or
 * another service started the trace), made otherwise. Anything longer or stranger than an id is
 * replaced, so a caller cannot write arbitrary text into the logs.
 */
import crypto from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

const USABLE = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(given: string | string[] | undefined): string {
  return typeof given === 'string' && USABLE.test(given) ? given : crypto.randomUUID();
}
