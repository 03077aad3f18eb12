"""ULMClient against httpx.MockTransport: no network, no real ULM."""

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from app.clients.ulm import (
    ULMClient,
    ULMError,
    ULMNotFoundError,
    ULMTimeoutError,
    ULMUnauthorizedError,
    ULMUnavailableError,
    ULMUser,
)

BASE = "http://ulm.test"
USER = {"id": "42", "email": "ada@example.com", "name": "Ada", "password_hash": "secret"}
ADA = ULMUser(id="42", email="ada@example.com", name="Ada")

Answer = httpx.Response | Exception


class Recorder:
    """A MockTransport handler that answers from a script (the last answer repeats)."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_client(
    handler: Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]],
    **kwargs: Any,
) -> tuple[ULMClient, list[float]]:
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    options: dict[str, Any] = {"sleep": fake_sleep, "jitter": lambda: 0.5, **kwargs}
    return ULMClient(BASE, transport=httpx.MockTransport(handler), **options), delays


async def test_get_user_returns_only_the_allow_listed_fields() -> None:
    handler = Recorder(httpx.Response(200, json=USER))
    client, delays = make_client(handler)

    assert await client.get_user(42) == ADA
    assert str(handler.requests[0].url) == f"{BASE}/api/v1/users/42"
    assert delays == []
    await client.aclose()


async def test_numeric_ids_become_strings() -> None:
    client, _ = make_client(Recorder(httpx.Response(200, json={"id": 7})))

    assert await client.get_user(7) == ULMUser(id="7")
    await client.aclose()


async def test_a_user_without_id_is_an_unusable_answer() -> None:
    client, _ = make_client(Recorder(httpx.Response(200, json={"email": "x@example.com"})))

    with pytest.raises(ULMError):
        await client.get_user("42")
    await client.aclose()


async def test_get_user_404_raises_not_found() -> None:
    handler = Recorder(httpx.Response(404, json={"detail": "not found"}))
    client, _ = make_client(handler)

    with pytest.raises(ULMNotFoundError) as info:
        await client.get_user("ghost")

    assert info.value.user_id == "ghost"
    assert len(handler.requests) == 1  # a 404 is final, never retried
    await client.aclose()


async def test_503_is_retried_after_a_jittered_backoff() -> None:
    handler = Recorder(httpx.Response(503), httpx.Response(503), httpx.Response(200, json=USER))
    client, delays = make_client(handler, backoff_base=0.1, jitter=lambda: 0.5)

    assert await client.get_user("42") == ADA
    assert len(handler.requests) == 3
    # Full jitter: a random share (here 0.5) of 0.1 s, then of 0.2 s.
    assert delays == pytest.approx([0.05, 0.1])
    await client.aclose()


async def test_502_and_504_are_retried() -> None:
    handler = Recorder(httpx.Response(502), httpx.Response(504), httpx.Response(200, json=USER))
    client, _ = make_client(handler)

    assert await client.get_user("42") == ADA
    assert len(handler.requests) == 3
    await client.aclose()


async def test_500_is_not_retried() -> None:
    handler = Recorder(httpx.Response(500), httpx.Response(200, json=USER))
    client, delays = make_client(handler)

    with pytest.raises(ULMUnavailableError):
        await client.get_user("42")

    assert len(handler.requests) == 1
    assert delays == []
    await client.aclose()


async def test_connection_errors_are_retried_then_unavailable() -> None:
    handler = Recorder(httpx.ConnectError("connection refused"))
    client, delays = make_client(handler, max_attempts=3)

    with pytest.raises(ULMUnavailableError) as info:
        await client.get_user("42")

    assert len(handler.requests) == 3
    assert len(delays) == 2
    assert "3 attempts" in str(info.value)
    await client.aclose()


async def test_a_broken_answer_is_not_retried() -> None:
    # The request may have reached ULM: not safe to send again.
    handler = Recorder(httpx.ReadError("connection reset"), httpx.Response(200, json=USER))
    client, _ = make_client(handler)

    with pytest.raises(ULMUnavailableError):
        await client.get_user("42")

    assert len(handler.requests) == 1
    await client.aclose()


async def test_a_hanging_ulm_costs_one_deadline() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    client, _ = make_client(hang, timeout=0.2)

    started = time.monotonic()
    with pytest.raises(ULMTimeoutError):
        # A guard for this test only: without the client's own deadline it would wait forever.
        await asyncio.wait_for(client.get_user("42"), 2)

    assert 0.15 < time.monotonic() - started < 1.0
    await client.aclose()


async def test_retries_and_their_backoff_stay_inside_the_deadline() -> None:
    handler = Recorder(httpx.ConnectError("connection refused"))
    # Unbounded, ten attempts with these backoffs would take 1 + 2 + 4 + ... seconds.
    client, _ = make_client(
        handler, timeout=0.3, max_attempts=10, backoff_base=1.0, jitter=lambda: 1.0, sleep=asyncio.sleep
    )

    started = time.monotonic()
    with pytest.raises(ULMTimeoutError):
        await client.get_user("42")

    assert time.monotonic() - started < 1.0
    await client.aclose()


async def test_the_breaker_opens_after_consecutive_failures_and_fails_fast() -> None:
    clock = Clock()
    handler = Recorder(httpx.Response(503))
    client, _ = make_client(handler, max_attempts=1, breaker_threshold=2, breaker_cooldown=10, clock=clock)

    for _ in range(2):
        with pytest.raises(ULMUnavailableError):
            await client.get_user("42")
    assert len(handler.requests) == 2

    with pytest.raises(ULMUnavailableError) as info:
        await client.get_user("42")

    assert len(handler.requests) == 2  # ULM was not asked
    assert info.value.retry_after == pytest.approx(10)
    await client.aclose()


async def test_the_breaker_lets_one_trial_through_after_the_cooldown() -> None:
    clock = Clock()
    handler = Recorder(httpx.Response(503), httpx.Response(503), httpx.Response(503), httpx.Response(200, json=USER))
    client, _ = make_client(
        handler, max_attempts=1, breaker_threshold=2, breaker_cooldown=10, clock=clock, user_cache_ttl=0
    )
    for _ in range(2):
        with pytest.raises(ULMUnavailableError):
            await client.get_user("42")

    clock.now += 10
    with pytest.raises(ULMUnavailableError):  # the trial fails: open again at once
        await client.get_user("42")
    assert len(handler.requests) == 3
    with pytest.raises(ULMUnavailableError):
        await client.get_user("42")
    assert len(handler.requests) == 3

    clock.now += 10
    assert await client.get_user("42") == ADA  # the trial succeeds: closed
    assert await client.get_user("42") == ADA
    assert len(handler.requests) == 5
    await client.aclose()


async def test_answers_that_are_not_outages_keep_the_breaker_closed() -> None:
    handler = Recorder(httpx.Response(404))
    client, _ = make_client(handler, breaker_threshold=1)

    for _ in range(3):
        with pytest.raises(ULMNotFoundError):
            await client.get_user("ghost")

    assert len(handler.requests) == 3
    await client.aclose()


async def test_the_service_token_is_sent_on_lookups() -> None:
    handler = Recorder(httpx.Response(200, json=USER))
    client, _ = make_client(handler, token="s3cret")

    await client.get_user("42")

    assert handler.requests[0].headers["Authorization"] == "Bearer s3cret"
    await client.aclose()


async def test_no_authorization_header_without_a_service_token() -> None:
    handler = Recorder(httpx.Response(200, json=USER))
    client, _ = make_client(handler)

    await client.get_user("42")

    assert "Authorization" not in handler.requests[0].headers
    await client.aclose()


async def test_authenticate_asks_the_auth_path_with_the_callers_token() -> None:
    handler = Recorder(httpx.Response(200, json=USER))
    client, _ = make_client(handler, token="service", auth_path="/auth/whoami")

    assert await client.authenticate("caller-token") == ADA
    assert handler.requests[0].url.path == "/auth/whoami"
    assert handler.requests[0].headers["Authorization"] == "Bearer caller-token"
    await client.aclose()


async def test_authenticate_caches_an_accepted_token_for_the_ttl() -> None:
    clock = Clock()
    handler = Recorder(httpx.Response(200, json=USER))
    client, _ = make_client(handler, auth_cache_ttl=30, clock=clock)

    await client.authenticate("t")
    clock.now += 29
    await client.authenticate("t")
    assert len(handler.requests) == 1
    clock.now += 2
    await client.authenticate("t")
    assert len(handler.requests) == 2
    await client.authenticate("other")
    assert len(handler.requests) == 3
    await client.aclose()


async def test_authenticate_rejects_a_token_ulm_refuses_and_does_not_cache_it() -> None:
    handler = Recorder(httpx.Response(401), httpx.Response(200, json=USER))
    client, _ = make_client(handler)

    with pytest.raises(ULMUnauthorizedError):
        await client.authenticate("t")
    assert await client.authenticate("t") == ADA
    await client.aclose()


async def test_ulm_refusing_the_service_token_is_an_unusable_answer() -> None:
    client, _ = make_client(Recorder(httpx.Response(401)))

    with pytest.raises(ULMError) as info:
        await client.get_user("42")

    assert not isinstance(info.value, ULMUnauthorizedError)  # not the caller's fault
    assert "ULM_SERVICE_TOKEN" in str(info.value)
    await client.aclose()


async def test_get_users_sends_ids_and_returns_users() -> None:
    handler = Recorder(httpx.Response(200, json=[USER, {"id": "43", "email": "alan@example.com"}]))
    client, _ = make_client(handler)

    assert await client.get_users(["42", 43]) == [ADA, ULMUser(id="43", email="alan@example.com")]
    assert handler.requests[0].url.params["ids"] == "42,43"
    await client.aclose()


async def test_get_users_with_no_ids_does_not_call_ulm() -> None:
    handler = Recorder(httpx.Response(200, json=[]))
    client, _ = make_client(handler)

    assert await client.get_users([]) == []
    assert handler.requests == []
    await client.aclose()


async def test_get_users_rejects_a_non_list_body() -> None:
    client, _ = make_client(Recorder(httpx.Response(200, json={"items": [USER]})))

    with pytest.raises(ULMError):
        await client.get_users(["42"])
    await client.aclose()


async def test_user_id_is_escaped_in_the_path() -> None:
    handler = Recorder(httpx.Response(200, json=USER))
    client, _ = make_client(handler)

    await client.get_user("../admin")

    assert handler.requests[0].url.raw_path == b"/api/v1/users/..%2Fadmin"
    await client.aclose()


async def test_ping_accepts_any_answer_below_500() -> None:
    handler = Recorder(httpx.Response(404), httpx.Response(500))
    client, _ = make_client(handler, health_path="/healthz")

    await client.ping(1.0)
    assert handler.requests[0].url.path == "/healthz"
    with pytest.raises(ULMUnavailableError):
        await client.ping(1.0)
    await client.aclose()


async def test_users_are_cached_for_their_ttl_and_a_404_is_not() -> None:
    clock = Clock()
    handler = Recorder(
        httpx.Response(200, json=USER), httpx.Response(200, json={**USER, "name": "Ada L."}), httpx.Response(404)
    )
    client, _ = make_client(handler, user_cache_ttl=30, clock=clock)

    assert await client.get_user("42") == ADA
    clock.now += 29
    assert await client.get_user(42) == ADA  # cached
    assert len(handler.requests) == 1
    clock.now += 2
    assert (await client.get_user("42")).name == "Ada L."  # expired: asked again
    with pytest.raises(ULMNotFoundError):
        await client.get_user("7")
    assert len(handler.requests) == 3
    await client.aclose()
