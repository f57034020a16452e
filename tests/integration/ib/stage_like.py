"""Turn a stage-style order request (the CLI/tool JSON contract) into the ``BrokerOrder`` the OMS
sends, resolving legs with the production resolver against the loopback listing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.core.errors import InvalidInput
from engine.core.instruments import OptionContract
from engine.execution.broker import BrokerOrder
from engine.execution.structures import OrderRequest, order_type_of, resolve_legs, tif_of


class ListedChain:
    """The part of ``Chain`` that leg resolution by strike uses, over the loopback's listings."""

    def __init__(self, tws, root: str, expiry: date) -> None:
        self.root, self.expiry = root, expiry
        self._listed = {(li.right, li.strike) for li in tws.listings.values()
                        if li.trading_class == root and li.expiry == f"{expiry:%Y%m%d}"}

    def contract(self, right: str, strike: float) -> OptionContract:
        if (right[0].upper(), float(strike)) not in self._listed:
            raise InvalidInput(f"strike {strike} not listed", field="strike")
        return OptionContract.of(self.root, self.expiry, right, Decimal(str(strike)))


async def stage_like(tws, request: dict, client_order_id: str, root: str = "SPY") -> BrokerOrder:
    req = OrderRequest.parse(request)
    chain = ListedChain(tws, root, date(2026, 11, 20))

    async def chain_for(_expiry: str) -> ListedChain:
        return chain

    legs, _ = await resolve_legs(req, chain_for)
    return BrokerOrder(client_order_id, req.account, req.underlying, tuple(leg.order_leg for leg in legs),
                       req.quantity, order_type_of(req), req.limit_price, req.stop_price, tif_of(req))
