"""``smart0dte telegram`` / ``smart0dte slack`` refuse to start without their secrets, in one line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from agent.cli.main import app


@pytest.mark.parametrize(("command", "env", "says"), [
    ("telegram", {}, "SMART0DTE_TELEGRAM_BOT_TOKEN is not set"),
    ("slack", {}, "SMART0DTE_SLACK_BOT_TOKEN is not set"),
    ("slack", {"SMART0DTE_SLACK_BOT_TOKEN": "xoxb-secret-123"}, "SMART0DTE_SLACK_SIGNING_SECRET"),
])
def test_bot_refuses_to_start_without_its_secrets(monkeypatch, command, env, says):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, [command])
    assert result.exit_code == 2
    lines = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and says in lines[0]
    assert "xoxb-secret-123" not in result.output
