"""Shutdown closes what the app opened."""

import pytest

from app import resources
from app.clients import ulm
from app.main import app, lifespan


async def test_shutdown_closes_the_ulm_client_and_what_the_kind_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []

    async def close() -> None:
        closed.append("resources")

    monkeypatch.setattr(resources, "close", close)
    async with lifespan(app):
        client = await ulm.get_ulm_client()

    assert client._http.is_closed
    assert closed == ["resources"]
