"""The typed tool catalogue: one :class:`~tools.registry.ToolSpec` per tool, one registry for every
surface (LangChain agent, HTTP API, MCP, bots, CLI).

``tools.catalog.load()`` imports every tool module and returns :data:`tools.registry.REGISTRY`.

=================== ======== ===========================================================
tool                effect   engine facade call
=================== ======== ===========================================================
quote               read     ``Engine.quote``
chain               read     ``Engine.chain`` (+ ``Chain.rows``)
market_summary      read     ``Engine.market_summary``
place_paper_order   stage    ``Engine.stage`` (paper only; priced at mid when no limit)
orders              read     ``Engine.orders``
cancel_order        write    ``Engine.cancel_order`` (a person only)
positions           read     ``Engine.positions``
portfolio_greeks    read     ``Engine.portfolio_greeks``
pnl                 read     ``Engine.pnl``
risk_status         read     ``Engine.risk_status``
backtest            read     ``Engine.backtest``
strategy_payoff     read     ``Engine.strategy_payoff``
signals             read     ``Engine.signals``
tax_summary         read     ``Engine.tax_report``
audit_log           read     ``Engine.audit_tail``
=================== ======== ===========================================================

There is deliberately no tool that confirms an order, switches paper/live or changes a risk limit.
Outputs are data (numbers, tables, series), never prose; modules: ``market``, ``trading``,
``portfolio``, ``research``, ``tax``, ``audit``; shared input types and converters in ``common``.
"""
