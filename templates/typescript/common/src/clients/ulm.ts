/**
 * HTTP client for the ULM (users) service.
 *
 * ADR-002: this app never reads ulm_db. Everything it needs to know about users comes from
 * ULM's API:
 *
 * - `GET {ULM_BASE_URL}/api/v1/users/{id}`    -> one user (a JSON object)
 * - `GET {ULM_BASE_URL}/api/v1/users?ids=a,b` -> a JSON list of users (unknown ids left out)
 * - `GET {ULM_BASE_URL}{ULM_AUTH_PATH}`       -> the user a caller's token belongs to (200),
 *                                                or 401 when ULM does not accept the token
 *
 * User lookups carry `Authorization: Bearer <ULM_SERVICE_TOKEN>` when a token is set; the token
 * check carries the caller's own token.
 *
 * What a call may cost is bounded:
 * - one overall deadline per call (`ULM_TIMEOUT` seconds), retries included;
 * - retries only where nothing was done on ULM's side (the connection could not be opened) or
 *   where ULM says "try again" (502/503/504), after a random ("full jitter") backoff that stays
 *   inside the deadline;
 * - a circuit breaker: after `ULM_BREAKER_THRESHOLD` failed calls in a row the client fails at
 *   once for `ULM_BREAKER_COOLDOWN` seconds, then lets one trial call through. A dead ULM then
 *   costs microseconds per request, not seconds.
 *
 * Users come back as `ULMUser`: allow-listed fields (id, email, name), never ULM's raw JSON.
 *
 * Errors (src/errors.ts turns them into HTTP answers):
 * - `ULMNotFoundError`     ULM answered 404 for the user (-> 404).
 * - `ULMUnauthorizedError` ULM does not accept the caller's token (-> 401).
 * - `ULMTimeoutError`      the deadline passed (-> 504).
 * - `ULMUnavailableError`  ULM could not be reached or failed, or the breaker is open (-> 503).
 * - `ULMError`             base class; any other answer we cannot use (-> 502).
 *
 * Messages name hosts and paths for the log; HTTP answers never repeat them.
 */
import crypto from 'node:crypto';
import type { ULMConfig } from '../config.js';

/** A user as this app shows it: only these fields of ULM's answer. */
export interface ULMUser {
  id: string;
  email: string | null;
  name: string | null;
}

/** Per call: the request id of the request that needs it, sent on as `X-Request-ID`. */
export interface CallOptions {
  requestId?: string;
}

/** What the routes need from ULM; tests may pass any object with these methods. */
export interface UserDirectory {
  getUser(userId: string | number, options?: CallOptions): Promise<ULMUser>;
  getUsers(userIds: Iterable<string | number>, options?: CallOptions): Promise<ULMUser[]>;
  /** The user `token` belongs to; `ULMUnauthorizedError` when ULM does not accept it. */
  authenticate(token: string, options?: CallOptions): Promise<ULMUser>;
  /** Resolves when ULM answers its health path (any answer below 500) within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
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

export class ULMUnauthorizedError extends ULMError {
  override name = 'ULMUnauthorizedError';
}

export class ULMUnavailableError extends ULMError {
  override name = 'ULMUnavailableError';

  /** Seconds after which trying again makes sense. */
  readonly retryAfter: number;

  constructor(message: string, options: { retryAfter?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.retryAfter = options.retryAfter ?? 1;
  }
}

export class ULMTimeoutError extends ULMUnavailableError {
  override name = 'ULMTimeoutError';
}

/** Answers that mean "ULM (or a proxy in front of it) is having trouble, try again". */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Consecutive failures open it; after `cooldownMs` one trial call may pass. */
export class CircuitBreaker {
  failures = 0;
  private openedAt: number | undefined;
  private trial = false;

  constructor(
    readonly threshold: number,
    readonly cooldownMs: number,
    private readonly now: () => number,
  ) {
    if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError('threshold must be an integer of at least 1');
  }

  get isOpen(): boolean {
    return this.openedAt !== undefined && (this.trial || this.now() < this.openedAt + this.cooldownMs);
  }

  beforeCall(): void {
    if (this.openedAt === undefined) return;
    const left = this.openedAt + this.cooldownMs - this.now();
    if (left > 0 || this.trial) {
      throw new ULMUnavailableError(`ULM circuit breaker is open after ${this.failures} failed calls`, {
        retryAfter: Math.max(left / 1000, 1),
      });
    }
    this.trial = true; // half-open: this call is the trial
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trial = false;
  }

  failure(): void {
    this.failures++;
    if (this.trial || this.failures >= this.threshold) this.openedAt = this.now();
    this.trial = false;
  }

  /** The call ended without an outcome: let another trial through. */
  abandon(): void {
    this.trial = false;
  }
}

export interface ULMClientOptions {
  /** e.g. {{ulmUrl}} */
  baseUrl: string;
  /** Service token for user lookups; no Authorization header when unset. */
  token?: string | undefined;
  /** One call's deadline, retries included, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Where ULM says whose a token is (default /api/v1/auth/me). */
  authPath?: string;
  /** What ping() asks (default /health). */
  healthPath?: string;
  /** How long an accepted token is trusted without asking again (default 30 000 ms). */
  authCacheTtlMs?: number;
  authCacheSize?: number;
  /** How long a user getUser() returned is reused without asking ULM again (default 30 000 ms; 0: never). */
  userCacheTtlMs?: number;
  userCacheSize?: number;
  /** Attempts in all, at least 1 (default 3). */
  maxAttempts?: number;
  /** Backoff cap before the first retry, doubled each time (default 100 ms); the delay is random below it. */
  backoffBaseMs?: number;
  /** Failed calls in a row that open the breaker (default 5), and how long it stays open (default 10 000 ms). */
  breakerThreshold?: number;
  breakerCooldownMs?: number;
  /** Defaults to the built-in fetch; tests pass a fake. */
  fetch?: typeof fetch;
  /** Defaults to a real timer; tests pass a recorder. */
  sleep?: (ms: number) => Promise<void>;
  /** A monotonic clock in milliseconds (default performance.now). */
  now?: () => number;
  /** A random number in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
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

/** Connection errors that happen before anything is sent: safe to retry. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function isConnectError(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
  return typeof code === 'string' && CONNECT_ERRORS.has(code);
}

function describeValue(value: unknown): string {
  return Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
}

/** ULM's JSON for one user, reduced to the allow-listed fields. */
export function toUser(value: unknown, where: string): ULMUser {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ULMError(`ULM returned ${describeValue(value)} for ${where}, expected an object`);
  }
  const raw = value as Record<string, unknown>;
  const id = typeof raw.id === 'number' ? String(raw.id) : raw.id;
  if (typeof id !== 'string' || id === '') throw new ULMError(`ULM returned a user without a usable id for ${where}`);
  return {
    id,
    email: typeof raw.email === 'string' ? raw.email : null,
    name: typeof raw.name === 'string' ? raw.name : null,
  };
}

export class ULMClient implements UserDirectory {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly authPath: string;
  readonly healthPath: string;
  readonly authCacheTtlMs: number;
  readonly breaker: CircuitBreaker;
  private readonly serviceHeaders: Record<string, string>;
  private readonly authCache: TtlCache<ULMUser>;
  private readonly userCache: TtlCache<ULMUser>;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly logger: { warn(message: string): void } | undefined;

  constructor(options: ULMClientOptions) {
    const maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError('maxAttempts must be an integer of at least 1');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.serviceHeaders = options.token ? { Authorization: `Bearer ${options.token}` } : {};
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.authPath = `/${(options.authPath ?? '/api/v1/auth/me').replace(/^\/+/, '')}`;
    this.healthPath = `/${(options.healthPath ?? '/health').replace(/^\/+/, '')}`;
    this.authCacheTtlMs = options.authCacheTtlMs ?? 30_000;
    this.authCache = new TtlCache(this.authCacheTtlMs, options.authCacheSize ?? 1024, () => this.now());
    this.userCache = new TtlCache(options.userCacheTtlMs ?? 30_000, options.userCacheSize ?? 1024, () => this.now());
    this.maxAttempts = maxAttempts;
    this.backoffBaseMs = options.backoffBaseMs ?? 100;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? realSleep;
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    this.breaker = new CircuitBreaker(options.breakerThreshold ?? 5, options.breakerCooldownMs ?? 10_000, this.now);
  }

  /**
   * The ULM user `userId`; `ULMNotFoundError` if there is none. Users found are reused for
   * `userCacheTtlMs` (a name changed in ULM shows after at most that long); "not found" is not
   * cached, so a user just created in ULM is seen at once.
   */
  async getUser(userId: string | number, options: CallOptions = {}): Promise<ULMUser> {
    const id = String(userId);
    const cached = this.userCache.get(id);
    if (cached) return cached;
    const path = `/api/v1/users/${encodeURIComponent(id)}`;
    const answer = await this.call(path, this.serviceHeaders, options);
    if (answer.status === 404) throw new ULMNotFoundError(id);
    const user = toUser(this.json(answer, path), `GET ${path}`);
    this.userCache.set(id, user);
    return user;
  }

  /** The ULM users with these ids; ids ULM does not know are left out. */
  async getUsers(userIds: Iterable<string | number>, options: CallOptions = {}): Promise<ULMUser[]> {
    const ids = Array.from(userIds, String);
    if (ids.length === 0) return [];
    const path = `/api/v1/users?${new URLSearchParams({ ids: ids.join(',') }).toString()}`;
    const body = this.json(await this.call(path, this.serviceHeaders, options), path);
    if (!Array.isArray(body)) {
      throw new ULMError(`ULM returned ${describeValue(body)} for GET ${path}, expected a JSON list`);
    }
    return body.map((user) => toUser(user, `GET ${path}`));
  }

  /** The user `token` belongs to, as ULM's auth endpoint says; cached for a while. */
  async authenticate(token: string, options: CallOptions = {}): Promise<ULMUser> {
    const key = crypto.createHash('sha256').update(token).digest('hex');
    const cached = this.authCache.get(key);
    if (cached) return cached;
    const answer = await this.call(this.authPath, { Authorization: `Bearer ${token}` }, options);
    if (answer.status === 401 || answer.status === 403) {
      throw new ULMUnauthorizedError(`ULM refused the caller's token (HTTP ${answer.status})`);
    }
    const user = toUser(this.json(answer, this.authPath), `GET ${this.authPath}`);
    this.authCache.set(key, user);
    return user;
  }

  async ping(timeoutMs: number): Promise<void> {
    if (this.breaker.isOpen) throw new ULMUnavailableError('ULM circuit breaker is open');
    let status: number;
    try {
      const response = await this.fetch(`${this.baseUrl}${this.healthPath}`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      status = response.status;
    } catch (error) {
      throw new ULMUnavailableError(`ULM GET ${this.healthPath} failed: ${describeError(error)}`, { cause: error });
    }
    if (status >= 500) throw new ULMUnavailableError(`ULM answered HTTP ${status} for GET ${this.healthPath}`);
  }

  /** One call: the breaker, then attempts inside one deadline. */
  private async call(path: string, headers: Record<string, string>, options: CallOptions): Promise<Answer> {
    this.breaker.beforeCall();
    let answer: Answer;
    try {
      answer = await this.attempts(path, options.requestId ? { ...headers, 'X-Request-ID': options.requestId } : headers);
    } catch (error) {
      if (error instanceof ULMUnavailableError) this.breaker.failure();
      else this.breaker.abandon();
      throw error;
    }
    this.breaker.success();
    return answer;
  }

  private async attempts(path: string, headers: Record<string, string>): Promise<Answer> {
    const deadline = this.now() + this.timeoutMs;
    const timedOut = () => new ULMTimeoutError(`ULM did not answer GET ${path} within ${this.timeoutMs} ms`);
    let problem = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const left = deadline - this.now();
      if (left <= 0) throw timedOut();
      try {
        const response = await this.fetch(`${this.baseUrl}${path}`, {
          method: 'GET',
          headers: { Accept: 'application/json', ...headers },
          signal: AbortSignal.timeout(Math.max(1, Math.ceil(left))),
        });
        // The body is read inside the same deadline.
        const answer = { status: response.status, body: await response.text() };
        if (!RETRY_STATUSES.has(answer.status)) {
          if (answer.status >= 500) throw new ULMUnavailableError(`ULM answered HTTP ${answer.status} for GET ${path}`);
          return answer;
        }
        problem = `HTTP ${answer.status}`;
      } catch (error) {
        if (error instanceof ULMError) throw error;
        if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) throw timedOut();
        if (!isConnectError(error)) {
          // The request may have reached ULM: not retried.
          throw new ULMUnavailableError(`ULM GET ${path} failed: ${describeError(error)}`, { cause: error });
        }
        problem = describeError(error);
      }
      if (attempt < this.maxAttempts) {
        const delay = Math.min(this.random() * this.backoffBaseMs * 2 ** (attempt - 1), deadline - this.now());
        this.logger?.warn(`ULM GET ${path} failed (${problem}), attempt ${attempt}/${this.maxAttempts}, retrying in ${Math.round(delay)} ms`);
        if (delay > 0) await this.sleep(delay);
      }
    }
    throw new ULMUnavailableError(`ULM is unavailable (${problem}) after ${this.maxAttempts} attempts: GET ${path}`);
  }

  private json(answer: Answer, path: string): unknown {
    if (answer.status === 401 || answer.status === 403) {
      throw new ULMError(`ULM refused GET ${path} (HTTP ${answer.status}); check ULM_SERVICE_TOKEN`);
    }
    if (answer.status !== 200) throw new ULMError(`ULM answered HTTP ${answer.status} for GET ${path}`);
    try {
      return JSON.parse(answer.body) as unknown;
    } catch {
      throw new ULMError(`ULM returned a body that is not JSON for GET ${path}`);
    }
  }
}

/** Values kept for `ttlMs` each, at most `size` of them (the oldest go first). */
export class TtlCache<T> {
  private readonly entries = new Map<string, { until: number; value: T }>();

  constructor(
    readonly ttlMs: number,
    readonly size: number,
    private readonly now: () => number,
  ) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { until: this.now() + this.ttlMs, value });
    while (this.entries.size > this.size) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}

/** The client options the settings give (ULM_* and AUTH_CACHE_TTL). */
export function clientOptions(config: ULMConfig): ULMClientOptions {
  return {
    baseUrl: config.baseUrl,
    token: config.token,
    timeoutMs: config.timeout * 1000,
    authPath: config.authPath,
    healthPath: config.healthPath,
    authCacheTtlMs: config.authCacheTtl * 1000,
    userCacheTtlMs: config.userCacheTtl * 1000,
    breakerThreshold: config.breakerThreshold,
    breakerCooldownMs: config.breakerCooldown * 1000,
  };
}
