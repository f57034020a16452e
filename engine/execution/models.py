"""Tables of the execution part.

Per ledger (``LedgerBase``: one copy in ``paper``, one in ``live``): orders and their state
changes, broker executions (fills) and per-leg trades, positions, cash, exit rules of the position
monitor, tickets, the paper broker's own book, and small key/value state (kill switch).
Common (``CommonBase``): the trading mode, which is one fact for the whole installation.

Money columns are ``Numeric(20, 6)``; timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.base import CommonBase, LedgerBase

Money = Numeric(20, 6, asdecimal=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(ts: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes: they were stored as UTC."""
    if ts is None:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


class OrderRow(LedgerBase):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # = client_order_id
    ticket_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    account: Mapped[str] = mapped_column(String(8))
    underlying: Mapped[str] = mapped_column(String(12), index=True)
    legs: Mapped[list] = mapped_column(JSON)
    quantity: Mapped[int] = mapped_column(Integer)
    order_type: Mapped[str] = mapped_column(String(12))
    tif: Mapped[str] = mapped_column(String(4), default="day")
    limit_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    stop_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    filled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    avg_fill_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    broker: Mapped[str] = mapped_column(String(16), default="paper")
    broker_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    principal: Mapped[str] = mapped_column(String(200), default="")
    intent: Mapped[str] = mapped_column(String(16), default="open")  # open|close|exit|flatten|twap
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    market_ts: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OrderEventRow(LedgerBase):
    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")


class FillRow(LedgerBase):
    __tablename__ = "fills"

    exec_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    quantity: Mapped[int] = mapped_column(Integer)
    net_price: Mapped[Decimal] = mapped_column(Money)
    commission: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    fees: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    liquidity: Mapped[str] = mapped_column(String(8), default="remove")
    legs: Mapped[list] = mapped_column(JSON)


class TradeRow(LedgerBase):
    """One leg's execution or an expiry event: what positions, P&L and tax are built from."""

    __tablename__ = "trades"
    __table_args__ = (UniqueConstraint("exec_id", "symbol", name="uq_trades_exec_symbol"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    exec_id: Mapped[str] = mapped_column(String(80), index=True)
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    underlying: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(10))  # BUY SELL EXPIRE ASSIGN EXERCISE
    quantity: Mapped[int] = mapped_column(Integer)    # positive
    price: Mapped[Decimal] = mapped_column(Money)    # per share
    multiplier: Mapped[int] = mapped_column(Integer, default=100)
    fees: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # commission + fees of this leg
    realized_pnl: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))


class PositionRow(LedgerBase):
    __tablename__ = "positions"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    underlying: Mapped[str] = mapped_column(String(12), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)  # signed
    avg_price: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))  # per share
    multiplier: Mapped[int] = mapped_column(Integer, default=100)
    realized_pnl: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    expiry: Mapped[date | None] = mapped_column(Date, nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CashRow(LedgerBase):
    __tablename__ = "cash"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    amount: Mapped[Decimal] = mapped_column(Money)
    kind: Mapped[str] = mapped_column(String(16))  # deposit trade fee settlement
    ref: Mapped[str] = mapped_column(String(80), default="")


class ExitRuleRow(LedgerBase):
    """Exits the position monitor watches for the structure one order opened."""

    __tablename__ = "exit_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    underlying: Mapped[str] = mapped_column(String(12))
    legs: Mapped[list] = mapped_column(JSON)          # [{"symbol","side","ratio"}] as opened
    quantity: Mapped[int] = mapped_column(Integer)
    entry_net: Mapped[Decimal] = mapped_column(Money)  # signed per share (debit > 0)
    take_profit_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop_loss_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    trailing: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_at: Mapped[str | None] = mapped_column(String(5), nullable=True)  # HH:MM ET
    best_pnl_pct: Mapped[float] = mapped_column(Float, default=0.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TicketRow(LedgerBase):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal: Mapped[str] = mapped_column(String(200))     # who staged it (label)
    owner: Mapped[str] = mapped_column(String(120))         # the person it belongs to
    account: Mapped[str] = mapped_column(String(8))
    request: Mapped[dict] = mapped_column(JSON)
    order: Mapped[dict] = mapped_column(JSON)               # BrokerOrder.to_dict()
    preview: Mapped[dict] = mapped_column(JSON)
    risk: Mapped[dict] = mapped_column(JSON)
    created_wall: Mapped[float] = mapped_column(Float)      # epoch seconds (wall clock: TTL)
    expires_wall: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="staged")  # staged confirmed cancelled
    confirmed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class StateRow(LedgerBase):
    """Small per-ledger facts: kill switch, daily loss halt, reconcile marks."""

    __tablename__ = "ledger_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BrokerOrderRow(LedgerBase):
    """The PAPER broker's own book (the simulated exchange side, not ours): it outlives a crash
    of the engine exactly as a real broker's would, which is what reconciliation is tested on."""

    __tablename__ = "paper_broker_orders"

    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    broker_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    order: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    filled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    resting: Mapped[bool] = mapped_column(Boolean, default=False)
    triggered: Mapped[bool] = mapped_column(Boolean, default=False)
    commission_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    fees_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BrokerExecRow(LedgerBase):
    __tablename__ = "paper_broker_executions"

    exec_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fill: Mapped[dict] = mapped_column(JSON)


class ModeRow(CommonBase):
    """The trading mode (paper | live) and who set it."""

    __tablename__ = "trading_mode"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), default="paper")
    set_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EngineStateRow(CommonBase):
    """Installation-wide facts of the execution part (e.g. the last risk/fill settings seen)."""

    __tablename__ = "execution_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
