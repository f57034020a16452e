"""Positions, P&L and portfolio Greeks of a ledger.

* :mod:`.positions` — pure average-cost arithmetic (``apply_trade``, ``unrealized``);
* :mod:`.ledger` — booking fills and expiry events into a ledger session (idempotent), cash and
  position reads;
* :mod:`.greeks` — ``ledger_greeks(positions, market)``.
"""
