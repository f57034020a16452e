"""Tool results rendered for people: tables with the trader's columns, figures with the right data."""

from __future__ import annotations

from agent.ui import charts, render

CHAIN = {"underlying": "SPY", "expiry": "2026-11-20", "spot": 649.95, "atm_strike": 650.0, "source": "sim",
         "ts": "2026-11-20T10:30:00-05:00",
         "rows": [{"symbol": "C650", "strike": 650.0, "right": "call", "bid": 1.52, "ask": 1.53, "iv": 0.2376, "delta": 0.497},
                  {"symbol": "P650", "strike": 650.0, "right": "put", "bid": 1.56, "ask": 1.57, "iv": 0.238, "delta": -0.503},
                  {"symbol": "C651", "strike": 651.0, "right": "call", "bid": 1.03, "ask": 1.05, "iv": 0.23, "delta": 0.39}]}


def test_chain_table_has_bid_ask_iv_delta_per_strike():
    md = render.chain(CHAIN)
    lines = md.splitlines()
    assert "| Call bid | Call ask | Call IV | Call Δ | Strike | Put bid | Put ask | Put IV | Put Δ |" in lines
    assert "| 1.52 | 1.53 | 23.8% | 0.50 | **650.00** | 1.56 | 1.57 | 23.8% | -0.50 |" in lines
    assert "| 1.03 | 1.05 | 23.0% | 0.39 | 651.00 | – | – | – | – |" in lines


def test_order_ticket_shows_every_part_of_the_preview():
    out = {"ticket_id": "TABC", "ledger": "paper", "expires_at": "2026-11-25T19:49:46.3Z",
           "preview": {"legs": [{"side": "sell", "quantity": 1, "symbol": "SPY261120P00646000", "right": "put",
                                 "strike": 646.0, "bid": 0.47, "ask": 0.48}],
                       "net_price": -0.73, "price_effect": "credit", "max_profit": 73.0, "max_loss": 427.0,
                       "breakevens": [645.27, 653.73], "fees": 2.38},
           "risk": {"passed": False, "checks": [{"name": "kill_switch", "passed": True, "reason": "active"},
                                                {"name": "price_collar", "passed": False, "reason": "too far | off"}]}}
    md = render.order_ticket(out)
    assert "**PAPER ticket `TABC`**" in md and "2026-11-25 19:49:46 UTC" in md
    assert "| 0.73 credit | $73.00 | $427.00 | 645.27, 653.73 | $2.38 |" in md
    assert "| price_collar | **FAIL** | too far \\| off |" in md
    assert "| kill_switch | pass | active |" in md


def test_errors_are_one_clear_line_and_unknown_shapes_still_show_data():
    assert render.tool_markdown("chain", None, {"type": "invalid_input", "message": "bad strike", "field": "strike"}) \
        == "**Error:** bad strike (field: strike)"
    md = render.tool_markdown("chain", {"rows": "not a list"})  # a renderer failing falls back to the data
    assert "not a list" in md
    assert "| symbol | SPY |" in render.generic({"symbol": "SPY", "nested": {"a": 1}})


def test_money_signs_and_backtest_metrics():
    assert render.money(-427) == "-$427.00" and render.money(12.5) == "+$12.50" and render.money(None) == "–"
    md = render.backtest({"strategy": "iron_condor", "underlying": "SPY", "start": "2026-10-21", "end": "2026-11-20",
                          "data": "modeled", "trades": 23, "total_pnl": -385.35, "win_rate": 0.783,
                          "profit_factor": 0.43, "max_drawdown": 496.82, "sharpe": -3.42, "notes": ["synthetic"]})
    assert "| Total P&L | -$385.35 |" in md and "| Win rate | 78.3% |" in md and "| Max drawdown | $496.82 |" in md
    assert "- synthetic" in md


def test_equity_curve_with_drawdown():
    fig = charts.equity_curve({"strategy": "ic", "underlying": "SPY", "equity_curve": [
        {"date": "2026-11-02", "equity": 50.0}, {"date": "2026-11-03", "equity": 120.0},
        {"date": "2026-11-04", "equity": -30.0}]})
    equity, drawdown = fig.data
    assert list(equity.y) == [50.0, 120.0, -30.0]
    assert list(drawdown.y) == [0.0, 0.0, -150.0]
    assert charts.equity_curve({"equity_curve": []}) is None


def test_payoff_marks_spot_and_breakevens():
    fig = charts.payoff({"strategy": "ic", "underlying": "SPY", "spot": 650.0, "breakevens": [645.27, 653.73],
                         "curve": [{"spot": 640.0, "pnl": -427.0}, {"spot": 650.0, "pnl": 73.0},
                                   {"spot": 660.0, "pnl": -427.0}]})
    assert list(fig.data[-1].y) == [-427.0, 73.0, -427.0]
    assert sorted(s.x0 for s in fig.layout.shapes) == [645.27, 650.0, 653.73]


def test_scenario_heatmap_axes_and_symmetric_colours():
    fig = charts.scenario_heatmap({"spot_moves_pct": [-1.0, 0.0, 1.0], "vol_moves_pts": [-5.0, 0.0, 5.0],
                                   "pnl": [[-300, 10, -200], [-250, 0, -150], [-100, 20, -90]]})
    hm = fig.data[0]
    assert list(hm.x) == ["-1.0%", "+0.0%", "+1.0%"] and list(hm.y) == ["-5 vol", "+0 vol", "+5 vol"]
    assert hm.zmin == -300 and hm.zmax == 300
    assert charts.scenario_heatmap({"pnl": []}) is None
