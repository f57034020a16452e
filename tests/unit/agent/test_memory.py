"""Conversation memory on the common database: per user and thread, retention, delete my history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.memory import ConversationStore
from engine.settings import load_settings
from engine.store.db import Database


def _store(**kw) -> tuple[ConversationStore, Database]:
    db = Database(load_settings(**kw))
    return ConversationStore(db, retention_days=30), db


def _exercise(store: ConversationStore) -> None:
    store.append("alice", "t1", "user", "quote spy")
    store.append("alice", "t1", "assistant", "SPY 650", [{"name": "quote", "args": {"symbol": "SPY"}}])
    store.append("alice", "t2", "user", "hello")
    store.append("bob", "t1", "user", "bob's own words")
    h = store.history("alice", "t1")
    assert [(m.role, m.content) for m in h] == [("user", "quote spy"), ("assistant", "SPY 650")]
    assert h[1].tool_calls == [{"name": "quote", "args": {"symbol": "SPY"}}] and h[0].created_at.tzinfo
    assert [m.content for m in store.history("bob", "t1")] == ["bob's own words"]  # users never mix
    assert [t["thread_id"] for t in store.threads("alice")] == ["t1", "t2"]
    store.set_context("alice", "t1", {"underlying": "QQQ"})
    store.set_context("alice", "t1", {"underlying": "IWM"})
    assert store.context("alice", "t1") == {"underlying": "IWM"} and store.context("alice", "zz") == {}
    assert store.delete_history("alice", "t1") == 2
    assert store.history("alice", "t1") == [] and store.context("alice", "t1") == {}
    assert len(store.history("alice", "t2")) == 1
    assert store.delete_history("alice") == 1 and store.history("bob", "t1")


def test_memory_on_sqlite():
    store, db = _store()
    _exercise(store)
    db.dispose()


def test_history_survives_a_new_process_object():
    store, db = _store()
    store.append("alice", "t", "user", "kept")
    db.dispose()
    store2, db2 = _store()
    assert [m.content for m in store2.history("alice", "t")] == ["kept"]
    db2.dispose()


def test_retention_purges_old_messages():
    store, db = _store()
    old = datetime.now(UTC) - timedelta(days=31)
    store.append("alice", "t", "user", "ancient", now=old)
    store.append("alice", "t", "user", "recent")
    assert store.purge_expired() == 1
    assert [m.content for m in store.history("alice", "t")] == ["recent"]
    db.dispose()


def test_history_limit_keeps_the_latest_in_order():
    store, db = _store()
    for i in range(30):
        store.append("alice", "t", "user", f"m{i}")
    assert [m.content for m in store.history("alice", "t", limit=3)] == ["m27", "m28", "m29"]
    db.dispose()


@pytest.mark.postgres
def test_memory_on_postgres(postgres_url, pg_schema_prefix, monkeypatch):
    monkeypatch.setenv("SMART0DTE_DATABASE_SCHEMA_PREFIX", pg_schema_prefix)
    store, db = _store(database_url=postgres_url)
    try:
        _exercise(store)
    finally:
        db.drop_schemas()
        db.dispose()
