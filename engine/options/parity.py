"""The forward (and discount factor) implied by put–call parity.

For European options ``C − P = D·(F − K)``, so quotes at a few strikes near the money pin down the
forward ``F`` that the market prices with — which is what an IV or a smile should be measured
against (a dividend yield or a stale spot print does not enter). With ``discount`` given (from a
rate curve) only ``F`` is fitted, as the median of ``K + (C − P)/D``: robust to a bad quote and
well posed even for a 0DTE chain, where ``D`` is 1 to many digits. Without it, a least-squares
line through ``C − P`` against ``K`` fits both.

American ETF options obey parity only approximately (early exercise), so the near-the-money
strikes, where the early-exercise premium is smallest, are the ones used.
"""

from __future__ import annotations

import numpy as np

from engine.core.errors import NoData


def parity_forward(strikes, call_mid, put_mid, *, discount: float | None = None,
                   n_strikes: int = 8) -> tuple[float, float]:
    """``(forward, discount)`` from call and put mids aligned by strike.

    Uses the ``n_strikes`` strikes with the smallest ``|C − P|`` (closest to the forward) where both
    mids are positive. :class:`~engine.core.errors.NoData` if no strike has both; fitting the
    discount needs at least two strikes (else pass ``discount``).
    """
    K = np.asarray(strikes, dtype=np.float64)
    C = np.asarray(call_mid, dtype=np.float64)
    P = np.asarray(put_mid, dtype=np.float64)
    ok = np.isfinite(K) & np.isfinite(C) & np.isfinite(P) & (C > 0) & (P > 0)
    if not ok.any():
        raise NoData("put-call parity needs a strike with both a call and a put quote")
    K, diff = K[ok], (C - P)[ok]
    near = np.argsort(np.abs(diff), kind="stable")[: max(int(n_strikes), 1)]
    K, diff = K[near], diff[near]
    if discount is not None:
        return float(np.median(K + diff / discount)), float(discount)
    if np.unique(K).size < 2:
        raise NoData("fitting the discount factor needs two strikes; pass discount=")
    slope, intercept = np.polyfit(K, diff, 1)
    d = -float(slope)
    return float(intercept / d), d
