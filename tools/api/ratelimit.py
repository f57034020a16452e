"""Per-token rate limit: a sliding one-minute window kept in process memory.

One API process serves one machine's users; a window per token is enough and costs no round
trip. The limit is ``SMART0DTE_API_RATE_LIMIT_PER_MINUTE``.
"""

from __future__ import annotations

import time
from collections import deque


class RateLimiter:
    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str, now: float | None = None) -> float:
        """0 when allowed (and counted); otherwise seconds until the next request is allowed."""
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window_s:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return max(0.001, self.window_s - (now - hits[0]))
        hits.append(now)
        return 0.0
