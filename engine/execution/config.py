"""Risk limits and fill-model parameters (``SMART0DTE_RISK__*``, ``SMART0DTE_FILLS__*``).

Owned by the execution part; the backtester reads :class:`FillConfig` too, so paper and backtest
fill alike. Money limits are Decimal dollars; times are America/New_York wall-clock ``HH:MM``.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator


class RiskConfig(BaseModel):
    """Pre-trade limits (SEC Rule 15c3-5 style). Every check can be tuned; ``0``/``None`` never
    silently disables a money limit — use the explicit ``*_enabled`` switches instead."""

    max_contracts_per_order: int = Field(20, ge=1, description="Contracts across all legs of one order")
    max_open_contracts: int = Field(200, ge=1, description="Open option contracts (abs) after the order")
    max_premium_per_order: Decimal = Field(Decimal("10000"), gt=0,
                                           description="Premium paid or received per order, dollars")
    max_notional_per_order: Decimal = Field(Decimal("5000000"), gt=0,
                                            description="Underlying exposure: spot x 100 x contracts of the largest leg")
    max_loss_per_order: Decimal = Field(Decimal("5000"), gt=0, description="Worst-case loss of the order")
    allow_naked_short_options: bool = Field(False, description="Undefined-risk shorts refused unless true")
    daily_loss_limit: Decimal = Field(Decimal("2000"), gt=0,
                                      description="Realized + unrealized loss today that halts trading")
    max_orders_per_minute: int = Field(30, ge=1)
    max_open_orders: int = Field(20, ge=1)
    price_collar_pct: float = Field(0.25, gt=0, le=5,
                                    description="Limit may differ from mid by at most this share of it")
    price_collar_min: Decimal = Field(Decimal("0.10"), ge=0,
                                      description="Collar floor in dollars (cheap options have wide %)")
    stale_quote_seconds: float | None = Field(None, gt=0,
                                              description="Overrides settings.stale_quote_seconds")
    enforce_market_hours: bool = True
    odte_cutoff: time = Field(time(15, 45), description="No new opening 0DTE orders after this time (ET)")
    short_itm_into_close_minutes: int = Field(30, ge=0,
                                              description="Refuse opening short ITM options this close to expiry")
    margin_naked_pct: float = Field(0.20, gt=0, le=1, description="Naked short margin: % of underlying")
    paper_starting_cash: Decimal = Field(Decimal("100000"), gt=0)
    # position monitor defaults
    auto_flatten_time: time = Field(time(15, 50), description="0DTE positions are closed at this time (ET)")
    auto_flatten_enabled: bool = True

    @field_validator("odte_cutoff", "auto_flatten_time", mode="before")
    @classmethod
    def _hhmm(cls, v: object) -> object:
        if isinstance(v, str) and len(v) <= 5 and ":" in v:
            h, m = v.split(":")
            return time(int(h), int(m))
        return v


class FillConfig(BaseModel):
    """Parameters of the shared fill model (paper broker and backtester).

    * Market orders take the far side; the part beyond the displayed size walks the book: each
      further displayed-size block costs ``impact_ticks`` more ticks per leg.
    * Limit orders rest until the market's far side reaches them; fills are capped at the
      displayed size when ``partial_fills`` is on (the rest keeps working or, IOC, is cancelled).
    * Latency of acknowledgement and fill is drawn from ``latency`` with ``latency_ms`` /
      ``latency_jitter_ms`` (milliseconds).
    """

    tick: Decimal = Field(Decimal("0.01"), gt=0)
    impact_ticks: int = Field(1, ge=0, description="Extra ticks per leg per displayed-size block beyond the first")
    min_displayed_size: int = Field(1, ge=1, description="Size assumed when a quote shows none")
    partial_fills: bool = True
    limit_through_ticks: int = Field(0, ge=0,
                                     description="A resting limit fills only when the market is this many ticks through")
    latency: Literal["fixed", "uniform", "lognormal"] = "lognormal"
    latency_ms: float = Field(40.0, ge=0)
    latency_jitter_ms: float = Field(15.0, ge=0)
    seed: int | None = Field(None, description="Seed of the latency/impact randomness; unset = random")
    commission_per_contract: Decimal = Field(Decimal("0.65"), ge=0)
    commission_min_per_order: Decimal = Field(Decimal("1.00"), ge=0)
    fee_table: str | None = Field(None, description="CSV of fees; unset = the bundled fee_schedule.csv")
