"""Inputs of a backtest, a payoff question and a sweep (pydantic: typed, bounded, extra=forbid).

Field semantics (the CLI flags map one to one):

- ``short_delta``: |delta| of the SOLD strikes of credit structures (iron condor, credit
  vertical, short put/call, short strangle), of the BOUGHT strike of debit structures (long
  call/put, debit vertical, long strangle); ignored by ATM structures (straddle, iron
  butterfly, butterfly, calendar) unless ``strike_offset`` is given.
- ``wing_width``: points between the short strike and its protective wing.
- ``take_profit`` / ``stop_loss``: shares of the premium (0.5 = take profit at 50% of the credit
  received or debit paid; 2.0 = stop when the loss reaches 200% of it); ``None`` disables. A debit
  structure cannot lose more than 100% of its debit, so a stop above 1.0 never fires for it.
- ``exit``: time exit (ET); ``None`` (CLI ``--exit expiry``) holds to expiry and settles.
"""

from __future__ import annotations

from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.strategies.builders import StrategySpec

StrategyName = Literal["iron_condor", "vertical", "straddle", "strangle", "butterfly", "iron_butterfly",
                       "long_call", "long_put", "short_put", "short_call", "calendar"]
Underlying = Literal["SPY", "QQQ", "IWM"]
EntryFilter = Literal["none", "calm", "trend_up", "trend_down", "no_breakout", "low_vix"]


def parse_hhmm(v: object) -> object:
    """'10:00' → time(10, 0); 'expiry'/'none'/'' → None (hold to expiry)."""
    if isinstance(v, str):
        text = v.strip().lower()
        if text in ("", "none", "expiry", "settle", "hold"):
            return None
        try:
            h, m = text.split(":")
            return time(int(h), int(m))
        except ValueError:
            raise ValueError(f"time must be HH:MM (ET), got {v!r}") from None
    return v


class StructurePlan(BaseModel):
    """One structure and its trade management."""

    model_config = ConfigDict(extra="forbid")

    strategy: StrategyName = Field(description="Structure to trade every session")
    short_delta: float = Field(0.10, gt=0, lt=1, description="|delta| of the short (or long, for debit) strikes")
    wing_width: float = Field(5.0, gt=0, le=100, description="Points from short strike to wing")
    strike_offset: float | None = Field(None, description="Strikes by offset from spot instead of delta")
    side: Literal["long", "short"] | None = Field(None, description="straddle/strangle/butterfly: bought or sold")
    right: Literal["call", "put"] = Field("put", description="vertical/butterfly/calendar: call or put version")
    credit: bool = Field(True, description="vertical: credit (sold) or debit (bought)")
    entry: time = Field(time(10, 0), description="Entry time ET (decision at that bar's close)")
    exit: time | None = Field(time(15, 50), description="Time exit ET; None = hold to expiry")
    take_profit: float | None = Field(0.5, gt=0, le=50)
    stop_loss: float | None = Field(2.0, gt=0, le=50)
    quantity: int = Field(1, ge=1, le=10_000)
    risk_per_trade: float | None = Field(None, gt=0, le=1, description="Size by max loss = this share of equity")
    entry_filter: EntryFilter = Field("none", description="Signal filter at the entry minute (past data only)")

    _hhmm = field_validator("entry", "exit", mode="before")(lambda cls, v: parse_hhmm(v))

    @model_validator(mode="after")
    def _times(self) -> StructurePlan:
        if self.entry is None:
            raise ValueError("entry time is required (HH:MM ET)")
        if not time(9, 31) <= self.entry <= time(15, 59):
            raise ValueError(f"entry {self.entry:%H:%M} is outside the session (09:31-15:59 ET)")
        if self.exit is not None and self.exit <= self.entry:
            raise ValueError(f"exit {self.exit:%H:%M} must be after entry {self.entry:%H:%M}")
        return self

    def spec(self) -> StrategySpec:
        atm = self.strategy in ("straddle", "iron_butterfly", "butterfly", "calendar")
        side = self.side or ("long" if self.strategy in ("straddle", "strangle", "butterfly") else "short")
        return StrategySpec(self.strategy, delta=None if atm else self.short_delta, width=self.wing_width,
                            strike_offset=self.strike_offset, right=self.right, side=side, credit=self.credit)


class BacktestParams(StructurePlan):
    """A backtest: the main structure (fields above) plus optional ``also`` structures each day."""

    underlying: Underlying = "SPY"
    start: date
    end: date
    source: Literal["store", "synthetic"] | None = Field(None, description="Unset = settings.backtest.source")
    seed: int | None = Field(None, description="Synthetic history seed; unset = settings")
    settlement: Literal["cash", "physical"] | None = None
    capital: float | None = Field(None, gt=0)
    also: list[StructurePlan] = Field(default_factory=list, max_length=8)
    report: bool = Field(True, description="Write the HTML (and PNG) report")
    png: bool | None = Field(None, description="Also render the PNG (kaleido starts a Chromium: seconds); "
                                               "unset = settings.backtest.png")
    progress: bool | None = Field(None, description="Rich progress bar; unset = on for long runs on a TTY")

    @field_validator("underlying", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.strip().upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _range(self) -> BacktestParams:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @classmethod
    def coerce(cls, obj: object) -> BacktestParams:
        """Params from itself or a dict (the tools' names ``entry_time``/``take_profit_pct``… too)."""
        return _coerce(cls, obj, lambda d: {_BACKTEST_ALIASES.get(k, k): v for k, v in d.items()})


class PayoffParams(BaseModel):
    """A structure on the current chain: legs, payoff at expiry, max profit/loss, margin."""

    model_config = ConfigDict(extra="forbid")

    strategy: StrategyName
    underlying: Underlying = "SPY"
    expiry: str = Field("0dte", description='"0dte" or YYYY-MM-DD')
    far_expiry: date | None = Field(None, description="calendar: the long leg's expiry")
    short_delta: float = Field(0.10, gt=0, lt=1)
    wing_width: float = Field(5.0, gt=0, le=100)
    strike_offset: float | None = None
    side: Literal["long", "short"] | None = None
    right: Literal["call", "put"] = "put"
    credit: bool = True
    quantity: int = Field(1, ge=1, le=10_000)

    strike: float | None = Field(None, gt=0, description="Short/centre strike instead of a delta")

    def spec(self) -> StrategySpec:
        plan = StructurePlan(strategy=self.strategy, short_delta=self.short_delta, wing_width=self.wing_width,
                             strike_offset=self.strike_offset, side=self.side, right=self.right, credit=self.credit)
        spec = plan.spec()
        if self.strike is not None:
            from dataclasses import replace

            spec = replace(spec, strike=self.strike)
        return spec

    @classmethod
    def coerce(cls, obj: object) -> PayoffParams:
        """From itself or a dict; the tools' ``side: buy|sell`` maps to long/short and debit/credit."""
        def sides(data: dict) -> dict:
            data = dict(data)
            if data.get("side") in ("buy", "sell"):
                sold = data.pop("side") == "sell"
                data["side"], data["credit"] = ("short" if sold else "long"), sold
            return data
        return _coerce(cls, obj, sides)


_BACKTEST_ALIASES = {"entry_time": "entry", "exit_time": "exit", "take_profit_pct": "take_profit",
                     "stop_loss_pct": "stop_loss"}


def _coerce(cls, obj: object, translate):
    if isinstance(obj, cls):
        return obj
    if not isinstance(obj, dict):
        raise TypeError(f"{cls.__name__} or a dict expected, not {type(obj).__name__}")
    return cls.model_validate(translate(obj))
