"""The trading CLI contract (issue 5 §9) against the simulated market, in process."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from agent.cli.main import app

SPREAD = {"underlying": "SPY", "expiry": "0dte", "quantity": 1, "order_type": "market", "account": "paper",
          "legs": [{"right": "put", "delta": 0.2, "side": "sell", "ratio": 1},
                   {"right": "put", "delta": 0.1, "side": "buy", "ratio": 1}]}


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return invoke


def as_json(result):
    assert result.exit_code == 0, (result.exit_code, result.output)
    return json.loads(result.stdout)


@pytest.mark.slow
def test_stage_confirm_positions_orders_risk_kill_audit(cli):
    staged = as_json(cli("order", "stage", json.dumps(SPREAD)))
    assert set(staged) >= {"ticket_id", "expires_at", "preview", "risk"}
    assert set(staged["preview"]) >= {"legs", "net_price", "max_profit", "max_loss", "breakevens", "margin", "fees"}
    assert staged["risk"]["passed"] and all(set(c) == {"name", "passed", "reason"} for c in staged["risk"]["checks"])
    tid = staged["ticket_id"]

    refused = cli("order", "confirm", tid, input="n\n")
    assert refused.exit_code == 2
    done = as_json(cli("order", "confirm", tid, "--yes"))
    assert {"order_id", "status", "fills"} <= set(done) and done["order_id"] == tid and done["status"] == "filled"
    again = cli("order", "confirm", tid, "--yes")
    assert again.exit_code == 2 and "already confirmed" in again.output and len(again.output.strip().splitlines()) == 1

    orders = as_json(cli("orders", "--account", "paper", "--json"))
    assert [o["order_id"] for o in orders] == [tid]
    positions = as_json(cli("positions", "--account", "paper", "--json"))
    assert sorted(p["quantity"] for p in positions) == [-1, 1]
    assert as_json(cli("positions", "--account", "live", "--json")) == []

    risk = as_json(cli("risk", "status", "--json"))
    assert set(risk) >= {"state", "limits", "usage"} and risk["state"] == "active"
    assert cli("kill", "--halt").exit_code == 0
    assert as_json(cli("risk", "status", "--json"))["state"] == "halted"
    assert cli("kill", "--reducing").exit_code == 0
    assert as_json(cli("risk", "status", "--json"))["state"] == "reducing"
    assert cli("kill", "--resume").exit_code == 0
    assert cli("kill").exit_code == 2 and cli("kill", "--halt", "--resume").exit_code == 2

    assert cli("audit", "verify").exit_code == 0
    tail = as_json(cli("audit", "tail", "--json"))
    assert tail and {"id", "ts", "kind", "actor", "data", "hash", "prev_hash"} <= set(tail[-1])
    assert "kill_switch" in [r["kind"] for r in tail]

    from engine.settings import get_settings
    from engine.store.audit import AuditRecord
    from engine.store.db import Database

    db = Database(get_settings())
    with db.session(None) as s:
        s.execute(update(AuditRecord).where(AuditRecord.id == 3).values(actor="someone else"))
    db.dispose()
    broken = cli("audit", "verify")
    assert broken.exit_code == 1 and "record 3" in broken.output


@pytest.mark.parametrize("request_json,text", [
    ({**SPREAD, "structure": "jade_lizard", "legs": []}, "unknown structure"),
    ({**SPREAD, "legs": [{"right": "call", "strike": 611.5, "side": "buy"}]}, "not listed"),
    ({**SPREAD, "quantity": 0}, "quantity must be > 0"),
    ({**SPREAD, "quantity": -3}, "quantity must be > 0"),
    ({**SPREAD, "order_type": "limit", "limit_price": 0.333}, "off tick"),
])
def test_bad_requests_exit_2_with_one_line_and_change_nothing(cli, request_json, text):
    r = cli("order", "stage", json.dumps(request_json))
    assert r.exit_code == 2 and text in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert as_json(cli("audit", "tail", "--json")) == []


def test_malformed_json_and_unknown_ticket(cli):
    r = cli("order", "stage", "{not json")
    assert r.exit_code == 2 and "not valid JSON" in r.output
    r = cli("order", "confirm", "TDEADBEEF", "--yes")
    assert r.exit_code == 2 and "unknown ticket" in r.output
    r = cli("order", "stage", json.dumps(SPREAD), "--json")
    assert r.exit_code == 0


def test_mode_switch_needs_arming(cli, monkeypatch):
    assert as_json(cli("mode", "--json")) == {"mode": "paper"}
    r = cli("mode", "live", input="LIVE\n")
    assert r.exit_code == 2 and "not armed" in r.output


def test_resting_order_cancel_ticket_withdraw_and_pnl(cli):
    probe = as_json(cli("order", "stage", json.dumps({"underlying": "SPY", "quantity": 1, "order_type": "market",
                                                      "legs": [{"right": "call", "delta": 0.3, "side": "buy"}]})))
    leg = probe["preview"]["legs"][0]
    limit = round(leg["bid"] - 0.02, 2)
    req = {"underlying": "SPY", "quantity": 1, "order_type": "limit", "limit_price": limit,
           "legs": [{"right": "call", "strike": leg["strike"], "side": "buy"}]}
    staged = as_json(cli("order", "stage", json.dumps(req)))
    assert staged["risk"]["passed"], staged["risk"]
    placed = as_json(cli("order", "confirm", staged["ticket_id"], "--yes"))
    assert placed["status"] == "accepted" and placed["fills"] == []
    assert [o["status"] for o in as_json(cli("orders", "--status", "open", "--json"))] == ["accepted"]
    canceled = as_json(cli("order", "cancel", placed["order_id"]))
    assert canceled["status"] == "canceled"
    assert as_json(cli("orders", "--status", "open", "--json")) == []

    withdrawn = as_json(cli("order", "cancel", probe["ticket_id"]))
    assert withdrawn == {"ticket_id": probe["ticket_id"], "status": "cancelled"}
    r = cli("order", "confirm", probe["ticket_id"], "--yes")
    assert r.exit_code == 2 and "cancelled" in r.output
    pnl = as_json(cli("pnl", "--period", "today", "--json"))
    assert pnl["realized"] == 0 and pnl["positions"] == 0
    assert cli("pnl", "--period", "decade").exit_code == 2
