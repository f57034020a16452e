"""Tax engine benchmark: 100,000 0DTE-style trades through lot matching, wash sales and the report.

Trades: two years of sessions, ~200 fills a session on SPY/QQQ/IWM same-day options (round
trips, many at a loss, same-contract re-entries minutes later, some left to expire), a few SPY
share trades and SPXW (§1256) round trips, plus an IRA account.

Measured (same process, same trades, CPU seconds because the machine may be shared; wall time
printed too): ``run_walk`` + ``build_report`` for one year with the fast engine (indexed
replacement finder) against the two references the tests use, for both wash-sale presets:

* the same walk with the straightforward scan finder (``impl="reference"``): quadratic in the lots
  of a wash-sale group, so under ``underlying`` (one group per underlying) the ratio is taken on
  the first 10,000 trades;
* the independent share-by-share exact oracle (:mod:`engine.tax.reference`): one object per share
  (100 per contract), so it runs on the first 150 trades with fees set to 0 (its exactness domain).

Goal: ≤ 2 s for the 100,000 trades.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.core.clock import NY  # noqa: E402
from engine.core.instruments import OptionContract  # noqa: E402
from engine.tax.config import TaxConfig  # noqa: E402
from engine.tax.matching import run_walk  # noqa: E402
from engine.tax.reference import reference_totals  # noqa: E402
from engine.tax.report import build_report  # noqa: E402
from engine.tax.trades import TaxTrade, make_trade  # noqa: E402

GOAL_S = 2.0
N = 100_000
SPOTS = {"SPY": 470.0, "QQQ": 400.0, "IWM": 195.0}


def sessions(start: date):
    d = start
    while True:
        if d.weekday() < 5:
            yield d
        d += timedelta(days=1)


def make_trades(n: int, seed: int = 7) -> list[TaxTrade]:
    rng = random.Random(seed)
    out: list[TaxTrade] = []
    spots = dict(SPOTS)

    def add(ts, acct, sym, side, qty, px):
        fee = Decimal("0.65") * qty if "C0" in sym or "P0" in sym else Decimal(1)
        out.append(make_trade(datetime_=ts, account=acct, symbol=sym, side=side, quantity=qty,
                              price=Decimal(px).quantize(Decimal("0.01")) if side != "EXPIRE" else 0,
                              fees=fee if side != "EXPIRE" else 0))

    for day in sessions(date(2024, 1, 2)):
        if len(out) >= n:
            break
        t = datetime(day.year, day.month, day.day, 9, 35, tzinfo=NY)
        for und in spots:
            spots[und] *= 1 + rng.gauss(0, 0.01)
        while t.hour < 15 and len(out) < n:
            und = rng.choice(("SPY", "SPY", "QQQ", "IWM"))
            strike = round(spots[und]) + rng.randint(-3, 3)
            right = rng.choice("CP")
            sym = OptionContract.of(und, day, right, strike).occ
            acct = "ira" if rng.random() < 0.03 else "live"
            qty = rng.randint(1, 5)
            px = max(0.05, rng.uniform(0.3, 3.0))
            add(t, acct, sym, "BUY", qty, px)
            t += timedelta(minutes=rng.randint(1, 4))
            if rng.random() < 0.08:  # held to expiry
                add(datetime(day.year, day.month, day.day, 16, 0, tzinfo=NY), acct, sym, "EXPIRE", qty, 0)
            else:
                add(t, acct, sym, "SELL", qty, max(0.01, px * rng.uniform(0.45, 1.5)))
            t += timedelta(minutes=rng.randint(0, 3))
            if rng.random() < 0.05 and len(out) < n - 2:
                k = round(spots["SPY"] * 10 / 5) * 5 * 1.0
                spx = OptionContract.of("SPXW", day, "P", int(k)).occ
                add(t, "live", spx, "BUY", 1, rng.uniform(2, 8))
                add(t + timedelta(minutes=5), "live", spx, "SELL", 1, rng.uniform(1, 9))
            if rng.random() < 0.03 and len(out) < n - 2:
                add(t, "live", "SPY", "BUY", 100, spots["SPY"])
                add(t + timedelta(minutes=30), "live", "SPY", "SELL", 100, spots["SPY"] * rng.uniform(0.99, 1.01))
    out = out[:n]
    out.sort(key=lambda x: x.ts)
    return out


def timed(trades, matching: str, impl: str) -> tuple[float, object]:
    """Best of a few runs, in process CPU seconds (the machine is shared; wall time is printed too)."""
    cfg = TaxConfig()
    best, rep = float("inf"), None
    for _ in range(2 if impl == "fast" else 1):
        t0, w0 = time.process_time(), time.perf_counter()
        walk = run_walk(trades, cfg, matching=matching, impl=impl, as_of=date(2026, 6, 30))
        rep = build_report(walk.dispositions, 2024, matching)
        cpu, wall = time.process_time() - t0, time.perf_counter() - w0
        if cpu < best:
            best, WALL[impl] = cpu, wall
    return best, rep


WALL: dict[str, float] = {}


def main() -> int:
    t0 = time.perf_counter()
    trades = make_trades(N)
    print(f"generated {len(trades):,} trades ({trades[0].ts.date()} .. {trades[-1].ts.date()}) "
          f"in {time.perf_counter() - t0:.1f} s")
    ok = True
    for matching in ("identical", "underlying"):
        fast_s, rep = timed(trades, matching, "fast")
        print(f"[{matching}] fast engine, {len(trades):,} trades: {fast_s:.3f} s CPU ({WALL['fast']:.3f} s wall) "
              f"({len(rep.rows):,} Form 8949 rows for 2024, W total ${rep.wash_sale_disallowed:,.2f}) "
              f"goal <= {GOAL_S:.1f} s: {'OK' if fast_s <= GOAL_S else 'MISSED'}")
        ok &= fast_s <= GOAL_S
        sub = trades if matching == "identical" else trades[:10_000]
        f_s, f_rep = timed(sub, matching, "fast")
        r_s, r_rep = timed(sub, matching, "reference")
        same = f_rep.to_dict() == r_rep.to_dict()
        print(f"[{matching}] on {len(sub):,} trades: fast {f_s:.3f} s, reference (scan) {r_s:.3f} s, "
              f"ratio {r_s / f_s:.1f}x faster; identical reports: {same}")
        ok &= same
        ok &= share_by_share(trades[:SHARE_N], matching)
    return 0 if ok else 1


SHARE_N = 150


def share_by_share(trades, matching: str) -> bool:
    """Against the independent exact oracle of the property tests (one object per share, fees 0)."""
    zero = [replace(t, fees=Decimal(0)) for t in trades]
    t0 = time.process_time()
    ref = reference_totals(zero, TaxConfig(), 2024, matching, date(2026, 6, 30))
    r_s = time.process_time() - t0
    f_s, rep = timed(zero, matching, "fast")
    same = (rep.short_term.gain, rep.long_term.gain, rep.wash_sale_disallowed, rep.section_1256.net) == (
        ref["short"].gain, ref["long"].gain, ref["wash"], ref["s1256"])
    print(f"[{matching}] on {len(zero):,} trades (fees 0): fast {f_s:.4f} s, share-by-share exact reference "
          f"{r_s:.3f} s, ratio {r_s / f_s:.0f}x faster; same totals: {same}")
    return same


if __name__ == "__main__":
    sys.exit(main())
