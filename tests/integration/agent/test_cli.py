"""The command-line contract of issue 8 §3, run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tools.catalog import TOOL_NAMES

pytestmark = pytest.mark.slow

EXE = os.path.join(os.path.dirname(sys.executable), "smart0dte")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_tools_list_json():
    p = cli("tools", "list", "--json")
    assert p.returncode == 0, p.stderr
    tools = json.loads(p.stdout)
    assert [t["name"] for t in tools] == list(TOOL_NAMES)
    for t in tools:
        assert t["description"] and t["input_schema"]["type"] == "object" and t["output_schema"]["properties"]
    effects = {t["name"]: t["effect"] for t in tools}
    assert effects["place_paper_order"] == "stage" and effects["cancel_order"] == "write"
    assert not {"confirm", "confirm_order", "switch_mode", "set_risk_limit"} & set(effects)


def test_tool_runs_and_prints_output_json():
    p = cli("tool", "chain", '{"underlying": "iwm", "strikes_around_atm": 1, "right": "call"}')
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["underlying"] == "IWM" and len(out["rows"]) == 3 and {r["right"] for r in out["rows"]} == {"call"}


def test_tool_bad_args_exit_2_with_typed_error():
    for args, field in (('{"underlying": "SPY", "strikes_around_atm": 0}', "strikes_around_atm"),
                        ('{"underlying": "SPY", "bogus": 1}', "bogus"), ("[1, 2]", None), ("{not json", None)):
        p = cli("tool", "chain", args)
        assert p.returncode == 2, (args, p.stdout)
        err = json.loads(p.stdout)["error"]
        assert set(err) == {"type", "message", "field"} and err["field"] == field and err["message"]
    p = cli("tool", "no_such_tool", "{}")
    assert p.returncode == 2 and json.loads(p.stdout)["error"]["type"] == "not_found"


def test_ask_json_contract_and_staging_places_nothing():
    p = cli("ask", "paper-sell a 5-wide QQQ iron condor at 15 delta", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert set(out) == {"tool_calls", "answer", "pending_confirmation", "orders_placed"}
    assert out["tool_calls"] == [{"name": "place_paper_order", "args": {
        "underlying": "QQQ", "structure": "iron_condor", "side": "sell", "short_delta": 0.15, "wing_width": 5.0}}]
    assert out["pending_confirmation"]["ticket_id"] and out["orders_placed"] == []
    orders = json.loads(cli("tool", "orders", "{}").stdout)
    assert orders["orders"] == []


def test_ask_off_topic():
    out = json.loads(cli("ask", "tell me a joke", "--json").stdout)
    assert out["tool_calls"] == [] and out["pending_confirmation"] is None and out["answer"]


def test_chat_person_confirms_with_y():
    p = cli("chat", "--offline", stdin="buy 1 spy 0dte 30 delta call at market\ny\n/quit\n")
    assert p.returncode == 0, p.stderr
    assert "Confirm? [y/N]" in p.stdout and "Done" in p.stdout
    orders = json.loads(cli("tool", "orders", "{}").stdout)["orders"]
    assert len(orders) == 1 and orders[0]["status"] == "filled"


def test_ask_json_through_the_llm_path(monkeypatch):
    from tests.loopback.openai_server import OpenAIServer, call, last_tool_json, say

    script = [call("quote", {"symbol": "QQQ"}), lambda body: say(f"QQQ mid {last_tool_json(body)['mid']:.2f}")]
    with OpenAIServer(script) as srv:
        monkeypatch.setenv("SMART0DTE_OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("SMART0DTE_OPENAI_API_KEY", "sk-cli-test-key-0000000000")
        p = cli("ask", "where is qqq?", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["tool_calls"] == [{"name": "quote", "args": {"symbol": "QQQ"}}]
    assert out["answer"].startswith("QQQ mid ") and out["orders_placed"] == [] and out["pending_confirmation"] is None
    assert "sk-cli-test-key" not in p.stdout + p.stderr
