"""Risk limits and fill-model parameters (``SMART0DTE_RISK__*``, ``SMART0DTE_FILLS__*``).

Owned by the execution part; the backtester reads :class:`FillConfig` too, so paper and backtest
fill alike.
"""

from __future__ import annotations

from pydantic import BaseModel


class RiskConfig(BaseModel):
    """Pre-trade limits (SEC Rule 15c3-5 style). Extended by the execution part."""


class FillConfig(BaseModel):
    """Parameters of the shared fill model. Extended by the execution part."""
