"""The pre-trade risk guard (SEC Rule 15c3-5 style market-access controls).

Every order from every source passes :meth:`RiskGuard.check` — staged tickets, confirmations
(checked again at confirm time), the position monitor's exits, TWAP slices and the signal loop.
The guard is a pure function of a :class:`RiskOrder` (the order, priced) and a
:class:`RiskContext` (account state at this instant), both prepared by the service, so it
runs in microseconds (``benchmarks/risk_bench.py``) and is tested check by check.

Each check returns ``(name, passed, reason)`` with a reason a trader understands, pass or fail.
Kill switch: ``active`` (all orders), ``reducing`` (only orders that reduce existing positions),
``halted`` (nothing). A breach of the daily loss limit reports ``halt=True``: the service then
switches the ledger to HALTED and cancels its working orders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from engine.execution.config import RiskConfig

KILL_STATES = ("active", "reducing", "halted")


@dataclass(frozen=True, slots=True)
class RiskLeg:
    symbol: str
    side: int              # +1 buy, -1 sell
    contracts: int         # ratio x quantity (shares for a stock leg)
    is_option: bool
    right: str | None      # "call" | "put"
    strike: float
    expiry: date | None
    quote_ts: datetime | None
    bid: float
    ask: float
    quote_s: float | None = field(init=False, default=None)  # quote time as epoch seconds

    def __post_init__(self) -> None:
        object.__setattr__(self, "quote_s", None if self.quote_ts is None else self.quote_ts.timestamp())


@dataclass(frozen=True, slots=True)
class RiskOrder:
    client_order_id: str
    underlying: str
    legs: tuple[RiskLeg, ...]
    quantity: int
    order_type: str
    limit_price: float | None   # signed net per share (debit > 0)
    mid_price: float            # signed net mid per share
    premium: float              # |price| x 100 x quantity, dollars
    notional: float             # sum of strike x 100 x contracts (spot for stock legs)
    max_loss: float | None      # dollars; None = undefined
    margin: float               # buying power the order uses, dollars
    naked: bool                 # has uncovered short options
    spot: float


@dataclass(slots=True)
class RiskContext:
    now: datetime                         # market time, New York aware
    kill_state: str = "active"
    market_open: bool = True
    session_close: datetime | None = None  # today's close (options), NY aware
    positions: dict[str, int] = field(default_factory=dict)  # symbol -> signed quantity
    open_contracts: int = 0               # abs option contracts held
    working_contracts: int = 0            # contracts of working orders
    open_orders: int = 0
    buying_power: float = 0.0
    daily_pnl: float = 0.0                # realized + unrealized today (loss < 0)
    recent_orders: Sequence[float] = ()   # wall epoch seconds of orders sent in the last minute
    wall_now: float = 0.0
    known_client_ids: frozenset[str] | set[str] = frozenset()
    stale_after_s: float = 10.0
    # derived once per context (the checks read them many times)
    today: date = field(init=False)
    clock: time = field(init=False)
    now_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.today, self.clock, self.now_s = self.now.date(), self.now.time(), self.now.timestamp()


@dataclass(frozen=True, slots=True)
class RiskDecision:
    passed: bool
    checks: tuple[tuple[str, bool, str], ...]
    halt: bool = False

    def to_dict(self) -> dict:
        return {"passed": self.passed,
                "checks": [{"name": n, "passed": p, "reason": r} for n, p, r in self.checks]}

    @property
    def failures(self) -> list[dict]:
        return [{"name": n, "passed": p, "reason": r} for n, p, r in self.checks if not p]

    def summary(self) -> str:
        bad = [f"{n}: {r}" for n, p, r in self.checks if not p]
        return "; ".join(bad) if bad else "all checks passed"


Check = tuple[str, bool, str]


def is_risk_reducing(order: RiskOrder, positions: dict[str, int]) -> bool:
    """Every leg trades against an existing position and no further than flat."""
    for leg in order.legs:
        held = positions.get(leg.symbol, 0)
        if held == 0 or (held > 0) == (leg.side > 0) or leg.contracts > abs(held):
            return False
    return True


def _money(x: float) -> str:
    return f"${x:,.2f}"


class RiskGuard:
    """``RiskGuard(config).check(order, ctx) -> RiskDecision``."""

    def __init__(self, config: RiskConfig | None = None) -> None:
        self.config = c = config or RiskConfig()
        # limits as floats and their texts, computed once: the guard runs on every order
        self._cutoff_text = c.odte_cutoff.strftime("%H:%M")
        self._premium_cap = float(c.max_premium_per_order)
        self._notional_cap = float(c.max_notional_per_order)
        self._loss_cap = float(c.max_loss_per_order)
        self._daily_cap = float(c.daily_loss_limit)
        self._collar_min = float(c.price_collar_min)
        self._texts = {"premium": _money(self._premium_cap), "notional": _money(self._notional_cap),
                       "loss": _money(self._loss_cap), "daily": _money(self._daily_cap)}
        self.checks: tuple[Callable[[RiskOrder, RiskContext, bool], Check], ...] = (
            self.kill_switch, self.market_hours, self.odte_cutoff, self.stale_quote,
            self.duplicate_client_id, self.max_contracts_per_order, self.max_open_contracts,
            self.max_open_orders, self.order_rate, self.max_premium_per_order,
            self.max_notional_per_order, self.defined_risk, self.max_loss_per_order,
            self.buying_power, self.daily_loss_limit, self.price_collar, self.short_itm_into_close,
        )

    def check(self, order: RiskOrder, ctx: RiskContext) -> RiskDecision:
        reducing = is_risk_reducing(order, ctx.positions)
        results = tuple(fn(order, ctx, reducing) for fn in self.checks)
        passed = all(r[1] for r in results)
        halt = ctx.daily_pnl <= -self._daily_cap
        return RiskDecision(passed, results, halt)

    # --- the checks (each: pass and fail reason) ---------------------------------------------
    def kill_switch(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        state = ctx.kill_state
        if state == "halted":
            return ("kill_switch", False, "trading is HALTED: no orders until a person resumes it")
        if state == "reducing" and not reducing:
            return ("kill_switch", False, "kill switch is REDUCING: only orders that reduce open positions")
        return ("kill_switch", True, f"kill switch {state.upper()}")

    def market_hours(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        if not self.config.enforce_market_hours or ctx.market_open:
            return ("market_hours", True, "market is open")
        return ("market_hours", False, f"market is closed at {ctx.now.isoformat(' ', 'minutes')[:16]} ET")

    def odte_cutoff(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        today = ctx.today
        expiring = any(leg.expiry == today for leg in o.legs if leg.is_option)
        if expiring and not reducing and ctx.clock >= self.config.odte_cutoff:
            return ("odte_cutoff", False, f"no new 0DTE positions after {self._cutoff_text} ET "
                    f"(now {ctx.clock.hour:02d}:{ctx.clock.minute:02d}); closing orders are allowed")
        return ("odte_cutoff", True, f"before the {self._cutoff_text} ET 0DTE cut-off" if expiring
                else "no contract expires today")

    def stale_quote(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        limit = self.config.stale_quote_seconds or ctx.stale_after_s
        worst = 0.0
        now_s = ctx.now_s
        for leg in o.legs:
            if leg.quote_s is None:
                return ("stale_quote", False, f"no quote for {leg.symbol}")
            age = now_s - leg.quote_s
            if age > worst:
                worst = age
        if worst > limit:
            return ("stale_quote", False, f"quote is {worst:.0f}s old (limit {limit:.0f}s): market data is stale")
        return ("stale_quote", True, f"quotes {worst:.1f}s old")

    def duplicate_client_id(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        if o.client_order_id in ctx.known_client_ids:
            return ("duplicate_client_id", False, f"client order id {o.client_order_id} was already used")
        return ("duplicate_client_id", True, "new client order id")

    def max_contracts_per_order(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        n = sum(leg.contracts for leg in o.legs if leg.is_option)
        cap = self.config.max_contracts_per_order
        return ("max_contracts_per_order", n <= cap, f"{n} contracts (limit {cap})")

    def max_open_contracts(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        cap = self.config.max_open_contracts
        after = ctx.open_contracts + ctx.working_contracts
        if not reducing:
            after += sum(leg.contracts for leg in o.legs if leg.is_option)
        return ("max_open_contracts", after <= cap, f"{after} contracts open and working after it (limit {cap})")

    def max_open_orders(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        cap = self.config.max_open_orders
        return ("max_open_orders", ctx.open_orders < cap, f"{ctx.open_orders} orders working (limit {cap})")

    def order_rate(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        cap = self.config.max_orders_per_minute
        n = sum(1 for t in ctx.recent_orders if ctx.wall_now - t < 60.0)
        return ("order_rate", n < cap, f"{n} orders in the last minute (limit {cap})")

    def max_premium_per_order(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        return ("max_premium_per_order", o.premium <= self._premium_cap,
                f"premium {_money(o.premium)} (limit {self._texts['premium']})")

    def max_notional_per_order(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        return ("max_notional_per_order", o.notional <= self._notional_cap,
                f"notional {_money(o.notional)} (limit {self._texts['notional']})")

    def defined_risk(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        if o.naked and not reducing and not self.config.allow_naked_short_options:
            return ("defined_risk", False, "naked short options have undefined risk: buy a wing, "
                    "or enable allow_naked_short_options")
        return ("defined_risk", True, "risk is defined" if not o.naked else "naked shorts allowed")

    def max_loss_per_order(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        if reducing:
            return ("max_loss_per_order", True, "closing order")
        limit = self._texts["loss"]
        if o.max_loss is None:
            ok = self.config.allow_naked_short_options
            return ("max_loss_per_order", ok, "loss is unbounded" + ("" if ok else f" (limit {limit})"))
        return ("max_loss_per_order", o.max_loss <= self._loss_cap, f"max loss {_money(o.max_loss)} (limit {limit})")

    def buying_power(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        need = 0.0 if reducing else o.margin
        ok = need <= ctx.buying_power
        return ("buying_power", ok, f"needs {_money(need)} of {_money(ctx.buying_power)} buying power")

    def daily_loss_limit(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        limit = self._texts["daily"]
        if ctx.daily_pnl <= -self._daily_cap and not reducing:
            return ("daily_loss_limit", False,
                    f"today's loss {_money(-ctx.daily_pnl)} reached the {limit} limit: trading halts")
        return ("daily_loss_limit", True, f"today's P&L {_money(ctx.daily_pnl)} (loss limit {limit})")

    def price_collar(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        if o.limit_price is None:
            return ("price_collar", True, "market order: fills at the far side")
        band = max(abs(o.mid_price) * self.config.price_collar_pct, self._collar_min)
        off = o.limit_price - o.mid_price
        ok = abs(off) <= band + 1e-9
        return ("price_collar", ok, f"limit {o.limit_price:.2f} is {off:+.2f} from mid {o.mid_price:.2f} "
                f"(collar ±{band:.2f})")

    def short_itm_into_close(self, o: RiskOrder, ctx: RiskContext, reducing: bool) -> Check:
        mins = self.config.short_itm_into_close_minutes
        if reducing or ctx.session_close is None:
            return ("short_itm_into_close", True, "no new short near expiry")
        left = (ctx.session_close - ctx.now).total_seconds() / 60.0
        for leg in o.legs:
            if leg.is_option and leg.side < 0 and leg.expiry == ctx.today and left <= mins:
                itm = o.spot > leg.strike if leg.right == "call" else o.spot < leg.strike
                if itm:
                    return ("short_itm_into_close", False,
                            f"selling in-the-money {leg.symbol} {left:.0f} min before expiry risks assignment")
        return ("short_itm_into_close", True, "no in-the-money short expiring soon")


def close_of(day: date, when: time) -> datetime:
    from engine.core.clock import NY

    return datetime.combine(day, when, tzinfo=NY)
