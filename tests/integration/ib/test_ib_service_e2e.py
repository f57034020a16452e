"""End to end through the execution service: stage (legs resolved and priced from the market
chain, risk guard) → a person confirms → the IB adapter → loopback TWS → fills booked in the
ledger. The loopback lists the same contracts, at the chain's quotes."""

from __future__ import annotations

from decimal import Decimal

from engine.core.instruments import parse_occ
from engine.core.principal import Principal
from engine.execution.ib import make_ib_broker
from engine.execution.service import ExecutionService
from engine.market.service import MarketService
from engine.settings import load_settings
from engine.store.audit import AuditLog
from tests.integration.ib.conftest import FAST_BACKOFF


async def test_stage_confirm_fill_through_interactive_brokers(tws, db):
    settings = load_settings(ib_port_paper=tws.port, ib_client_id=31)
    market = MarketService(settings)
    chain = await market.chain("SPY", "0dte")
    for row in chain.rows(strikes_around_atm=6):
        oc = parse_occ(row["symbol"])
        tws.list_option(oc.root, f"{oc.expiry:%Y%m%d}", oc.right.letter, float(oc.strike),
                        bid=float(row["bid"]), ask=float(row["ask"]))
    audit = AuditLog(db)
    broker = make_ib_broker(settings, "paper", db=db, audit=audit, backoff=FAST_BACKOFF)
    service = ExecutionService(settings, db=db, market=market, audit=audit, brokers={"paper": broker})
    alice = Principal.person("alice", "cli")
    atm = float(chain.atm_strike())
    try:
        ticket = await service.stage({"underlying": "SPY", "expiry": "0dte", "quantity": 2, "order_type": "market",
                                      "account": "paper",
                                      "legs": [{"right": "call", "strike": atm, "side": "buy"},
                                               {"right": "call", "strike": atm + 5, "side": "sell"}]}, alice)
        assert ticket.risk["passed"]
        result = await service.confirm(ticket.ticket_id, alice)
        assert result["status"] == "filled" and result["filled_quantity"] == 2
        (fill,) = result["fills"]
        at_ib = tws.order_by_ref(ticket.ticket_id)       # the ticket id is the client order id at IB
        assert at_ib.contract.sec_type == "BAG" and at_ib.order_type == "MKT" and at_ib.quantity == 2
        bought, sold = fill["legs"]
        assert (bought["side"], sold["side"]) == ("buy", "sell")
        # a market order pays the far sides: the long leg's ask, the short leg's bid
        by_symbol = {li.local_symbol.replace(" ", ""): li for li in tws.listings.values()}
        assert Decimal(bought["price"]) == Decimal(str(by_symbol[bought["symbol"]].ask))
        assert Decimal(sold["price"]) == Decimal(str(by_symbol[sold["symbol"]].bid))
        assert Decimal(fill["net_price"]) == Decimal(bought["price"]) - Decimal(sold["price"])
        assert Decimal(fill["commission"]) == Decimal("2.6")
        positions = {p["symbol"]: p["quantity"] for p in await service.positions("paper")}
        assert sorted(positions.values()) == [-2, 2]
        assert {p.symbol: p.quantity for p in await broker.positions()} == positions
        order = (await service.orders("paper", None))[0]
        assert (order["broker"], order["status"]) == ("ib", "filled") and order["broker_order_id"]
    finally:
        await broker.disconnect()
        await market.close()
