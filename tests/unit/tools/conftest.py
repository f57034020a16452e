"""A real engine on the simulated market (SMART0DTE_SIM_START pinned by the root conftest)."""

from __future__ import annotations

import pytest

from engine.core.principal import Principal
from engine.runtime import Engine
from engine.settings import load_settings
from tools.catalog import load
from tools.registry import ToolContext

PERSON = Principal.person("alice", "test")
AGENT = Principal.agent_for(PERSON)


@pytest.fixture
async def engine():
    eng = Engine(load_settings())
    yield eng
    await eng.close()


@pytest.fixture
def registry():
    return load()


@pytest.fixture
def agent_ctx(engine):
    return ToolContext(engine, AGENT, "paper")


@pytest.fixture
def person_ctx(engine):
    return ToolContext(engine, PERSON, "paper")
