"""The real Cboe SPY chain of 2025-05-16: spot from put–call parity, and our IVs against Cboe's."""

from __future__ import annotations

import csv
import math
import os
from datetime import date, datetime

import numpy as np
import pytest

from engine.core.clock import NY
from engine.core.marketdata import ChainSnapshot
from engine.options.chain import Chain, quote_mid
from engine.options.expiry import time_to_expiry
from engine.options.parity import parity_forward

RATE, DIV = 0.043, 0.013  # May 2025 short rate; SPY's dividend yield
CLOSE = datetime(2025, 5, 16, 16, 0, tzinfo=NY)  # the file was saved after the close: closing quotes
FILE = ("cboe-spy-chain", "spy_quotedata_2025-05-16.csv")


def _num(text: str) -> float:
    return float(text.replace(",", "")) if text.strip() else math.nan


def read_cboe(path: str) -> dict[date, dict[str, np.ndarray | list]]:
    """Cboe 'quote data' CSV → per expiry: strikes, call/put symbols, bid, ask, volume, OI, IV, delta."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Expiration Date")
    out: dict[date, dict[str, list]] = {}
    for r in rows[header + 1:]:
        if len(r) < 22:
            continue
        day = datetime.strptime(r[0], "%a %b %d %Y").date()
        d = out.setdefault(day, {k: [] for k in ("K", "csym", "cbid", "cask", "cvol", "civ", "cdelta", "coi",
                                                 "psym", "pbid", "pask", "pvol", "piv", "pdelta", "poi")})
        d["K"].append(_num(r[11]))
        for side, off in (("c", 1), ("p", 12)):
            d[f"{side}sym"].append(r[off])
            d[f"{side}bid"].append(_num(r[off + 3]))
            d[f"{side}ask"].append(_num(r[off + 4]))
            d[f"{side}vol"].append(_num(r[off + 5]))
            d[f"{side}iv"].append(_num(r[off + 6]))
            d[f"{side}delta"].append(_num(r[off + 7]))
            d[f"{side}oi"].append(_num(r[off + 9]))
    return {k: {n: (v if n.endswith("sym") else np.array(v)) for n, v in d.items()} for k, d in out.items()}


def snapshot(day: date, d: dict, spot: float) -> ChainSnapshot:
    n = d["K"].size
    both = lambda a, b: np.concatenate([d[a], d[b]])  # noqa: E731
    return ChainSnapshot(
        underlying="SPY", expiry=day, ts=CLOSE, spot=spot, symbols=tuple(d["csym"] + d["psym"]),
        strikes=np.concatenate([d["K"], d["K"]]), is_call=np.repeat([True, False], n),
        bid=both("cbid", "pbid"), ask=both("cask", "pask"), bid_size=np.zeros(2 * n), ask_size=np.zeros(2 * n),
        last=np.full(2 * n, np.nan), volume=both("cvol", "pvol"), open_interest=both("coi", "poi"),
        vendor_iv=np.where(both("civ", "piv") > 0, both("civ", "piv"), np.nan),  # Cboe writes 0 for "none"
        vendor_delta=both("cdelta", "pdelta"), source="cboe", session=date(2025, 5, 16))


@pytest.fixture(scope="module")
def cboe(request):
    from tests.conftest import SHARED_DATA

    path = os.path.join(SHARED_DATA, *FILE)
    if not os.path.exists(path):
        pytest.fail(f"{path} missing")
    return read_cboe(path)


def _spot(day: date, d: dict) -> float:
    T = time_to_expiry(CLOSE, day)
    fwd, _ = parity_forward(d["K"], quote_mid(d["cbid"], d["cask"]), quote_mid(d["pbid"], d["pask"]),
                            discount=math.exp(-RATE * T))
    return fwd * math.exp(-(RATE - DIV) * T)


def test_parity_spot_is_consistent_across_expiries_and_not_the_header_print(cboe):
    later = [d for d in sorted(cboe) if d > date(2025, 5, 16)]
    spots = np.array([_spot(day, cboe[day]) for day in later])
    assert len(later) == 9
    assert np.ptp(spots) < 0.5  # one underlying, one spot: the expiries agree
    assert 593.5 < np.median(spots) < 594.5  # ≈594.0, as the README says — not the 589.25 header


def test_our_ivs_match_cboes_on_later_expiries(cboe):
    worst, diffs = 0.0, []
    for day in sorted(cboe):
        if day == date(2025, 5, 16):
            continue  # expired at the close: Cboe's own IVs are 0 there
        d = cboe[day]
        ch = Chain.from_snapshot(snapshot(day, d, _spot(day, d)), CLOSE, RATE, DIV)
        for side in (ch.calls, ch.puts):
            otm = (side.strikes > ch.forward) if side is ch.calls else (side.strikes < ch.forward)
            ok = side.listed & otm & (side.bid >= 0.05) & np.isfinite(side.vendor_iv)
            assert ok.sum() >= 5, (day, side.right)
            diff = side.iv[ok] - side.vendor_iv[ok]
            worst = max(worst, float(np.abs(diff).max()))
            diffs.append(diff)
            # deltas agree too (Cboe rounds to 4 decimals; its vol differs by the IV gap)
            assert np.allclose(side.delta[ok], side.vendor_delta[ok], atol=0.01)
    allv = np.concatenate(diffs)
    assert allv.size > 300
    assert worst <= 0.002  # within 0.2 vol point everywhere out of the money
    assert abs(np.median(allv)) <= 0.0005  # and no bias: same time convention (calendar, to the close)


def test_0dte_expired_at_the_close_has_payoff_greeks(cboe):
    day = date(2025, 5, 16)
    d = cboe[day]
    ch = Chain.from_snapshot(snapshot(day, d, 594.0), CLOSE, RATE, DIV)
    assert ch.T == 0.0 and np.isnan(ch.calls.iv).all()
    i = ch.by_strike("call", 580)
    assert ch.calls.delta[i] == 1.0 and ch.calls.vendor_delta[i] == pytest.approx(1.0, abs=0.01)
    assert ch.rows(2)  # still displayable
