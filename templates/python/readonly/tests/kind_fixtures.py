"""A readonly app has nothing of its own to swap in tests: ULM (faked in conftest.py) is all
it talks to."""

import pytest


@pytest.fixture
def kind_overrides() -> None:
    return None
