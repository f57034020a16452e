"""The typed trade idea every signal generator yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Direction = Literal["long", "short", "neutral"]
Kind = Literal["price", "volatility", "regime"]


@dataclass(frozen=True)
class Signal:
    """One signal at one instant, computed from data up to ``ts`` only.

    ``direction`` is about the underlying for ``kind="price"`` (long = expect up); for
    ``kind="volatility"`` it is about option premium (short = implied vol rich: favour selling
    premium; long = cheap: favour buying). ``strength`` (0–1) is how far the reading is past its
    trigger; ``confidence`` (0–1) how much data/persistence backs it. ``values`` holds the raw
    numbers (z-scores, ranks, levels) so callers can apply their own thresholds.
    """

    name: str
    underlying: str
    direction: Direction
    strength: float
    confidence: float
    reasons: list[str]
    ts: datetime
    kind: Kind = "price"
    values: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError("signal timestamp must be timezone-aware")
        object.__setattr__(self, "strength", float(min(max(self.strength, 0.0), 1.0)))
        object.__setattr__(self, "confidence", float(min(max(self.confidence, 0.0), 1.0)))

    def to_dict(self) -> dict:
        return {"name": self.name, "underlying": self.underlying, "direction": self.direction,
                "strength": round(self.strength, 4), "confidence": round(self.confidence, 4),
                "reasons": list(self.reasons), "ts": self.ts.isoformat(), "kind": self.kind,
                "values": {k: (None if v != v else round(float(v), 6)) for k, v in self.values.items()}}
