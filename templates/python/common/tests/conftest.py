"""Shared fixtures.

* ``fake_ulm`` / ``ulm_client`` - the real ULM client over a fake ULM
  (``tests/fake_ulm.py``); no network, no real ULM.
* ``kind_overrides`` - what this kind of app swaps for tests (``tests/kind_fixtures.py``: a
  crud app's database becomes a fresh SQLite file per test).
* ``client`` - an httpx AsyncClient talking to the app in-process, with a valid
  token, the above as the process-wide ULM client (what ``get_ulm_client`` returns, to routes
  and to ``current_user`` alike). ``anonymous``: the same, without a token.

tests/integration/test_production_wiring.py boots the app with none of these overrides.
"""

from collections.abc import AsyncIterator

import httpx
import pytest

from app.clients import ulm
from app.clients.ulm import ULMClient
from app.main import app
from tests.fake_ulm import FAKE_ULM_URL, TOKEN, FakeULM

pytest_plugins = ["tests.kind_fixtures"]


@pytest.fixture
def fake_ulm() -> FakeULM:
    return FakeULM()


@pytest.fixture
async def ulm_client(fake_ulm: FakeULM) -> AsyncIterator[ULMClient]:
    client = ULMClient(FAKE_ULM_URL, transport=httpx.MockTransport(fake_ulm), backoff_base=0)
    yield client
    await client.aclose()


@pytest.fixture
async def anonymous(
    ulm_client: ULMClient, kind_overrides: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The app, called without a token."""
    monkeypatch.setattr(ulm._Shared, "client", ulm_client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    app.dependency_overrides.clear()


@pytest.fixture
def client(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    """The app, called with a token ULM accepts."""
    anonymous.headers["Authorization"] = f"Bearer {TOKEN}"
    return anonymous
