"""Our symbols ↔ Interactive Brokers contracts.

An OCC option symbol maps to an IB ``Option`` by its terms: ``symbol`` is the underlying
(``SPX`` for both ``SPX`` and ``SPXW``), ``tradingClass`` the OCC root (``SPXW`` picks the PM-settled
weeklies apart from the AM-settled monthlies), expiry as ``YYYYMMDD``, strike, right ``C``/``P``,
multiplier 100, currency USD. ETF options (SPY, QQQ, IWM) route ``SMART``; cash-settled index
options are listed at Cboe only, so SPX/SPXW, VIX/VIXW and RUT/RUTW go to ``CBOE``
(:data:`INDEX_OPTION_EXCHANGES`, data rather than rules in code). A stock leg is a ``Stock`` on
``SMART``.

A contract is *qualified* once per symbol (``reqContractDetails`` → conId) and cached both ways;
conIds are permanent at IB, so the cache survives reconnects. A multi-leg order becomes one
``BAG`` contract whose ``ComboLeg`` s reference the legs' conIds.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ib_async import IB, Bag, ComboLeg, Contract, Option, Stock

from engine.core.errors import BrokerError, UnknownSymbol
from engine.core.instruments import OptionContract, looks_like_option, parse_occ
from engine.execution.broker import OrderLeg

#: Option symbols (IB ``symbol``) listed on one exchange only; everything else routes SMART.
INDEX_OPTION_EXCHANGES: dict[str, str] = {"SPX": "CBOE", "VIX": "CBOE", "RUT": "CBOE", "XSP": "CBOE"}
CURRENCY = "USD"


def exchange_for(underlying: str) -> str:
    return INDEX_OPTION_EXCHANGES.get(underlying, "SMART")


def ib_contract(symbol: str) -> Contract:
    """The unqualified IB contract of one of our symbols (OCC option or stock ticker)."""
    if looks_like_option(symbol):
        oc = parse_occ(symbol)
        return Option(symbol=oc.underlying, lastTradeDateOrContractMonth=f"{oc.expiry:%Y%m%d}",
                      strike=float(oc.strike), right=oc.right.letter, exchange=exchange_for(oc.underlying),
                      multiplier=str(oc.multiplier), currency=CURRENCY, tradingClass=oc.root)
    return Stock(symbol=symbol.upper(), exchange="SMART", currency=CURRENCY)


def our_symbol(contract: Contract) -> str | None:
    """Our symbol of an IB contract (``None`` for a BAG or a kind we do not trade)."""
    if contract.secType == "OPT":
        local = (contract.localSymbol or "").strip()
        if len(local) == 21 and looks_like_option(local):
            return parse_occ(local).occ
        expiry = datetime.strptime(contract.lastTradeDateOrContractMonth[:8], "%Y%m%d").date()
        root = contract.tradingClass or contract.symbol
        return OptionContract.of(root, expiry, contract.right, Decimal(repr(contract.strike))).occ
    if contract.secType == "STK":
        return contract.symbol
    return None


class ContractBook:
    """Qualifies our symbols at IB and remembers conIds both ways."""

    def __init__(self) -> None:
        self._by_symbol: dict[str, Contract] = {}
        self._by_con_id: dict[int, str] = {}

    def remember(self, contract: Contract) -> str | None:
        known = self._by_con_id.get(contract.conId)
        if known is not None:
            return known
        sym = our_symbol(contract)
        if sym is not None and contract.conId:
            self._by_con_id[contract.conId] = sym
            self._by_symbol.setdefault(sym, contract)
        return sym

    async def qualify(self, ib: IB, symbols: list[str]) -> list[Contract]:
        """Qualified contracts of ``symbols``, in order; :class:`UnknownSymbol` names any IB
        does not list (or lists ambiguously)."""
        todo = [s for s in dict.fromkeys(symbols) if s not in self._by_symbol]
        if todo:
            asked = [ib_contract(s) for s in todo]
            answers = await ib.qualifyContractsAsync(*asked)
            unknown = [s for s, a in zip(todo, answers, strict=True) if not isinstance(a, Contract) or not a.conId]
            if unknown:
                raise UnknownSymbol(f"Interactive Brokers lists no single contract for {', '.join(unknown)}",
                                    field="legs")
            for s, a in zip(todo, answers, strict=True):
                self._by_symbol[s] = a
                self._by_con_id[a.conId] = s
        return [self._by_symbol[s] for s in symbols]

    async def symbol_of(self, ib: IB, con_id: int) -> str:
        """Our symbol of a conId (asks IB once when the conId is new to us)."""
        if con_id not in self._by_con_id:
            details = await ib.reqContractDetailsAsync(Contract(conId=con_id))
            if not details or details[0].contract is None:
                raise BrokerError(f"Interactive Brokers does not know conId {con_id}")
            self.remember(details[0].contract)
        if con_id not in self._by_con_id:
            raise BrokerError(f"conId {con_id} is not an option or stock we trade")
        return self._by_con_id[con_id]

    async def order_contract(self, ib: IB, underlying: str, legs: tuple[OrderLeg, ...]) -> Contract:
        """The contract an order is placed on: the single leg's own contract, or a BAG."""
        qualified = await self.qualify(ib, [leg.symbol for leg in legs])
        if len(legs) == 1:
            return qualified[0]
        symbols = {c.symbol for c in qualified if c.secType == "OPT"} or {underlying.upper()}
        if len(symbols) != 1:
            raise BrokerError(f"a combo must have one underlying, not {', '.join(sorted(symbols))}")
        (bag_symbol,) = symbols
        exchange = exchange_for(bag_symbol)
        combo = [ComboLeg(conId=c.conId, ratio=leg.ratio, action=leg.side.value.upper(), exchange=exchange)
                 for c, leg in zip(qualified, legs, strict=True)]
        return Bag(symbol=bag_symbol, exchange=exchange, currency=CURRENCY, comboLegs=combo)

