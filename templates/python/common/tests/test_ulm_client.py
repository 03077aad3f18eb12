"""ULMClient against httpx.MockTransport: no network, no real ULM."""

import httpx
import pytest

from app.clients.ulm import ULMClient, ULMError, ULMNotFoundError, ULMUnavailableError

BASE = "http://ulm.test"
USER = {"id": "42", "email": "ada@example.com"}


class Recorder:
    """A MockTransport handler that answers from a script and records requests."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_client(handler: Recorder, **kwargs) -> tuple[ULMClient, list[float]]:
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    client = ULMClient(BASE, transport=httpx.MockTransport(handler), sleep=fake_sleep, **kwargs)
    return client, delays


async def test_get_user_success() -> None:
    handler = Recorder(httpx.Response(200, json=USER))
    client, delays = make_client(handler)

    assert await client.get_user(42) == USER
    assert str(handler.requests[0].url) == f"{BASE}/api/v1/users/42"
    assert delays == []
    await client.aclose()


async def test_get_user_404_raises_not_found() -> None:
    handler = Recorder(httpx.Response(404, json={"detail": "not found"}))
    client, _ = make_client(handler)

    with pytest.raises(ULMNotFoundError) as info:
        await client.get_user("ghost")

    assert info.value.user_id == "ghost"
    assert isinstance(info.value, ULMError)
    assert len(handler.requests) == 1  # a 404 is final, never retried
    await client.aclose()


async def test_503_is_retried_with_backoff_then_succeeds() -> None:
    handler = Recorder(httpx.Response(503), httpx.Response(503), httpx.Response(200, json=USER))
    client, delays = make_client(handler, max_attempts=3, backoff_base=0.1)

    assert await client.get_user("42") == USER
    assert len(handler.requests) == 3
    assert delays == pytest.approx([0.1, 0.2])
    await client.aclose()


async def test_502_and_504_are_retried() -> None:
    handler = Recorder(httpx.Response(502), httpx.Response(504), httpx.Response(200, json=USER))
    client, _ = make_client(handler)

    assert await client.get_user("42") == USER
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


async def test_connection_error_is_retried_then_unavailable() -> None:
    handler = Recorder(httpx.ConnectError("connection refused"))
    client, delays = make_client(handler, max_attempts=3)

    with pytest.raises(ULMUnavailableError) as info:
        await client.get_user("42")

    assert len(handler.requests) == 3
    assert len(delays) == 2
    assert "3 attempts" in str(info.value)
    await client.aclose()


async def test_timeout_is_retried_then_succeeds() -> None:
    handler = Recorder(httpx.ReadTimeout("too slow"), httpx.Response(200, json=USER))
    client, _ = make_client(handler)

    assert await client.get_user("42") == USER
    assert len(handler.requests) == 2
    await client.aclose()


async def test_bearer_token_is_sent() -> None:
    handler = Recorder(httpx.Response(200, json=USER))
    client, _ = make_client(handler, token="s3cret")

    await client.get_user("42")

    assert handler.requests[0].headers["Authorization"] == "Bearer s3cret"
    await client.aclose()


async def test_no_authorization_header_without_token() -> None:
    handler = Recorder(httpx.Response(200, json=USER))
    client, _ = make_client(handler)

    await client.get_user("42")

    assert "Authorization" not in handler.requests[0].headers
    await client.aclose()


async def test_get_users_sends_ids_query_and_returns_list() -> None:
    users = [USER, {"id": "43", "email": "alan@example.com"}]
    handler = Recorder(httpx.Response(200, json=users))
    client, _ = make_client(handler)

    assert await client.get_users(["42", 43]) == users
    request = handler.requests[0]
    assert request.url.path == "/api/v1/users"
    assert request.url.params["ids"] == "42,43"
    await client.aclose()


async def test_get_users_with_no_ids_makes_no_call() -> None:
    handler = Recorder(httpx.Response(500))
    client, _ = make_client(handler)

    assert await client.get_users([]) == []
    assert handler.requests == []
    await client.aclose()


async def test_get_users_rejects_a_non_list_body() -> None:
    handler = Recorder(httpx.Response(200, json={"items": [USER]}))
    client, _ = make_client(handler)

    with pytest.raises(ULMError):
        await client.get_users(["42"])
    await client.aclose()


async def test_user_id_is_escaped_in_the_path() -> None:
    handler = Recorder(httpx.Response(200, json=USER))
    client, _ = make_client(handler)

    await client.get_user("../admin")

    assert handler.requests[0].url.raw_path == b"/api/v1/users/..%2Fadmin"
    await client.aclose()


async def test_shared_client_is_created_once_and_closed() -> None:
    from app.clients.ulm import close_ulm_client, get_ulm_client

    first = get_ulm_client()
    assert get_ulm_client() is first
    await close_ulm_client()
    assert first._http.is_closed
    second = get_ulm_client()
    assert second is not first
    await close_ulm_client()
