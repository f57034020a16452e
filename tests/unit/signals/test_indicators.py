"""Signal generators on constructed paths; past data only."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from engine.core.clock import NY
from engine.signals import Signal
from engine.signals import indicators as ind

TS = datetime(2026, 11, 20, 11, 0, tzinfo=NY)


def path(drift: float, n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 500 * np.exp(np.cumsum(rng.normal(drift, 0.0005, n)))


def test_signal_type_clamps_and_needs_tz():
    s = Signal("x", "SPY", "long", 3.0, -1.0, ["r"], TS)
    assert s.strength == 1.0 and s.confidence == 0.0
    with pytest.raises(ValueError):
        Signal("x", "SPY", "long", 0.5, 0.5, [], datetime(2026, 11, 20, 11, 0))
    assert s.to_dict()["ts"].endswith("-05:00")


def test_opening_range_breakout():
    c = np.r_[np.full(30, 500.0), np.linspace(500, 503, 30)]
    hi, lo = np.r_[np.full(30, 501.0), c[30:] + 0.1], np.r_[np.full(30, 499.0), c[30:] - 0.1]
    s = ind.opening_range_breakout("SPY", TS, hi, lo, c)
    assert s.direction == "long" and s.strength == pytest.approx(1.0 / 1.0) and 0 < s.confidence <= 1
    assert ind.opening_range_breakout("SPY", TS, hi[:20], lo[:20], c[:20]) is None  # range not formed yet
    down = ind.opening_range_breakout("SPY", TS, hi, lo, 1000 - c)
    assert down.direction == "short"


def test_vwap_deviation_mean_reversion_direction():
    c = np.r_[np.full(100, 500.0) + np.sin(np.arange(100)) * 0.1, 503.0]
    s = ind.vwap_deviation("SPY", TS, c + 0.05, c - 0.05, c, np.full(c.size, 1000.0))
    assert s.direction == "short" and s.values["z"] > 2


def test_momentum_follows_the_trend():
    assert ind.momentum("SPY", TS, path(0.0004)).direction == "long"
    assert ind.momentum("SPY", TS, path(-0.0004)).direction == "short"
    assert ind.momentum("SPY", TS, path(0.0)[:20]) is None


def test_iv_rank_and_iv_rv():
    hist = np.linspace(0.10, 0.30, 100)
    assert ind.iv_rank("SPY", TS, 0.29, hist).direction == "short"
    low = ind.iv_rank("SPY", TS, 0.11, hist)
    assert low.direction == "long" and low.values["rank"] == pytest.approx(0.05)
    closes = 500 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.10 / np.sqrt(252 * 390), 400)))
    s = ind.iv_rv_spread("SPY", TS, 0.20, closes)
    assert s.direction == "short" and s.values["rv"] == pytest.approx(0.10, rel=0.15)


def test_vix_regimes():
    assert ind.vix_regime(TS, 12.0).values["vix"] == 12.0
    assert "low" in ind.vix_regime(TS, 12.0).reasons[0] and ind.vix_regime(TS, 12.0).direction == "long"
    assert "high" in ind.vix_regime(TS, 35.0).reasons[0] and ind.vix_regime(TS, 35.0).direction == "short"
    assert ind.vix_regime(TS, float("nan")) is None


def test_correlation_breakdown_detected():
    rng = np.random.default_rng(2)
    common = rng.normal(0, 0.001, 420)
    r = np.column_stack([common + rng.normal(0, 1e-4, 420) for _ in range(3)])
    r[-30:, 2] = rng.normal(0, 0.001, 30)  # IWM decouples in the last half hour
    closes = 100 * np.exp(np.cumsum(np.vstack([np.zeros(3), r]), axis=0))
    s = ind.correlation_breakdown(TS, ["SPY", "QQQ", "IWM"], closes)
    assert s.values["breakdown"] == 1.0 and s.values["baseline"] > 0.8
    calm = ind.correlation_breakdown(TS, ["SPY", "QQQ", "IWM"], closes[:-30])
    assert calm.values["breakdown"] == 0.0


def test_generators_see_only_what_they_are_given():
    c = path(0.0002, 200)
    a = ind.momentum("SPY", TS, c[:150])
    b = ind.momentum("SPY", TS, np.r_[c[:150], c[150:] * 0.5][:150])
    assert a == b
