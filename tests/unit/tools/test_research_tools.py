"""backtest, strategy_payoff, signals, tax_summary and audit_log through the registry."""

from __future__ import annotations

import pytest

from tools.registry import ToolInputError


async def test_strategy_payoff_of_an_iron_condor(registry, agent_ctx):
    out = await registry.call("strategy_payoff", {"strategy": "iron_condor", "underlying": "SPY",
                                                  "short_delta": 0.1, "wing_width": 5}, agent_ctx)
    assert out.net_premium < 0 and len(out.legs) == 4 and len(out.breakevens) == 2
    assert out.max_loss == pytest.approx(500 + out.net_premium * 100, abs=1.0)
    assert out.max_profit == pytest.approx(-out.net_premium * 100, abs=1.0)
    assert 10 <= len(out.curve) <= 81


async def test_backtest_on_synthetic_history(registry, agent_ctx):
    out = await registry.call("backtest", {"strategy": "iron_condor", "underlying": "SPY", "start": "2026-11-02",
                                           "end": "2026-11-06", "short_delta": 0.1, "wing_width": 5,
                                           "entry_time": "10:00", "data_source": "synthetic"}, agent_ctx)
    assert out.trades == 5 and out.source == "synthetic" and out.data == "modeled"
    assert len(out.equity_curve) == 5 and out.total_pnl is not None


async def test_backtest_without_data_says_so(registry, agent_ctx):
    with pytest.raises(Exception, match="no SPY minute bars"):
        await registry.call("backtest", {"strategy": "iron_condor", "underlying": "SPY", "start": "2026-11-02",
                                         "end": "2026-11-03", "data_source": "store"}, agent_ctx)


def test_backtest_dates_in_order(registry):
    with pytest.raises(ToolInputError, match="start"):
        registry.parse("backtest", {"strategy": "straddle", "underlying": "SPY", "start": "2026-02-01",
                                    "end": "2026-01-01"})


async def test_signals_are_typed(registry, agent_ctx):
    out = await registry.call("signals", {"underlying": "SPY"}, agent_ctx)
    assert out.signals
    for s in out.signals:
        assert s.underlying == "SPY" or s.kind == "regime"  # market-wide ones come along
        assert s.direction in ("long", "short", "neutral") and 0 <= s.strength <= 1 and s.ts.tzinfo


async def test_tax_summary_of_an_empty_year(registry, agent_ctx):
    out = await registry.call("tax_summary", {"year": 2026}, agent_ctx)
    assert out.year == 2026 and out.row_count == 0 and out.wash_sale_disallowed == 0


async def test_every_call_is_audited_with_args_outcome_and_actor(registry, agent_ctx, engine):
    await registry.call("quote", {"symbol": "IWM"}, agent_ctx)
    with pytest.raises(ToolInputError):
        await registry.call("quote", {"symbol": "NOPE"}, agent_ctx)
    out = await registry.call("audit_log", {"limit": 5}, agent_ctx)
    calls = [r for r in out.records if r.kind == "tool_call"]
    assert any(r.data["tool"] == "quote" and r.data["outcome"] == "ok" and r.data["args"] == {"symbol": "IWM"}
               for r in calls)
    assert any(r.data["outcome"].startswith("error") for r in calls)
    assert all("agent" in (r.actor or "") and "for alice" in r.actor for r in calls)  # the model and its user


@pytest.mark.slow
async def test_backtest_with_report_writes_html_and_png(registry, agent_ctx):
    out = await registry.call("backtest", {"strategy": "straddle", "underlying": "QQQ", "start": "2026-11-05",
                                           "end": "2026-11-06", "data_source": "synthetic", "report": True}, agent_ctx)
    assert out.report.endswith(".html") and out.png.endswith(".png")
    from pathlib import Path

    assert Path(out.report).stat().st_size > 1000 and Path(out.png).stat().st_size > 1000
