"""Test-wide fixtures: every test gets a fresh state directory and settings read anew."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

SHARED_DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@pytest.fixture(autouse=True)
def fresh_home(tmp_path, monkeypatch):
    """A clean SMART0DTE_HOME and no stray SMART0DTE_ variables from the developer's shell."""
    for key in list(os.environ):
        if key.startswith("SMART0DTE_"):
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("SMART0DTE_HOME", str(home))
    monkeypatch.setenv("SMART0DTE_SIM_START", "2026-11-20T10:30:00-05:00")
    from engine.settings import reset_settings_cache

    reset_settings_cache()
    yield home
    reset_settings_cache()


@pytest.fixture
def shared_data() -> str:
    if not os.path.isdir(SHARED_DATA):
        pytest.fail(f"../shared/data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def postgres_url() -> str:
    """URL of the real PostgreSQL test database; a missing server is a failure, not a skip."""
    if not _port_open("127.0.0.1", 5432):
        pytest.fail("PostgreSQL is not running on 127.0.0.1:5432 (.ci/run starts it)")
    return "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_schema_prefix() -> str:
    """A unique prefix so parallel or repeated runs never share PostgreSQL schemas."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def redis_url() -> str:
    if not _port_open("127.0.0.1", 6379):
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    return f"redis://127.0.0.1:6379/{15}"


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the browser's lifetime, which no asyncio test may share."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path).replace("\\", "/"))
