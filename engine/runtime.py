"""``Engine``: builds the parts from settings and is the one facade the tools call.

Parts are built lazily on first use, so a CLI call that only needs a quote never opens the
ledger or loads the backtester. Each facade method delegates to the part that owns the concern;
the tools layer calls only these methods (and the types they return), never the parts directly.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from engine.settings import Settings, get_settings

if TYPE_CHECKING:
    from engine.core.clock import Clock


class Engine:
    """The headless engine. ``Engine()`` uses the process settings; tests pass their own."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    # --- parts (each owned by its folder) ----------------------------------------------------
    @cached_property
    def db(self):  # engine.store.db.Database
        from engine.store.db import Database

        return Database(self.settings)

    @cached_property
    def audit(self):  # engine.store.audit.AuditLog
        from engine.store.audit import AuditLog

        return AuditLog(self.db)

    @cached_property
    def market(self):  # engine.market.service.MarketService
        from engine.market.service import MarketService

        return MarketService(self.settings)

    @property
    def clock(self) -> Clock:
        return self.market.clock

    @cached_property
    def execution(self):  # engine.execution.service.ExecutionService
        from engine.execution.service import ExecutionService

        return ExecutionService(self.settings, db=self.db, market=self.market, audit=self.audit)

    @cached_property
    def tax(self):  # engine.tax.service.TaxService
        from engine.tax.service import TaxService

        return TaxService(self.settings, db=self.db)

    @cached_property
    def backtester(self):  # engine.backtest.service.BacktestService
        from engine.backtest.service import BacktestService

        return BacktestService(self.settings, market=self.market)

    @cached_property
    def signal_engine(self):  # engine.signals.service.SignalService
        from engine.signals.service import SignalService

        return SignalService(self.settings, market=self.market)

    # --- market --------------------------------------------------------------------------------
    async def quote(self, symbol: str):
        return await self.market.quote(symbol)

    async def chain(self, underlying: str, expiry: str | date = "0dte"):
        """An ``engine.options.chain.Chain`` with locally computed IV and Greeks."""
        return await self.market.chain(underlying, expiry)

    async def expirations(self, underlying: str) -> list[date]:
        return await self.market.expirations(underlying)

    async def market_summary(self, symbol: str, day: date | None = None):
        return await self.market.summary(symbol, day)

    # --- orders (stage needs no person; confirm needs one: checked inside execution) -----------
    async def stage(self, request: Any, principal: Any):
        return await self.execution.stage(request, principal)

    async def confirm(self, ticket_id: str, principal: Any):
        return await self.execution.confirm(ticket_id, principal)

    async def cancel_ticket(self, ticket_id: str, principal: Any):
        return await self.execution.cancel_ticket(ticket_id, principal)

    async def cancel_order(self, order_id: str, principal: Any):
        return await self.execution.cancel_order(order_id, principal)

    async def orders(self, ledger: str = "paper", status: str | None = None):
        return await self.execution.orders(ledger, status)

    async def positions(self, ledger: str = "paper"):
        return await self.execution.positions(ledger)

    async def pnl(self, ledger: str = "paper", period: str = "today"):
        return await self.execution.pnl(ledger, period)

    async def portfolio_greeks(self, ledger: str = "paper"):
        return await self.execution.portfolio_greeks(ledger)

    async def risk_status(self, ledger: str = "paper"):
        return await self.execution.risk_status(ledger)

    async def set_kill_switch(self, state: str, principal: Any, reason: str = ""):
        return await self.execution.set_kill_switch(state, principal, reason)

    async def trading_mode(self) -> str:
        return await self.execution.trading_mode()

    async def switch_mode(self, mode: str, principal: Any, typed_confirmation: str):
        return await self.execution.switch_mode(mode, principal, typed_confirmation)

    # --- audit ---------------------------------------------------------------------------------
    def audit_tail(self, limit: int = 20):
        return self.audit.tail(limit)

    def audit_verify(self):
        return self.audit.verify()

    # --- research ------------------------------------------------------------------------------
    async def backtest(self, params: Any):
        return await self.backtester.run(params)

    async def strategy_payoff(self, params: Any):
        return await self.backtester.payoff(params)

    async def signals(self, underlying: str | None = None):
        return await self.signal_engine.current(underlying)

    # --- tax -----------------------------------------------------------------------------------
    async def tax_report(self, year: int, wash_sale_matching: str | None = None):
        return await self.tax.report(year, wash_sale_matching)

    async def tax_whatif(self, symbol: str, quantity: int, price: Any, account: str = "live", *,
                         side: str = "SELL", wash_sale_matching: str | None = None):
        """Would this trade be (or cause) a wash sale, as of the market clock's now?"""
        return await self.tax.whatif(symbol, quantity, price, account, side=side, when=self.clock.now(),
                                     wash_sale_matching=wash_sale_matching)

    async def close(self) -> None:
        """Stop feeds and release connections."""
        for name in ("market", "execution"):
            part = self.__dict__.get(name)
            if part is not None and hasattr(part, "close"):
                await part.close()
        db = self.__dict__.get("db")
        if db is not None:
            db.dispose()
