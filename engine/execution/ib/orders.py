"""Our orders ↔ IB orders, and IB order status → our lifecycle states.

Prices: our net prices are signed per share from the buyer's side of the combo (debit > 0,
credit < 0; see :mod:`engine.execution.broker`). A BAG is sent exactly so — ``action="BUY"`` and
the signed net as ``lmtPrice`` — with each ``ComboLeg`` carrying its own side. A single-leg order is
a plain order on the leg's contract: action = the leg's side, quantity = units × ratio, and the
(positive) per-contract price = net × side sign / ratio.

``orderRef`` carries our ``client_order_id``: IB echoes it in ``openOrder`` and ``execDetails``,
so orders and executions are matched to the ledger after a reconnect or a restart of the engine.

Status mapping (IB → ours):

============================  ==============================================================
``PendingSubmit``/``ApiPending``  SUBMITTED (sent, not acknowledged)
``PreSubmitted``/``Submitted``    ACCEPTED, or PARTIALLY_FILLED once something filled
``PendingCancel``                 PENDING_CANCEL
``Filled``                        FILLED
``Cancelled``/``ApiCancelled``    CANCELED when we asked; REJECTED when IB refused it (an error
                                  code before any acceptance, e.g. 201 margin, 110 tick, 200 no
                                  such contract); EXPIRED for an IOC remainder; else CANCELED
``Inactive``                      REJECTED (IB holds it inactive: refused or not routable)
============================  ==============================================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from math import gcd

from ib_async import Order, Trade

from engine.core.errors import InvalidInput
from engine.core.money import D
from engine.execution.broker import (
    BrokerOrder,
    OrderLeg,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
)

IB_ORDER_TYPES = {OrderType.MARKET: "MKT", OrderType.LIMIT: "LMT", OrderType.STOP: "STP",
                  OrderType.STOP_LIMIT: "STP LMT"}
OUR_ORDER_TYPES = {v: k for k, v in IB_ORDER_TYPES.items()}
UNSET = 1.7976931348623157e308

#: IB error codes that end an order as a cancel (anything else before a fill is a refusal).
CANCEL_CODES = frozenset({202})


def _per_contract(order: BrokerOrder, price: Decimal | None) -> float | None:
    if price is None:
        return None
    if not order.is_combo:
        leg = order.legs[0]
        price = price * leg.side.sign / leg.ratio
        if price <= 0:
            raise InvalidInput(f"a single-leg {leg.side.value} needs a "
                               f"{'positive' if leg.side is Side.BUY else 'negative (credit)'} net price, "
                               f"not {price * leg.side.sign * leg.ratio}", field="limit_price")
    return float(price)


def to_ib_order(order: BrokerOrder, account: str) -> Order:
    """The IB order for ``order`` (its contract comes from :class:`ContractBook`)."""
    single = None if order.is_combo else order.legs[0]
    return Order(
        action="BUY" if single is None else single.side.value.upper(),
        totalQuantity=float(order.quantity * (single.ratio if single else 1)),
        orderType=IB_ORDER_TYPES[order.order_type],
        lmtPrice=_per_contract(order, order.limit_price) if order.limit_price is not None else UNSET,
        auxPrice=_per_contract(order, order.stop_price) if order.stop_price is not None else UNSET,
        tif=order.tif.value.upper(),
        account=account,
        orderRef=order.client_order_id,
        transmit=True,
    )


def with_changes(order: BrokerOrder, ib_order: Order, limit_price: Decimal | None, quantity: int | None) -> Order:
    """``ib_order`` modified in place for a replace (same orderId: IB treats it as a modify)."""
    changed = order.with_price(limit_price, quantity)
    fresh = to_ib_order(changed, ib_order.account)
    ib_order.lmtPrice, ib_order.totalQuantity = fresh.lmtPrice, fresh.totalQuantity
    return ib_order


def units(order: BrokerOrder | None, ib_quantity: float) -> int:
    """IB quantity → our combo units (a single leg's IB quantity counts contracts)."""
    ratio = order.legs[0].ratio if order is not None and not order.is_combo else 1
    return int(round(ib_quantity / ratio))


def plain(value: float) -> Decimal:
    """A float from IB as a Decimal without binary noise or exponent (``100.0`` → ``100``)."""
    d = D(round(value, 6))
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def net_from_ib(legs: tuple[OrderLeg, ...] | None, price: float, action: str = "BUY") -> Decimal | None:
    """An IB order/fill price → our signed net per share (``legs`` of the order, if known)."""
    if not price or price == UNSET:
        return None
    p = plain(price)
    if legs is not None and len(legs) == 1:
        return p * legs[0].side.sign * legs[0].ratio
    return p if action == "BUY" else -p


def error_of(trade: Trade) -> tuple[int, str]:
    """The last IB error recorded on a trade: ``(code, message)`` or ``(0, "")``."""
    for entry in reversed(trade.log):
        if entry.errorCode:
            msg = entry.message
            head = f"reqId {trade.order.orderId}: "
            if head in msg:
                msg = msg.split(head, 1)[1]
            msg = msg.split(", contract: ", 1)[0]
            return entry.errorCode, msg
    return 0, ""


def map_status(trade: Trade, *, cancel_requested: bool,
               tif: TimeInForce | str = TimeInForce.DAY) -> tuple[OrderStatus, str] | None:
    """Our status (and a reason) for an IB trade, or ``None`` when IB's state says nothing new
    (``ValidationError`` is ib_async's marker of a warning on a live order)."""
    status = trade.orderStatus.status
    total = float(trade.order.totalQuantity or 0)
    filled = float(trade.orderStatus.filled or 0)  # same unit as totalQuantity
    code, message = error_of(trade)
    reason = f"IB {code}: {message}" if code else ""
    if status in ("PendingSubmit", "ApiPending"):
        return OrderStatus.SUBMITTED, ""
    if status in ("PreSubmitted", "Submitted", "ApiUpdate"):
        return (OrderStatus.PARTIALLY_FILLED if 0 < filled < total else OrderStatus.ACCEPTED), ""
    if status == "PendingCancel":
        return OrderStatus.PENDING_CANCEL, ""
    if status == "Filled":
        return (OrderStatus.FILLED if filled >= total or not total else OrderStatus.PARTIALLY_FILLED), ""
    if status in ("Cancelled", "ApiCancelled"):
        if cancel_requested or code in CANCEL_CODES:
            return OrderStatus.CANCELED, reason or "canceled at our request"
        if code and filled == 0:
            return OrderStatus.REJECTED, reason
        if str(tif).lower() == TimeInForce.IOC.value:
            return OrderStatus.EXPIRED, "IOC remainder canceled"
        return OrderStatus.CANCELED, reason or "canceled by Interactive Brokers"
    if status == "Inactive":
        return OrderStatus.REJECTED, reason or "IB holds the order inactive (not accepted)"
    return None


def update_from_trade(order: BrokerOrder, trade: Trade, status: OrderStatus, reason: str) -> OrderUpdate:
    """Our view of an IB trade in ``status`` (quantities in combo units, prices signed)."""
    st = trade.orderStatus
    perm = st.permId or trade.order.permId
    return OrderUpdate(
        client_order_id=order.client_order_id, status=status, ts=datetime.now(UTC),
        broker_order_id=str(perm) if perm else None, filled_quantity=units(order, st.filled),
        remaining=units(order, st.remaining if status.is_working else 0),
        avg_fill_price=net_from_ib(order.legs, st.avgFillPrice, trade.order.action) if st.filled else None,
        reason=reason, order=order)


def closed_status(ib_status: str | None, *, fully_filled: bool, cancel_requested: bool,
                  tif: TimeInForce | str = TimeInForce.DAY, acknowledged: bool = True) -> tuple[OrderStatus, str]:
    """Final state of an order IB no longer lists as open (found on a reconnect), from the status
    ``reqCompletedOrders`` gives (``None``: IB did not say), what today's executions show, and
    whether IB ever ``acknowledged`` it (an order IB never heard of was never live: REJECTED)."""
    if fully_filled or ib_status == "Filled":
        return OrderStatus.FILLED, ""
    if ib_status is None and not acknowledged:
        return OrderStatus.REJECTED, "Interactive Brokers never acknowledged it (lost before reaching IB)"
    if ib_status == "Inactive":
        return OrderStatus.REJECTED, "inactive at Interactive Brokers (not accepted) while we were away"
    if cancel_requested:
        return OrderStatus.CANCELED, "canceled at our request"
    if str(tif).lower() == TimeInForce.IOC.value:
        return OrderStatus.EXPIRED, "IOC remainder canceled"
    if ib_status in ("Cancelled", "ApiCancelled"):
        return OrderStatus.CANCELED, "canceled by Interactive Brokers while we were away"
    return OrderStatus.CANCELED, "no longer open at Interactive Brokers when we reconnected"


def broker_order_from_ib(trade: Trade, ledger: str, leg_symbols: list[str]) -> BrokerOrder:
    """Rebuild our order from an IB trade this process did not place (after a restart of the
    engine), ``leg_symbols`` being our symbols of the contract (one) or of the BAG's legs."""
    o, c = trade.order, trade.contract
    if c.secType == "BAG":
        flip = o.action != "BUY"  # a SELL of a BAG is a BUY of the opposite legs
        legs = tuple(OrderLeg(sym, (Side.BUY if leg.action == "BUY" else Side.SELL).opposite if flip
                              else (Side.BUY if leg.action == "BUY" else Side.SELL), int(leg.ratio))
                     for sym, leg in zip(leg_symbols, c.comboLegs, strict=True))
        action = "BUY" if not flip else "SELL"
    else:
        legs = (OrderLeg(leg_symbols[0], Side.BUY if o.action == "BUY" else Side.SELL, 1),)
        action = o.action
    tif = o.tif.lower() if o.tif.lower() in ("day", "ioc") else "day"
    return BrokerOrder(o.orderRef or f"ib-{o.permId}", ledger, c.symbol, legs, int(round(o.totalQuantity)),
                       OUR_ORDER_TYPES.get(o.orderType, OrderType.LIMIT), net_from_ib(legs, o.lmtPrice, action),
                       net_from_ib(legs, o.auxPrice, action), TimeInForce(tif))


def order_from_executions(client_order_id: str, ledger: str, underlying: str,
                          legs: list[tuple[str, Side, int]]) -> BrokerOrder:
    """An order known only from its leg executions ``(symbol, side, quantity)`` (placed by hand in
    TWS): the legs in order of appearance, ratios and units from the quantities' common divisor."""
    totals: dict[str, tuple[Side, int]] = {}
    for symbol, side, qty in legs:
        totals[symbol] = (side, totals.get(symbol, (side, 0))[1] + qty)
    unit = 0
    for _, q in totals.values():
        unit = gcd(unit, q)
    unit = unit or 1
    combo = len(totals) > 1
    return BrokerOrder(client_order_id, ledger, underlying,
                       tuple(OrderLeg(s, side, q // unit if combo else 1) for s, (side, q) in totals.items()),
                       unit if combo else sum(q for _, q in totals.values()), order_type=OrderType.MARKET)
