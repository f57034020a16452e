"""Following the audit log: kinds and prefixes filtered, resumable, and woken through Redis."""

from __future__ import annotations

import asyncio
import time

from engine.events import follow
from engine.runtime import Engine
from engine.settings import load_settings


async def _next(gen, timeout: float) -> dict:
    return await asyncio.wait_for(gen.__anext__(), timeout)


async def test_follow_filters_kinds_and_prefixes_and_resumes():
    engine = Engine(load_settings())
    try:
        first = engine.audit.append("tool_call", actor="t", data={})["id"]
        gen = follow(engine, ("order.fill", "monitor.*"), after_id=first, poll_s=0.05)
        engine.audit.append("order.staged", actor="t", data={})
        engine.audit.append("monitor.stop_loss", actor="t", data={"n": 1})
        engine.audit.append("order.fill", actor="t", data={"n": 2})
        kinds = [(await _next(gen, 10))["kind"] for _ in range(2)]
        assert kinds == ["monitor.stop_loss", "order.fill"]
        await gen.aclose()
    finally:
        engine.db.dispose()


async def test_redis_wakes_a_follower_in_another_engine(redis_url):
    writer, reader = Engine(load_settings(redis_url=redis_url)), Engine(load_settings(redis_url=redis_url))
    try:
        # a poll interval long enough that only the Redis wake-up can deliver in time
        gen = follow(reader, ("kill_switch",), poll_s=30)
        task = asyncio.create_task(_next(gen, 20))
        await asyncio.sleep(1.0)  # the follower is waiting (subscribed) by now
        t0 = time.monotonic()
        await asyncio.to_thread(writer.audit.append, "kill_switch", actor="t", data={"state": "halted"})
        record = await task
        assert record["kind"] == "kill_switch" and record["data"]["state"] == "halted"
        assert time.monotonic() - t0 < 10
        await gen.aclose()
    finally:
        writer.db.dispose()
        reader.db.dispose()
