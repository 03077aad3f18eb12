"""X-Request-ID: taken from the request or made, returned, logged as JSON, passed on to ULM."""

import json
import logging

import httpx
import pytest

from app.core.logging import JsonFormatter, configure_logging
from tests.fake_ulm import FakeULM


async def test_a_callers_request_id_is_returned_and_passed_on_to_ulm(
    client: httpx.AsyncClient, fake_ulm: FakeULM
) -> None:
    response = await client.get("/api/v1/users/u-1", headers={"X-Request-ID": "abc-123"})

    assert response.headers["X-Request-ID"] == "abc-123"
    assert {r.headers.get("X-Request-ID") for r in fake_ulm.requests} == {"abc-123"}


@pytest.mark.parametrize("sent", [None, "", "has spaces", "x" * 200, "a/b"])
async def test_an_id_is_made_when_none_or_no_usable_one_is_sent(anonymous: httpx.AsyncClient, sent: str | None) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}

    response = await anonymous.get("/health/live", headers=headers)

    made = response.headers["X-Request-ID"]
    assert len(made) == 32
    assert made != headers.get("X-Request-ID")


async def test_log_lines_are_json_with_the_request_id(
    client: httpx.AsyncClient, fake_ulm: FakeULM, caplog: pytest.LogCaptureFixture
) -> None:
    fake_ulm.down = True

    with caplog.at_level(logging.WARNING):
        await client.get("/api/v1/users/u-1", headers={"X-Request-ID": "req-42"})

    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert lines
    assert {line["request_id"] for line in lines} == {"req-42"}
    assert {"time", "level", "logger", "message"} <= set(lines[0])


@pytest.mark.parametrize("access_log", [True, False])
def test_uvicorns_access_log_is_json_unless_turned_off(access_log: bool) -> None:
    access = logging.getLogger("uvicorn.access")
    saved = (access.handlers[:], access.propagate, logging.getLogger().handlers[:])
    try:
        # What uvicorn leaves before it imports the app: its own handler, or none with --no-access-log.
        access.handlers[:] = [logging.NullHandler()] if access_log else []
        access.propagate = False
        configure_logging(debug=False)

        assert access.hasHandlers() is access_log
    finally:
        access.handlers[:], access.propagate = saved[0], saved[1]
        logging.getLogger().handlers[:] = saved[2]
