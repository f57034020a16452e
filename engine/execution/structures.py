"""Order requests and their legs: the JSON a person, tool or signal sends, validated, and its legs
resolved to listed OCC contracts from an ``engine.options.chain.Chain``.

A request names its legs explicitly (``right``, ``strike`` or ``delta``, ``side``, ``ratio``) or
names a structure — ``single``, ``vertical``, ``iron_condor``, ``iron_butterfly``, ``butterfly``,
``straddle``, ``strangle``, ``calendar`` — whose legs are built by
:mod:`engine.strategies.builders` (the same builders the backtester uses, so a backtested
structure and a traded one pick the same strikes). Strikes must be listed (``strike 612.5 not
listed ...``); deltas pick the listed contract with the nearest |delta|.

Ticks: SPY/QQQ/IWM options trade in pennies; index roots (SPX/SPXW/VIX...) in $0.05 below $3 and
$0.10 above for single legs, $0.05 for combos (CBOE complex order book).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.core.errors import InvalidInput
from engine.core.instruments import OPTION_ROOTS, UNDERLYINGS, OptionContract, Right
from engine.core.money import CENT, D, on_tick
from engine.execution.broker import OrderLeg, OrderType, Side, TimeInForce

STRUCTURES = ("single", "vertical", "iron_condor", "iron_butterfly", "butterfly", "straddle",
              "strangle", "calendar")
#: Option root traded for each underlying (VIX options list under VIX; SPX dailies under SPXW).
ROOT_OF = {"SPY": "SPY", "QQQ": "QQQ", "IWM": "IWM", "VIX": "VIX", "SPX": "SPXW", "NDX": "NDXP",
           "RUT": "RUTW"}


class LegSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    right: Literal["call", "put"]
    strike: Decimal | None = Field(None, gt=0)
    delta: float | None = Field(None, description="Target |delta| between 0 and 1 (0.20 = 20 delta)")
    side: Literal["buy", "sell"]
    ratio: int = Field(1, ge=1, le=10)
    expiry: str | None = Field(None, description="Only for calendars: this leg's own expiry")

    @field_validator("right", "side", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_selector(self) -> LegSpec:
        if (self.strike is None) == (self.delta is None):
            raise ValueError("each leg needs exactly one of strike or delta")
        if self.delta is not None and not 0 < abs(self.delta) < 1:
            raise ValueError(f"delta must be between 0 and 1, not {self.delta}")
        return self


class StockLegSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    side: Literal["buy", "sell"]
    ratio: int = Field(100, ge=1, le=1000, description="Shares per unit of the order")


class ExitSpec(BaseModel):
    """Position-monitor exits attached to the position the order opens."""

    model_config = ConfigDict(extra="forbid")

    take_profit_pct: float | None = Field(None, gt=0, le=1000)
    stop_loss_pct: float | None = Field(None, gt=0, le=1000)
    trailing: bool = False
    exit_at: str | None = Field(None, description="HH:MM ET: close the position at this time")


class AlgoSpec(BaseModel):
    """Execution algorithm: ``twap`` slices the order over ``minutes`` (see engine.execution.twap)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["twap"] = "twap"
    minutes: float = Field(10.0, gt=0, le=390)
    slices: int = Field(5, ge=1, le=100)
    ticks: int = Field(1, ge=0, le=20, description="Limit at mid plus this many ticks")


class OrderRequest(BaseModel):
    """The order request of the CLI/tool contract (issue 5 §9), plus optional extensions."""

    model_config = ConfigDict(extra="forbid")

    underlying: str
    expiry: str = "0dte"
    legs: list[LegSpec] = Field(default_factory=list)
    structure: str | None = None
    delta: float | None = Field(None, description="structure: short-strike |delta|")
    width: float | None = Field(None, gt=0, description="structure: wing width in points")
    strike: float | None = Field(None, gt=0, description="structure: body/short strike")
    right: Literal["call", "put"] | None = None
    direction: Literal["long", "short"] | None = Field(None, description="structure: bought or sold")
    far_expiry: str | None = None
    stock: StockLegSpec | None = None
    quantity: int
    order_type: Literal["limit", "market", "stop", "stop_limit"] = "limit"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: Literal["day", "ioc"] = "day"
    account: Literal["paper", "live"] = "paper"
    exits: ExitSpec | None = None
    algo: AlgoSpec | None = None

    @field_validator("underlying", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.strip().upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _consistent(self) -> OrderRequest:
        if self.underlying not in UNDERLYINGS:
            raise ValueError(f"underlying {self.underlying!r} is not traded here; one of SPY, QQQ, IWM, VIX, SPX")
        if self.quantity <= 0:
            raise ValueError(f"quantity must be > 0, not {self.quantity}")
        if self.structure is not None and self.structure not in STRUCTURES:
            raise ValueError(f"unknown structure {self.structure!r}; one of {', '.join(STRUCTURES)}")
        if self.structure is None and not self.legs:
            raise ValueError("give legs or a structure")
        if self.structure is not None and self.legs:
            raise ValueError("give legs or a structure, not both")
        if len(self.legs) > 4:
            raise ValueError("at most four option legs")
        if self.order_type in ("limit", "stop_limit") and self.limit_price is None:
            raise ValueError(f"a {self.order_type} order needs limit_price")
        if self.order_type in ("stop", "stop_limit") and self.stop_price is None:
            raise ValueError(f"a {self.order_type} order needs stop_price")
        if self.order_type == "market" and self.limit_price is not None:
            raise ValueError("a market order takes no limit_price")
        return self

    @classmethod
    def parse(cls, data: Any) -> OrderRequest:
        """From a dict or JSON text; errors become one :class:`InvalidInput` line naming the field."""
        if isinstance(data, OrderRequest):
            return data
        try:
            if isinstance(data, (str, bytes)):
                return cls.model_validate_json(data)
            return cls.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            loc = ".".join(str(x) for x in first.get("loc", ()))
            msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
            raise InvalidInput(f"{loc + ': ' if loc else ''}{msg}", field=loc or None) from None


@dataclass(frozen=True, slots=True)
class ResolvedLeg:
    """A leg bound to a listed contract (or the stock), with its ratio and side."""

    symbol: str
    side: Side
    ratio: int
    contract: OptionContract | None  # None for the stock leg

    @property
    def order_leg(self) -> OrderLeg:
        return OrderLeg(self.symbol, self.side, self.ratio)


ChainGetter = Callable[[str], Awaitable[Any]]  # expiry spec ("0dte" | "YYYY-MM-DD") -> Chain


def option_root(underlying: str) -> str:
    return ROOT_OF.get(underlying, underlying)


def tick_for(legs: list[ResolvedLeg], price: Decimal | None = None) -> Decimal:
    """Minimum price increment of this order (see module docstring)."""
    roots = {leg.contract.root for leg in legs if leg.contract is not None}
    index = any(OPTION_ROOTS.get(r) is not None and OPTION_ROOTS[r].section_1256 for r in roots)
    if not index:
        return CENT
    if len(legs) > 1:
        return D("0.05")
    return D("0.10") if price is not None and abs(price) >= 3 else D("0.05")


def check_tick(price: Decimal | None, legs: list[ResolvedLeg], name: str = "limit_price") -> None:
    if price is None:
        return
    tick = tick_for(legs, price)
    if not on_tick(price, tick):
        raise InvalidInput(f"{name} {price} is off tick: {legs[0].contract.root if legs[0].contract else ''} "
                           f"prices move in ${tick}".replace(":  ", ": "), field=name)


def _leg_of(chain: Any, right: str, strike: float | Decimal, side: str, ratio: int) -> ResolvedLeg:
    contract = chain.contract(right, float(strike))
    return ResolvedLeg(contract.occ, Side.parse(side), ratio, contract)


async def resolve_legs(req: OrderRequest, chain_for: ChainGetter) -> tuple[list[ResolvedLeg], Any]:
    """The request's legs as listed contracts, and the front chain they were priced from."""
    chain = await chain_for(req.expiry)
    legs: list[ResolvedLeg] = []
    if req.structure is not None:
        legs = await _structure_legs(req, chain, chain_for)
    else:
        for spec in req.legs:
            leg_chain = chain if spec.expiry is None else await chain_for(spec.expiry)
            if spec.strike is not None:
                legs.append(_leg_of(leg_chain, spec.right, spec.strike, spec.side, spec.ratio))
            else:
                contract, _ = leg_chain.by_delta(spec.right, abs(float(spec.delta)))
                legs.append(ResolvedLeg(contract.occ, Side.parse(spec.side), spec.ratio, contract))
    symbols = [leg.symbol for leg in legs]
    if len(set(symbols)) != len(symbols):
        raise InvalidInput("the same contract appears in two legs", field="legs")
    if req.stock is not None:
        if UNDERLYINGS.get(req.underlying) is not None and UNDERLYINGS[req.underlying].value == "index":
            raise InvalidInput(f"{req.underlying} is an index: it has no stock leg", field="stock")
        legs.append(ResolvedLeg(req.underlying, Side.parse(req.stock.side), req.stock.ratio, None))
    return legs, chain


async def _structure_legs(req: OrderRequest, chain: Any, chain_for: ChainGetter) -> list[ResolvedLeg]:
    """Named structure → legs via the shared strategy builders."""
    from engine.strategies.builders import ChainView, StrategySpec, build

    far_chain = None
    name = req.structure
    if name == "calendar":
        if req.far_expiry is None:
            raise InvalidInput("a calendar needs far_expiry", field="far_expiry")
        far_chain = await chain_for(req.far_expiry)
    if name == "single":
        right = req.right or "call"
        name = f"{'short' if req.direction == 'short' else 'long'}_{right}"
    kwargs: dict[str, Any] = {"name": name, "delta": req.delta, "strike": req.strike}
    if req.width is not None:
        kwargs["width"] = req.width
    if req.right is not None:
        kwargs["right"] = req.right
    if req.direction is not None:
        kwargs["side"] = req.direction
        kwargs["credit"] = req.direction == "short"
    if req.strike is not None:
        _leg_of(chain, req.right or "call", req.strike, "buy", 1)  # a named strike must be listed
    view = ChainView.from_chain(chain, far_chain.expiry if far_chain is not None else None)
    structure = build(StrategySpec(**kwargs), view)
    out = []
    for leg in structure.legs:
        src = far_chain if (far_chain is not None and leg.expiry == far_chain.expiry) else chain
        out.append(_leg_of(src, leg.right, leg.strike, "buy" if leg.qty > 0 else "sell", abs(leg.qty)))
    return out


def order_type_of(req: OrderRequest) -> OrderType:
    return OrderType(req.order_type)


def tif_of(req: OrderRequest) -> TimeInForce:
    return TimeInForce(req.tif)


def expiry_of(legs: list[ResolvedLeg]) -> date | None:
    days = [leg.contract.expiry for leg in legs if leg.contract is not None]
    return min(days) if days else None


def right_of(leg: ResolvedLeg) -> Right | None:
    return leg.contract.right if leg.contract is not None else None
