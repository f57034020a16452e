"""Parameters of the simulated market, loosely calibrated to real data.

Levels: SPY ~630, QQQ ~550, IWM ~220 (late-2025 territory), each a mean-reverting log level
around its target, so any year of the simulation looks like today's market. VIX is a
mean-reverting log process whose parameters come from the Cboe VIX history in
``../shared/data/vix/`` (1990–2023: AR(1) coefficient of daily log closes 0.98, residual sd
0.067, fat tails; long-run level ~17–18): see :func:`engine.market.sim.calibration.fit_vix`,
and the test that holds these constants to it.

Volatility links: an equity's daily realized vol is ``beta × rv_ratio × VIX/√252`` (realized
below implied: the variance risk premium), its ATM implied vol ``beta × iv_ratio × VIX``; VIX
shocks are negatively correlated with SPY's (``vix_spy_corr``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

EQUITIES = ("SPY", "QQQ", "IWM")
SYMBOLS = ("SPY", "QQQ", "IWM", "VIX")


@dataclass(frozen=True, slots=True)
class EquityParams:
    target: float           # level the log price mean-reverts to
    beta: float             # vol relative to SPY
    div_yield: float        # continuous dividend yield for option pricing
    daily_volume: float     # shares per session at VIX 17
    spread_ticks: float     # mean extra ticks of the stock's bid/ask beyond one cent
    lot_mean: float         # mean displayed size in 100-share lots
    option_spread: float    # option spread as a fraction of the option price (before widening)
    option_volume: float    # contracts per session of the 0DTE expiry


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: caches key on it
class SimParams:
    equities: dict[str, EquityParams] = field(default_factory=lambda: {
        "SPY": EquityParams(630.0, 1.00, 0.012, 60e6, 0.15, 8.0, 0.006, 3.0e6),
        "QQQ": EquityParams(550.0, 1.25, 0.006, 40e6, 0.20, 6.0, 0.008, 1.2e6),
        "IWM": EquityParams(220.0, 1.35, 0.011, 30e6, 0.25, 12.0, 0.012, 0.5e6),
    })
    correlation: float = 0.87          # pairwise correlation of SPY/QQQ/IWM returns
    level_half_life: float = 40.0      # sessions, mean reversion of equity log levels
    overnight_share: float = 0.2       # share of daily variance realized overnight (the gap)
    rv_ratio: float = 0.64             # SPY daily realized vol / (VIX/√252)
    iv_ratio: float = 0.80             # SPY ATM implied vol / VIX
    # VIX: log V = log(vix_mean) + y, y_t = vix_ar * y_{t-1} + vix_sd * e_t  (daily, closes)
    vix_mean: float = 16.5
    vix_ar: float = 0.975
    vix_sd: float = 0.060
    vix_spy_corr: float = -0.75
    vix_intraday_share: float = 0.8    # share of VIX daily variance realized in the session
    # jumps: daily crash / melt-up days and small intraday jumps
    crash_prob: float = 0.010
    crash_mean: float = -0.022
    crash_sd: float = 0.008
    crash_vix: float = 0.22            # VIX log jump on a crash day
    rally_prob: float = 0.006
    rally_mean: float = 0.013
    rally_sd: float = 0.004
    rally_vix: float = -0.08
    intraday_jumps: float = 0.6        # expected small jumps per session
    intraday_jump_sd: float = 0.0015   # SPY log size; VIX moves -6x, others × beta
    # option surface
    # IV / ATM IV = 1 - skew·z + smile·z² + smile3·z³, z = ln(K/F)/(ATM σ√T): a least-squares fit
    # to the OTM IVs of the 1- and 2-week expiries of the Cboe SPY chain of 2025-05-16
    skew: float = 0.145
    smile: float = 0.029
    smile3: float = 0.0068
    vix_vol: float = 0.85              # ATM vol of VIX options at ~1 month
    vix_skew: float = -0.20            # VIX call skew (negative slope = calls richer)
    rate: float = 0.043

    def beta(self, symbol: str) -> float:
        return self.equities[symbol].beta


DEFAULT_PARAMS = SimParams()


@lru_cache(maxsize=16)
def params_for(correlation: float | None = None) -> SimParams:
    """The default parameters with settings applied; one object per distinct setting (cache keys)."""
    if correlation is None or correlation == DEFAULT_PARAMS.correlation:
        return DEFAULT_PARAMS
    return replace(DEFAULT_PARAMS, correlation=float(correlation))
