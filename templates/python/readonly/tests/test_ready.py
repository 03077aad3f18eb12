"""GET /health/ready of a readonly app: ULM is its only dependency."""

import httpx
import pytest

from tests.fake_ulm import FakeULM


async def test_ready_asks_ulm(anonymous: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    response = await anonymous.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "app": "{{app.slug}}", "ulm": "ok"}
    assert fake_ulm.paths() == ["/health"]


@pytest.mark.parametrize("failure", ["down", "status"])
async def test_ready_is_503_when_ulm_is_not(anonymous: httpx.AsyncClient, fake_ulm: FakeULM, failure: str) -> None:
    if failure == "down":
        fake_ulm.down = True
    else:
        fake_ulm.status = 503

    response = await anonymous.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {"status": "error", "app": "{{app.slug}}", "ulm": "unavailable"}
