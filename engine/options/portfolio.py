"""Portfolio Greeks and a scenario grid for a book of options (and shares) on SPY, QQQ, IWM, ….

Positions are anything with ``symbol`` and ``quantity`` (a dict or an object): an OCC option
symbol or a ticker, a signed quantity (contracts, or shares), optionally ``multiplier`` (100 for
options, 1 for shares, by default). Greeks come from each contract's :class:`Chain` (our IVs,
never a vendor's): chains are matched by underlying and expiry.

Units, per position and summed per underlying and in total (the trader's units):

- ``delta_shares`` — delta × contracts × multiplier: the share-equivalent position;
- ``delta_dollars`` — that times spot: dollars made per 1 % move ÷ 1 % (i.e. $ per $1 × spot);
- ``gamma_dollars_1pct`` — change of ``delta_dollars`` for a 1 % move: Γ·n·S·(0.01·S);
- ``vega`` — dollars per 1 vol point; ``theta`` — dollars per calendar day;
- ``delta_drift_per_hour`` — change of ``delta_shares`` over one hour with spot and IV unchanged
  (charm): how a 0DTE hedge goes stale as the close nears;
- ``value`` — model value in dollars (mid-IV price × contracts × multiplier).

:func:`scenario_grid` revalues the book (full BSM repricing, not a Greek expansion — 0DTE gamma
makes the Taylor series useless a few tenths of a percent away) on a grid of underlying moves (the
same percentage for every underlying) and vol shifts (vol points, added to each contract's IV),
optionally after moving the clock forward (``horizon``: a ``timedelta``, an instant, or
``"close"`` for the end of the current session — 0DTE options are then worth their payoff).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from engine.core.errors import InvalidInput, NoData
from engine.core.instruments import OptionContract, parse_symbol
from engine.options.bsm import bsm_price, bsm_second_order
from engine.options.chain import Chain
from engine.options.expiry import session_bounds, time_to_expiry

KEYS = ("delta_shares", "delta_dollars", "gamma_dollars_1pct", "vega", "theta", "delta_drift_per_hour", "value")


@dataclass(frozen=True, slots=True)
class _Leg:
    symbol: str
    underlying: str
    quantity: int
    multiplier: int
    contract: OptionContract | None
    chain: Chain | None
    index: int  # into the chain side, −1 for shares


def _get(pos, name: str, default=None):
    return pos.get(name, default) if isinstance(pos, Mapping) else getattr(pos, name, default)


def _index_chains(chains: Iterable[Chain] | Mapping) -> dict[tuple[str, date], Chain]:
    values = chains.values() if isinstance(chains, Mapping) else chains
    return {(c.underlying, c.expiry): c for c in values}


def _legs(positions, chains: dict[tuple[str, date], Chain]) -> list[_Leg]:
    legs = []
    for pos in positions:
        symbol = str(_get(pos, "symbol", "") or "")
        qty = _get(pos, "quantity")
        if not symbol or qty is None:
            raise InvalidInput(f"position {pos!r} needs a symbol and a quantity", field="positions")
        inst = parse_symbol(symbol, known_only=False)
        if isinstance(inst, OptionContract):
            chain = chains.get((inst.underlying, inst.expiry))
            if chain is None:
                raise NoData(f"no {inst.underlying} chain for {inst.expiry.isoformat()} to price {symbol}")
            side = chain.side(inst.right)
            try:
                i = side.symbols.index(inst.occ)
            except ValueError:
                raise NoData(f"{symbol} is not listed in the {inst.underlying} {inst.expiry} chain") from None
            mult = int(_get(pos, "multiplier", None) or inst.multiplier)
            legs.append(_Leg(inst.occ, inst.underlying, int(qty), mult, inst, chain, i))
        else:
            mult = int(_get(pos, "multiplier", None) or 1)
            legs.append(_Leg(str(inst), str(inst), int(qty), mult, None, None, -1))
    return legs


def _spot(underlying: str, chains: dict[tuple[str, date], Chain], spots: Mapping[str, float] | None) -> float:
    if spots and underlying in spots:
        return float(spots[underlying])
    for (u, _), c in chains.items():
        if u == underlying:
            return c.spot
    raise NoData(f"no spot for {underlying}: pass spots= or a chain of {underlying}")


def portfolio_greeks(positions, chains: Iterable[Chain] | Mapping,
                     spots: Mapping[str, float] | None = None) -> dict:
    """Greeks per position, per underlying and in total (see module docstring for units).

    Returns ``{"positions": [...], "by_underlying": {u: {...}}, "total": {...}, "spots": {...}}``;
    each position row carries symbol, underlying, quantity, iv (model IV used) and :data:`KEYS`.
    An option whose chain is missing raises :class:`~engine.core.errors.NoData` (never a silent 0).
    """
    index = _index_chains(chains)
    legs = _legs(positions, index)
    used_spots: dict[str, float] = {}
    rows, by_und = [], {}
    for leg in legs:
        S = used_spots.setdefault(leg.underlying, _spot(leg.underlying, index, spots))
        n = leg.quantity * leg.multiplier
        if leg.contract is None:
            g = {"delta_shares": float(n), "delta_dollars": n * S, "gamma_dollars_1pct": 0.0, "vega": 0.0,
                 "theta": 0.0, "delta_drift_per_hour": 0.0, "value": n * S}
            iv = None
        else:
            side = leg.chain.side(leg.contract.right)
            i = leg.index
            delta, gamma = float(side.delta[i]), float(side.gamma[i])
            mark = _model_price(leg, leg.chain.spot, float(side.model_iv[i]), leg.chain.T)
            g = {"delta_shares": delta * n, "delta_dollars": delta * n * S,
                 "gamma_dollars_1pct": gamma * n * S * S * 0.01, "vega": float(side.vega[i]) * n,
                 "theta": float(side.theta[i]) * n, "delta_drift_per_hour": _charm(leg, side.model_iv[i]) * n / 8760.0,
                 "value": mark * n}
            iv = _finite(side.model_iv[i])
        g = {k: _finite(v) or 0.0 for k, v in g.items()}
        rows.append({"symbol": leg.symbol, "underlying": leg.underlying, "quantity": leg.quantity, "iv": iv, **g})
        agg = by_und.setdefault(leg.underlying, dict.fromkeys(KEYS, 0.0))
        for k in KEYS:
            agg[k] += g[k]
    total = {k: sum(a[k] for a in by_und.values()) for k in KEYS}
    return {"positions": rows, "by_underlying": by_und, "total": total, "spots": used_spots}


def _charm(leg: _Leg, sigma) -> float:
    """∂Δ/∂t per year at the chain's spot and the contract's model IV (0 once expired)."""
    c = leg.chain
    if c.T <= 0:
        return 0.0
    return float(bsm_second_order(leg.contract.is_call, c.spot, float(leg.contract.strike), c.T, c.rate,
                                  c.div_yield, sigma)["charm"])


def _finite(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _model_price(leg: _Leg, S, sigma, T):
    """BSM value per share; the payoff at or after expiry."""
    is_call = leg.contract.is_call
    K = float(leg.contract.strike)
    payoff = np.maximum(S - K, 0.0) if is_call else np.maximum(K - S, 0.0)
    if T <= 0:
        return payoff
    return np.where(np.isfinite(sigma), bsm_price(is_call, S, K, T, leg.chain.rate, leg.chain.div_yield, sigma),
                    payoff)


@dataclass(frozen=True, slots=True)
class ScenarioGrid:
    """P&L in dollars of the book on a grid: ``pnl[i, j]`` for ``vol_moves[i]`` and ``spot_moves[j]``."""

    spot_moves: np.ndarray  # fractions: -0.02 = underlying down 2 %
    vol_moves: np.ndarray  # vol points added to every IV: +5 = IV + 0.05
    pnl: np.ndarray
    by_underlying: dict[str, np.ndarray]
    horizon_minutes: float
    as_of: datetime

    def to_dict(self) -> dict:
        return {"spot_moves_pct": (self.spot_moves * 100).round(6).tolist(),
                "vol_moves_pts": self.vol_moves.tolist(), "pnl": np.round(self.pnl, 2).tolist(),
                "by_underlying": {u: np.round(v, 2).tolist() for u, v in self.by_underlying.items()},
                "horizon_minutes": self.horizon_minutes, "as_of": self.as_of.isoformat()}


def _horizon_instant(now: datetime, horizon) -> datetime:
    if horizon is None:
        return now
    if isinstance(horizon, timedelta):
        return now + horizon
    if isinstance(horizon, datetime):
        if horizon.tzinfo is None:
            raise InvalidInput("horizon must be timezone-aware", field="horizon")
        return max(horizon, now)
    if str(horizon).lower() == "close":
        from engine.core.clock import to_ny

        bounds = session_bounds(to_ny(now).date())
        if bounds is None:
            return now
        return max(bounds[1], now)
    raise InvalidInput(f"horizon must be a timedelta, an aware datetime or 'close', not {horizon!r}",
                       field="horizon")


def scenario_grid(positions, chains: Iterable[Chain] | Mapping, *,
                  spot_moves=(-0.03, -0.02, -0.01, -0.005, 0.0, 0.005, 0.01, 0.02, 0.03),
                  vol_moves=(-5.0, 0.0, 5.0), horizon=None,
                  spots: Mapping[str, float] | None = None) -> ScenarioGrid:
    """Full-revaluation P&L of the book for each (vol shift, underlying move) at ``horizon``.

    P&L is measured against the book's model value now (so the centre cell is the pure time
    decay to ``horizon``; zero when ``horizon`` is None). Shares move linearly with their
    underlying. Vol shifts are floored so no IV falls below 0.5 %.
    """
    index = _index_chains(chains)
    legs = _legs(positions, index)
    if not legs:
        raise InvalidInput("scenario grid of an empty book", field="positions")
    xs = np.asarray(spot_moves, dtype=np.float64)
    ys = np.asarray(vol_moves, dtype=np.float64)
    if xs.ndim != 1 or ys.ndim != 1 or xs.size == 0 or ys.size == 0 or np.any(xs <= -1):
        raise InvalidInput("spot_moves and vol_moves must be non-empty lists; a move must be > -100%",
                           field="spot_moves")
    now = next((c.now for c in index.values()), None) or datetime.now().astimezone()
    later = _horizon_instant(now, horizon)
    total = np.zeros((ys.size, xs.size))
    by_und: dict[str, np.ndarray] = {}
    for leg in legs:
        S0 = _spot(leg.underlying, index, spots)
        n = leg.quantity * leg.multiplier
        S1 = S0 * (1.0 + xs)[None, :]
        if leg.contract is None:
            pnl = np.broadcast_to(n * (S1 - S0), total.shape)
        else:
            side = leg.chain.side(leg.contract.right)
            sigma0 = float(side.model_iv[leg.index])
            v0 = float(_model_price(leg, S0, sigma0, leg.chain.T))
            T1 = time_to_expiry(later, leg.contract.expiry, leg.chain.settle_time)
            sigma1 = np.maximum(sigma0 + ys[:, None] / 100.0, 0.005)
            pnl = n * (_model_price(leg, S1, sigma1, T1) - v0)
        total += pnl
        by_und[leg.underlying] = by_und.get(leg.underlying, 0.0) + pnl
    return ScenarioGrid(spot_moves=xs, vol_moves=ys, pnl=total, by_underlying=by_und,
                        horizon_minutes=(later - now).total_seconds() / 60.0, as_of=later)
