"""HTTP client for the ULM (users) service.

ADR-002: this app never reads ``ulm_db``. Everything it needs to know about
users comes from ULM's API:

* ``GET {ULM_BASE_URL}/api/v1/users/{id}``   -> one user object (JSON object)
* ``GET {ULM_BASE_URL}/api/v1/users?ids=a,b`` -> a JSON list of user objects

Calls carry ``Authorization: Bearer <ULM_SERVICE_TOKEN>`` when a token is set.
Connection errors, timeouts and HTTP 502/503/504 are retried with exponential
backoff; any other answer is final.

Errors:

* ``ULMNotFoundError``    - ULM answered 404 for the user.
* ``ULMUnavailableError`` - ULM could not be reached, timed out, or answered 5xx.
* ``ULMError``            - base class; also raised for other unexpected answers
                            (401/403, other 4xx, a body that is not the JSON we
                            expect).

One ``httpx.AsyncClient`` is shared by the whole process: ``get_ulm_client``
(a FastAPI dependency) creates it on first use, and the app's lifespan closes
it with ``close_ulm_client`` on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import quote

import httpx

from app.core.config import settings

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({502, 503, 504})


class ULMError(Exception):
    """ULM gave an answer this app cannot use."""


class ULMNotFoundError(ULMError):
    """ULM has no user with this id."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"User '{user_id}' was not found in ULM")
        self.user_id = user_id


class ULMUnavailableError(ULMError):
    """ULM could not be reached, timed out, or failed (5xx)."""


class ULMClient:
    """Async client for ULM's user API."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        max_attempts: int = 3,
        backoff_base: float = 0.1,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self._sleep = sleep
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )

    async def get_user(self, user_id: str | int) -> dict[str, Any]:
        """Return the ULM user ``user_id``; ``ULMNotFoundError`` if there is none."""
        user_id = str(user_id)
        response = await self._request("GET", f"/api/v1/users/{quote(user_id, safe='')}")
        if response.status_code == 404:
            raise ULMNotFoundError(user_id)
        body = self._json(response)
        if not isinstance(body, dict):
            raise ULMError(f"ULM returned {type(body).__name__} for user '{user_id}', expected an object")
        return body

    async def get_users(self, ids: Iterable[str | int]) -> list[dict[str, Any]]:
        """Return the ULM users with these ids, as ULM lists them.

        Ids ULM does not know are simply missing from the list.
        """
        id_list = [str(i) for i in ids]
        if not id_list:
            return []
        response = await self._request("GET", "/api/v1/users", params={"ids": ",".join(id_list)})
        body = self._json(response)
        if not isinstance(body, list):
            raise ULMError(f"ULM returned {type(body).__name__} for a user list, expected a JSON list")
        return body

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request, retrying connection errors, timeouts and 502/503/504."""
        problem = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:  # connect errors, timeouts, broken connections
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if response.status_code not in RETRY_STATUSES:
                    if response.status_code >= 500:
                        raise ULMUnavailableError(f"ULM answered HTTP {response.status_code} for {method} {path}")
                    return response
                problem = f"HTTP {response.status_code}"
            if attempt < self.max_attempts:
                delay = self.backoff_base * 2 ** (attempt - 1)
                logger.warning(
                    "ULM %s %s failed (%s), attempt %d/%d, retrying in %.2fs",
                    method, path, problem, attempt, self.max_attempts, delay,
                )
                await self._sleep(delay)
        raise ULMUnavailableError(
            f"ULM is unavailable ({problem}) after {self.max_attempts} attempts: {method} {path}"
        )

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if response.status_code in (401, 403):
            raise ULMError(
                f"ULM refused the request (HTTP {response.status_code}); check ULM_SERVICE_TOKEN"
            )
        if response.status_code != 200:
            raise ULMError(f"ULM answered HTTP {response.status_code} for {response.request.url.path}")
        try:
            return response.json()
        except ValueError as exc:
            raise ULMError("ULM returned a body that is not JSON") from exc


_client: ULMClient | None = None


def get_ulm_client() -> ULMClient:
    """FastAPI dependency: the process-wide ULM client, created on first use."""
    global _client
    if _client is None:
        token = settings.ULM_SERVICE_TOKEN.get_secret_value() if settings.ULM_SERVICE_TOKEN else None
        _client = ULMClient(settings.ULM_BASE_URL, token=token, timeout=settings.ULM_TIMEOUT)
    return _client


async def close_ulm_client() -> None:
    """Close the shared client (called from the app's lifespan on shutdown)."""
    global _client
    if _client is not None:
        client, _client = _client, None
        await client.aclose()
