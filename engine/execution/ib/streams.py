"""Small pieces of the IB adapter's plumbing: reconnect delays and event streams."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator, MutableSet
from dataclasses import dataclass

from engine.execution.broker import BrokerEvent


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: ``initial`` seconds, times ``factor`` per attempt, capped at ``maximum``,
    each spread by ±``jitter`` (a fraction) so many clients do not reconnect in lockstep."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.1

    def delays(self) -> Iterator[float]:
        d = self.initial
        while True:
            yield max(0.0, d * (1 + random.uniform(-self.jitter, self.jitter)))
            d = min(d * self.factor, self.maximum)


class EventStream:
    """An ``events()`` iterator; registered at creation so nothing published after is missed.
    The broker keeps its streams in a ``WeakSet``: a stream nobody holds any more stops
    receiving (and holding) events by itself; ``close`` does it at once."""

    def __init__(self, subscribers: MutableSet[EventStream]) -> None:
        self._subscribers = subscribers
        self.queue: asyncio.Queue[BrokerEvent] = asyncio.Queue()
        subscribers.add(self)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> BrokerEvent:
        return await self.queue.get()

    def close(self) -> None:
        self._subscribers.discard(self)
