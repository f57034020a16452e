"""Issue 3 §7 (and issue 4 §3): ``quote`` and ``chain`` for SPY, QQQ, IWM and VIX, and their errors."""

from __future__ import annotations

from datetime import date

from engine.core.clock import NY
from tests.acceptance.cli import AFTER_CUTOFF, WEDNESDAY, iso_with_offset, number

QUOTE_KEYS = {"symbol", "bid", "ask", "last", "bid_size", "ask_size", "ts", "source"}
CHAIN_KEYS = {"underlying", "expiry", "spot", "ts", "rows"}
ROW_KEYS = {"symbol", "strike", "right", "bid", "ask", "mid", "iv", "delta", "gamma", "theta", "vega", "volume",
            "open_interest"}


def check_quote(q: dict, symbol: str, session: date) -> None:
    assert set(q) == QUOTE_KEYS, q
    assert q["symbol"] == symbol
    for k in ("bid", "ask", "last", "bid_size", "ask_size"):
        assert number(q[k]), (k, q)
    assert 0 < q["bid"] <= q["ask"], q
    assert isinstance(q["source"], str) and q["source"]
    assert iso_with_offset(q["ts"]).astimezone(NY).date() == session


def check_chain(c: dict, underlying: str, expiry: str) -> None:
    assert set(c) == CHAIN_KEYS, set(c)
    assert c["underlying"] == underlying and c["expiry"] == expiry
    assert number(c["spot"]) and c["spot"] > 0
    iso_with_offset(c["ts"])
    rows = c["rows"]
    assert rows, c
    assert {r["right"] for r in rows} == {"call", "put"}
    yymmdd = date.fromisoformat(expiry).strftime("%y%m%d")
    for r in rows:
        assert set(r) == ROW_KEYS, set(r)
        assert r["symbol"].replace(" ", "")[-15:-9] == yymmdd, r["symbol"]
        for k in ("strike", "bid", "ask", "mid", "volume", "open_interest"):
            assert number(r[k]), (k, r)
        # issue 4 fills IV and Greeks locally: near the money they are numbers
        for k in ("iv", "delta", "gamma", "theta", "vega"):
            assert number(r[k]), (k, r)
        assert 0 <= r["bid"] <= r["ask"] and abs(r["mid"] - (r["bid"] + r["ask"]) / 2) < 1e-6
        assert (r["delta"] > 0) == (r["right"] == "call")
    strikes = sorted({r["strike"] for r in rows})
    assert strikes[0] <= c["spot"] <= strikes[-1]


def test_quotes_of_the_four_underlyings_options_and_errors(cli):
    spy, qqq, iwm, vix, compact, padded, unknown, bad_occ = cli.many(
        ("quote", "SPY", "--json"), ("quote", "QQQ", "--json"), ("quote", "IWM", "--json"),
        ("quote", "VIX", "--json"), ("quote", "SPY261120C00650000", "--json"),
        ("quote", "SPY   261120C00650000", "--json"), ("quote", "FOO", "--json"),
        ("quote", "SPY261320C00500000", "--json"))
    friday = date(2026, 11, 20)
    for res, sym in ((spy, "SPY"), (qqq, "QQQ"), (iwm, "IWM"), (vix, "VIX")):
        check_quote(res.ok(), sym, friday)
    ts = iso_with_offset(spy.data["ts"]).astimezone(NY)
    assert (ts.hour, ts.minute) == (10, 30), ts  # the pinned simulated instant
    # an option by its OCC symbol, compact and padded (21 characters)
    a, b = compact.ok(), padded.ok()
    check_quote(a, "SPY261120C00650000", friday)
    assert (b["bid"], b["ask"]) == (a["bid"], a["ask"])
    assert "FOO" in unknown.error()["message"]
    assert "SPY261320C00500000" in bad_occ.error()["message"]


def test_zero_dte_chains_on_friday(cli):
    spy, bad_date, unlisted, vix_0dte, unknown = cli.many(
        ("chain", "SPY", "--expiry", "0dte", "--strikes", "3", "--json"),
        ("chain", "SPY", "--expiry", "2026-13-01", "--json"),
        ("chain", "SPY", "--expiry", "2026-11-21", "--json"),  # a Saturday: nothing listed
        ("chain", "VIX", "--expiry", "0dte", "--json"),  # VIX is AM-settled on Wednesdays: no 0DTE on a Friday
        ("chain", "FOO", "--json"))
    s = spy.ok()
    check_chain(s, "SPY", "2026-11-20")
    assert len({r["strike"] for r in s["rows"]}) <= 2 * 3 + 1
    assert "2026-13-01" in bad_date.error()["message"]
    assert "2026-11-21" in unlisted.error()["message"]
    assert "VIX" in vix_0dte.error()["message"]
    assert "FOO" in unknown.error()["message"]


def test_wednesday_chains_and_after_the_cutoff(cli):
    wed, late_cli = cli.at(WEDNESDAY), cli.at(AFTER_CUTOFF)
    qqq, vix_listed, late = cli.many(
        None, None, None,
        other={0: (wed, ("chain", "QQQ", "--strikes", "2", "--json")),
               1: (wed, ("chain", "VIX", "--expiry", "2026-11-25", "--strikes", "2", "--json")),
               2: (late_cli, ("quote", "SPY", "--json"))})
    check_chain(qqq.ok(), "QQQ", "2026-11-18")
    v = vix_listed.ok()
    check_chain(v, "VIX", "2026-11-25")
    assert 5 < v["spot"] < 80
    q = late.ok()
    check_quote(q, "SPY", date(2026, 11, 20))
    ts = iso_with_offset(q["ts"]).astimezone(NY)
    assert (ts.hour, ts.minute) == (15, 55), ts
