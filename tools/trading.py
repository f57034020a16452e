"""Order tools: ``place_paper_order`` (stage only), ``orders`` and ``cancel_order``.

``place_paper_order`` can never place anything by itself: it asks the engine to *stage* a ticket
on the paper ledger (legs resolved from the chain, priced, risk-checked) and returns the ticket id
and preview. Only a person confirming on a surface turns a ticket into an order; there is no tool
for that, on purpose.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import Field, model_validator

from tools.common import Args, ExpirySpec, Out, Underlying, num, pick, plain
from tools.registry import REGISTRY, Effect, ToolContext, ToolSpec

STRUCTURES = ("single", "vertical", "iron_condor", "iron_butterfly", "butterfly", "straddle",
              "strangle", "calendar")
Structure = Literal["single", "vertical", "iron_condor", "iron_butterfly", "butterfly", "straddle",
                    "strangle", "calendar"]
ORDER_STATUSES = ("open", "filled", "canceled", "rejected", "expired", "all")


class LegArgs(Args):
    right: Literal["call", "put"] = Field(description="call or put")
    strike: float | None = Field(None, gt=0, le=100_000, description="Strike price; give strike or delta")
    delta: float | None = Field(None, gt=0, lt=1, description="Absolute delta to pick the strike by (0.20 = 20 delta)")
    side: Literal["buy", "sell"] = Field(description="buy or sell")
    ratio: int = Field(1, ge=1, le=10, description="Contracts of this leg per unit of the order")

    @model_validator(mode="after")
    def _one_selector(self) -> LegArgs:
        if (self.strike is None) == (self.delta is None):
            raise ValueError("give exactly one of strike or delta for each leg")
        return self


class PlacePaperOrderArgs(Args):
    underlying: Underlying = Field(description="SPY, QQQ or IWM")
    expiry: ExpirySpec = Field("0dte", description='"0dte" or YYYY-MM-DD')
    structure: Structure | None = Field(None, description="Named structure; its legs are built by the engine "
                                                          "from short_delta/strike and wing_width")
    legs: list[LegArgs] | None = Field(None, min_length=1, max_length=4,
                                       description="Explicit legs (instead of, or refining, a structure)")
    side: Literal["buy", "sell"] | None = Field(None, description="For a structure: sell = collect a credit "
                                                                  "(short the body), buy = pay a debit")
    right: Literal["call", "put"] | None = Field(None, description="For single, vertical and butterfly")
    short_delta: float | None = Field(None, gt=0, lt=1, description="Delta of the short strike(s), 0.20 = 20 delta")
    strike: float | None = Field(None, gt=0, le=100_000, description="Centre/short strike instead of a delta")
    wing_width: float | None = Field(None, gt=0, le=500, description="Distance in points from short to long strikes")
    far_expiry: ExpirySpec | None = Field(None, description="Calendar only: the long leg's expiry YYYY-MM-DD")
    quantity: int = Field(1, ge=1, le=1000, description="Number of orders' units (contracts per leg ratio)")
    order_type: Literal["limit", "market"] = Field("limit", description="limit (default) or market")
    limit_price: float | None = Field(None, gt=0, le=100_000,
                                      description="Net price per share; omitted = the engine prices at mid")
    take_profit_pct: float | None = Field(None, gt=0, le=10, description="Exit when this fraction of the credit "
                                                                         "or debit is earned (0.5 = 50%)")
    stop_loss_pct: float | None = Field(None, gt=0, le=10, description="Exit when the loss reaches this multiple "
                                                                       "of the credit or debit (2.0 = 200%)")
    trailing_stop: bool = Field(False, description="The stop follows the best P&L seen")
    exit_time: dt.time | None = Field(None, description="Close the position at this time ET, HH:MM")

    @model_validator(mode="after")
    def _shape(self) -> PlacePaperOrderArgs:
        if (self.structure is None) == (not self.legs):
            raise ValueError("give a structure or explicit legs (not both)")
        if self.order_type == "market" and self.limit_price is not None:
            raise ValueError("a market order takes no limit_price")
        if self.structure in ("single", "vertical", "butterfly") and not self.legs and self.right is None:
            raise ValueError(f"a {self.structure} needs right: call or put")
        return self


class LegPreview(Out):
    symbol: str | None = None
    right: str | None = None
    strike: float | None = None
    expiry: str | None = None
    side: str | None = None
    ratio: int | None = None
    quantity: int | None = Field(None, description="Contracts of this leg in the whole order")
    delta: float | None = None
    bid: float | None = None
    ask: float | None = None
    mid: float | None = None


class OrderPreview(Out):
    legs: list[LegPreview] = Field(default_factory=list)
    net_price: float | None = Field(None, description="Per share; > 0 debit, < 0 credit")
    price_effect: str | None = Field(None, description="credit or debit")
    mid_price: float | None = None
    natural_price: float | None = None
    premium: float | None = Field(None, description="Dollars for the whole order")
    defined_risk: bool | None = None
    max_profit: float | None = None
    max_loss: float | None = None
    breakevens: list[float] = Field(default_factory=list)
    margin: float | None = None
    fees: float | None = None


class RiskCheck(Out):
    name: str
    passed: bool
    reason: str = ""


class RiskResult(Out):
    passed: bool
    checks: list[RiskCheck] = Field(default_factory=list)


class StagedOrder(Out):
    ticket_id: str
    expires_at: datetime | None = None
    ledger: str = "paper"
    preview: OrderPreview
    risk: RiskResult
    priced_at: Literal["mid", "limit", "market"] = Field("limit", description="mid = limit set at the net mid "
                                                                               "because none was given")
    needs_person_confirmation: bool = Field(True, description="Always true: only a person can confirm a ticket")


def _stage_request(args: PlacePaperOrderArgs, limit_price: float | None) -> dict:
    """The execution part's order request (issue 5 §9) for these arguments, always on paper."""
    req: dict = {"underlying": args.underlying, "expiry": str(args.expiry), "quantity": args.quantity,
                 "order_type": args.order_type, "account": "paper"}  # paper-only whatever else is said
    if limit_price is not None:
        req["limit_price"] = str(limit_price)
    exits = {"take_profit_pct": None if args.take_profit_pct is None else round(args.take_profit_pct * 100, 4),
             "stop_loss_pct": None if args.stop_loss_pct is None else round(args.stop_loss_pct * 100, 4),
             "exit_at": None if args.exit_time is None else args.exit_time.strftime("%H:%M")}
    if any(v is not None for v in exits.values()):  # the engine's monitor counts in percent points
        req["exits"] = {**{k: v for k, v in exits.items() if v is not None}, "trailing": args.trailing_stop}
    if args.legs:
        req["legs"] = [leg.model_dump(exclude_none=True) for leg in args.legs]
        return req
    req["structure"] = args.structure
    extra = {"delta": args.short_delta, "width": args.wing_width, "strike": args.strike, "right": args.right,
             "far_expiry": None if args.far_expiry is None else str(args.far_expiry),
             "direction": {"sell": "short", "buy": "long"}.get(args.side or "")}
    req.update({k: v for k, v in extra.items() if v is not None})
    return req


def _tick(underlying: str) -> Decimal:
    """Price increment of a combo: pennies for SPY/QQQ/IWM, $0.05 for index options (CBOE COB)."""
    return Decimal("0.01") if underlying in ("SPY", "QQQ", "IWM") else Decimal("0.05")


async def _mid_price(args: PlacePaperOrderArgs, ctx: ToolContext) -> float:
    """Net mid (per share, unsigned) of what the arguments describe, rounded to the tick.

    Named structures are priced by the engine's payoff (same strategy builders and chain as the
    order's legs); explicit legs from the chain's mids.
    """
    if args.structure:
        strategy = args.structure
        if strategy == "single":
            strategy = f"{'short' if args.side == 'sell' else 'long'}_{args.right}"
        params = {"strategy": strategy, "underlying": args.underlying, "expiry": str(args.expiry),
                  "short_delta": args.short_delta, "wing_width": args.wing_width, "strike": args.strike,
                  "right": args.right if strategy in ("vertical", "butterfly", "calendar") else None,
                  "side": args.side if not strategy.startswith(("long_", "short_")) else None,
                  "far_expiry": None if args.far_expiry is None else str(args.far_expiry)}
        payoff = await ctx.engine.strategy_payoff({k: v for k, v in params.items() if v is not None})
        net = float(pick(plain(payoff), "net_premium", default=0.0))
    else:
        chain = await ctx.engine.chain(args.underlying, args.expiry)
        net = 0.0
        for leg in args.legs or []:
            if leg.strike is not None:
                contract = chain.contract(leg.right, leg.strike)
            else:
                contract, _ = chain.by_delta(leg.right, leg.delta)
            q = chain.quote(contract.occ)
            net += (1 if leg.side == "buy" else -1) * leg.ratio * float(q.mid)
    tick = _tick(args.underlying)
    price = (Decimal(repr(abs(net))) / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick
    return float(max(price, tick))


def _preview(raw: dict) -> OrderPreview:
    legs = [LegPreview.model_validate({k: (v if k in ("symbol", "right", "side", "ratio", "quantity") else (str(v) if k == "expiry" else num(v)))
                                       for k, v in plain(leg).items() if k in LegPreview.model_fields})
            for leg in raw.get("legs") or []]
    return OrderPreview(legs=legs, net_price=num(raw.get("net_price")), max_profit=num(raw.get("max_profit")),
                        price_effect=raw.get("price_effect"), mid_price=num(raw.get("mid_price")),
                        natural_price=num(raw.get("natural_price")), premium=num(raw.get("premium")),
                        defined_risk=raw.get("defined_risk"),
                        max_loss=num(raw.get("max_loss")), margin=num(raw.get("margin")),
                        fees=num(raw.get("fees") if not isinstance(raw.get("fees"), dict)
                                 else raw["fees"].get("total")),
                        breakevens=[b for b in (num(x) for x in raw.get("breakevens") or []) if b is not None])


def staged_from_ticket(ticket: object) -> StagedOrder:
    raw = plain(ticket)
    risk = plain(pick(raw, "risk", default={})) or {}
    checks = [RiskCheck(name=str(c.get("name")), passed=bool(c.get("passed")), reason=str(c.get("reason") or ""))
              for c in risk.get("checks") or []]
    return StagedOrder(ticket_id=str(pick(raw, "ticket_id", "id")), expires_at=raw.get("expires_at"),
                       ledger=str(pick(raw, "ledger", "account", default="paper")),
                       preview=_preview(plain(pick(raw, "preview", default={})) or {}),
                       risk=RiskResult(passed=bool(risk.get("passed", all(c.passed for c in checks))), checks=checks))


async def place_paper_order(args: PlacePaperOrderArgs, ctx: ToolContext) -> StagedOrder:
    limit = args.limit_price
    at_mid = args.order_type == "limit" and limit is None
    if at_mid:
        limit = await _mid_price(args, ctx)
    ticket = await ctx.engine.stage(_stage_request(args, limit), ctx.principal)
    staged = staged_from_ticket(ticket)
    staged.priced_at = "mid" if at_mid else ("market" if args.order_type == "market" else "limit")
    return staged


# --- orders -------------------------------------------------------------------------------------
class OrdersArgs(Args):
    status: Literal["open", "filled", "canceled", "rejected", "expired", "all"] = Field(
        "all", description="Which orders: open (working), filled, canceled, rejected, expired or all")


class OrderRow(Out):
    order_id: str
    status: str
    underlying: str | None = None
    legs: list[dict] = Field(default_factory=list)
    quantity: int | None = None
    filled_quantity: int | None = None
    order_type: str | None = None
    limit_price: float | None = None
    avg_fill_price: float | None = None
    created_at: datetime | None = None
    ledger: str | None = None


class OrdersResult(Out):
    ledger: str
    status: str
    orders: list[OrderRow]


def order_row(obj: object) -> OrderRow:
    raw = plain(obj)
    return OrderRow(order_id=str(pick(raw, "order_id", "id", "client_order_id")),
                    status=str(pick(raw, "status", default="unknown")),
                    underlying=pick(raw, "underlying"), legs=[plain(x) for x in raw.get("legs") or []],
                    quantity=pick(raw, "quantity"), filled_quantity=pick(raw, "filled_quantity", "filled"),
                    order_type=pick(raw, "order_type"), limit_price=num(pick(raw, "limit_price")),
                    avg_fill_price=num(pick(raw, "avg_fill_price", "avg_price")),
                    created_at=pick(raw, "created_at", "ts"), ledger=pick(raw, "ledger", "account"))


async def orders(args: OrdersArgs, ctx: ToolContext) -> OrdersResult:
    status = None if args.status == "all" else args.status
    rows = await ctx.engine.orders(ctx.ledger, status)
    return OrdersResult(ledger=ctx.ledger, status=args.status, orders=[order_row(o) for o in rows])


# --- cancel -------------------------------------------------------------------------------------
class CancelOrderArgs(Args):
    order_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-:.]+$",
                          description="The order id shown by the orders tool")


class CancelResult(Out):
    order_id: str
    status: str


async def cancel_order(args: CancelOrderArgs, ctx: ToolContext) -> CancelResult:
    res = plain(await ctx.engine.cancel_order(args.order_id, ctx.principal))
    if isinstance(res, dict):
        return CancelResult(order_id=str(pick(res, "order_id", "id", default=args.order_id)),
                            status=str(pick(res, "status", default="pending_cancel")))
    return CancelResult(order_id=args.order_id, status=str(res or "pending_cancel"))


PLACE_PAPER_ORDER = REGISTRY.register(ToolSpec(
    "place_paper_order", "Stage a PAPER order (one to four legs, or a named structure such as an iron "
    "condor by delta and wing width). Returns a ticket and a preview (legs, net price, max profit/loss, "
    "breakevens, fees, risk checks). It never executes: only the person can confirm the ticket.",
    PlacePaperOrderArgs, StagedOrder, place_paper_order, effect=Effect.STAGE))
ORDERS = REGISTRY.register(ToolSpec(
    "orders", "Orders on the current ledger, optionally filtered by status.",
    OrdersArgs, OrdersResult, orders, effect=Effect.READ))
CANCEL_ORDER = REGISTRY.register(ToolSpec(
    "cancel_order", "Cancel a working order by id (a person must approve it on their surface).",
    CancelOrderArgs, CancelResult, cancel_order, effect=Effect.WRITE))
