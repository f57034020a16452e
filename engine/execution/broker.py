"""The one async ``Broker`` protocol every broker implements (paper, Interactive Brokers), and the
plain records that cross it.

Conventions (shared by the OMS, the paper broker, the IB adapter and the backtester):

* An order is ONE order of one to four option legs plus an optional stock leg on one underlying,
  filled all-or-none per unit at a net price. ``quantity`` counts combo units; a leg trades
  ``quantity * leg.ratio`` contracts (or shares for a stock leg).
* Net prices are **per share, signed from the buyer's side of the combo: positive = debit
  (we pay), negative = credit (we receive)**. That is IB's BAG convention with action BUY, so the
  adapter sends ``action="BUY", lmtPrice=order.limit_price`` and per-leg actions from ``leg.side``.
* ``client_order_id`` is the idempotency key end to end: a broker that receives the same id
  twice returns the first order's state and never books a second order.
* Prices and money are ``Decimal``; timestamps timezone-aware (UTC).

The ``events()`` stream carries both status changes (:class:`OrderUpdate`) and executions
(:class:`Fill`); after a reconnect, :meth:`Broker.executions` and :meth:`Broker.open_orders` let
the OMS reconcile anything it missed (fills are keyed by ``exec_id`` so replays are harmless).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from engine.core.errors import InvalidInput
from engine.core.instruments import OptionContract, looks_like_option, parse_occ


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy (position grows, cash leaves), -1 for a sell."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @classmethod
    def parse(cls, text: str) -> Side:
        t = str(text).strip().lower()
        if t in ("buy", "b", "bot", "long"):
            return cls.BUY
        if t in ("sell", "s", "sld", "short"):
            return cls.SELL
        raise InvalidInput(f"side must be buy or sell, not {text!r}", field="side")


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    DAY = "day"
    IOC = "ioc"


class OrderStatus(StrEnum):
    """Lifecycle states; legal moves live in :mod:`engine.execution.lifecycle`."""

    INITIALIZED = "initialized"        # intent written, not yet sent
    SUBMITTED = "submitted"            # sent, no acknowledgement yet
    ACCEPTED = "accepted"              # working at the broker
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    PENDING_REPLACE = "pending_replace"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def is_working(self) -> bool:
        return not self.is_terminal


TERMINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED,
                               OrderStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class OrderLeg:
    """One leg: an OCC option symbol or a stock ticker, the side and the ratio per combo unit."""

    symbol: str
    side: Side
    ratio: int = 1

    def __post_init__(self) -> None:
        if self.ratio < 1:
            raise InvalidInput(f"leg ratio must be >= 1, not {self.ratio}", field="ratio")

    @property
    def is_option(self) -> bool:
        return looks_like_option(self.symbol)

    @property
    def contract(self) -> OptionContract | None:
        return parse_occ(self.symbol) if self.is_option else None

    @property
    def multiplier(self) -> int:
        c = self.contract
        return c.multiplier if c is not None else 1

    def to_dict(self) -> dict:
        return {"symbol": self.symbol, "side": self.side.value, "ratio": self.ratio}

    @classmethod
    def from_dict(cls, d: dict) -> OrderLeg:
        return cls(str(d["symbol"]), Side.parse(d["side"]), int(d.get("ratio", 1)))


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """What is sent to a broker. ``limit_price``/``stop_price`` are signed net prices (see module)."""

    client_order_id: str
    account: str                 # ledger: "paper" | "live"
    underlying: str
    legs: tuple[OrderLeg, ...]
    quantity: int
    order_type: OrderType = OrderType.LIMIT
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.legs:
            raise InvalidInput("an order needs at least one leg", field="legs")
        options = sum(1 for leg in self.legs if leg.is_option)
        if options > 4 or len(self.legs) - options > 1:
            raise InvalidInput("an order has one to four option legs plus at most one stock leg",
                               field="legs")
        if self.quantity <= 0:
            raise InvalidInput(f"quantity must be > 0, not {self.quantity}", field="quantity")
        if self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and self.limit_price is None:
            raise InvalidInput(f"a {self.order_type.value} order needs a limit_price", field="limit_price")
        if self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and self.stop_price is None:
            raise InvalidInput(f"a {self.order_type.value} order needs a stop_price", field="stop_price")

    @property
    def is_combo(self) -> bool:
        return len(self.legs) > 1

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(leg.symbol for leg in self.legs)

    def with_price(self, limit_price: Decimal | None = None, quantity: int | None = None) -> BrokerOrder:
        return replace(self, limit_price=self.limit_price if limit_price is None else limit_price,
                       quantity=self.quantity if quantity is None else quantity)

    def to_dict(self) -> dict:
        return {
            "client_order_id": self.client_order_id, "account": self.account,
            "underlying": self.underlying, "legs": [leg.to_dict() for leg in self.legs],
            "quantity": self.quantity, "order_type": self.order_type.value,
            "limit_price": None if self.limit_price is None else str(self.limit_price),
            "stop_price": None if self.stop_price is None else str(self.stop_price),
            "tif": self.tif.value,
            "created_at": None if self.created_at is None else self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> BrokerOrder:
        return cls(
            client_order_id=d["client_order_id"], account=d["account"], underlying=d["underlying"],
            legs=tuple(OrderLeg.from_dict(x) for x in d["legs"]), quantity=int(d["quantity"]),
            order_type=OrderType(d.get("order_type", "limit")),
            limit_price=None if d.get("limit_price") is None else Decimal(str(d["limit_price"])),
            stop_price=None if d.get("stop_price") is None else Decimal(str(d["stop_price"])),
            tif=TimeInForce(d.get("tif", "day")),
            created_at=None if not d.get("created_at") else datetime.fromisoformat(d["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A broker's view of one order at one instant (acknowledgement, status change, snapshot)."""

    client_order_id: str
    status: OrderStatus
    ts: datetime
    broker_order_id: str | None = None
    filled_quantity: int = 0
    remaining: int = 0
    avg_fill_price: Decimal | None = None
    reason: str = ""
    order: BrokerOrder | None = None   # set on snapshots (open_orders), optional otherwise


@dataclass(frozen=True, slots=True)
class LegFill:
    """The execution of one leg: ``quantity`` contracts/shares at ``price`` per share."""

    symbol: str
    side: Side
    quantity: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of ``quantity`` combo units at ``net_price`` (signed, per share).

    ``exec_id`` is unique per broker and is the ledger's idempotency key for fills.
    ``commission`` is the broker's; ``fees`` the regulatory/clearing pass-throughs; both totals in
    dollars for the whole execution (all legs).
    """

    exec_id: str
    client_order_id: str
    ts: datetime
    quantity: int
    net_price: Decimal
    legs: tuple[LegFill, ...]
    commission: Decimal = Decimal("0")
    fees: Decimal = Decimal("0")
    broker_order_id: str | None = None
    liquidity: str = "remove"   # "remove" (took the far side) | "add" (resting limit crossed)


BrokerEvent = OrderUpdate | Fill


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    symbol: str
    quantity: int               # signed: short < 0
    avg_cost: Decimal           # per share
    account: str = ""


@dataclass(frozen=True, slots=True)
class AccountSummary:
    account: str
    net_liquidation: Decimal
    cash: Decimal
    buying_power: Decimal
    initial_margin: Decimal = Decimal("0")
    maintenance_margin: Decimal = Decimal("0")
    currency: str = "USD"
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Margin/commission preview of an order without placing it (IB ``whatIfOrder``)."""

    initial_margin_change: Decimal
    maintenance_margin_change: Decimal
    commission: Decimal
    equity_with_loan_after: Decimal | None = None
    warning: str = ""


@runtime_checkable
class Broker(Protocol):
    """Async broker. Implementations: ``engine.execution.paper.PaperBroker``,
    ``engine.execution.ib.IBBroker``.

    * ``submit`` is idempotent on ``client_order_id`` and returns the acknowledgement
      (``ACCEPTED``, ``FILLED`` when filled at once, or ``REJECTED`` with a reason). Fills are
      delivered on ``events()`` (and are queryable through ``executions``).
    * ``cancel``/``replace`` address the order by ``client_order_id``; an unknown id raises
      ``engine.core.errors.BrokerError``.
    * ``open_orders``/``executions``/``positions`` are snapshots used to reconcile after a
      (re)connect or a crash.
    """

    name: str
    account: str

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def submit(self, order: BrokerOrder) -> OrderUpdate: ...

    async def cancel(self, client_order_id: str) -> OrderUpdate: ...

    async def replace(self, client_order_id: str, *, limit_price: Decimal | None = None,
                      quantity: int | None = None) -> OrderUpdate: ...

    async def open_orders(self) -> list[OrderUpdate]: ...

    async def executions(self, since: datetime | None = None) -> list[Fill]: ...

    def events(self) -> AsyncIterator[BrokerEvent]: ...

    async def positions(self) -> list[BrokerPosition]: ...

    async def account_summary(self) -> AccountSummary: ...

    async def what_if(self, order: BrokerOrder) -> WhatIf: ...
