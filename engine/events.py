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

from sqlalchemy import or_, select

#: Audit kinds pushed to people; a trailing ``*`` matches a prefix (``monitor.*``: stop-outs, exits,
#: auto-flatten).
PUSH_KINDS = ("order.fill", "order.state", "kill_switch", "mode.switch", "expiry", "monitor.*", "signal.*")
CHANNEL = "smart0dte:audit"


def records_after(engine: Any, after_id: int, kinds: Iterable[str], limit: int = 200) -> list[dict]:
    from engine.store.audit import AuditRecord, _as_dict

    with engine.db.session(None) as s:
        exact = [k for k in kinds if not k.endswith("*")]
        prefixes = [k[:-1] for k in kinds if k.endswith("*")]
        match = or_(AuditRecord.kind.in_(exact), *(AuditRecord.kind.startswith(p) for p in prefixes))
        q = select(AuditRecord).where(AuditRecord.id > after_id, match).order_by(AuditRecord.id).limit(limit)
        return [_as_dict(r) for r in s.scalars(q)]


def last_id(engine: Any) -> int:
    return engine.audit.count()


async def follow(engine: Any, kinds: Iterable[str] = PUSH_KINDS, *, after_id: int | None = None,
                 poll_s: float = 0.25) -> AsyncIterator[dict]:
    """Yield audit records of ``kinds`` newer than ``after_id`` (default: from now on), forever."""
    kinds = tuple(kinds)
    cursor = await asyncio.to_thread(last_id, engine) if after_id is None else int(after_id)
    waker = _RedisWaker(engine.settings.redis_url) if engine.settings.redis_url else None
    try:
        while True:
            batch = await asyncio.to_thread(records_after, engine, cursor, kinds)
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


def notify(settings: Any, record_id: int) -> None:
    """Wake followers in other processes (best effort; the poll catches anything missed)."""
    if not settings.redis_url:
        return
    try:
        import redis

        redis.Redis.from_url(settings.redis_url, socket_timeout=0.2).publish(CHANNEL, str(record_id))
    except Exception:  # noqa: BLE001 - a missed wake-up only delays delivery to the next poll
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
