"""Guarded execution: order lifecycle, the pre-trade risk guard and kill switch, stage → confirm
tickets, the shared fill model and fee table, brokers behind one async ``Broker`` protocol (paper
here, Interactive Brokers in ``ib/``), the position monitor, TWAP and expiry processing.

Public surface (import from the modules; this package imports nothing heavy on its own):

* :mod:`.broker` — ``Broker`` protocol; ``BrokerOrder``, ``OrderLeg``, ``Fill``, ``LegFill``,
  ``OrderUpdate``, ``OrderStatus``, ``OrderType``, ``TimeInForce``, ``Side``, ``AccountSummary``,
  ``BrokerPosition``, ``WhatIf``. Net prices are signed per share: debit > 0, credit < 0.
* :mod:`.fill_model` — ``FillModel(FillConfig)``, ``LegBook``, ``FillResult``; :mod:`.fees` —
  ``FeeSchedule.from_config(FillConfig)``, ``FeeLine``, ``FeeBreakdown`` (shared with the backtester).
* :mod:`.structures` — ``OrderRequest.parse(dict|json)``, ``resolve_legs(req, chain_for)``.
* :mod:`.risk` — ``RiskGuard(RiskConfig).check(RiskOrder, RiskContext) -> RiskDecision``.
* :mod:`.service` — ``ExecutionService(settings, db=, market=, audit=)``: ``stage``, ``confirm``
  (person only), ``cancel_ticket``, ``cancel_order``, ``orders``, ``positions``, ``pnl``,
  ``portfolio_greeks``, ``risk_status``, ``set_kill_switch``, ``trading_mode``, ``switch_mode``,
  ``submit_internal``, ``tick``, ``run``, ``close``.
* :mod:`.ledger_export` — ``ledger_trades(db, ledger)`` for the tax part.
"""
