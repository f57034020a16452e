"""Engine events for push surfaces (SSE, bots): fills, order states, risk and kill-switch changes,
signals, mode switches, position exits.

The audit log *is* the event log: every decision is already written there, hash-chained and
durable, so following it gives every process (API, bots, UI) the same events in the same order,
resumable from the last id a client saw (SSE ``Last-Event-ID``), with no second source of truth.
With Redis configured, the audit writer's notification on ``smart0dte:audit`` wakes followers at
once; without it they poll the indexed id every ``poll_s``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

#: Audit kinds pushed to people; a trailing ``*`` matches a prefix (``monitor.*``: stop-outs, exits,
#: auto-flatten).
PUSH_KINDS = ("order.fill", "order.state", "kill_switch", "mode.switch", "expiry", "monitor.*", "signal.*")
CHANNEL = "smart0dte:audit"


async def follow(engine: Any, kinds: Iterable[str] = PUSH_KINDS, *, after_id: int | None = None,
                 poll_s: float = 0.25) -> AsyncIterator[dict]:
    """Yield audit records of ``kinds`` newer than ``after_id`` (default: from now on), forever."""
    kinds = tuple(kinds)
    cursor = await asyncio.to_thread(engine.audit.count) if after_id is None else int(after_id)
    waker = _RedisWaker(engine.settings.redis_url) if engine.settings.redis_url else None
    try:
        while True:
            batch = await asyncio.to_thread(engine.audit.after, cursor, kinds)
            for rec in batch:
                cursor = rec["id"]
                yield rec
            if not batch:
                if waker is not None:
                    await waker.wait(poll_s * 8)
                else:
                    await asyncio.sleep(poll_s)
    finally:
        if waker is not None:
            await waker.close()


class Publisher:
    """The audit writer's side: one PUBLISH per appended record on a client kept for the process.
    Best effort: a missed wake-up only delays delivery to the followers' next poll."""

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)

    def publish(self, record_id: int) -> None:
        try:
            self._client.publish(CHANNEL, str(record_id))
        except Exception:  # noqa: BLE001 - Redis down: followers still poll
            pass


class _RedisWaker:
    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._client = aioredis.Redis.from_url(url)
        self._pubsub = self._client.pubsub()
        self._subscribed = False

    async def wait(self, timeout: float) -> None:
        try:
            if not self._subscribed:
                await self._pubsub.subscribe(CHANNEL)
                self._subscribed = True
            await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        except Exception:  # noqa: BLE001 - Redis down: fall back to polling
            await asyncio.sleep(timeout)

    async def close(self) -> None:
        try:
            await self._pubsub.aclose()
            await self._client.aclose()
        except Exception:  # noqa: BLE001
            pass
