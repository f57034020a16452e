"""Loads every tool module so :data:`tools.registry.REGISTRY` holds the whole catalogue.

Surfaces call :func:`load` (idempotent) before listing or calling tools; importing a tool module
registers its tools once.
"""

from __future__ import annotations

import importlib

from tools.registry import REGISTRY, Registry

TOOL_MODULES = ("tools.market", "tools.trading", "tools.portfolio", "tools.research", "tools.tax",
                "tools.audit")

#: The contract's tool names, in the order surfaces list them.
TOOL_NAMES = ("quote", "chain", "market_summary", "place_paper_order", "orders", "cancel_order",
              "positions", "portfolio_greeks", "pnl", "risk_status", "backtest", "strategy_payoff",
              "signals", "tax_summary", "wash_sale_check", "audit_log")


def load() -> Registry:
    for name in TOOL_MODULES:
        importlib.import_module(name)
    return REGISTRY
