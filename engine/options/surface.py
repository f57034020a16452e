"""Volatility smile and surface: SVI fit per expiry, arbitrage checks, ATM IV, 25-delta risk reversal
and butterfly, term structure, expected move, IV rank and percentile.

**Smile.** Each expiry is fitted with Gatheral's raw SVI total-variance curve
``w(k) = a + b·(ρ(k − m) + √((k − m)² + σ²))`` in forward log-moneyness ``k = ln(K/F)``, with
``w = IV²·T``. Data: out-of-the-money mid IVs (puts below the forward, calls above; they carry no
early-exercise premium and no intrinsic-value noise), weighted by the inverse of each quote's
bid–ask IV width, so a wide far-wing quote cannot drag the fit. The fit runs in rescaled units (k
by its spread, w by its median): a 0DTE smile has total variances ~1e-5 and strikes within ±2 %,
which an unscaled least-squares would treat as noise.

**Arbitrage checks.** Butterfly (density) arbitrage: Durrleman's condition
``g(k) = (1 − k·w′/(2w))² − (w′²/4)(1/w + 1/4) + w″/2 ≥ 0`` on a grid covering the quotes and
beyond; Roger Lee's wing bound ``b(1 + |ρ|) ≤ 4``; non-negative minimum variance. Calendar
arbitrage across expiries: total variance must not decrease with expiry at any forward
moneyness (:func:`calendar_arbitrage`).

**Summary numbers.** ATM IV is the fitted IV at the forward; the 25-delta strikes solve
``Δ(K, IV(K)) = ±0.25`` on the fitted smile (forward delta), and
``RR25 = IV(25Δ call) − IV(25Δ put)``, ``BF25 = ½(IV(25Δ call) + IV(25Δ put)) − ATM IV``.
Expected move: the ATM straddle mid (what the market charges for the move to expiry) and the
one-standard-deviation move ``S·σ_ATM·√T``. IV rank/percentile compare a current IV (or VIX)
with a history (e.g. ``../shared/data/vix``). :class:`VolSurface` joins the fitted smiles into
``iv(strike, T)`` (total variance linear in T at fixed forward moneyness).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np

from engine.core.errors import InvalidInput, NoData
from engine.options.bsm import bsm_greeks
from engine.options.chain import Chain

_Z25 = 0.6744897501960817  # Φ⁻¹(0.75): the forward-delta 0.25 point of a flat smile


@dataclass(frozen=True, slots=True)
class SVI:
    """Raw SVI total-variance smile of one expiry (``T`` years, ``forward``)."""

    a: float
    b: float
    rho: float
    m: float
    sigma: float
    T: float
    forward: float

    def total_variance(self, k) -> np.ndarray:
        d = np.asarray(k, dtype=np.float64) - self.m
        return self.a + self.b * (self.rho * d + np.sqrt(d * d + self.sigma * self.sigma))

    def iv(self, strikes) -> np.ndarray:
        """Fitted implied vol at ``strikes`` (NaN where the variance would be negative)."""
        w = self.total_variance(np.log(np.asarray(strikes, dtype=np.float64) / self.forward))
        return np.sqrt(np.where(w > 0, w, np.nan) / self.T)

    def durrleman_g(self, k) -> np.ndarray:
        """Durrleman's butterfly-arbitrage function; negative where the implied density is."""
        k = np.asarray(k, dtype=np.float64)
        d = k - self.m
        root = np.sqrt(d * d + self.sigma * self.sigma)
        w = self.total_variance(k)
        w1 = self.b * (self.rho + d / root)
        w2 = self.b * self.sigma * self.sigma / root**3
        return (1 - k * w1 / (2 * w)) ** 2 - w1 * w1 / 4 * (1 / w + 0.25) + w2 / 2


@dataclass(frozen=True, slots=True)
class SmileFit:
    """One expiry's fitted smile and what a trader reads off it (IVs as decimals)."""

    expiry: date
    T: float
    forward: float
    svi: SVI
    atm_iv: float
    call25_strike: float
    put25_strike: float
    call25_iv: float
    put25_iv: float
    rr25: float
    bf25: float
    rmse: float
    n_quotes: int
    k_min: float
    k_max: float
    butterfly_ok: bool
    min_durrleman_g: float
    lee_ok: bool

    def iv(self, strikes) -> np.ndarray:
        return self.svi.iv(strikes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["expiry"] = self.expiry.isoformat()
        return d


def smile_quotes(chain: Chain, *, min_bid: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-the-money (strike, mid IV, weight) of a chain: puts below the forward, calls above.

    Weight = 1 / bid–ask IV width (a one-sided quote gets the weight of a wide one). Quotes with a
    bid at or below ``min_bid`` or no mid IV are dropped.
    """
    F = chain.forward
    ks, ivs, ws = [], [], []
    for side, otm in ((chain.puts, chain.strikes < F), (chain.calls, chain.strikes >= F)):
        ok = otm & side.listed & np.isfinite(side.iv) & (side.iv > 0) & (side.bid > min_bid)
        width = np.where(np.isfinite(side.iv_ask) & np.isfinite(side.iv_bid), side.iv_ask - side.iv_bid, np.nan)
        fallback = np.nanmax(width[ok]) if np.isfinite(width[ok]).any() else 0.05
        width = np.where(np.isfinite(width) & (width > 0), width, fallback)
        ks.append(chain.strikes[ok])
        ivs.append(side.iv[ok])
        ws.append(1.0 / np.maximum(width[ok], 1e-4))
    K, iv, w = (np.concatenate(a) for a in (ks, ivs, ws))
    order = np.argsort(K)
    return K[order], iv[order], w[order]


def fit_svi(strikes, ivs, forward: float, T: float, weights=None) -> tuple[SVI, float]:
    """Weighted least-squares raw SVI through (strike, IV) points; returns (SVI, IV RMSE).

    Needs at least 5 points. Bounds keep ``b ≥ 0``, ``|ρ| < 1``, ``σ > 0``; the fit is made in
    rescaled k and w and tried from several starting points (SVI's error surface has local minima).
    """
    from scipy.optimize import least_squares

    K = np.asarray(strikes, dtype=np.float64)
    iv = np.asarray(ivs, dtype=np.float64)
    wts = np.ones_like(iv) if weights is None else np.asarray(weights, dtype=np.float64)
    ok = np.isfinite(K) & np.isfinite(iv) & (iv > 0) & np.isfinite(wts) & (wts > 0)
    K, iv, wts = K[ok], iv[ok], wts[ok]
    if K.size < 5:
        raise NoData(f"an SVI fit needs at least 5 quotes with an IV, got {K.size}")
    k = np.log(K / forward)
    w = iv * iv * T
    ks = max(float(np.std(k)), 1e-6)  # rescale: k' = k/ks, w' = w/wsc
    wsc = float(np.median(w))
    kk, ww = k / ks, w / wsc
    sw = np.sqrt(wts / wts.max())

    grid = np.linspace(float(kk.min()), float(kk.max()), 60)
    penalty_scale = 100.0 * float(np.sqrt(np.mean(sw * sw))) * float(iv.mean())

    def residual(p):
        a, b, rho, m, sig = p
        d = kk - m
        model = a + b * (rho * d + np.sqrt(d * d + sig * sig))
        # residual in IV units (what the quotes are accurate in), via √w
        fit = sw * (np.sqrt(np.maximum(model, 1e-12) * wsc / T) - iv)
        # soft no-butterfly-arbitrage: Durrleman's g < 0 anywhere in the quoted range costs
        trial = SVI(a * wsc, b * wsc / ks, rho, m * ks, sig * ks, T, forward)
        g = trial.durrleman_g(grid * ks)
        # and so does a negative minimum variance (a + bσ√(1−ρ²) < 0: negative w in a wing)
        floor = min(a + b * sig * math.sqrt(1.0 - rho * rho), 0.0)
        return np.concatenate([fit, penalty_scale * np.minimum(np.nan_to_num(g, nan=-1.0), 0.0),
                               [penalty_scale * floor]])

    best = None
    lo = [-float(ww.max()) * 2, 0.0, -0.999, float(kk.min()) - 2, 1e-4]
    hi = [float(ww.max()) * 2, 50.0, 0.999, float(kk.max()) + 2, 20.0]
    agree = 0
    for rho0, sig0 in ((-0.6, 0.5), (0.0, 1.5), (0.5, 0.3), (-0.9, 1.5), (0.0, 0.3)):
        x0 = [float(ww.min()) * 0.8, 0.5, rho0, float(kk[np.argmin(ww)]), sig0]
        x0 = np.clip(x0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
        res = least_squares(residual, x0, bounds=(lo, hi), x_scale="jac", max_nfev=150, ftol=1e-10)
        if best is not None and abs(res.cost - best.cost) <= 1e-3 * best.cost:
            agree += 1
        if best is None or res.cost < best.cost:
            best = res
        if agree >= 1:  # two starts found the same minimum: take it
            break
    a, b, rho, m, sig = best.x
    svi = SVI(a=a * wsc, b=b * wsc / ks, rho=rho, m=m * ks, sigma=sig * ks, T=T, forward=forward)
    rmse = float(np.sqrt(np.average((svi.iv(K) - iv) ** 2, weights=wts)))
    return svi, rmse


def _delta_strike(svi: SVI, target: float, is_call: bool) -> float:
    """Strike with forward delta ``target`` (calls) / ``−target`` (puts) on the fitted smile."""
    from scipy.optimize import brentq

    T, F = svi.T, svi.forward

    def delta_gap(k: float) -> float:
        sigma = float(svi.iv(F * math.exp(k)))
        d1 = (-k + 0.5 * sigma * sigma * T) / (sigma * math.sqrt(T))
        n = 0.5 * math.erfc(-d1 / math.sqrt(2)) if is_call else 0.5 * math.erfc(d1 / math.sqrt(2))
        return n - target

    atm_sd = float(svi.iv(F)) * math.sqrt(T)
    guess = (1 if is_call else -1) * _Z25 * atm_sd
    lo, hi = sorted((0.0, 6 * guess))
    try:
        return F * math.exp(brentq(delta_gap, lo, hi, xtol=1e-12))
    except ValueError:  # no sign change: the smile is too steep for a 25-delta point in range
        return math.nan


def fit_smile(chain: Chain, *, min_bid: float = 0.02, parity: bool = False) -> SmileFit:
    """Fit one expiry's smile and compute ATM IV, 25-delta RR/BF and the arbitrage checks.

    ``parity=True`` measures moneyness against the put–call-parity forward of the chain's own
    quotes instead of ``chain.forward`` (spot × carry) — use it when the dividend yield is unknown.
    Quotes bid at ``min_bid`` or less are left out (a one-cent bid far out in a wing says nothing
    about volatility).
    :class:`~engine.core.errors.NoData` if the chain is expired or has fewer than 5 usable quotes.
    """
    if chain.T <= 0:
        raise NoData(f"{chain.underlying} {chain.expiry} has expired: no smile to fit")
    forward = chain.forward
    if parity:
        from engine.options.parity import parity_forward

        forward, _ = parity_forward(chain.strikes, chain.calls.mid, chain.puts.mid,
                                    discount=math.exp(-chain.rate * chain.T))
    K, iv, wts = smile_quotes(chain, min_bid=min_bid)
    svi, rmse = fit_svi(K, iv, forward, chain.T, wts)
    k = np.log(K / forward)
    # Checked where quotes support the curve; beyond them raw SVI is linear in k and Lee's bound
    # (below) is the relevant test.
    grid = np.linspace(float(k.min()), float(k.max()), 401)
    g = svi.durrleman_g(grid)
    min_g = float(np.nanmin(g))
    min_variance = svi.a + svi.b * svi.sigma * math.sqrt(1 - svi.rho**2)
    c25, p25 = _delta_strike(svi, 0.25, True), _delta_strike(svi, 0.25, False)
    atm = float(svi.iv(forward))
    c_iv, p_iv = float(svi.iv(c25)), float(svi.iv(p25))
    return SmileFit(
        expiry=chain.expiry, T=chain.T, forward=forward, svi=svi, atm_iv=atm,
        call25_strike=c25, put25_strike=p25, call25_iv=c_iv, put25_iv=p_iv,
        rr25=c_iv - p_iv, bf25=0.5 * (c_iv + p_iv) - atm, rmse=rmse, n_quotes=int(K.size),
        k_min=float(k.min()), k_max=float(k.max()),
        butterfly_ok=bool(min_g >= -1e-6 and min_variance >= -1e-3 * float(np.median(iv * iv * chain.T))),
        min_durrleman_g=min_g, lee_ok=bool(svi.b * (1 + abs(svi.rho)) <= 4.0))


def calendar_arbitrage(fits: list[SmileFit], *, n: int = 201) -> list[dict]:
    """Pairs of consecutive expiries whose total variance decreases somewhere in forward moneyness
    (checked where both expiries have quotes).

    Each entry: ``{"near", "far", "k", "near_w", "far_w"}`` at the worst point (empty list: none).
    """
    out = []
    ordered = sorted(fits, key=lambda f: f.T)
    for near, far in zip(ordered, ordered[1:], strict=False):
        lo, hi = max(near.k_min, far.k_min), min(near.k_max, far.k_max)  # where both are quoted
        if hi <= lo:
            continue
        k = np.linspace(lo, hi, n)
        gap = far.svi.total_variance(k) - near.svi.total_variance(k)
        i = int(np.argmin(gap))
        if gap[i] < -1e-12:
            out.append({"near": near.expiry.isoformat(), "far": far.expiry.isoformat(), "k": float(k[i]),
                        "near_w": float(near.svi.total_variance(k[i])), "far_w": float(far.svi.total_variance(k[i]))})
    return out


def term_structure(chains: list[Chain], **fit_kw) -> list[dict]:
    """ATM IV (and RR25/BF25) by expiry, nearest first; expiries that cannot be fitted are skipped.

    Each row: expiry, days, T, forward, atm_iv, rr25, bf25, straddle, butterfly_ok.
    """
    rows = []
    for ch in sorted(chains, key=lambda c: c.expiry):
        try:
            f = fit_smile(ch, **fit_kw)
        except NoData:
            continue
        em = expected_move(ch)
        rows.append({"expiry": ch.expiry.isoformat(), "days": (ch.expiry - ch.now.date()).days, "T": ch.T,
                     "forward": f.forward, "atm_iv": f.atm_iv, "rr25": f.rr25, "bf25": f.bf25,
                     "straddle": em["straddle"], "butterfly_ok": f.butterfly_ok})
    return rows


def expected_move(chain: Chain) -> dict:
    """The market's expected move to expiry.

    ``straddle``: mid of the ATM call + put (the price of the move; ≈ 0.8·σ·S·√T);
    ``one_sd``: ``S·σ_ATM·√T`` from the ATM mid IVs (averaged over call and put);
    ``pct`` of spot for both; ``low``/``high``: spot ∓ straddle.
    """
    k = chain.atm_strike()
    i = chain.by_any_strike(k)
    c, p = chain.calls.mid[i], chain.puts.mid[i]
    if not (np.isfinite(c) and np.isfinite(p)):
        raise NoData(f"no two-sided ATM quotes at strike {k:g} for {chain.underlying} {chain.expiry}")
    straddle = float(c + p)
    ivs = [v for v in (chain.calls.iv[i], chain.puts.iv[i]) if np.isfinite(v)]
    atm_iv = float(np.mean(ivs)) if ivs else math.nan
    one_sd = chain.spot * atm_iv * math.sqrt(chain.T) if chain.T > 0 else 0.0
    return {"strike": k, "straddle": straddle, "straddle_pct": straddle / chain.spot, "atm_iv": atm_iv,
            "one_sd": one_sd, "one_sd_pct": one_sd / chain.spot, "low": chain.spot - straddle,
            "high": chain.spot + straddle}


def iv_rank(history, current: float | None = None, lookback: int = 252) -> dict:
    """IV rank and percentile of ``current`` (default: the last value) against ``history``.

    Rank = (current − min)/(max − min) over the last ``lookback`` values; percentile = share of
    those values strictly below current. NaNs are ignored. :class:`NoData` for an empty history.
    """
    h = np.asarray(history, dtype=np.float64)
    h = h[np.isfinite(h)]
    if h.size == 0:
        raise NoData("IV rank needs a history of at least one value")
    window = h[-int(lookback):]
    cur = float(window[-1] if current is None else current)
    lo, hi = float(window.min()), float(window.max())
    rank = (cur - lo) / (hi - lo) if hi > lo else 0.5
    return {"current": cur, "rank": float(np.clip(rank, 0.0, 1.0)), "percentile": float(np.mean(window < cur)),
            "low": lo, "high": hi, "n": int(window.size)}


def atm_greeks_check(fit: SmileFit) -> dict[str, float]:
    """Forward-delta of the fitted 25-delta strikes (≈ ±0.25 when the fit is consistent)."""
    g = bsm_greeks(np.array([True, False]), fit.forward, np.array([fit.call25_strike, fit.put25_strike]),
                   fit.T, 0.0, 0.0, np.array([fit.call25_iv, fit.put25_iv]))
    return {"call25_delta": float(g["delta"][0]), "put25_delta": float(g["delta"][1])}


class VolSurface:
    """Implied-vol surface from fitted smiles: ``iv(strike, T)`` anywhere between (and around) them.

    Between two expiries the total variance is interpolated linearly in ``T`` at fixed forward
    log-moneyness (which keeps the surface free of calendar arbitrage when the smiles are);
    forwards are interpolated log-linearly. Before the first expiry the first smile's total
    variance is scaled by ``T/T₁`` (constant vol); after the last, the last smile's vol is kept.
    """

    def __init__(self, fits: list[SmileFit]) -> None:
        if not fits:
            raise NoData("a surface needs at least one fitted smile")
        self.fits = sorted(fits, key=lambda f: f.T)
        self._T = np.array([f.T for f in self.fits])
        self._log_fwd = np.log([f.forward for f in self.fits])

    def forward(self, T: float) -> float:
        return float(np.exp(np.interp(T, self._T, self._log_fwd)))

    def iv(self, strikes, T: float) -> np.ndarray:
        """Implied vol at ``strikes`` for an expiry ``T`` years away."""
        if not T > 0:
            raise InvalidInput(f"T must be positive, not {T}", field="T")
        k = np.log(np.asarray(strikes, dtype=np.float64) / self.forward(T))
        j = int(np.searchsorted(self._T, T))
        if j == 0:
            w = self.fits[0].svi.total_variance(k) * T / self._T[0]
        elif j == len(self.fits):
            last = self.fits[-1]
            w = last.svi.total_variance(k) * T / last.T
        else:
            a, b = self.fits[j - 1], self.fits[j]
            x = (T - a.T) / (b.T - a.T)
            w = (1 - x) * a.svi.total_variance(k) + x * b.svi.total_variance(k)
        return np.sqrt(np.where(w > 0, w, np.nan) / T)

    def atm_term(self) -> list[tuple[date, float, float]]:
        """(expiry, T, ATM IV) of each fitted expiry, nearest first."""
        return [(f.expiry, f.T, f.atm_iv) for f in self.fits]
