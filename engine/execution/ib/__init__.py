"""Interactive Brokers adapter (``ib_async``): the ``Broker`` protocol over IB Gateway / TWS.

``make_ib_broker(settings, ledger)`` builds the broker of one ledger: the paper ledger connects to
``settings.ib_port_paper``, the live ledger to ``settings.ib_port_live`` (same ``ib_host``,
``ib_client_id``, ``ib_account``). It reconciles with that ledger's tables on every (re)connect and
writes ``broker.*`` records to the audit log (``broker.connected``, ``broker.disconnected``,
``broker.stalled``, ``broker.reconcile`` with the typed :class:`ReconcileReport`).

In IB Gateway/TWS: enable the socket API (not read-only), note its port (Gateway: 4002 paper,
4001 live by default) and set ``SMART0DTE_IB_PORT_PAPER``/``SMART0DTE_IB_PORT_LIVE``,
``SMART0DTE_IB_HOST``, ``SMART0DTE_IB_CLIENT_ID`` (unique per connection) and, when the login
manages several accounts, ``SMART0DTE_IB_ACCOUNT``. Without a gateway,
``python -m tests.loopback.tws_main --port 4002`` stands in for one.

Modules: ``broker`` (the broker: connection, orders, events), ``resync`` (catching up after being
away), ``reconcile`` (the typed diff against the ledger), ``contracts`` (symbols ↔ IB contracts,
qualification, BAG), ``orders`` (order and status mapping), ``fills`` (executions → fills),
``queries`` (positions, account, what-if), ``streams`` (backoff, event streams).
"""

from __future__ import annotations

from engine.execution.ib.broker import IBBroker
from engine.execution.ib.reconcile import (
    DbLedgerView,
    LedgerOrder,
    LedgerSnapshot,
    LedgerView,
    OrderDiff,
    PositionDiff,
    ReconcileReport,
)
from engine.execution.ib.streams import Backoff


def make_ib_broker(settings, ledger: str, *, db=None, audit=None, backoff: Backoff | None = None) -> IBBroker:
    """The IB broker for ``ledger`` ("paper" | "live"). ``db``/``audit`` default to new
    ``Database(settings)``/``AuditLog(db)``; pass the engine's own to share connections."""
    from engine.core.errors import InvalidInput
    from engine.store.audit import AuditLog
    from engine.store.db import Database

    if ledger not in ("paper", "live"):
        raise InvalidInput(f"ledger must be paper or live, not {ledger!r}", field="account")
    db = db if db is not None else Database(settings)
    audit = audit if audit is not None else AuditLog(db)
    port = settings.ib_port_live if ledger == "live" else settings.ib_port_paper
    return IBBroker(host=settings.ib_host, port=port, client_id=settings.ib_client_id, ledger=ledger,
                    ib_account=settings.ib_account, ledger_view=DbLedgerView(db, ledger), audit=audit,
                    backoff=backoff)


__all__ = ["Backoff", "DbLedgerView", "IBBroker", "LedgerOrder", "LedgerSnapshot", "LedgerView", "OrderDiff",
           "PositionDiff", "ReconcileReport", "make_ib_broker"]
