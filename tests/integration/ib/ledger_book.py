"""What the OMS writes when the broker reports: order rows, fills and positions in the ledger
tables (a plain stand-in for the execution service, so the reconciliation compares against a real
ledger in a real database)."""

from __future__ import annotations

from engine.execution.broker import BrokerOrder, Fill, OrderStatus
from engine.execution.models import FillRow, OrderRow, PositionRow


def record_order(db, order: BrokerOrder, status: OrderStatus, broker_order_id: str | None = None) -> None:
    with db.session(order.account) as s:
        row = s.get(OrderRow, order.client_order_id) or OrderRow(id=order.client_order_id)
        row.account, row.underlying = order.account, order.underlying
        row.legs = [leg.to_dict() for leg in order.legs]
        row.quantity, row.order_type, row.tif = order.quantity, order.order_type.value, order.tif.value
        row.limit_price, row.stop_price = order.limit_price, order.stop_price
        row.status, row.broker, row.broker_order_id = status.value, "ib", broker_order_id
        row.filled_quantity = row.filled_quantity or 0
        s.add(row)


def record_fill(db, ledger: str, fill: Fill) -> None:
    with db.session(ledger) as s:
        s.add(FillRow(exec_id=fill.exec_id, order_id=fill.client_order_id, ts=fill.ts, quantity=fill.quantity,
                      net_price=fill.net_price, commission=fill.commission, fees=fill.fees,
                      liquidity=fill.liquidity, legs=[{"symbol": x.symbol, "side": x.side.value,
                                                       "quantity": x.quantity, "price": str(x.price)}
                                                      for x in fill.legs]))
        order = s.get(OrderRow, fill.client_order_id)
        if order is not None:
            order.filled_quantity = (order.filled_quantity or 0) + fill.quantity
            order.status = (OrderStatus.FILLED if order.filled_quantity >= order.quantity
                            else OrderStatus.PARTIALLY_FILLED).value
        for leg in fill.legs:
            pos = s.get(PositionRow, leg.symbol) or PositionRow(symbol=leg.symbol, underlying=leg.symbol[:3],
                                                                 quantity=0)
            pos.quantity = (pos.quantity or 0) + leg.side.sign * leg.quantity
            s.add(pos)
