"""One underlying's option chain for one expiry, with IV and Greeks computed here from the quotes.

:meth:`Chain.from_snapshot` takes a :class:`~engine.core.marketdata.ChainSnapshot` (simulated,
Polygon or replayed: they all arrive in that shape) and recomputes, per contract, the implied
volatility of the bid, the mid and the ask, and the BSM Greeks at the mid IV. A vendor's own IV and
delta are kept beside ours (``vendor_iv``, ``vendor_delta``) and never used for our numbers.

Conventions of the per-right :class:`ChainSide` arrays and of :meth:`Chain.rows`: IV as a decimal
(0.153), ``theta`` per calendar DAY, ``vega`` per 1 vol POINT, ``delta`` signed (puts negative),
``gamma`` per $1 of the underlying. NaN (``None`` in rows) where a number does not exist.

Why Greeks where the mid has no IV: deep in the money the mid of a wide quote often sits under
intrinsic value, so it implies no volatility; the Greeks there are computed at a *model* IV
(the other right's IV at the same strike, else the nearest strikes' IVs interpolated in strike),
which keeps delta-based strike selection working across the whole chain. ``iv`` still shows
NaN for such a contract: it reports only what the quotes imply.

Contracts are European-priced: for 0DTE the early-exercise premium of an American SPY/QQQ/IWM
option is far below a tick; for longer expiries use out-of-the-money IVs (the surface does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from engine.core.errors import InvalidInput, NoData
from engine.core.instruments import OptionContract, Right, SettleTime, parse_occ
from engine.core.marketdata import ChainSnapshot, Quote
from engine.options.bsm import bsm_greeks, theta_per_day, vega_per_point
from engine.options.expiry import time_to_expiry
from engine.options.iv import implied_vol

ROW_KEYS = ("symbol", "strike", "right", "bid", "ask", "mid", "iv", "delta", "gamma", "theta", "vega",
            "volume", "open_interest")


@dataclass(frozen=True, slots=True, eq=False)
class ChainSide:
    """All contracts of one right, sorted by strike; every array has one entry per contract."""

    right: Right
    symbols: tuple[str, ...]
    strikes: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    mid: np.ndarray
    last: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    iv: np.ndarray
    iv_bid: np.ndarray
    iv_ask: np.ndarray
    model_iv: np.ndarray
    delta: np.ndarray
    gamma: np.ndarray
    theta: np.ndarray
    vega: np.ndarray
    volume: np.ndarray
    open_interest: np.ndarray
    vendor_iv: np.ndarray
    vendor_delta: np.ndarray

    def __len__(self) -> int:
        return len(self.symbols)


def quote_mid(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """Mid of two-sided quotes; a zero bid counts (mid = ask/2), a crossed or empty ask gives NaN."""
    bid = np.asarray(bid, dtype=np.float64)
    ask = np.asarray(ask, dtype=np.float64)
    ok = (ask > 0) & (bid >= 0) & (ask >= bid)
    return np.where(ok, 0.5 * (bid + ask), np.nan)


def _column(values: np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return np.full(n, np.nan)
    if arr.shape != (n,):
        raise ValueError(f"chain snapshot column has shape {arr.shape}, expected ({n},)")
    return arr


def _same_strike(strikes: np.ndarray, other_strikes: np.ndarray, other_values: np.ndarray) -> np.ndarray:
    """``other_values`` at the same strike where the other right lists it, NaN elsewhere."""
    if other_strikes.size == 0:
        return np.full(strikes.shape, np.nan)
    pos = np.clip(np.searchsorted(other_strikes, strikes), 0, other_strikes.size - 1)
    return np.where(other_strikes[pos] == strikes, other_values[pos], np.nan)


def _fill_model_iv(strikes: np.ndarray, iv: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``iv`` with gaps filled from the other right at the same strike, then by interpolation."""
    out = np.where(np.isfinite(iv), iv, other)
    good = np.isfinite(out)
    if good.any() and not good.all():
        out = np.where(good, out, np.interp(strikes, strikes[good], out[good]))
    return out


class Chain:
    """Calls and puts of one underlying and expiry at one instant, with locally computed IV/Greeks.

    Attributes: ``underlying``, ``expiry``, ``ts`` (quote time), ``now`` (valuation instant),
    ``spot``, ``forward``, ``rate``, ``div_yield``, ``source``, ``session``, ``settle_time``, ``T``
    (years, see :func:`engine.options.expiry.time_to_expiry`), ``strikes`` (sorted union of both
    rights), ``calls`` and ``puts`` (:class:`ChainSide`).
    """

    def __init__(self, *, underlying: str, expiry: date, ts: datetime, now: datetime, spot: float,
                 rate: float, div_yield: float, T: float, settle_time: SettleTime, source: str,
                 session: date | None, calls: ChainSide, puts: ChainSide) -> None:
        self.underlying = underlying
        self.expiry = expiry
        self.ts = ts
        self.now = now
        self.spot = float(spot)
        self.rate = float(rate)
        self.div_yield = float(div_yield)
        self.T = float(T)
        self.settle_time = settle_time
        self.source = source
        self.session = session
        self.calls = calls
        self.puts = puts
        self.strikes = np.union1d(calls.strikes, puts.strikes)

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_snapshot(cls, snapshot: ChainSnapshot, now: datetime, rate: float,
                      div_yield: float = 0.0, *, settle_time: SettleTime | str | None = None) -> Chain:
        """Build the chain and compute bid/mid/ask IVs and Greeks at ``now``.

        ``now`` is the valuation instant (aware); pass ``snapshot.ts`` to value a recorded
        snapshot as of its own time. ``settle_time`` defaults to the contracts' root terms
        (SPX AM, SPXW PM, …). Columns of unequal length raise :class:`ValueError`.
        """
        n = len(snapshot.symbols)
        for name in ("strikes", "is_call", "bid", "ask", "bid_size", "ask_size", "last", "volume",
                     "open_interest"):
            if np.shape(getattr(snapshot, name)) != (n,):
                raise ValueError(f"snapshot.{name} has shape {np.shape(getattr(snapshot, name))}, "
                                 f"expected ({n},) like snapshot.symbols")
        contracts = [parse_occ(s) for s in snapshot.symbols]
        if settle_time is None:
            settle_time = contracts[0].spec.settle_time if contracts else SettleTime.PM
        T = time_to_expiry(now, snapshot.expiry, settle_time)
        vendor_iv = _column(snapshot.vendor_iv, n)
        vendor_delta = _column(snapshot.vendor_delta, n)
        is_call = np.asarray(snapshot.is_call, dtype=bool)
        strikes = np.asarray(snapshot.strikes, dtype=np.float64)
        bid = np.asarray(snapshot.bid, dtype=np.float64)
        ask = np.asarray(snapshot.ask, dtype=np.float64)
        mid = quote_mid(bid, ask)
        S, r, q = float(snapshot.spot), float(rate), float(div_yield)
        iv_all = implied_vol(np.stack([bid, mid, ask]), is_call, S, strikes, T, r, q)
        symbols = np.array([c.occ for c in contracts], dtype=object)

        def side(mask: np.ndarray, right: Right) -> tuple[np.ndarray, dict]:
            idx = np.flatnonzero(mask)
            idx = idx[np.argsort(strikes[idx], kind="stable")]
            cols = {"strikes": strikes[idx], "bid": bid[idx], "ask": ask[idx], "mid": mid[idx],
                    "last": np.asarray(snapshot.last, dtype=np.float64)[idx],
                    "bid_size": np.asarray(snapshot.bid_size, dtype=np.float64)[idx],
                    "ask_size": np.asarray(snapshot.ask_size, dtype=np.float64)[idx],
                    "iv_bid": iv_all[0][idx], "iv": iv_all[1][idx], "iv_ask": iv_all[2][idx],
                    "volume": np.asarray(snapshot.volume, dtype=np.float64)[idx],
                    "open_interest": np.asarray(snapshot.open_interest, dtype=np.float64)[idx],
                    "vendor_iv": vendor_iv[idx], "vendor_delta": vendor_delta[idx]}
            return idx, cols

        c_idx, c_cols = side(is_call, Right.CALL)
        p_idx, p_cols = side(~is_call, Right.PUT)
        sides = []
        for right, idx, cols, other in ((Right.CALL, c_idx, c_cols, p_cols), (Right.PUT, p_idx, p_cols, c_cols)):
            model_iv = _fill_model_iv(cols["strikes"], cols["iv"],
                                      _same_strike(cols["strikes"], other["strikes"], other["iv"]))
            g = _greeks_or_expiry(right is Right.CALL, S, cols["strikes"], T, r, q, model_iv)
            sides.append(ChainSide(right=right, symbols=tuple(symbols[idx]), model_iv=model_iv,
                                   delta=g["delta"], gamma=g["gamma"], theta=theta_per_day(g["theta"]),
                                   vega=vega_per_point(g["vega"]), **cols))
        return cls(underlying=snapshot.underlying, expiry=snapshot.expiry, ts=snapshot.ts, now=now,
                   spot=S, rate=r, div_yield=q, T=T, settle_time=SettleTime(settle_time),
                   source=snapshot.source, session=snapshot.session, calls=sides[0], puts=sides[1])

    # --- derived -----------------------------------------------------------------------------
    @property
    def forward(self) -> float:
        return self.spot * math.exp((self.rate - self.div_yield) * self.T)

    def side(self, right: Right | str) -> ChainSide:
        r = right if isinstance(right, Right) else Right.parse(right)
        return self.calls if r is Right.CALL else self.puts

    def atm_strike(self) -> float:
        """The listed strike nearest the spot (ties: the lower strike)."""
        if self.strikes.size == 0:
            raise NoData(f"{self.underlying} {self.expiry} chain has no strikes")
        return float(self.strikes[int(np.argmin(np.abs(self.strikes - self.spot)))])

    def by_strike(self, right: Right | str, strike: float) -> int:
        """Index into ``side(right)`` of ``strike``; :class:`InvalidInput` if not listed."""
        s = self.side(right)
        hits = np.flatnonzero(np.abs(s.strikes - float(strike)) < 1e-6)
        if hits.size == 0:
            raise InvalidInput(f"strike {float(strike):g} not listed for {self.underlying} {self.expiry} "
                               f"{s.right.value}s", field="strike")
        return int(hits[0])

    def by_delta(self, right: Right | str, target_abs_delta: float) -> tuple[OptionContract, int]:
        """The contract whose |delta| is nearest ``target_abs_delta`` (0 < target < 1), and its index."""
        target = float(target_abs_delta)
        if not 0.0 < target < 1.0:
            raise InvalidInput(f"target delta must be between 0 and 1, not {target_abs_delta}", field="delta")
        s = self.side(right)
        dist = np.abs(np.abs(s.delta) - target)
        if not np.isfinite(dist).any():
            raise NoData(f"{self.underlying} {self.expiry} {s.right.value}s have no deltas (expired or no quotes)")
        i = int(np.nanargmin(dist))
        return parse_occ(s.symbols[i]), i

    def contract(self, right: Right | str, strike: float) -> OptionContract:
        return parse_occ(self.side(right).symbols[self.by_strike(right, strike)])

    def quote(self, symbol: str) -> Quote:
        """The quote of one contract of this chain (compact, padded or ``O:`` OCC symbol)."""
        c = parse_occ(symbol)
        s = self.side(c.right)
        try:
            i = s.symbols.index(c.occ)
        except ValueError:
            raise InvalidInput(f"{symbol} is not in the {self.underlying} {self.expiry} chain",
                               field="symbol") from None
        last = s.last[i]
        return Quote(symbol=c.occ, bid=float(s.bid[i]), ask=float(s.ask[i]), ts=self.ts,
                     bid_size=int(s.bid_size[i]), ask_size=int(s.ask_size[i]),
                     last=float(last) if np.isfinite(last) else None, source=self.source, session=self.session)

    # --- display -----------------------------------------------------------------------------
    def rows(self, strikes_around_atm: int | None = None, right: str = "both",
             min_delta: float | None = None, max_delta: float | None = None) -> list[dict]:
        """Chain rows sorted by strike (call before put), JSON-ready (NaN → None).

        ``strikes_around_atm=N`` keeps the N listed strikes below and the N above the ATM strike
        (2N + 1 strikes); ``None`` keeps all. ``right`` is ``"both"``, ``"call"`` or ``"put"``.
        ``min_delta``/``max_delta`` bound |delta| (contracts without a delta are then dropped).
        Keys: symbol, strike, right, bid, ask, mid, iv, delta, gamma, theta (per day), vega (per
        vol point), volume, open_interest.
        """
        if strikes_around_atm is not None and int(strikes_around_atm) < 0:
            raise InvalidInput("strikes_around_atm must be ≥ 0", field="strikes_around_atm")
        keep = self.strikes
        if strikes_around_atm is not None and keep.size:
            atm = int(np.flatnonzero(keep == self.atm_strike())[0])
            n = int(strikes_around_atm)
            keep = keep[max(0, atm - n): atm + n + 1]
        rights = {"both": (Right.CALL, Right.PUT)}.get(str(right).lower()) or (Right.parse(right),)
        out: list[tuple[float, int, dict]] = []
        for order, rt in enumerate(rights):
            s = self.side(rt)
            absd = np.abs(s.delta)
            mask = np.isin(s.strikes, keep)
            if min_delta is not None:
                mask &= absd >= float(min_delta)
            if max_delta is not None:
                mask &= absd <= float(max_delta)
            for i in np.flatnonzero(mask):
                out.append((float(s.strikes[i]), order, _row(s, int(i))))
        out.sort(key=lambda t: (t[0], t[1]))
        return [row for _, _, row in out]


def _num(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _int(x: float) -> int | None:
    x = float(x)
    return int(x) if math.isfinite(x) else None


def _row(s: ChainSide, i: int) -> dict:
    return {"symbol": s.symbols[i], "strike": float(s.strikes[i]), "right": s.right.value,
            "bid": _num(s.bid[i]), "ask": _num(s.ask[i]), "mid": _num(s.mid[i]), "iv": _num(s.iv[i]),
            "delta": _num(s.delta[i]), "gamma": _num(s.gamma[i]), "theta": _num(s.theta[i]),
            "vega": _num(s.vega[i]), "volume": _int(s.volume[i]), "open_interest": _int(s.open_interest[i])}


def _greeks_or_expiry(is_call: bool, S: float, K: np.ndarray, T: float, r: float, q: float,
                      sigma: np.ndarray) -> dict[str, np.ndarray]:
    """BSM Greeks before expiry; at or after it, the expired payoff's (delta 1/0, the rest 0)."""
    if T > 0.0:
        return bsm_greeks(is_call, S, K, T, r, q, sigma)
    itm = (S > K) if is_call else (S < K)
    delta = np.where(itm, 1.0 if is_call else -1.0, 0.0)
    zero = np.zeros_like(delta)
    return {"delta": delta, "gamma": zero, "vega": zero, "theta": zero, "rho": zero}
