"""The minute-level, day-by-day 0DTE engine.

For each session: the whole option chain is priced for every minute at once
(:func:`engine.backtest.pricing.chain_mids`, a (minutes × strikes) array), then each
:class:`TradePlan` is played on it:

1. **Entry** at the first bar whose END is at or after ``entry`` (10:00 → the 09:59 bar, whose
   close is the 10:00 price). Strikes are picked by delta (or offset/width) from the chain AT that
   minute; an optional entry filter sees only bars up to that minute. The structure is bought or
   sold as one market order through the shared fill model (far side, impact) with IB fees.
2. **Exits**, checked on each later minute at the executable (natural) closing price:
   take-profit when P&L ≥ ``take_profit`` × |entry premium| at the minute's close, stop-loss when
   P&L ≤ −``stop_loss`` × |entry premium| (% of credit received or debit paid) at the close or —
   modeled prices only — at the bar's high or low (then filled at that extreme's quotes: the
   adverse move is assumed first); otherwise the time exit
   at ``exit``; with no ``exit`` the structure is held to expiry and settled (cash: intrinsic;
   physical: exercise-by-exception at $0.01 ITM, net shares sold at the next session's open).
3. **No look-ahead**: a decision at bar ``i`` reads arrays ``[: i + 1]`` only; the chain at
   minute ``i`` depends on bars ``≤ i`` and the session open; the strike list is centered on the
   session open. A test perturbs later bars and checks earlier decisions do not move.

Everything is deterministic: no randomness beyond the synthetic data's seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, time
from decimal import Decimal

import numpy as np

from engine.backtest.data import RecordedChain, SessionBars
from engine.backtest.fills import BacktestFiller, Execution
from engine.backtest.pricing import (
    MINUTES_PER_YEAR,
    MarketModel,
    atm_iv_path,
    chain_mids,
    deltas,
    listed_strikes,
    model_quotes,
    realized_vol,
    years_to_close,
)
from engine.core.money import MULTIPLIER, cents
from engine.strategies.builders import ChainView, StrategySpec, build
from engine.strategies.legs import Structure

ITM_THRESHOLD = 0.01  # OCC exercise by exception: 1 cent in the money at expiry


@dataclass(frozen=True)
class TradePlan:
    """One structure traded at most once per session."""

    spec: StrategySpec
    entry: time = time(10, 0)
    exit: time | None = time(15, 50)  # None: hold to expiry
    take_profit: float | None = 0.5
    stop_loss: float | None = 2.0
    quantity: int = 1
    risk_per_trade: float | None = None  # share of equity at risk (max loss); overrides quantity
    settlement: str = "physical"
    entry_filter: Callable[[SessionBars, int], bool] | None = None
    label: str = ""


@dataclass(frozen=True)
class Trade:
    """One round trip (money in Decimal dollars; prices per share)."""

    day: date
    label: str
    strategy: str
    legs: list[dict]
    quantity: int
    entry_time: str
    exit_time: str
    entry_spot: float
    exit_spot: float
    entry_price: Decimal  # signed net per share: + debit, − credit
    exit_price: Decimal  # per share value received (+) or paid (−) to close/settle
    fees: Decimal
    pnl: Decimal  # after fees
    exit_reason: str
    max_loss: Decimal | None
    minutes_held: int

    @property
    def credit(self) -> bool:
        return self.entry_price < 0


@dataclass
class DayResult:
    day: date
    trades: list[Trade] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    minutes_in_market: int = 0
    minutes: int = 0
    iv_source: str = ""


@dataclass
class DayContext:
    """What a session may know of the past: the previous session (for IV fallback, settlement)."""

    prev: SessionBars | None = None
    next_open: float | None = None  # the next session's opening price (physical settlement only)
    equity: float = 100_000.0
    recorded: RecordedChain | None = None  # recorded option prices of this session ("quoted")


def _hhmm(t: time) -> tuple[int, int]:
    return t.hour, t.minute


def _leg_matrix(structure: Structure, call_mid: np.ndarray, put_mid: np.ndarray, strikes: np.ndarray,
                far: tuple | None = None) -> np.ndarray:
    """(minutes × legs) mids. Legs expiring after today (calendars) are priced at their own T.

    ``far`` = (spot, T_today, atm, model, extra_minutes): the far leg's T is today's T plus the
    calendar minutes from today's close to its expiry moment; same ATM vol (flat term structure).
    """
    cols = np.searchsorted(strikes, structure.strikes)
    mids = np.where(structure.is_call[None, :], call_mid[:, cols], put_mid[:, cols])
    if far is not None:
        spot, T, atm, model, extra = far
        front = structure.front_expiry
        for j, leg in enumerate(structure.legs):
            if leg.expiry is not None and leg.expiry > front:
                c, p = chain_mids(spot, np.array([leg.strike]), T + extra / MINUTES_PER_YEAR, atm, model)
                mids[:, j] = (c if leg.is_call else p)[:, 0]
    return mids


def recorded_deltas(spot: float, strikes: np.ndarray, call: np.ndarray, put: np.ndarray, T: float,
                    rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strikes priced on both sides at this minute, with deltas from their implied vols."""
    from engine.options import bsm_greeks, implied_vol

    ok = np.isfinite(call) & np.isfinite(put) & (call > 0) & (put > 0)
    k = strikes[ok]
    iv_c = implied_vol(call[ok], True, spot, k, T, rate, 0.0)
    iv_p = implied_vol(put[ok], False, spot, k, T, rate, 0.0)
    # the out-of-the-money side carries the information; use it for both rights
    iv = np.where(k >= spot, np.where(np.isfinite(iv_c), iv_c, iv_p), np.where(np.isfinite(iv_p), iv_p, iv_c))
    dc = bsm_greeks(True, spot, k, T, rate, 0.0, iv)["delta"]
    dp = bsm_greeks(False, spot, k, T, rate, 0.0, iv)["delta"]
    return k, dc, dp


def _subset(structure: Structure, mask: np.ndarray) -> Structure:
    return replace(structure, legs=tuple(leg for leg, k in zip(structure.legs, mask, strict=True) if k))


class DayEngine:
    """Plays :class:`TradePlan` s on sessions (see module doc)."""

    def __init__(self, symbol: str, model: MarketModel, filler: BacktestFiller, *, intrabar_stops: bool = True) -> None:
        self.symbol = symbol
        self.model = model
        self.filler = filler
        self.intrabar_stops = intrabar_stops

    def run(self, s: SessionBars, plans: list[TradePlan], ctx: DayContext) -> DayResult:
        res = DayResult(s.day, minutes=len(s))
        n = len(s)
        past_rv = realized_vol(ctx.prev.close) if ctx.prev is not None else None
        vix_before = None
        if ctx.prev is not None and ctx.prev.vix is not None and np.isfinite(ctx.prev.vix).any():
            vix_before = float(ctx.prev.vix[np.isfinite(ctx.prev.vix)][-1])
        atm, res.iv_source = atm_iv_path(n, self.model, s.vix, vix_before, past_rv)
        T = years_to_close(s.minutes_to_close)
        if ctx.recorded is not None:
            strikes, call_mid, put_mid = ctx.recorded.strikes, ctx.recorded.call, ctx.recorded.put
            res.iv_source = "recorded"
        else:
            pad = max(p.spec.width for p in plans) + self.model.strike_step
            strikes = listed_strikes(float(s.open[0]), self.model, pad)
            call_mid, put_mid = chain_mids(s.close, strikes, T, atm, self.model)  # the chain, every minute
        on = np.zeros(n, dtype=bool)  # minutes with at least one structure on (exposure)
        for plan in plans:
            trade, why = self._play(s, plan, ctx, strikes, T, atm, call_mid, put_mid)
            if trade is None:
                res.skipped.append(f"{s.day} {plan.label or plan.spec.name}: {why}")
            else:
                res.trades.append(trade)
                first = s.index_at((int(trade.entry_time[:2]), int(trade.entry_time[3:])))
                on[first: first + trade.minutes_held] = True
        res.minutes_in_market = int(on.sum())
        return res

    # --- one structure on one session ---------------------------------------------------------
    def _play(self, s: SessionBars, plan: TradePlan, ctx: DayContext, strikes, T, atm, call_mid, put_mid):
        ie = s.index_at(_hhmm(plan.entry))
        if ie is None or T[ie] <= 0:
            return None, f"no bar at the entry time {plan.entry:%H:%M}"
        if plan.entry_filter is not None and not plan.entry_filter(s, ie):
            return None, "entry filter said no"
        spot = float(s.close[ie])
        if ctx.recorded is not None:
            listed, dc, dp = recorded_deltas(spot, strikes, call_mid[ie], put_mid[ie], float(T[ie]), self.model.rate)
            if listed.size < 2:
                return None, "fewer than two strikes with recorded prices at entry"
        else:
            listed = strikes
            dc, dp = deltas(spot, strikes, float(T[ie]), float(atm[ie]), self.model)
        far = None
        far_day = None
        if plan.spec.name == "calendar":
            from engine.market.calendar import next_session
            from engine.options.expiry import expiry_moment

            far_day = next_session(s.day)
            extra = (expiry_moment(far_day) - expiry_moment(s.day)).total_seconds() / 60.0
            far = (s.close, T, atm, self.model, extra)
        view = ChainView(self.symbol, spot, listed, dc, dp, expiry=s.day, far_expiry=far_day)
        structure = build(plan.spec, view)
        mids = _leg_matrix(structure, call_mid, put_mid, strikes, far)
        bid, ask = model_quotes(mids, self.model.spread)
        qty = self._quantity(plan, structure, mids[ie], spot, ctx.equity)
        if qty < 1:
            return None, "position size below one contract at this equity and risk"
        opened = self.filler.fill(structure, qty, bid[ie], ask[ie])
        if opened is None:
            return None, "a leg had no bid to sell into at entry"
        ix = self._exit_index(s, plan)
        last = len(s) - 1
        if ix is not None:
            last = min(max(ix, ie), last)
        stress = []
        if self.intrabar_stops and plan.stop_loss is not None and ctx.recorded is None:
            stress = [model_quotes(self._leg_mids(structure, path, T, atm, far), self.model.spread)
                      for path in (s.high, s.low)]
        exit_i, reason, quotes = self._first_trigger(plan, structure, opened, (bid, ask), stress, ie, last)
        if exit_i is None and ((ix is not None and T[last] > 0) or structure.is_calendar):
            exit_i, reason, quotes = last, "time", (bid, ask)  # a calendar's far leg is sold by the close
        if exit_i is not None:
            qb, qa = quotes
            done = self._close(s, plan, structure, opened, ie, exit_i, qb[exit_i], qa[exit_i], reason, ctx)
            if done is not None:
                return done, ""
        return self._settle(s, plan, structure, opened, ie, ctx), ""

    def _close(self, s: SessionBars, plan: TradePlan, structure: Structure, opened: Execution, ie: int,
               exit_i: int, bid: np.ndarray, ask: np.ndarray, reason: str, ctx: DayContext) -> Trade | None:
        """Close at minute ``exit_i``. Long legs nobody bids for (worthless wings) are left to
        expire, as a trader would, and settle with the day; shorts are always bought back."""
        q = structure.qty
        keep = ~((q > 0) & (bid <= 0))
        if not keep.any():
            return None
        part = structure if keep.all() else _subset(structure, keep)
        closed = self.filler.fill(part, opened.quantity, bid[keep], ask[keep], closing=True)
        if closed is None:
            return None
        value = -closed.net
        fees = closed.fees
        if not keep.all():
            left = _subset(structure, ~keep)
            value += self._settlement_value(s, plan, left, opened.quantity, ctx)[0]
            reason += "+wings_expired"
        return self._record(s, plan, structure, opened, ie, exit_i, value, fees, reason)

    @staticmethod
    def _exit_index(s: SessionBars, plan: TradePlan) -> int | None:
        """Bar of the time exit. On an early close (13:00) the exit keeps its distance to the close:
        15:50 on a normal day becomes 12:50, as a 0DTE auto-flatten would."""
        if plan.exit is None:
            return None
        ix = s.index_at(_hhmm(plan.exit))
        if ix is not None and s.minutes_to_close[ix] >= 0:
            return ix
        before_close = 16 * 60 - (plan.exit.hour * 60 + plan.exit.minute)
        return max(int(np.searchsorted(-s.minutes_to_close, -float(before_close))), 0)

    def _quantity(self, plan: TradePlan, structure: Structure, mids: np.ndarray, spot: float, equity: float) -> int:
        if plan.risk_per_trade is None:
            return plan.quantity
        from engine.strategies.payoff import payoff

        p = payoff(structure, mids, quantity=1, spot=spot)
        risk = p.max_loss if p.max_loss is not None else p.margin
        return int(equity * plan.risk_per_trade // risk) if risk > 0 else plan.quantity

    def _leg_mids(self, structure: Structure, spot: np.ndarray, T: np.ndarray, atm: np.ndarray, far) -> np.ndarray:
        """(minutes × legs) modeled mids with the underlying at ``spot`` (e.g. the bars' highs)."""
        ks = np.unique(structure.strikes)
        calls, puts = chain_mids(spot, ks, T, atm, self.model)
        far = None if far is None else (spot, *far[1:])
        return _leg_matrix(structure, calls, puts, ks, far)

    @staticmethod
    def _first_trigger(plan: TradePlan, structure: Structure, opened: Execution, close_quotes, stress, ie: int,
                       last: int):
        """First minute in (ie, last] where the natural closing price hits TP or SL.

        TP is judged at the minute's close only; SL also at the minute's high and low (``stress``
        quotes), and a stop hit inside the minute fills at the quotes of that extreme — within one
        bar we cannot know the order of events, so the adverse one is assumed to come first.
        Returns (minute, reason, (bid, ask) arrays to fill at).
        """
        if last <= ie or (plan.take_profit is None and plan.stop_loss is None):
            return None, "", None
        q = structure.qty
        window = slice(ie + 1, last + 1)
        basis = abs(float(opened.net))

        def pnl_of(quotes):
            b, a = quotes
            # value of one unit if closed now: sell longs at the bid, buy back shorts at the ask
            return np.where(q > 0, b[window], a[window]) @ q - float(opened.net)

        n = last - ie
        at_close = pnl_of(close_quotes)
        hit_tp = at_close >= plan.take_profit * basis - 1e-9 if plan.take_profit is not None else np.zeros(n, bool)
        candidates = [close_quotes, *stress]
        sl_by = []
        if plan.stop_loss is not None:
            sl_by = [pnl_of(x) <= -plan.stop_loss * basis + 1e-9 for x in candidates]
        hit_sl = np.logical_or.reduce(sl_by) if sl_by else np.zeros(n, bool)
        hit = hit_tp | hit_sl
        if not hit.any():
            return None, "", None
        k = int(np.argmax(hit))
        if not hit_sl[k]:
            return ie + 1 + k, "take_profit", close_quotes
        worst = min((j for j in range(len(candidates)) if sl_by[j][k]), key=lambda j: pnl_of(candidates[j])[k])
        return ie + 1 + k, "stop_loss" if worst == 0 else "stop_loss_intrabar", candidates[worst]

    def _settlement_value(self, s: SessionBars, plan: TradePlan, structure: Structure, quantity: int,
                          ctx: DayContext) -> tuple[Decimal, Decimal, str]:
        """Per-unit value at expiry, stock fees, and how it settled (see module doc)."""
        px = float(s.close[-1])
        k, c, q = structure.strikes, structure.is_call, structure.qty
        intrinsic = np.where(c, np.maximum(px - k, 0.0), np.maximum(k - px, 0.0))
        value = float(intrinsic @ q)
        fees = Decimal(0)
        how = "expiry"
        if plan.settlement == "physical":
            itm = intrinsic >= ITM_THRESHOLD
            per_unit = float((np.where(c, 1.0, -1.0) * itm * q).sum())  # net shares / 100 per unit
            shares = int(round(per_unit * MULTIPLIER)) * quantity
            if shares:
                sell_at = ctx.next_open if ctx.next_open is not None else px
                # shares delivered at the strikes are worth the close; the overnight move is ours
                value += per_unit * (sell_at - px)
                fees = self.filler.stock_fees(shares, sell_at)
                how = "assigned" if ctx.next_open is not None else "assigned_marked_at_close"
        return Decimal(repr(round(value, 4))), fees, how

    def _settle(self, s: SessionBars, plan: TradePlan, structure: Structure, opened: Execution, ie: int,
                ctx: DayContext) -> Trade:
        """Hold to expiry: intrinsic at the close; physical delivery of ITM legs."""
        value, fees, how = self._settlement_value(s, plan, structure, opened.quantity, ctx)
        return self._record(s, plan, structure, opened, ie, len(s) - 1, value, fees, how)

    def _record(self, s: SessionBars, plan: TradePlan, structure: Structure, opened: Execution, ie: int,
                exit_i: int, exit_value: Decimal, exit_fees: Decimal, reason: str) -> Trade:
        qty = opened.quantity
        fees = opened.fees + exit_fees
        pnl = cents((exit_value - opened.net) * MULTIPLIER * qty - fees)
        from engine.strategies.payoff import payoff

        p = payoff(structure, np.array([float(x) for x in opened.leg_prices]), quantity=qty)
        return Trade(
            day=s.day, label=plan.label or plan.spec.name, strategy=structure.name,
            legs=[{"right": leg.right, "strike": leg.strike, "qty": leg.qty, "fill": float(fp)}
                  for leg, fp in zip(structure.legs, opened.leg_prices, strict=True)],
            quantity=qty, entry_time=s.ts(ie).strftime("%H:%M"), exit_time=s.ts(exit_i).strftime("%H:%M"),
            entry_spot=float(s.close[ie]), exit_spot=float(s.close[exit_i]),
            entry_price=opened.net, exit_price=exit_value, fees=fees, pnl=pnl, exit_reason=reason,
            max_loss=None if p.max_loss is None else cents(p.max_loss), minutes_held=exit_i - ie)
