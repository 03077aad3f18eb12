"""Shutdown closes what the app opened."""

from app.clients import ulm
from app.main import app, lifespan


async def test_shutdown_closes_the_ulm_client() -> None:
    async with lifespan(app):
        client = ulm.get_ulm_client()

    assert client._http.is_closed
