"""Issue 5 §9 and §7: stage → confirm → positions, bad requests, risk status, kill switch, audit chain."""

from __future__ import annotations

import json
import re
import sqlite3

from tests.acceptance.cli import AFTER_CUTOFF, iso_with_offset, number

STAGE_KEYS = {"ticket_id", "expires_at", "preview", "risk"}
PREVIEW_KEYS = {"legs", "net_price", "max_profit", "max_loss", "breakevens", "margin", "fees"}


def order(**over) -> str:
    req = {"underlying": "SPY", "expiry": "0dte",
           "legs": [{"right": "call", "delta": 0.5, "side": "buy", "ratio": 1}],
           "quantity": 2, "order_type": "market", "account": "paper"}
    req.update(over)
    return json.dumps(req)


def check_ticket(t: dict) -> None:
    assert set(t) >= STAGE_KEYS, set(t)
    assert isinstance(t["ticket_id"], str) and t["ticket_id"]
    iso_with_offset(t["expires_at"])
    p = t["preview"]
    assert set(p) >= PREVIEW_KEYS, set(p)
    assert p["legs"] and all(re.fullmatch(r"SPY\s*261120[CP]\d{8}", leg["symbol"]) for leg in p["legs"])
    for k in ("net_price", "max_loss", "margin"):
        assert number(p[k]), (k, p[k])
    assert p["max_profit"] is None or number(p["max_profit"])
    assert isinstance(p["breakevens"], list) and all(number(b) for b in p["breakevens"])
    assert number(p["fees"]) or (isinstance(p["fees"], dict) and all(number(v) for v in p["fees"].values()))
    r = t["risk"]
    assert {"passed", "checks"} <= set(r) and isinstance(r["passed"], bool)
    assert r["checks"]
    for c in r["checks"]:
        assert {"name", "passed", "reason"} <= set(c) and isinstance(c["passed"], bool) and c["reason"]
    assert r["passed"] == all(c["passed"] for c in r["checks"])


def test_stage_confirm_positions_and_replay(cli):
    staged = cli("order", "stage", order()).ok()
    check_ticket(staged)
    assert staged["risk"]["passed"] is True
    tid = staged["ticket_id"]

    filled = cli("order", "confirm", tid, "--yes").ok()
    assert {"order_id", "status", "fills"} <= set(filled)
    assert filled["status"] == "filled" and isinstance(filled["fills"], list) and filled["fills"]

    replay, positions, orders, risk = cli.many(
        ("order", "confirm", tid, "--yes", "--json"), ("positions", "--json"), ("orders", "--json"),
        ("risk", "status", "--json"))
    assert replay.error()["type"]  # a ticket confirms once
    pos = positions.ok()
    assert isinstance(pos, list) and len(pos) == 1
    leg = staged["preview"]["legs"][0]["symbol"]
    assert pos[0]["symbol"].replace(" ", "") == leg.replace(" ", "") and pos[0]["quantity"] == 2
    assert [o["order_id"] for o in orders.ok()] == [filled["order_id"]]
    rs = risk.ok()
    assert {"state", "limits", "usage"} <= set(rs) and rs["state"] == "active"
    assert isinstance(rs["limits"], dict) and isinstance(rs["usage"], dict) and rs["limits"]


def test_bad_requests_exit_2_and_change_nothing(cli):
    off_strike = order(legs=[{"right": "call", "strike": 650.5, "side": "buy", "ratio": 1}])
    off, tick, structure, text = cli.many(
        ("order", "stage", off_strike, "--json"),
        ("order", "stage", order(order_type="limit", limit_price=0.655), "--json"),
        ("order", "stage", order(structure="jade_lizard"), "--json"),
        ("order", "stage", order(quantity=0)),
    )
    for res in (off, tick, structure):
        res.error()
    assert "650.5" in off.error()["message"] and "0.655" in tick.error()["message"]
    assert "jade_lizard" in structure.error()["message"]
    # without --json: exit 2, one line on stderr naming the problem
    text.expect(2)
    assert text.out == "" and "quantity" in text.err and len(text.err.strip().splitlines()) == 1, text.err
    audit = cli("audit", "tail", "--json").ok()  # nothing was staged, so nothing about orders was recorded
    assert not [r for r in audit if str(r.get("kind", "")).startswith("order")]


def test_kill_switch_risk_status_and_audit_chain(cli):
    # a resting limit order (the 652 call is 0.65 × 0.66 at the pinned instant: a 0.58 bid rests inside
    # the price collar), then HALTED: nothing new, open orders cancelled
    resting = cli("order", "stage", order(quantity=1, order_type="limit", limit_price=0.58,
                                          legs=[{"right": "call", "strike": 652, "side": "buy", "ratio": 1}])).ok()
    working = cli("order", "confirm", resting["ticket_id"], "--yes").ok()
    assert working["status"] not in ("filled", "rejected"), working
    cli("kill", "--halt").expect(0)
    halted, staged, orders = cli.many(("risk", "status", "--json"), ("order", "stage", order(), "--json"),
                                      ("orders", "--json"))
    assert halted.ok()["state"] == "halted"
    assert [(o["order_id"], o["status"]) for o in orders.ok()] == [(working["order_id"], "canceled")]
    st = staged.data
    blocked = ("error" in st and staged.rc == 2) or (staged.rc == 0 and st["risk"]["passed"] is False)
    assert blocked, st
    cli("kill", "--reducing").expect(0)
    reducing, none = cli.many(("risk", "status", "--json"), ("kill",))
    assert reducing.ok()["state"] == "reducing"
    none.expect(2)
    cli("kill", "--resume").expect(0)
    state, intact = cli.many(("risk", "status", "--json"), ("audit", "verify"))
    assert state.ok()["state"] == "active"
    intact.expect(0)

    # tamper with one record of the append-only table: verify exits 1 naming it
    con = sqlite3.connect(cli.home / "smart0dte.db")
    ids = [r[0] for r in con.execute("SELECT id FROM audit_log ORDER BY id")]
    assert len(ids) >= 4, ids
    victim = ids[1]
    con.execute("UPDATE audit_log SET actor = actor || '-tampered' WHERE id = ?", (victim,))
    con.commit()
    broken = cli("audit", "verify")
    broken.expect(1)
    assert re.search(rf"\b{victim}\b", broken.out + broken.err), broken.out + broken.err
    # undo it, then remove a record instead: named too
    con.execute("UPDATE audit_log SET actor = replace(actor, '-tampered', '') WHERE id = ?", (victim,))
    con.execute("DELETE FROM audit_log WHERE id = ?", (ids[2],))
    con.commit()
    con.close()
    gone = cli("audit", "verify")
    gone.expect(1)
    assert re.search(rf"\b{ids[2]}\b", gone.out + gone.err), gone.out + gone.err


def test_cutoff_refuses_new_0dte_positions(cli):
    late = cli.at(AFTER_CUTOFF)
    t = late("order", "stage", order(), "--json")
    if t.rc == 0:
        check_ticket(t.data)
        failed = [c["name"] for c in t.data["risk"]["checks"] if not c["passed"]]
        assert t.data["risk"]["passed"] is False and failed, t.data
        late("order", "confirm", t.data["ticket_id"], "--yes", "--json").error()
    else:
        t.error()
