"""Backtest defaults (``SMART0DTE_BACKTEST__*``).

Fill parameters and the commission/fee table are NOT here: the backtester reads the execution
part's :class:`~engine.execution.config.FillConfig` (``SMART0DTE_FILLS__*``) so a backtest fills
exactly like the paper broker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


class BacktestConfig(BaseModel):
    """Defaults of the backtester, the modeled option market, reports and sweeps."""

    source: Literal["store", "synthetic"] = Field(
        "store", description="Where minute history comes from when a run does not say: the bar store "
        "(imported CSV, Polygon history) or the simulated market's synthetic generator")
    synthetic_seed: int = Field(7, description="Seed of synthetic history (same seed, same bars)")
    capital: float = Field(100_000.0, gt=0, description="Starting equity of the equity curve, dollars")
    settlement: Literal["cash", "physical"] = Field(
        "physical", description="Held to expiry: cash = intrinsic value; physical = ITM options are "
        "exercised/assigned (OCC exercise-by-exception at $0.01 ITM) and the shares are sold at the "
        "next session's open (SPY/QQQ/IWM are physically settled)")
    expiry_weekdays: str = Field(
        "mon,tue,wed,thu,fri", description="Weekdays with a same-day expiry to trade. Today SPY/QQQ/IWM "
        "list one every session; SPY and QQQ added Tuesday/Thursday expiries only in November 2022, so a "
        "backtest of earlier years should use mon,wed,fri")
    # --- modeled option market (see engine.backtest.pricing) ----------------------------------
    vix_scale: float = Field(1.0, gt=0, le=5, description="ATM 0DTE IV = VIX/100 x this")
    rv_premium: float = Field(1.15, gt=0, le=5, description="Without VIX: IV = past realized vol x this")
    fallback_iv: float = Field(0.16, gt=0, le=3, description="Without VIX or past bars: this IV")
    intrabar_stops: bool = Field(True, description="Stops also checked at each bar's high/low (modeled "
                                 "prices), filled at that extreme: a stop is not spared by a bar's close")
    modeled_size: int = Field(50, ge=1, description="Displayed size of modeled quotes (contracts)")
    strike_step: float = Field(1.0, gt=0, description="Strike spacing of the modeled chain")
    skew_chain: Path | None = Field(None, description="Cboe quote-data CSV to re-calibrate skew and "
                                    "spread from; unset = the frozen calibration")
    # --- outputs --------------------------------------------------------------------------------
    png: bool = Field(True, description="Also export a PNG of the report (kaleido + Chromium)")
    browser_path: Path = Field(Path("/usr/bin/chromium"), description="Chromium that kaleido drives")
    progress: bool = Field(True, description="Rich progress bar on long runs (a TTY, > 20 sessions)")
    # --- sweeps ---------------------------------------------------------------------------------
    sweep_backend: Literal["process", "ray", "serial"] = "process"
    sweep_workers: int | None = Field(None, ge=1, description="Unset = all cores")
    ray_address: str | None = Field(None, description="Ray cluster address; unset = a local Ray")

    @field_validator("expiry_weekdays")
    @classmethod
    def _weekdays(cls, v: str) -> str:
        days = [d.strip().lower()[:3] for d in v.split(",") if d.strip()]
        bad = [d for d in days if d not in WEEKDAYS]
        if bad or not days:
            raise ValueError(f"expiry_weekdays: comma-separated {','.join(WEEKDAYS)}; got {v!r}")
        return ",".join(d for d in WEEKDAYS if d in days)

    def expiry_weekday_numbers(self) -> set[int]:
        return {WEEKDAYS.index(d) for d in self.expiry_weekdays.split(",")}
