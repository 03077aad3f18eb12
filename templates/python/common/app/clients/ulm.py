"""HTTP client for the ULM (users) service.

ADR-002: this app never reads ``ulm_db``. Everything it needs to know about
users comes from ULM's API:

* ``GET {ULM_BASE_URL}/api/v1/users/{id}``    -> one user (a JSON object)
* ``GET {ULM_BASE_URL}/api/v1/users?ids=a,b`` -> a JSON list of users
* ``GET {ULM_BASE_URL}{ULM_AUTH_PATH}``        -> the user a caller's token belongs to
  (200), or 401 when ULM does not accept the token

User lookups carry ``Authorization: Bearer <ULM_SERVICE_TOKEN>`` when a token
is set; the token check carries the caller's own token.

What a call may cost is bounded:

* one overall deadline per call (``ULM_TIMEOUT`` seconds), retries included;
* retries only where nothing was done on ULM's side (the connection could not
  be opened) or where ULM says "try again" (502/503/504), after a random
  ("full jitter") backoff that stays inside the deadline;
* a circuit breaker: after ``ULM_BREAKER_THRESHOLD`` failed calls in a row the
  client fails at once for ``ULM_BREAKER_COOLDOWN`` seconds, then lets one trial
  call through. A dead ULM then costs microseconds per request, not seconds.

Users come back as ``ULMUser``: an allow-listed model (id, email, name), never
ULM's raw JSON. ``get_user`` keeps what ULM returned for ``USER_CACHE_TTL`` seconds (an LRU of
bounded size, like the token cache), so a route that shows an item's owner does not call ULM on
every request; a user renamed in ULM shows up here within that time.

Every call carries the ``X-Request-ID`` of the request being served, so ULM's logs and ours
tell one story.

Errors (``app.api.errors`` turns them into HTTP answers):

* ``ULMNotFoundError``     - ULM answered 404 for the user (-> 404).
* ``ULMUnauthorizedError`` - ULM does not accept the caller's token (-> 401).
* ``ULMTimeoutError``      - the deadline passed (-> 504).
* ``ULMUnavailableError``  - ULM could not be reached or failed, or the breaker
                             is open (-> 503 with Retry-After).
* ``ULMError``             - base class; any other answer we cannot use (-> 502).

Messages name hosts and paths for the log; HTTP answers never repeat them.

One ``ULMClient`` is shared by the whole process: ``get_ulm_client`` (a FastAPI
dependency) creates it on first use, and the app's lifespan closes it with
``close_ulm_client`` on shutdown.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import Depends
from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.config import settings
from app.core.logging import request_id
from app.core.request_id import HEADER as REQUEST_ID_HEADER

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})


class ULMUser(BaseModel):
    """A user as this app shows it: only these fields of ULM's answer."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True)

    id: str
    email: str | None = None
    name: str | None = None


class ULMError(Exception):
    """ULM gave an answer this app cannot use."""


class ULMNotFoundError(ULMError):
    """ULM has no user with this id."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"User '{user_id}' was not found in ULM")
        self.user_id = user_id


class ULMUnauthorizedError(ULMError):
    """ULM does not accept the caller's token."""


class ULMUnavailableError(ULMError):
    """ULM could not be reached or failed (5xx), or the breaker is open."""

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ULMTimeoutError(ULMUnavailableError):
    """ULM did not answer within the call's deadline."""


class CircuitBreaker:
    """Consecutive failures open it; after ``cooldown`` seconds one trial call may pass."""

    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float]) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self.failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None and (self._trial or self._clock() < self._opened_at + self.cooldown)

    def before_call(self) -> None:
        if self._opened_at is None:
            return
        left = self._opened_at + self.cooldown - self._clock()
        if left > 0 or self._trial:
            raise ULMUnavailableError(
                f"ULM circuit breaker is open after {self.failures} failed calls",
                retry_after=max(left, 1.0),
            )
        self._trial = True  # half-open: this call is the trial

    def success(self) -> None:
        self.failures = 0
        self._opened_at = None
        self._trial = False

    def failure(self) -> None:
        self.failures += 1
        if self._trial or self.failures >= self.threshold:
            self._opened_at = self._clock()
        self._trial = False

    def abandon(self) -> None:
        """The call ended without an outcome (cancelled): let another trial through."""
        self._trial = False


class ULMClient:
    """Async client for ULM's user API."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        auth_path: str = "/api/v1/auth/me",
        health_path: str = "/health",
        auth_cache_ttl: float = 30.0,
        auth_cache_size: int = 1024,
        user_cache_ttl: float = 30.0,
        user_cache_size: int = 4096,
        max_attempts: int = 3,
        backoff_base: float = 0.1,
        breaker_threshold: int = 5,
        breaker_cooldown: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.auth_path = "/" + auth_path.lstrip("/")
        self.health_path = "/" + health_path.lstrip("/")
        self.auth_cache_ttl = auth_cache_ttl
        self.auth_cache_size = auth_cache_size
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.breaker = CircuitBreaker(breaker_threshold, breaker_cooldown, clock)
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._auth_cache: OrderedDict[str, tuple[float, ULMUser]] = OrderedDict()
        self.user_cache_ttl = user_cache_ttl
        self.user_cache_size = user_cache_size
        self._user_cache: OrderedDict[str, tuple[float, ULMUser]] = OrderedDict()
        self._service_headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Accept": "application/json"},
            # A backstop only: the deadline below is what bounds a call.
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )

    async def get_user(self, user_id: str | int) -> ULMUser:
        """The ULM user ``user_id``; ``ULMNotFoundError`` if there is none (not cached)."""
        user_id = str(user_id)
        cached = self._cached(self._user_cache, user_id)
        if cached is not None:
            return cached
        path = f"/api/v1/users/{quote(user_id, safe='')}"
        response = await self._call(path, headers=self._service_headers)
        if response.status_code == httpx.codes.NOT_FOUND:
            self._user_cache.pop(user_id, None)
            raise ULMNotFoundError(user_id)
        user = self._user(self._json(response, path), path)
        if self.user_cache_ttl > 0:
            self._store(self._user_cache, user_id, user, self.user_cache_ttl, self.user_cache_size)
        return user

    async def get_users(self, ids: Iterable[str | int]) -> list[ULMUser]:
        """The ULM users with these ids; ids ULM does not know are left out."""
        id_list = [str(i) for i in ids]
        if not id_list:
            return []
        path = "/api/v1/users"
        response = await self._call(path, params={"ids": ",".join(id_list)}, headers=self._service_headers)
        body = self._json(response, path)
        if not isinstance(body, list):
            raise ULMError(f"ULM returned {type(body).__name__} for GET {path}, expected a JSON list")
        return [self._user(user, path) for user in body]

    async def authenticate(self, token: str) -> ULMUser:
        """The user ``token`` belongs to, as ULM's auth endpoint says; cached for a while."""
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cached(self._auth_cache, key)
        if cached is not None:
            return cached
        response = await self._call(self.auth_path, headers={"Authorization": f"Bearer {token}"})
        if response.status_code in (401, 403):
            raise ULMUnauthorizedError(f"ULM refused the caller's token (HTTP {response.status_code})")
        user = self._user(self._json(response, self.auth_path), self.auth_path)
        self._store(self._auth_cache, key, user, self.auth_cache_ttl, self.auth_cache_size)
        return user

    def _cached(self, cache: OrderedDict[str, tuple[float, ULMUser]], key: str) -> ULMUser | None:
        entry = cache.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del cache[key]
            return None
        return entry[1]

    def _store(
        self, cache: OrderedDict[str, tuple[float, ULMUser]], key: str, user: ULMUser, ttl: float, size: int
    ) -> None:
        cache[key] = (self._clock() + ttl, user)
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)

    async def ping(self, within: float) -> None:
        """Readiness: ULM answers its health path (any answer below 500) within ``within`` seconds."""
        if self.breaker.is_open:
            raise ULMUnavailableError("ULM circuit breaker is open")
        try:
            async with asyncio.timeout(within):
                response = await self._http.get(self.health_path)
        except TimeoutError:
            raise ULMTimeoutError(f"ULM did not answer GET {self.health_path} within {within}s") from None
        except httpx.TransportError as exc:
            raise ULMUnavailableError(f"ULM GET {self.health_path} failed: {_describe(exc)}") from exc
        if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            raise ULMUnavailableError(f"ULM answered HTTP {response.status_code} for GET {self.health_path}")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self, path: str, *, headers: dict[str, str], params: dict[str, str] | None = None
    ) -> httpx.Response:
        """One call: the breaker, then attempts inside one deadline."""
        self.breaker.before_call()
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._attempts(path, headers=headers, params=params)
        except (TimeoutError, httpx.TimeoutException):
            self.breaker.failure()
            raise ULMTimeoutError(f"ULM did not answer GET {path} within {self.timeout}s") from None
        except ULMUnavailableError:
            self.breaker.failure()
            raise
        except BaseException:
            self.breaker.abandon()
            raise
        self.breaker.success()
        return response

    async def _attempts(self, path: str, *, headers: dict[str, str], params: dict[str, str] | None) -> httpx.Response:
        problem = ""
        rid = request_id.get()
        if rid is not None:
            headers = {**headers, REQUEST_ID_HEADER: rid}
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = await self._http.get(path, headers=headers, params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached ULM: safe to try again.
                problem = _describe(exc)
            except httpx.TimeoutException:
                raise
            except httpx.TransportError as exc:
                # The request may have reached ULM: not retried.
                raise ULMUnavailableError(f"ULM GET {path} failed: {_describe(exc)}") from exc
            else:
                if response.status_code not in RETRY_STATUSES:
                    if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
                        raise ULMUnavailableError(f"ULM answered HTTP {response.status_code} for GET {path}")
                    return response
                problem = f"HTTP {response.status_code}"
            if attempt < self.max_attempts:
                delay = self._jitter() * self.backoff_base * 2 ** (attempt - 1)
                logger.warning(
                    "ULM GET %s failed (%s), attempt %d/%d, retrying in %.3fs",
                    path,
                    problem,
                    attempt,
                    self.max_attempts,
                    delay,
                )
                await self._sleep(delay)
        raise ULMUnavailableError(f"ULM is unavailable ({problem}) after {self.max_attempts} attempts: GET {path}")

    @staticmethod
    def _json(response: httpx.Response, path: str) -> object:
        if response.status_code in (401, 403):
            raise ULMError(f"ULM refused GET {path} (HTTP {response.status_code}); check ULM_SERVICE_TOKEN")
        if response.status_code != httpx.codes.OK:
            raise ULMError(f"ULM answered HTTP {response.status_code} for GET {path}")
        try:
            body: object = response.json()
        except ValueError as exc:
            raise ULMError(f"ULM returned a body that is not JSON for GET {path}") from exc
        return body

    @staticmethod
    def _user(body: object, path: str) -> ULMUser:
        if not isinstance(body, dict):
            raise ULMError(f"ULM returned {type(body).__name__} for GET {path}, expected an object")
        try:
            return ULMUser.model_validate(body)
        except ValidationError as exc:
            raise ULMError(f"ULM returned a user without a usable id for GET {path}") from exc


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def retry_after_seconds(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class _Shared:
    client: ULMClient | None = None


async def get_ulm_client() -> ULMClient:
    """FastAPI dependency: the process-wide ULM client, created on first use.

    ``async``, as every dependency here: FastAPI runs a plain ``def`` dependency in a thread pool,
    a thread hop per request for nothing.
    """
    if _Shared.client is None:
        _Shared.client = ULMClient(
            settings.ULM_BASE_URL,
            token=settings.ULM_SERVICE_TOKEN.get_secret_value() if settings.ULM_SERVICE_TOKEN else None,
            timeout=settings.ULM_TIMEOUT,
            auth_path=settings.ULM_AUTH_PATH,
            health_path=settings.ULM_HEALTH_PATH,
            auth_cache_ttl=settings.AUTH_CACHE_TTL,
            user_cache_ttl=settings.USER_CACHE_TTL,
            breaker_threshold=settings.ULM_BREAKER_THRESHOLD,
            breaker_cooldown=settings.ULM_BREAKER_COOLDOWN,
        )
    return _Shared.client


ULM = Annotated[ULMClient, Depends(get_ulm_client)]


async def close_ulm_client() -> None:
    """Close the shared client (called from the app's lifespan on shutdown)."""
    client, _Shared.client = _Shared.client, None
    if client is not None:
        await client.aclose()
