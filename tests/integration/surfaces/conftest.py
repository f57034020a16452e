"""An API app on the embedded default engine, with one token per role."""

from __future__ import annotations

import httpx
import pytest

from agent.surfaces_api import build_api
from engine.runtime import Engine
from engine.settings import load_settings
from tools.auth import UserStore

ROLES = ("viewer", "trader", "live-trader", "admin")


@pytest.fixture
def api_engine(fresh_home):
    engine = Engine(load_settings())
    yield engine
    engine.db.dispose()


@pytest.fixture
def tokens(api_engine) -> dict[str, str]:
    store = UserStore(api_engine.db)
    out = {role: store.add(f"user-{role}", role) for role in ROLES}
    out["service"] = store.add("script", "trader", service=True)
    return out


@pytest.fixture
async def client(api_engine, tokens):
    app = build_api(api_engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
        yield c
    await api_engine.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
