"""Recordings of the raw Polygon WebSocket stream, for replay and benchmarks.

Format: UTF-8 text, one line per WebSocket frame, ``<receive time, Unix ms>\\t<market>\\t<frame>``,
where ``market`` is ``stocks``, ``options`` or ``indices`` and ``frame`` is the JSON text exactly
as received (frames never contain a raw newline or tab: JSON escapes them). Files end in
``.polygon.tsv``. Recording the raw frames, not our decoded records, means a recording can be
re-decoded by a later, better parser and replayed byte for byte.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from engine.core.errors import InvalidInput

SUFFIX = ".polygon.tsv"
MARKETS = ("stocks", "options", "indices")


def is_recording(path: str | Path) -> bool:
    return str(path).endswith(SUFFIX)


class StreamRecorder:
    """Appends frames to a recording; ``write`` is cheap enough for the stream's hot path.

    The file opens on the first write and again after :meth:`close` (a feed stopped and started
    again keeps appending to the same recording).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: TextIO | None = None
        self.frames = 0

    def write(self, market: str, raw: str | bytes, recv_ms: int | None = None) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8", buffering=1 << 16)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        ms = recv_ms if recv_ms is not None else int(time.time() * 1000)
        self._fh.write(f"{ms}\t{market}\t{text.replace(chr(10), ' ').replace(chr(9), ' ')}\n")
        self.frames += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_recording(path: str | Path) -> Iterator[tuple[int, str, str]]:
    """``(receive ms, market, frame text)`` per line; :class:`InvalidInput` names a bad line."""
    p = Path(path)
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t", 2)
            if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in MARKETS:
                raise InvalidInput(f"{p.name} line {n}: expected '<ms>\\t<stocks|options|indices>\\t<frame>'")
            yield int(parts[0]), parts[1], parts[2]
