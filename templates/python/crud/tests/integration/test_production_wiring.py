"""The app as it runs in production: its own settings and dependencies, nothing overridden.

uvicorn serves ``app.main:app`` in a child process with the settings of the environment and
.env (DATABASE_URL: the integration database, migrated to head here as a deployment does), and
ULM_BASE_URL pointing at the fake ULM served over real HTTP by this process. A session factory
bound to the wrong engine, a ULM client that is not the configured one, or an error mapping
that differs from the unit tests' fails here. Run with ``pytest -m integration``.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.core.config import settings
from tests.fake_ulm import OTHER_TOKEN, TOKEN, FakeULM
from tests.integration.fake_ulm_server import serve

BACKEND_DIR = Path(__file__).resolve().parents[2]
ITEMS = "/api/v1/items"
ADA = {"Authorization": f"Bearer {TOKEN}"}
ALAN = {"Authorization": f"Bearer {OTHER_TOKEN}"}

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module", autouse=True)
def _migrated() -> None:
    if "DATABASE_URL" not in settings.model_fields_set or not settings.DATABASE_URL.startswith("postgresql"):
        pytest.fail("integration tests need DATABASE_URL (environment or .env) set to this app's PostgreSQL database")
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=BACKEND_DIR, check=True)


async def _boot(ulm_url: str, **env: str) -> AsyncIterator[httpx.AsyncClient]:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_READ_URL"}
    environment.update(ULM_BASE_URL=ulm_url, ULM_SERVICE_TOKEN="svc-token", ULM_TIMEOUT="1", **env)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
        cwd=BACKEND_DIR, env=environment,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await http.get("/health/live")).status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or process.returncode is not None:
                        raise
                await asyncio.sleep(0.1)
            yield http
    finally:
        process.terminate()
        await process.wait()


@pytest.fixture
def fake_ulm() -> FakeULM:
    return FakeULM()


@pytest.fixture
async def app_url(fake_ulm: FakeULM) -> AsyncIterator[str]:
    async with serve(fake_ulm) as url:
        yield url


@pytest.fixture
async def http(app_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _boot(app_url):
        yield client


async def test_the_item_lifecycle_with_two_callers(http: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    assert (await http.get("/health/ready")).json()["database"] == "ok"
    created = await http.post(ITEMS, json={"name": "wired"}, headers={**ADA, "X-Request-ID": "wiring-1"})
    assert created.status_code == 201, created.text
    item = created.json()
    url = f"{ITEMS}/{item['id']}"
    assert item["owner_user_id"] == "u-1"
    assert created.headers["X-Request-ID"] == "wiring-1"

    read = await http.get(url, headers={**ALAN, "X-Request-ID": "wiring-2"})
    assert read.status_code == 200, read.text
    assert read.json() == {"item": item, "owner": {"id": "u-1", "email": "ada@example.com", "name": "Ada Lovelace"}}
    lookups = [r for r in fake_ulm.requests if r.url.path == "/api/v1/users/u-1"]
    assert [(r.headers["Authorization"], r.headers["X-Request-ID"]) for r in lookups] == [
        ("Bearer svc-token", "wiring-2")
    ]

    assert (await http.patch(url, json={"name": "stolen"}, headers=ALAN)).status_code == 403
    assert (await http.delete(url, headers=ALAN)).status_code == 403
    patched = await http.patch(url, json={"name": "renamed"}, headers=ADA)
    assert (patched.status_code, patched.json()["name"]) == (200, "renamed")
    listed = (await http.get(ITEMS, params={"limit": 100}, headers=ADA)).json()
    assert item["id"] in [i["id"] for i in listed["items"]] or listed["next_offset"] is not None
    assert (await http.delete(url, headers=ADA)).status_code == 204
    assert (await http.get(url, headers=ADA)).status_code == 404


async def test_ulm_too_slow_is_504_end_to_end(http: httpx.AsyncClient, fake_ulm: FakeULM) -> None:
    item = (await http.post(ITEMS, json={"name": "slow owner"}, headers=ADA)).json()
    fake_ulm.hang = True  # the token is cached; the owner lookup hangs past ULM_TIMEOUT (1 s)

    started = time.monotonic()
    response = await http.get(f"{ITEMS}/{item['id']}", headers=ADA)

    assert response.status_code == 504, response.text
    assert response.json()["code"] == "ulm_timeout"
    assert time.monotonic() - started < 5
    fake_ulm.hang = False
    assert (await http.delete(f"{ITEMS}/{item['id']}", headers=ADA)).status_code == 204


async def test_an_unreachable_read_url_fails_reads_with_503_and_writes_still_succeed(app_url: str) -> None:
    dead = f"postgresql://nobody:x@127.0.0.1:{_free_port()}/none"
    async for http in _boot(app_url, DATABASE_READ_URL=dead):
        created = await http.post(ITEMS, json={"name": "written"}, headers=ADA)
        assert created.status_code == 201, created.text  # the POST's answer is read on the primary
        for path in (ITEMS, f"{ITEMS}/{created.json()['id']}"):
            response = await http.get(path, headers=ADA)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "database_unavailable"
        assert (await http.get("/health/ready")).status_code == 200  # the primary is fine
        assert (await http.delete(f"{ITEMS}/{created.json()['id']}", headers=ADA)).status_code == 204
