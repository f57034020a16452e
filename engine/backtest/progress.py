"""A rich progress bar on stderr for long runs (stdout may carry the JSON answer).

``with progress_bar(total, "backtest") as tick: tick(item)`` — ``tick`` advances and returns its
argument. Shown only when enabled and stderr is a terminal; otherwise ``tick`` is the identity.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def progress_bar(total: int, label: str, *, enabled: bool = True) -> Iterator[Callable[[T], T]]:
    if not (enabled and total > 1 and sys.stderr.isatty()):
        yield lambda item: item
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task(label, total=total)

    def tick(item: T) -> T:
        bar.advance(task)
        return item
    with bar:
        yield tick
