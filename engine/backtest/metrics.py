"""Performance statistics of a backtest (numpy over the per-session P&L and the trades).

Conventions a trader expects:

- the equity curve is starting capital plus cumulative per-session P&L (every session of the
  range counts, with 0 on days without a trade, so flat days dilute Sharpe as they should);
- **Sharpe** and **Sortino** are daily, annualized by √252, on daily returns = P&L / equity at the
  start of the day, with no risk-free deduction (a 0DTE book holds no capital overnight);
  Sortino's downside deviation is the root mean square of the negative returns over ALL days;
- **max drawdown** is the largest peak-to-trough fall of the equity curve, in dollars (positive)
  and as a share of the peak;
- **profit factor** = gross profit / gross loss (``None`` when there is no losing trade);
  **expectancy** = mean P&L per trade; **exposure** = share of session minutes with a position on.
Undefined statistics are ``None`` (never NaN/inf in JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

ANNUAL = np.sqrt(252.0)


@dataclass(frozen=True)
class Metrics:
    trades: int
    total_pnl: float
    win_rate: float | None
    avg_win: float | None
    avg_loss: float | None
    profit_factor: float | None
    expectancy: float | None
    max_drawdown: float
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    exposure: float
    best_day: float | None
    worst_day: float | None

    def to_dict(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _mean(x: np.ndarray) -> float | None:
    return float(x.mean()) if x.size else None


def equity_curve(capital: float, daily_pnl: np.ndarray) -> np.ndarray:
    return capital + np.cumsum(np.asarray(daily_pnl, dtype=float))


def drawdown(equity: np.ndarray, capital: float) -> tuple[np.ndarray, np.ndarray]:
    """Dollar drawdown (≤ 0) and drawdown share of the running peak, per point of ``equity``."""
    peak = np.maximum.accumulate(np.concatenate([[capital], equity]))[1:]
    dd = equity - peak
    return dd, np.where(peak > 0, dd / peak, 0.0)


def compute(trade_pnl: np.ndarray, daily_pnl: np.ndarray, capital: float,
            minutes_in_market: float = 0.0, minutes_total: float = 0.0) -> Metrics:
    """All statistics from per-trade and per-session P&L (dollars, after fees)."""
    t = np.asarray(trade_pnl, dtype=float)
    d = np.asarray(daily_pnl, dtype=float)
    wins, losses = t[t > 0], t[t < 0]
    eq = equity_curve(capital, d)
    dd, ddp = drawdown(eq, capital) if d.size else (np.zeros(1), np.zeros(1))
    start_eq = np.concatenate([[capital], eq[:-1]]) if d.size else np.array([capital])
    rets = d / start_eq if d.size else np.zeros(0)
    sharpe = sortino = None
    if rets.size >= 2:
        sd = rets.std(ddof=1)
        sharpe = float(rets.mean() / sd * ANNUAL) if sd > 0 else None
        down = np.sqrt(np.mean(np.minimum(rets, 0.0) ** 2))
        sortino = float(rets.mean() / down * ANNUAL) if down > 0 else None
    gross_loss = -losses.sum()
    return Metrics(
        trades=int(t.size), total_pnl=float(t.sum()) if t.size else 0.0,
        win_rate=float(wins.size / t.size) if t.size else None,
        avg_win=_mean(wins), avg_loss=_mean(losses),
        profit_factor=float(wins.sum() / gross_loss) if gross_loss > 0 else None,
        expectancy=_mean(t), max_drawdown=abs(float(dd.min())), max_drawdown_pct=abs(float(ddp.min())),
        sharpe=sharpe, sortino=sortino,
        exposure=float(minutes_in_market / minutes_total) if minutes_total else 0.0,
        best_day=float(d.max()) if d.size else None, worst_day=float(d.min()) if d.size else None)


def curve_points(days: list[date], equity: np.ndarray) -> list[dict]:
    return [{"date": day.isoformat(), "equity": round(float(e), 2)} for day, e in zip(days, equity, strict=True)]
