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

Both sides are aligned with :attr:`Chain.strikes` (the union of listed strikes), so
``chain.strikes[i]``, ``chain.calls.delta[i]`` and ``chain.puts.delta[i]`` describe one strike;
``listed`` says whether that right exists there. One time to expiry serves the whole chain, taken
from the first contract's settlement terms (a chain mixing AM- and PM-settled roots, like SPX with
SPXW on a third Friday, should be split by root first). Building a 400-contract chain with three
IVs per contract and all Greeks takes about half a millisecond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

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
    """All contracts of one right, aligned with :attr:`Chain.strikes` (ascending).

    Entry ``i`` of every array belongs to strike ``Chain.strikes[i]``; where this right has no
    contract at that strike ``listed[i]`` is False, the symbol is ``""`` and the numbers are NaN.
    ``theta`` is per calendar day, ``vega`` per vol point, IVs decimals; ``model_iv`` is the vol
    the Greeks were computed at (see the module docstring).
    """

    right: Right
    symbols: tuple[str, ...]
    listed: np.ndarray
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
        return int(self.listed.sum())


@lru_cache(maxsize=65536)
def _contract(symbol: str) -> OptionContract:
    """Parsed contract of an OCC symbol, memoised: a live chain re-sends the same symbols every
    snapshot, and parsing them was most of the cost of building a chain."""
    return parse_occ(symbol)


@lru_cache(maxsize=65536)
def _occ(symbol: str) -> str:
    return _contract(symbol).occ


def quote_mid(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """Mid of two-sided quotes; a zero bid counts (mid = ask/2), a crossed or empty ask gives NaN."""
    bid = np.asarray(bid, dtype=np.float64)
    ask = np.asarray(ask, dtype=np.float64)
    ok = (ask > 0) & (bid >= 0) & (ask >= bid)
    return np.where(ok, 0.5 * (bid + ask), np.nan)


def _column(values, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:  # the vendor sent none
        return np.full(n, np.nan)
    if arr.shape != (n,):
        raise ValueError(f"snapshot.{name} has shape {arr.shape}, expected ({n},) like snapshot.symbols")
    return arr


def _fill_model_iv(strikes: np.ndarray, iv: np.ndarray, other: np.ndarray, listed: np.ndarray) -> np.ndarray:
    """``iv`` with gaps filled from the other right at the same strike, then by interpolation in strike."""
    out = np.where(np.isfinite(iv), iv, other)
    good = np.isfinite(out) & listed
    if good.any():
        out = np.where(good, out, np.interp(strikes, strikes[good], out[good]))
    return np.where(listed, out, np.nan)


_SNAPSHOT_COLUMNS = ("strikes", "is_call", "bid", "ask", "bid_size", "ask_size", "last", "volume",
                     "open_interest")
_SIDE_COLUMNS = ("bid", "ask", "mid", "last", "bid_size", "ask_size", "iv_bid", "iv", "iv_ask", "volume",
                 "open_interest", "vendor_iv", "vendor_delta")


class Chain:
    """Calls and puts of one underlying and expiry at one instant, with locally computed IV/Greeks.

    Attributes: ``underlying``, ``expiry``, ``ts`` (quote time), ``now`` (valuation instant),
    ``spot``, ``forward``, ``rate``, ``div_yield``, ``source``, ``session``, ``settle_time``, ``T``
    (years, see :func:`engine.options.expiry.time_to_expiry`), ``strikes`` (ascending union of
    both rights' strikes) and ``calls``/``puts`` (:class:`ChainSide`, aligned with ``strikes``).
    """

    def __init__(self, *, underlying: str, expiry: date, ts: datetime, now: datetime, spot: float,
                 rate: float, div_yield: float, T: float, settle_time: SettleTime, source: str,
                 session: date | None, strikes: np.ndarray, calls: ChainSide, puts: ChainSide) -> None:
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
        self.strikes = strikes
        self.calls = calls
        self.puts = puts
        self.spot_source = "snapshot"  # or "parity" (see from_snapshot)

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_snapshot(cls, snapshot: ChainSnapshot, now: datetime, rate: float,
                      div_yield: float = 0.0, *, settle_time: SettleTime | str | None = None) -> Chain:
        """Build the chain and compute bid/mid/ask IVs and Greeks at ``now``.

        ``now`` is the valuation instant (aware); pass ``snapshot.ts`` to value a snapshot as of
        its own quote time. ``settle_time`` defaults to the contracts' root terms (SPX AM, SPXW
        PM, …). Columns whose length differs from ``snapshot.symbols`` raise :class:`ValueError`;
        a malformed symbol raises :class:`~engine.core.errors.MalformedSymbol`. Bad numbers (no
        bid, crossed quotes) never raise: they give NaN in the affected entries. A snapshot
        without a usable spot (a vendor that sent none) gets the spot implied by put–call parity
        of its own quotes (``spot_source == "parity"``); if that fails too, everything is NaN.
        """
        n = len(snapshot.symbols)
        cols = {name: _column(getattr(snapshot, name), n, name) for name in _SNAPSHOT_COLUMNS}
        cols["vendor_iv"] = _column(snapshot.vendor_iv, n, "vendor_iv")
        cols["vendor_delta"] = _column(snapshot.vendor_delta, n, "vendor_delta")
        contracts = [_contract(s) for s in snapshot.symbols]
        if settle_time is None:
            settle_time = contracts[0].spec.settle_time if contracts else SettleTime.PM
        T = time_to_expiry(now, snapshot.expiry, settle_time)
        is_call = cols.pop("is_call") != 0
        K = cols.pop("strikes")
        cols["mid"] = quote_mid(cols["bid"], cols["ask"])
        r, q = float(rate), float(div_yield)
        S, spot_source = float(snapshot.spot), "snapshot"
        if not (math.isfinite(S) and S > 0) and T > 0:
            S, spot_source = _parity_spot(K, is_call, cols["mid"], T, r, q), "parity"
        ivs = implied_vol(np.stack([cols["bid"], cols["mid"], cols["ask"]]), is_call, S, K, T, r, q)
        cols["iv_bid"], cols["iv"], cols["iv_ask"] = ivs
        strikes = np.unique(K[np.isfinite(K)])
        symbols = [_occ(s) for s in snapshot.symbols]

        def aligned(right: Right) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
            idx = np.flatnonzero(is_call == (right is Right.CALL))
            idx = idx[np.isfinite(K[idx])][::-1]  # reversed: on a duplicate strike the first row wins
            pos = np.searchsorted(strikes, K[idx])
            listed = np.zeros(strikes.size, dtype=bool)
            listed[pos] = True
            out = {}
            for name in _SIDE_COLUMNS:
                col = np.full(strikes.size, np.nan)
                col[pos] = cols[name][idx]
                out[name] = col
            syms = [""] * strikes.size
            for p, i in zip(pos, idx, strict=True):
                syms[p] = symbols[i]
            return syms, listed, out

        sides = {rt: aligned(rt) for rt in (Right.CALL, Right.PUT)}
        built = []
        for rt, other in ((Right.CALL, Right.PUT), (Right.PUT, Right.CALL)):
            syms, listed, c = sides[rt]
            model_iv = _fill_model_iv(strikes, c["iv"], sides[other][2]["iv"], listed)
            g = _greeks_or_expiry(rt is Right.CALL, S, strikes, T, r, q, model_iv)
            g = {k: np.where(listed, v, np.nan) for k, v in g.items()}
            built.append(ChainSide(right=rt, symbols=tuple(syms), listed=listed, strikes=strikes,
                                   model_iv=model_iv, delta=g["delta"], gamma=g["gamma"],
                                   theta=theta_per_day(g["theta"]), vega=vega_per_point(g["vega"]), **c))
        chain = cls(underlying=snapshot.underlying, expiry=snapshot.expiry, ts=snapshot.ts, now=now,
                    spot=S, rate=r, div_yield=q, T=T, settle_time=SettleTime(settle_time),
                    source=snapshot.source, session=snapshot.session, strikes=strikes,
                    calls=built[0], puts=built[1])
        chain.spot_source = spot_source
        return chain

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
        """Index (into ``strikes`` and the side's arrays) of ``strike``; :class:`InvalidInput` if not listed."""
        s = self.side(right)
        hits = np.flatnonzero((np.abs(s.strikes - float(strike)) < 1e-6) & s.listed)
        if hits.size == 0:
            raise InvalidInput(f"strike {float(strike):g} not listed for {self.underlying} {self.expiry} "
                               f"{s.right.value}s", field="strike")
        return int(hits[0])

    def by_delta(self, right: Right | str, target_abs_delta: float) -> tuple[OptionContract, int]:
        """The contract whose |delta| is nearest ``target_abs_delta`` (0 < target < 1), and its index."""
        target = float(target_abs_delta)
        if not 0.0 < target < 1.0:
            raise InvalidInput(f"target delta must be between 0 and 1, not {target_abs_delta}", field="delta")
        if self.T <= 0:  # payoff deltas are 0 or 1: "the 30-delta put" no longer exists
            raise NoData(f"{self.underlying} {self.expiry} options have expired: no strike has a delta to select")
        s = self.side(right)
        dist = np.abs(np.abs(s.delta) - target)
        if not np.isfinite(dist).any():
            raise NoData(f"{self.underlying} {self.expiry} {s.right.value}s have no deltas (expired or no quotes)")
        i = int(np.nanargmin(dist))
        return _contract(s.symbols[i]), i

    def contract(self, right: Right | str, strike: float) -> OptionContract:
        return _contract(self.side(right).symbols[self.by_strike(right, strike)])

    def quote(self, symbol: str) -> Quote:
        """The quote of one contract of this chain (compact, padded or ``O:`` OCC symbol)."""
        c = _contract(symbol)
        s = self.side(c.right)
        try:
            i = s.symbols.index(c.occ)
        except ValueError:
            raise InvalidInput(f"{symbol} is not in the {self.underlying} {self.expiry} chain",
                               field="symbol") from None
        last = s.last[i]
        return Quote(symbol=c.occ, bid=float(s.bid[i]), ask=float(s.ask[i]), ts=self.ts,
                     bid_size=_int(s.bid_size[i]) or 0, ask_size=_int(s.ask_size[i]) or 0,
                     last=_num(last), source=self.source, session=self.session)

    # --- display -----------------------------------------------------------------------------
    def rows(self, strikes_around_atm: int | None = None, right: str = "both",
             min_delta: float | None = None, max_delta: float | None = None, *,
             extended: bool = False) -> list[dict]:
        """Chain rows sorted by strike (call before put), JSON-ready (NaN → None).

        ``strikes_around_atm=N`` keeps the N strikes below and the N above the ATM strike (2N + 1
        strikes); ``None`` keeps all. ``right`` is ``"both"``, ``"call"`` or ``"put"``.
        ``min_delta``/``max_delta`` bound |delta| (contracts without a delta are then dropped).
        Keys: symbol, strike, right, bid, ask, mid, iv, delta, gamma, theta (per day), vega (per
        vol point), volume, open_interest; with ``extended`` also iv_bid, iv_ask, vendor_iv and
        vendor_delta (the data source's own numbers, None when it sent none).
        """
        if strikes_around_atm is not None and int(strikes_around_atm) < 0:
            raise InvalidInput("strikes_around_atm must be ≥ 0", field="strikes_around_atm")
        lo, hi = 0, self.strikes.size
        if strikes_around_atm is not None and self.strikes.size:
            atm = self.by_any_strike(self.atm_strike())
            lo, hi = max(0, atm - int(strikes_around_atm)), atm + int(strikes_around_atm) + 1
        text = str(right).lower()
        rights = (Right.CALL, Right.PUT) if text == "both" else (Right.parse(text),)
        window = np.zeros(self.strikes.size, dtype=bool)
        window[lo:hi] = True
        masks = []
        for rt in rights:
            s = self.side(rt)
            mask = window & s.listed
            absd = np.abs(s.delta)
            if min_delta is not None:
                mask &= absd >= float(min_delta)
            if max_delta is not None:
                mask &= absd <= float(max_delta)
            masks.append((s, mask))
        return [_row(s, i, extended) for i in range(self.strikes.size) for s, mask in masks if mask[i]]

    def by_any_strike(self, strike: float) -> int:
        """Index of ``strike`` in :attr:`strikes` whichever right lists it; :class:`InvalidInput` if none."""
        hits = np.flatnonzero(np.abs(self.strikes - float(strike)) < 1e-6)
        if hits.size == 0:
            raise InvalidInput(f"strike {float(strike):g} not listed for {self.underlying} {self.expiry}",
                               field="strike")
        return int(hits[0])


def _num(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _int(x: float) -> int | None:
    x = float(x)
    return int(x) if math.isfinite(x) else None


def _row(s: ChainSide, i: int, extended: bool = False) -> dict:
    row = {"symbol": s.symbols[i], "strike": float(s.strikes[i]), "right": s.right.value,
           "bid": _num(s.bid[i]), "ask": _num(s.ask[i]), "mid": _num(s.mid[i]), "iv": _num(s.iv[i]),
           "delta": _num(s.delta[i]), "gamma": _num(s.gamma[i]), "theta": _num(s.theta[i]),
           "vega": _num(s.vega[i]), "volume": _int(s.volume[i]), "open_interest": _int(s.open_interest[i])}
    if extended:
        row |= {"iv_bid": _num(s.iv_bid[i]), "iv_ask": _num(s.iv_ask[i]), "vendor_iv": _num(s.vendor_iv[i]),
                "vendor_delta": _num(s.vendor_delta[i])}
    return row


def _parity_spot(K: np.ndarray, is_call: np.ndarray, mid: np.ndarray, T: float, r: float, q: float) -> float:
    """Spot implied by put–call parity of the quotes (NaN if no strike has both rights quoted)."""
    from engine.options.parity import parity_forward

    calls = dict(zip(K[is_call].tolist(), mid[is_call].tolist(), strict=True))
    puts = dict(zip(K[~is_call].tolist(), mid[~is_call].tolist(), strict=True))
    common = np.array(sorted(set(calls) & set(puts)))
    try:
        fwd, _ = parity_forward(common, [calls[k] for k in common], [puts[k] for k in common],
                                discount=math.exp(-r * T))
    except NoData:
        return math.nan
    return fwd * math.exp(-(r - q) * T)


def _greeks_or_expiry(is_call: bool, S: float, K: np.ndarray, T: float, r: float, q: float,
                      sigma: np.ndarray) -> dict[str, np.ndarray]:
    """BSM Greeks before expiry; at or after it, the expired payoff's (delta 1/0, the rest 0)."""
    if T > 0.0:
        return bsm_greeks(is_call, S, K, T, r, q, sigma)
    itm = (S > K) if is_call else (S < K)
    delta = np.where(itm, 1.0 if is_call else -1.0, 0.0)
    zero = np.zeros_like(delta)
    return {"delta": delta, "gamma": zero, "vega": zero, "theta": zero, "rho": zero}
