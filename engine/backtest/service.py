"""``BacktestService``: the backtester's public face (runs, payoffs, sweeps).

``BacktestService(settings, market=)``::

    result = await svc.run(BacktestParams(strategy="iron_condor", start=..., end=...))
    result.to_dict()        # the CLI's JSON (strategy, underlying, start, end, data, trades, ...)
    p = await svc.payoff(PayoffParams(strategy="iron_condor", underlying="SPY"))   # on the live chain
    ranked = svc.sweep(base_params, {"short_delta": [...], "wing_width": [...]}, metric="sharpe")

``run_sync(params, history=None)`` runs in the calling thread (``run`` moves it to a worker
thread so an event loop stays responsive); passing ``history`` skips loading (sweeps, tests).
"""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

from engine.backtest.calibration import calibrate_file
from engine.backtest.data import History, load_store, load_synthetic
from engine.backtest.engine import DayContext, DayEngine, DayResult, Trade, TradePlan
from engine.backtest.fills import BacktestFiller
from engine.backtest.filters import entry_filter
from engine.backtest.metrics import Metrics, compute, curve_points, equity_curve
from engine.backtest.params import BacktestParams, PayoffParams, StructurePlan
from engine.backtest.pricing import VOL_RATIO_TO_VIX, MarketModel
from engine.backtest.progress import progress_bar
from engine.core.errors import NoData, Smart0DTEError

TUE_THU_EXPIRIES = date(2022, 11, 14)  # SPY/QQQ dailies completed (Tuesday and Thursday added)


@dataclass
class BacktestResult:
    """Everything a run produced; :meth:`to_dict` is the CLI/tool JSON."""

    strategy: str
    underlying: str
    start: date
    end: date
    data: str  # "quoted" | "modeled"
    source: str  # "store" | "synthetic"
    capital: float
    days: list[date]
    daily_pnl: list[float]
    equity: list[float]
    trades: list[Trade]
    metrics: Metrics
    iv_sources: list[str]
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    report: Path | None = None
    png: Path | None = None
    png_error: str | None = None
    # flat copies of the headline numbers, for consumers that read fields rather than to_dict()
    total_pnl: float = field(default=0.0, init=False)
    win_rate: float | None = field(default=None, init=False)
    profit_factor: float | None = field(default=None, init=False)
    max_drawdown: float = field(default=0.0, init=False)
    sharpe: float | None = field(default=None, init=False)
    sortino: float | None = field(default=None, init=False)
    expectancy: float | None = field(default=None, init=False)
    avg_win: float | None = field(default=None, init=False)
    avg_loss: float | None = field(default=None, init=False)
    equity_curve: list[dict] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        m = self.metrics
        for name in ("win_rate", "profit_factor", "sharpe", "sortino", "expectancy", "avg_win", "avg_loss"):
            setattr(self, name, getattr(m, name))
        self.total_pnl, self.max_drawdown = round(m.total_pnl, 2), round(m.max_drawdown, 2)
        self.equity_curve = curve_points(self.days, np.asarray(self.equity))

    def to_dict(self, *, with_trades: bool = True) -> dict:
        m = self.metrics
        out = {
            "strategy": self.strategy, "underlying": self.underlying, "start": self.start.isoformat(),
            "end": self.end.isoformat(), "data": self.data, "trades": m.trades,
            "total_pnl": self.total_pnl, "win_rate": m.win_rate, "profit_factor": m.profit_factor,
            "max_drawdown": self.max_drawdown, "sharpe": m.sharpe, "equity_curve": self.equity_curve,
            "report": None if self.report is None else str(self.report),
            # beyond the contract: the rest of the statistics and the trades table
            "source": self.source, "sessions": len(self.days), "metrics": m.to_dict(),
            "iv_source": sorted(set(self.iv_sources)), "png": None if self.png is None else str(self.png),
            "png_error": self.png_error, "skipped": len(self.skipped), "notes": self.notes,
            "daily_pnl": [{"date": d.isoformat(), "pnl": p} for d, p in zip(self.days, self.daily_pnl, strict=True)],
        }
        if with_trades:
            out["trades_table"] = [trade_row(t) for t in self.trades]
        return out


def trade_row(t: Trade) -> dict:
    return {"day": t.day.isoformat(), "strategy": t.label, "legs": t.legs, "quantity": t.quantity,
            "entry_time": t.entry_time, "exit_time": t.exit_time, "entry_spot": round(t.entry_spot, 2),
            "exit_spot": round(t.exit_spot, 2), "entry_price": t.entry_price, "exit_price": t.exit_price,
            "fees": t.fees, "pnl": t.pnl, "exit_reason": t.exit_reason, "max_loss": t.max_loss}


def _plan(p: StructurePlan, settlement: str, label: str) -> TradePlan:
    return TradePlan(spec=p.spec(), entry=p.entry, exit=p.exit, take_profit=p.take_profit, stop_loss=p.stop_loss,
                     quantity=p.quantity, risk_per_trade=p.risk_per_trade, settlement=settlement,
                     entry_filter=entry_filter(p.entry_filter), label=label)


class BacktestService:
    """See module doc."""

    def __init__(self, settings, market=None) -> None:
        self.settings = settings
        self.market = market
        self.config = settings.backtest

    # --- building blocks ----------------------------------------------------------------------
    def market_model(self, underlying: str = "SPY") -> MarketModel:
        """The modeled market for ``underlying``: VIX is S&P 500 vol, so QQQ and IWM scale it by
        :data:`~engine.backtest.pricing.VOL_RATIO_TO_VIX` (used only when VIX drives the IV)."""
        c = self.config
        kw = {}
        if c.skew_chain is not None:
            kw["skew"], kw["spread"] = calibrate_file(c.skew_chain)
        ratio = VOL_RATIO_TO_VIX.get(underlying.upper(), 1.0)
        return MarketModel(rate=self.settings.risk_free_rate, vix_scale=c.vix_scale * ratio,
                           rv_premium=c.rv_premium, fallback_iv=c.fallback_iv, strike_step=c.strike_step, **kw)

    def load_history(self, params: BacktestParams) -> History:
        source = params.source or self.config.source
        if source == "synthetic":
            seed = params.seed if params.seed is not None else self.config.synthetic_seed
            return load_synthetic(params.underlying, params.start, params.end, seed)
        return load_store(self.settings, params.underlying, params.start, params.end)

    def plans(self, params: BacktestParams) -> list[TradePlan]:
        settlement = params.settlement or self.config.settlement
        main = _plan(params, settlement, params.strategy)
        return [main] + [_plan(p, settlement, f"{p.strategy}#{i + 2}") for i, p in enumerate(params.also)]

    # --- runs ---------------------------------------------------------------------------------
    async def run(self, params: BacktestParams | dict) -> BacktestResult:
        params = BacktestParams.coerce(params)
        if (params.source or self.config.source) == "store" and self.market is not None \
                and self.settings.feed == "polygon":
            await self.backfill(params.underlying, params.start, params.end)
        return await asyncio.to_thread(self.run_sync, params)

    async def backfill(self, underlying: str, start: date, end: date) -> int:
        """Fetch the sessions the bar store lacks (underlying and VIX) from the market's history
        (Polygon minute aggregates when a key is set) into the store; returns bars written."""
        from engine.backtest.data import sessions_in
        from engine.market import calendar
        from engine.market.bars import BarStore

        store = BarStore(self.settings)
        written = 0
        for symbol in (underlying.upper(), "VIX"):
            have = set(store.days(symbol))
            for day in sessions_in(start, end):
                if day in have:
                    continue
                try:
                    bars = await self.market.bars(symbol, calendar.session_open(day), calendar.session_close(day))
                except Smart0DTEError:
                    continue  # the source has no such history (e.g. VIX on a plan without indices)
                if bars:
                    written += store.write_bars(bars)
        return written

    def run_sync(self, params: BacktestParams | dict, history: History | None = None) -> BacktestResult:
        params = BacktestParams.coerce(params)
        history = history if history is not None else self.load_history(params)
        weekdays = self.config.expiry_weekday_numbers()
        in_range = [s for s in history.sessions if params.start <= s.day <= params.end]
        sessions = [s for s in in_range if s.day.weekday() in weekdays or s.day in history.recorded]
        if not sessions:
            raise NoData(f"no {params.underlying} sessions with a same-day expiry between {params.start} and "
                         f"{params.end}" + (f" (expiry weekdays: {self.config.expiry_weekdays})" if in_range else ""))
        engine = DayEngine(history.symbol, self.market_model(history.symbol),
                           BacktestFiller(self.settings.fills, displayed_size=self.config.modeled_size),
                           intrabar_stops=self.config.intrabar_stops)
        plans = self.plans(params)
        capital = params.capital or self.config.capital
        with single_numba_thread():
            days = self._play(engine, plans, history, sessions, capital, params)
        return self._result(params, history, days, capital)

    def _play(self, engine: DayEngine, plans: list[TradePlan], history: History, sessions, capital: float,
              params: BacktestParams) -> list[DayResult]:
        by_day = {s.day: i for i, s in enumerate(history.sessions)}
        out: list[DayResult] = []
        equity = capital
        show = params.progress if params.progress is not None else (self.config.progress and len(sessions) > 20)
        with progress_bar(len(sessions), "backtest", enabled=show) as tick:
            for s in sessions:
                i = by_day[s.day]
                prev = history.sessions[i - 1] if i > 0 else None
                nxt = history.sessions[i + 1] if i + 1 < len(history.sessions) else None
                ctx = DayContext(prev=prev, next_open=None if nxt is None else float(nxt.open[0]), equity=equity,
                                 recorded=history.recorded.get(s.day))
                day = engine.run(s, plans, ctx)
                equity += float(sum(t.pnl for t in day.trades))
                out.append(tick(day))
        return out

    def _result(self, params: BacktestParams, history: History, days: list[DayResult], capital: float) -> BacktestResult:
        trades = [t for d in days for t in d.trades]
        daily = np.array([float(sum((t.pnl for t in d.trades), Decimal(0))) for d in days])
        metrics = compute(np.array([float(t.pnl) for t in trades]), daily, capital,
                          float(sum(d.minutes_in_market for d in days)), float(sum(d.minutes for d in days)))
        notes = list(history.notes)
        if history.source == "store" and params.start < TUE_THU_EXPIRIES \
                and {1, 3} & self.config.expiry_weekday_numbers():
            notes.append(f"{params.underlying} listed no Tuesday/Thursday expiries before November 2022: for "
                         "earlier years set SMART0DTE_BACKTEST__EXPIRY_WEEKDAYS=mon,wed,fri")
        quoted = sum(1 for d in days if d.iv_source == "recorded")
        data = "quoted" if days and quoted == len(days) else "modeled"
        if 0 < quoted < len(days):
            notes.append(f"{quoted} of {len(days)} sessions priced from recorded option prices, the rest modeled")
        if not history.has_vix and quoted < len(days):
            notes.append("no VIX minute bars: ATM IV from the previous session's realized vol")
        res = BacktestResult(
            strategy=params.strategy, underlying=params.underlying, start=params.start, end=params.end,
            data=data, source=history.source, capital=capital, days=[d.day for d in days],
            daily_pnl=daily.round(2).tolist(), equity=equity_curve(capital, daily).round(2).tolist(), trades=trades,
            metrics=metrics, iv_sources=[d.iv_source for d in days], skipped=[x for d in days for x in d.skipped],
            notes=notes)
        if params.report:
            self._write_report(res, params)
        return res

    def _write_report(self, res: BacktestResult, params: BacktestParams) -> None:
        from engine.backtest.report import PngExportError, build_figure, write_html, write_png

        key = hashlib.sha256(params.model_dump_json(exclude={"png", "progress"}).encode()).hexdigest()[:10]
        base = self.settings.path("reports", "backtest", f"{params.underlying}-{params.strategy}-"
                                  f"{params.start}-{params.end}-{key}.html")
        res.report = write_html(res, base)
        if self.config.png if params.png is None else params.png:
            try:
                res.png = write_png(build_figure(res), base.with_suffix(".png"), self.config.browser_path)
            except PngExportError as err:
                res.png_error = str(err)

    # --- payoff on the live chain -------------------------------------------------------------
    async def payoff(self, params: PayoffParams | dict):
        """The structure on the current chain at mid prices: a :class:`~engine.strategies.Payoff`.

        Calendars read a second chain (``far_expiry``, default the next listed expiry) for the long
        leg, valued at the near expiry with that chain's IV at its strike.
        """
        from engine.strategies import ChainView, build, payoff

        params = PayoffParams.coerce(params)
        if self.market is None:
            raise NoData("no market service to read the current chain from")
        chain = await self.market.chain(params.underlying, params.expiry)
        chains = {chain.expiry: chain}
        far = params.far_expiry
        if params.strategy == "calendar":
            if far is None:
                later = [d for d in await self.market.expirations(params.underlying) if d > chain.expiry]
                if not later:
                    raise NoData(f"no {params.underlying} expiry after {chain.expiry} for the calendar's long leg")
                far = later[0]
            chains[far] = await self.market.chain(params.underlying, far)
        structure = build(params.spec(), ChainView.from_chain(chain, far_expiry=far))
        mids, far_vol = [], 0.0
        for leg in structure.legs:
            ch = chains[leg.expiry or chain.expiry]
            side = ch.calls if leg.is_call else ch.puts
            idx = ch.by_strike(leg.right, leg.strike)
            mids.append(float(side.mid[idx]))
            if ch is not chain:
                far_vol = float(side.iv[idx])
        return payoff(structure, np.array(mids), quantity=params.quantity, spot=float(chain.spot),
                      far_vol=far_vol if far_vol > 0 else 0.2, rate=self.settings.risk_free_rate)

    # --- sweeps -------------------------------------------------------------------------------
    def sweep(self, base: BacktestParams, grid: dict[str, list], *, metric: str = "sharpe",
              backend: str | None = None, workers: int | None = None, top: int | None = None):
        """Grid search ranked by ``metric``; see :func:`engine.backtest.sweep.run_sweep`."""
        from engine.backtest.sweep import run_sweep, validate

        validate(base, grid, metric)
        history = self.load_history(base)
        return run_sweep(self, base, grid, history, metric=metric, backend=backend or self.config.sweep_backend,
                         workers=workers or self.config.sweep_workers, top=top)


@contextmanager
def single_numba_thread():
    """Run the option kernels on one thread (numba's setting is per calling thread, restored after).

    A backtest makes hundreds of mid-sized pricing calls (a day's chain: ~25k options); measured on
    this 2-core machine, handing each to a thread pool costs more than it saves (wall 2-5x slower
    under load), and sweeps already use every core through processes.
    """
    try:
        import numba
    except ImportError:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)
