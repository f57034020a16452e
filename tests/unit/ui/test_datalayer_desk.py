"""Threads per user on our database, and the Confirm/Cancel desk against the real engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.memory import ConversationStore
from engine.core.errors import Smart0DTEError
from engine.core.principal import Principal
from engine.runtime import Engine
from engine.settings import get_settings
from tools.catalog import load as load_tools
from tools.registry import ToolContext


@pytest.fixture
async def engine():
    e = Engine(get_settings())
    yield e
    await e.close()


async def test_threads_are_per_user_and_delete_forgets_the_conversation(engine):
    from chainlit.context import init_http_context
    from chainlit.types import Pagination, ThreadFilter
    from chainlit.user import User

    from agent.ui.datalayer import Smart0DTEDataLayer

    init_http_context()  # not a websocket session: the layer writes at once instead of queueing
    memory = ConversationStore(engine.db)
    layer = Smart0DTEDataLayer(engine.db, memory)
    alice = await layer.create_user(User(identifier="alice"))
    bob = await layer.create_user(User(identifier="bob"))
    assert (await layer.get_user("alice")).id == alice.id != bob.id
    await layer.update_thread("t1", name="SPY chain", user_id=alice.id)
    await layer.update_thread("t2", name="bob's", user_id=bob.id)
    await layer.create_step({"id": "s1", "threadId": "t1", "type": "tool", "name": "chain", "output": "table",
                             "createdAt": "2026-11-20T15:30:00Z"})
    await layer.update_step({"id": "s1", "threadId": "t1", "output": "table v2", "isError": False})
    memory.append("alice", "t1", "user", "SPY chain")

    page = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=alice.id))
    assert [t["id"] for t in page.data] == ["t1"]
    thread = await layer.get_thread("t1")
    assert thread["userIdentifier"] == "alice"
    assert [(s["name"], s["output"]) for s in thread["steps"]] == [("chain", "table v2")]
    assert await layer.get_thread_author("t1") == "alice" and await layer.get_thread_author("t2") == "bob"

    await layer.delete_thread("t1")
    assert await layer.get_thread("t1") is None
    assert memory.history("alice", "t1") == []  # the assistant forgot it too
    assert (await layer.get_thread("t2"))["name"] == "bob's"


async def _stage(engine, person) -> dict:
    out = await load_tools().call("place_paper_order", {"underlying": "SPY", "structure": "iron_condor", "side": "sell",
                                                        "short_delta": 0.2, "wing_width": 5, "order_type": "market"},
                                  ToolContext(engine, Principal.agent_for(person), "paper"))
    out = out.model_dump(mode="json")
    return {"kind": "order", "ticket_id": out["ticket_id"], "expires_at": out["expires_at"], "ledger": "paper",
            "preview": out["preview"], "risk": out["risk"]}


async def test_desk_confirms_once_with_the_person(engine):
    from agent.ui.orders import TicketDesk, seconds_left

    person = Principal.person("demo", "web")
    desk = TicketDesk()
    pending = await _stage(engine, person)
    left = seconds_left(pending, datetime.now(UTC))
    assert 0 < left <= engine.settings.ticket_ttl_seconds
    key = desk.add(pending)
    done = await desk.confirm(key, engine, person)
    assert done.ok and "FILLED" in done.markdown and "SPY261120P00646000" in done.markdown
    again = await desk.confirm(key, engine, person)  # a replayed click
    assert not again.ok and "already used" in again.markdown
    assert len([o for o in (await engine.orders("paper")) if _get(o, "order_id") == pending["ticket_id"]]) == 1


async def test_desk_cancel_places_nothing_and_forged_keys_do_nothing(engine):
    from agent.ui.orders import TicketDesk

    person = Principal.person("demo", "web")
    desk = TicketDesk()
    pending = await _stage(engine, person)
    key = desk.add(pending)
    assert not (await desk.confirm("forged", engine, person)).ok
    out = await desk.cancel(key, engine, person)
    assert out.ok and pending["ticket_id"] in out.markdown
    assert not [o for o in await engine.orders("paper") if _get(o, "order_id") == pending["ticket_id"]]
    with pytest.raises(Smart0DTEError):  # the engine itself refuses the cancelled ticket
        await engine.confirm(pending["ticket_id"], person)


def _get(o, name):
    return o.get(name) if isinstance(o, dict) else getattr(o, name, None)


async def test_concurrent_writes_to_one_thread_all_land(engine):
    """Chainlit fires these as concurrent tasks; an update may overtake its create."""
    import asyncio

    from chainlit.context import init_http_context
    from chainlit.types import Pagination, ThreadFilter
    from chainlit.user import User

    from agent.ui.datalayer import Smart0DTEDataLayer

    init_http_context()
    layer = Smart0DTEDataLayer(engine.db)
    user = await layer.create_user(User(identifier="demo"))
    calls = []
    for i in range(8):
        calls += [layer.update_step({"id": f"s{i}", "threadId": "t", "output": f"done {i}"}),
                  layer.create_step({"id": f"s{i}", "threadId": "t", "name": "chain", "createdAt": f"2026-11-20T15:3{i}:00Z"}),
                  layer.update_thread("t", user_id=user.id)]
    calls.append(layer.update_thread("t", name="SPY chain", user_id=user.id))
    await asyncio.gather(*calls)
    thread = await layer.get_thread("t")
    assert thread["name"] == "SPY chain" and thread["userIdentifier"] == "demo"
    assert sorted((s["id"], s["output"]) for s in thread["steps"]) == [(f"s{i}", f"done {i}") for i in range(8)]
    page = await layer.list_threads(Pagination(first=5), ThreadFilter(userId=user.id))
    assert [t["id"] for t in page.data] == ["t"]
