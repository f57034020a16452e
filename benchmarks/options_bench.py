"""Options analytics benchmark: implied vol and price + Greeks of 100 000 options, ours vs peers.

One run, one random set of 100 000 European options (0DTE-heavy: 60 % expire within the session,
1 minute to 6.5 hours; 25 % in 1–30 days; 15 % in 1 month to 2 years; SPY/QQQ/IWM-like spots,
strikes spread by the option's own σ√T, σ from 0.06 to 1.2, calls and puts), priced once with
our ``bsm_price``; then timed on the same numbers:

- **ours**: ``engine.options.implied_vol`` on all 100 000 (numba kernel, both cores), and
  ``bsm_price`` + ``bsm_greeks`` (fused numba kernel). Best of several runs after warm-up
  (compilation is cached on disk and excluded). Also on one thread, for the record.
- **ours, numpy variant**: the same IV algorithm (closed-form guess + 4 Householder steps) as
  masked numpy array code — the measurement behind choosing numba (see ``engine/options/iv.py``).
- **vollib** (``vollib.black_scholes_merton``, Jäckel's LetsBeRational through its Python
  binding): per-option loop over a subset, scaled to 100 000; IV and price + 5 Greeks.
- **QuantLib**: ``blackFormulaImpliedStdDev`` per option (subset, scaled), and ``BlackCalculator``
  price + Greeks per option.

Prints each time, the ratios (peer ÷ ours) and accuracy (max |σ̂ − σ| where vega is not vanishing).
Goal on the 2-core machine: IV of 100k ≤ 20 ms and ≥ 250× faster than vollib.

OPENBLAS_CORETYPE (set in this environment for older OpenBLAS builds) does not touch these
numbers: none of the kernels here calls BLAS, so it is neither unset nor changed.

Run: ``.venv/bin/python benchmarks/options_bench.py``.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from engine.options import iv as iv_kernel

N = 100_000
SUBSET_VOLLIB = 3_000
SUBSET_QL = 5_000
MINUTE = 1.0 / 525_600.0
R, Q = 0.045, 0.013


def make_options(n: int = N, seed: int = 20250516) -> dict[str, np.ndarray]:
    """Random 0DTE-heavy option set (see module docstring) with prices from our bsm_price."""
    from engine.options import bsm_price

    rng = np.random.default_rng(seed)
    bucket = rng.choice(3, size=n, p=[0.60, 0.25, 0.15])
    T = np.where(bucket == 0, rng.uniform(1, 390, n) * MINUTE,
                 np.where(bucket == 1, rng.uniform(1, 30, n) / 365, rng.uniform(30, 730, n) / 365))
    S = rng.choice([590.0, 520.0, 210.0], size=n)
    sigma = np.exp(rng.uniform(np.log(0.06), np.log(1.2), n))
    K = np.round(S * np.exp(rng.normal(0.0, 1.2, n) * sigma * np.sqrt(T)) * 2) / 2
    is_call = rng.random(n) < 0.5
    price = bsm_price(is_call, S, K, T, R, Q, sigma)
    return {"is_call": is_call, "S": S, "K": K, "T": T, "sigma": sigma, "price": price}


def best_of(fn, repeat: int = 7) -> tuple[float, float]:
    """(best wall time, best CPU time of this process) over ``repeat`` runs.

    CPU time is what a shared, loaded machine cannot distort for single-threaded code; wall time
    is what the goal is stated in.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def scaled(fn, n_sub: int) -> tuple[float, float]:
    """One run of a per-option loop over ``n_sub`` options, scaled to ``N`` (wall, CPU)."""
    wall, cpu = best_of(fn, 1)
    return wall * N / n_sub, cpu * N / n_sub


def _normal_guess_numpy(x, beta):
    """The kernel's small-vol start (normal limit read from its table), as array code."""
    with np.errstate(all="ignore"):
        pos = (np.log(-x) - np.log(beta) - iv_kernel._NQ0) / iv_kernel._NDQ
        ok = (pos >= 0) & (pos < iv_kernel._NQN - 1)
        j = np.clip(pos, 0, iv_kernel._NQN - 2).astype(np.int64)
        f = np.clip(pos, 0, iv_kernel._NQN - 2) - j
        u_tab, du, dq = iv_kernel._NU, iv_kernel._NDU, iv_kernel._NDQ
        u = ((2 * f**3 - 3 * f**2 + 1) * u_tab[j] + (f**3 - 2 * f**2 + f) * du[j] * dq
             + (3 * f**2 - 2 * f**3) * u_tab[j + 1] + (f**3 - f**2) * du[j + 1] * dq)
        return np.where(ok, -x / u, np.nan)


def numpy_implied_vol(price, is_call, S, K, T, r, q, iterations: int = 3):
    """Our IV algorithm as plain masked numpy (no early exit, no bracket): the numba-vs-numpy test.

    Arrays cannot stop element by element, so every option gets the iterations the slowest needs.
    """
    from scipy.special import ndtr, ndtri

    with np.errstate(all="ignore"):
        fwd = S * np.exp((r - q) * T)
        x = np.log(fwd / K)
        beta = price * np.exp(r * T) / np.sqrt(fwd * K)
        th = np.where(is_call, 1.0, -1.0)
        big = np.exp(0.5 * th * x)
        beta = np.where(th * x > 0, beta - (big - 1.0 / big), beta)
        x = -np.abs(x)
        bmax = np.exp(0.5 * x)
        valid = (beta > 0) & (beta < bmax) & (T > 0)
        sc = np.sqrt(-2.0 * x)
        bc = np.where(sc > 0, bmax * ndtr(x / sc + 0.5 * sc) - ndtr(x / sc - 0.5 * sc) / bmax, 0.0)
        lower = beta < bc
        s_tan = sc + (beta - bc) * math.sqrt(2 * math.pi) * np.exp(-0.5 * x)
        u = (3 * math.sqrt(3) / (2 * math.pi) * beta / -x) ** (1 / 3)
        s_low = np.where(u < 0.5, x / (math.sqrt(3.0) * ndtri(u)), sc)
        s_low = np.fmin(s_low, np.where((s_tan > 0) & (s_tan < sc), s_tan, sc))
        s_up = np.maximum(-2.0 * ndtri((bmax - beta) / (bmax + 1.0 / bmax)), np.maximum(sc, s_tan))
        s = np.where(lower, s_low, s_up)
        s_normal = _normal_guess_numpy(x, beta)
        s = np.where(s_normal < iv_kernel._SMALL_S, s_normal, s)
        target = np.where(lower, 1.0 / np.log(beta), np.log(bmax - beta))
        for _ in range(iterations):
            h, t = x / s, 0.5 * s
            vega = np.exp(-0.5 * (h * h + t * t)) / math.sqrt(2 * math.pi)
            r2 = h * h / s - 0.5 * t
            r3 = r2 * r2 - 3.0 * h * h / (s * s) - 0.25
            b = bmax * ndtr(h + t) - ndtr(h - t) / bmax
            c = bmax * ndtr(-(h + t)) + ndtr(h - t) / bmax
            w = np.where(lower, vega / b, vega / c)
            L = np.log(b)
            f = np.where(lower, 1.0 / L - target, target - np.log(c))
            fp = np.where(lower, -w / (L * L), w)
            halley = np.where(lower, -(L + 2.0) / L * w, w) + r2
            hh3 = np.where(lower, (2.0 + 6.0 / L + 6.0 / (L * L)) * w * w - 3.0 * (L + 2.0) / L * w * r2,
                           2.0 * w * w + 3.0 * w * r2) + r3
            nu = -f / fp
            s = s + nu * (1.0 + 0.5 * halley * nu) / (1.0 + nu * (halley + hh3 * nu / 6.0))
        return np.where(valid, s / np.sqrt(T), np.nan)


def vollib_loop(o, idx):
    from vollib.black_scholes_merton.implied_volatility import implied_volatility

    out = np.full(idx.size, np.nan)
    for j, i in enumerate(idx):
        try:
            out[j] = implied_volatility(o["price"][i], o["S"][i], o["K"][i], o["T"][i], R, Q,
                                        "c" if o["is_call"][i] else "p")
        except Exception:  # vollib raises on prices it considers out of bounds
            pass
    return out


def vollib_greeks_loop(o, idx):
    from vollib.black_scholes_merton import black_scholes_merton as price
    from vollib.black_scholes_merton.greeks import analytical as g

    for i in idx:
        args = ("c" if o["is_call"][i] else "p", o["S"][i], o["K"][i], o["T"][i], R, o["sigma"][i], Q)
        price(*args), g.delta(*args), g.gamma(*args), g.vega(*args), g.theta(*args), g.rho(*args)


def quantlib_iv_loop(o, idx):
    import QuantLib as ql

    out = np.full(idx.size, np.nan)
    for j, i in enumerate(idx):
        T = o["T"][i]
        fwd, disc = o["S"][i] * math.exp((R - Q) * T), math.exp(-R * T)
        try:
            out[j] = ql.blackFormulaImpliedStdDev(ql.Option.Call if o["is_call"][i] else ql.Option.Put,
                                                  o["K"][i], fwd, o["price"][i], disc, 0.0,
                                                  0.25 * math.sqrt(T), 1e-12, 200) / math.sqrt(T)
        except RuntimeError:  # no convergence / price out of range
            pass
    return out


def quantlib_greeks_loop(o, idx):
    import QuantLib as ql

    for i in idx:
        T = o["T"][i]
        fwd, disc = o["S"][i] * math.exp((R - Q) * T), math.exp(-R * T)
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if o["is_call"][i] else ql.Option.Put, o["K"][i])
        c = ql.BlackCalculator(payoff, fwd, o["sigma"][i] * math.sqrt(T), disc)
        c.value(), c.delta(o["S"][i]), c.gamma(o["S"][i]), c.vega(T), c.theta(o["S"][i], T), c.rho(T)


def max_error(iv, o, idx=None):
    from engine.options import bsm_greeks

    sel = np.arange(N) if idx is None else idx
    vega = bsm_greeks(o["is_call"][sel], o["S"][sel], o["K"][sel], o["T"][sel], R, Q, o["sigma"][sel])["vega"]
    ok = (vega * 1e-8 > 64e-16 * (o["S"][sel] + o["K"][sel])) & (o["price"][sel] > 1e-250)
    err = np.abs(iv - o["sigma"][sel])
    return float(np.nanmax(err[ok])), int(np.isnan(iv[ok]).sum()), int(ok.sum())


def main() -> None:
    import numba

    from engine.options import bsm_greeks, bsm_price, implied_vol

    o = make_options()
    args = (o["is_call"], o["S"], o["K"], o["T"], R, Q)
    implied_vol(o["price"], *args)  # warm-up: load the cached kernels
    bsm_greeks(*args, o["sigma"])
    rng = np.random.default_rng(1)
    sub_v = rng.choice(N, SUBSET_VOLLIB, replace=False)
    sub_q = rng.choice(N, SUBSET_QL, replace=False)

    t_iv = best_of(lambda: implied_vol(o["price"], *args))
    t_pg = best_of(lambda: (bsm_price(*args, o["sigma"]), bsm_greeks(*args, o["sigma"])))
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    t_iv1 = best_of(lambda: implied_vol(o["price"], *args), 5)
    t_pg1 = best_of(lambda: (bsm_price(*args, o["sigma"]), bsm_greeks(*args, o["sigma"])), 5)
    numba.set_num_threads(threads)
    t_np = best_of(lambda: numpy_implied_vol(o["price"], *args), 3)
    iv_vollib = np.empty(0)
    iv_ql = np.empty(0)

    def run_vollib():
        nonlocal iv_vollib
        iv_vollib = vollib_loop(o, sub_v)

    def run_ql():
        nonlocal iv_ql
        iv_ql = quantlib_iv_loop(o, sub_q)

    t_vollib = scaled(run_vollib, SUBSET_VOLLIB)
    t_vollib_g = scaled(lambda: vollib_greeks_loop(o, sub_v), SUBSET_VOLLIB)
    t_ql = scaled(run_ql, SUBSET_QL)
    t_ql_g = scaled(lambda: quantlib_greeks_loop(o, sub_q), SUBSET_QL)

    iv = implied_vol(o["price"], *args)
    e_ours = max_error(iv, o)
    e_np = max_error(numpy_implied_vol(o["price"], *args), o)
    e_vollib = max_error(iv_vollib, o, sub_v)
    e_ql = max_error(iv_ql, o, sub_q)

    def line(name, t, ref=None, err=None):
        wall, cpu = t
        ratio = f"{wall / ref[0]:8.1f}x {cpu / ref[1]:8.1f}x" if ref is not None else " " * 20
        acc = f"   {err[0]:.1e} ({err[1]}/{err[2]})" if err is not None else ""
        print(f"{name:44s}{wall * 1e3:10.2f} {cpu * 1e3:10.2f} {ratio}{acc}")

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"options_bench: {N:,} options (60% same-session 0DTE), {threads} numba threads, "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':44s}{'wall ms':>10s} {'cpu ms':>10s} {'wall/ours':>9s} {'cpu/ours':>9s}   max|σ̂-σ| (NaN/checked)")
    line("ours implied_vol", t_iv, err=e_ours)
    line("ours implied_vol, 1 thread", t_iv1, t_iv)
    line("ours, same algorithm in numpy", t_np, t_iv1, e_np)
    line("vollib implied_volatility (loop, scaled)", t_vollib, t_iv1, e_vollib)
    line("QuantLib blackFormulaImpliedStdDev (scaled)", t_ql, t_iv1, e_ql)
    line("ours bsm_price + bsm_greeks", t_pg)
    line("ours price + Greeks, 1 thread", t_pg1, t_pg)
    line("vollib price + 5 Greeks (loop, scaled)", t_vollib_g, t_pg1)
    line("QuantLib BlackCalculator + Greeks (scaled)", t_ql_g, t_pg1)
    print("(peer ratios are against our single-thread run: the peers' loops use one core)")
    ratio_wall = t_vollib[0] / t_iv[0]
    ok_time, ok_ratio = t_iv[0] <= 0.020, ratio_wall >= 250
    print(f"goal IV of 100k ≤ 20 ms: {'met' if ok_time else 'MISSED'} ({t_iv[0] * 1e3:.2f} ms wall, 2 threads); "
          f"≥ 250x vollib: {'met' if ok_ratio else 'MISSED'} ({ratio_wall:.0f}x wall, "
          f"{t_vollib[1] / t_iv1[1]:.0f}x CPU single-thread)")


if __name__ == "__main__":
    main()
