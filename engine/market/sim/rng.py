"""Counter-based random streams: the simulator's randomness is a pure function of its keys.

Each stream is a numpy ``Generator(Philox)`` seeded by ``SeedSequence([seed, *keys])``, so the
numbers for (seed, session, purpose) never depend on what else was drawn before or in which
process: two processes asking for the same instant see the same market.
"""

from __future__ import annotations

import zlib

import numpy as np

TAGS = {name: zlib.crc32(name.encode()) for name in (
    "daily", "daily-jumps", "daily-volume", "intraday", "intraday-jumps", "micro", "volume",
    "options-oi", "options-size", "options-volume",
)}


def stream(seed: int, tag: str, *keys: int) -> np.random.Generator:
    """An independent generator for (seed, tag, keys); keys are non-negative ints."""
    entropy = [int(seed) & 0xFFFFFFFF, TAGS[tag], *(int(k) & 0xFFFFFFFF for k in keys)]
    return np.random.Generator(np.random.Philox(np.random.SeedSequence(entropy)))


def correlated_normals(rng: np.random.Generator, n: int, corr: float, k: int = 3) -> np.ndarray:
    """``n × k`` standard normals with pairwise correlation ``corr`` (one common factor)."""
    z = rng.standard_normal((n, k + 1))
    a = np.sqrt(max(corr, 0.0))
    return a * z[:, :1] + np.sqrt(1.0 - a * a) * z[:, 1:]
