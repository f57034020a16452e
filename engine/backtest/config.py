"""Backtest defaults (``SMART0DTE_BACKTEST__*``)."""

from __future__ import annotations

from pydantic import BaseModel


class BacktestConfig(BaseModel):
    """Extended by the backtest part."""
