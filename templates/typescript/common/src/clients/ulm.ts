/**
 * HTTP client for the ULM (users) service.
 *
 * ADR-002: this app never reads ulm_db. Everything it needs to know about users comes from
 * ULM's API:
 *
 * - `GET {ULM_BASE_URL}/api/v1/users/{id}`    -> one user (a JSON object)
 * - `GET {ULM_BASE_URL}/api/v1/users?ids=a,b` -> a JSON list of users (unknown ids left out)
 *
 * Calls carry `Authorization: Bearer <ULM_SERVICE_TOKEN>` when a token is set. Connection
 * errors, timeouts and HTTP 502/503/504 are retried with exponential backoff; any other
 * answer is final.
 *
 * Errors:
 * - `ULMNotFoundError`    ULM answered 404 for the user.
 * - `ULMUnavailableError` ULM could not be reached, timed out, or answered 5xx.
 * - `ULMError`            base class; also thrown for other unexpected answers (401/403,
 *                         other 4xx, a body that is not the JSON we expect).
 *
 * The routes never turn these into a 500: see src/errors.ts.
 */

/** A user as ULM returns it. */
export type ULMUser = Record<string, unknown>;

/** What the routes need from ULM; tests may pass any object with these methods. */
export interface UserDirectory {
  getUser(userId: string | number): Promise<ULMUser>;
  getUsers(userIds: Iterable<string | number>): Promise<ULMUser[]>;
}

export class ULMError extends Error {
  override name = 'ULMError';
}

export class ULMNotFoundError extends ULMError {
  override name = 'ULMNotFoundError';

  constructor(readonly userId: string) {
    super(`User '${userId}' was not found in ULM`);
  }
}

export class ULMUnavailableError extends ULMError {
  override name = 'ULMUnavailableError';
}

/** Answers that mean "ULM (or a proxy in front of it) is having trouble, try again". */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

export interface ULMClientOptions {
  /** e.g. {{ulmUrl}} */
  baseUrl: string;
  /** Bearer token; no Authorization header when unset. */
  token?: string;
  /** Per attempt, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Attempts in all, at least 1 (default 3). */
  maxAttempts?: number;
  /** First retry delay in milliseconds, doubled each time (default 100: 100, 200, ...). */
  backoffBaseMs?: number;
  /** Defaults to the built-in fetch; tests pass a fake. */
  fetch?: typeof fetch;
  /** Defaults to a real timer; tests pass a recorder. */
  sleep?: (ms: number) => Promise<void>;
  /** Where retries are reported (the app passes its logger). */
  logger?: { warn(message: string): void };
}

interface Answer {
  status: number;
  body: string;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch() reports connection problems as "TypeError: fetch failed" with the reason in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name}: ${error.message}${cause}`;
}

function describeValue(value: unknown): string {
  return Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
}

function isObject(value: unknown): value is ULMUser {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class ULMClient implements UserDirectory {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly logger?: { warn(message: string): void };

  constructor(options: ULMClientOptions) {
    const maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError('maxAttempts must be an integer of at least 1');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = { Accept: 'application/json' };
    if (options.token) this.headers.Authorization = `Bearer ${options.token}`;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxAttempts = maxAttempts;
    this.backoffBaseMs = options.backoffBaseMs ?? 100;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? realSleep;
    this.logger = options.logger;
  }

  /** The ULM user `userId`; `ULMNotFoundError` if there is none. */
  async getUser(userId: string | number): Promise<ULMUser> {
    const id = String(userId);
    const path = `/api/v1/users/${encodeURIComponent(id)}`;
    const answer = await this.request(path);
    if (answer.status === 404) throw new ULMNotFoundError(id);
    const body = this.json(answer, path);
    if (!isObject(body)) {
      throw new ULMError(`ULM returned ${describeValue(body)} for user '${id}', expected an object`);
    }
    return body;
  }

  /** The ULM users with these ids, as ULM lists them; ids ULM does not know are left out. */
  async getUsers(userIds: Iterable<string | number>): Promise<ULMUser[]> {
    const ids = Array.from(userIds, String);
    if (ids.length === 0) return [];
    const path = `/api/v1/users?${new URLSearchParams({ ids: ids.join(',') })}`;
    const body = this.json(await this.request(path), path);
    if (!Array.isArray(body)) {
      throw new ULMError(`ULM returned ${describeValue(body)} for a user list, expected a JSON list`);
    }
    return body as ULMUser[];
  }

  /** GET `path`, retrying connection errors, timeouts and 502/503/504. */
  private async request(path: string): Promise<Answer> {
    let problem = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        const response = await this.fetch(`${this.baseUrl}${path}`, {
          method: 'GET',
          headers: this.headers,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        // The body is read inside the same timeout and the same retry.
        const answer = { status: response.status, body: await response.text() };
        if (!RETRY_STATUSES.has(answer.status)) {
          if (answer.status >= 500) {
            throw new ULMUnavailableError(`ULM answered HTTP ${answer.status} for GET ${path}`);
          }
          return answer;
        }
        problem = `HTTP ${answer.status}`;
      } catch (error) {
        if (error instanceof ULMError) throw error;
        // Connection refused/reset, DNS failure, timeout (TimeoutError): worth another try.
        problem = describeError(error);
      }
      if (attempt < this.maxAttempts) {
        const delay = this.backoffBaseMs * 2 ** (attempt - 1);
        this.logger?.warn(
          `ULM GET ${path} failed (${problem}), attempt ${attempt}/${this.maxAttempts}, retrying in ${delay} ms`,
        );
        await this.sleep(delay);
      }
    }
    throw new ULMUnavailableError(`ULM is unavailable (${problem}) after ${this.maxAttempts} attempts: GET ${path}`);
  }

  private json(answer: Answer, path: string): unknown {
    if (answer.status === 401 || answer.status === 403) {
      throw new ULMError(`ULM refused the request (HTTP ${answer.status}); check ULM_SERVICE_TOKEN`);
    }
    if (answer.status !== 200) {
      throw new ULMError(`ULM answered HTTP ${answer.status} for GET ${path}`);
    }
    try {
      return JSON.parse(answer.body) as unknown;
    } catch {
      throw new ULMError('ULM returned a body that is not JSON');
    }
  }
}
