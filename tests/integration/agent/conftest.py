"""The LLM path against our loopback OpenAI-compatible server, with secrets set to catch leaks."""

from __future__ import annotations

import json

import pytest

from agent.core import Assistant
from engine.core.principal import Principal
from engine.runtime import Engine
from engine.settings import load_settings
from tests.loopback.openai_server import OpenAIServer

API_KEY = "sk-loopback-TOPSECRET-0123456789abcdef"
SECRETS = {
    "openai_api_key": API_KEY,
    "telegram_bot_token": "123456789:AAE-telegram-TOPSECRET-token-abcdefghij",
    "slack_bot_token": "xoxb-slack-TOPSECRET-0000",
    "auth_secret": "ui-session-TOPSECRET-signing",
}
PERSON = Principal.person("alice", "test")


@pytest.fixture
def server():
    with OpenAIServer() as srv:
        yield srv


@pytest.fixture
async def llm_engine(server):
    eng = Engine(load_settings(openai_base_url=server.base_url, **SECRETS))
    yield eng
    await eng.close()


@pytest.fixture
def assistant(llm_engine):
    return Assistant(llm_engine, PERSON)


def assert_no_secret(*blobs: object) -> None:
    text = json.dumps(blobs, default=str)
    for value in SECRETS.values():
        assert value not in text
    assert "TOPSECRET" not in text
