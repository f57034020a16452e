"""Readers of recorded market data files (quote streams, chain downloads) for the replay feed."""

from __future__ import annotations

import re
from pathlib import Path


def symbol_from_filename(path: str | Path) -> str:
    """The symbol a file is named after: a product underlying anywhere in the name
    (``dom_data_SPY_20251003.csv`` → SPY), else the name's first token (``QQQ_1min.csv`` → QQQ)."""
    from engine.core.instruments import UNDERLYINGS

    tokens = [t.upper() for t in re.split(r"[_\-. ]+", Path(path).stem) if t]
    return next((t for t in tokens if t in UNDERLYINGS), tokens[0] if tokens else "")
