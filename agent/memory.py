"""Conversation memory: messages per user and thread, persisted in the common database.

The agent owns its tables (own ``MetaData``, created here on ``Database.engine_for(None)``, so
SQLite and PostgreSQL behave alike). What is stored is what the person said, the answer and the
tool calls' names and arguments — never settings or secrets (answers pass the redactor first).
Retention: messages older than ``chat_retention_days`` are purged on open and by
:meth:`ConversationStore.purge_expired`; :meth:`ConversationStore.delete_history` is the person's
"delete my history".
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)

METADATA = MetaData()

MESSAGES = Table(
    "agent_messages", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), nullable=False),
    Column("thread_id", String(128), nullable=False),
    Column("role", String(16), nullable=False),          # user | assistant
    Column("content", Text, nullable=False),
    Column("tool_calls", Text, nullable=True),           # JSON [{"name", "args"}]
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_agent_messages_thread", "user_id", "thread_id", "id"),
    Index("ix_agent_messages_created", "created_at"),
)
THREADS = Table(
    "agent_threads", METADATA,
    Column("user_id", String(128), primary_key=True),
    Column("thread_id", String(128), primary_key=True),
    Column("context", Text, nullable=False, default="{}"),  # router context: last structure, underlying
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

_LOCK = threading.Lock()
_PURGE_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str
    tool_calls: list[dict]
    created_at: datetime


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


class ConversationStore:
    """Messages and per-thread context of every user, on the common database of ``db``."""

    def __init__(self, db: Any, retention_days: int = 90) -> None:
        self.db = db
        self.retention = timedelta(days=retention_days)
        self._engine = None
        self._purged_at: datetime | None = None

    @property
    def engine(self):
        if self._engine is None:
            with _LOCK:  # checkfirst DDL under the engine's cross-process schema lock
                eng = self.db.create_tables(METADATA)
            self._engine = eng
            self.purge_expired()
        return self._engine

    # --- messages --------------------------------------------------------------------------------
    def append(self, user_id: str, thread_id: str, role: str, content: str,
               tool_calls: list[dict] | None = None, *, now: datetime | None = None) -> None:
        if self._purged_at is None or datetime.now(UTC) - self._purged_at > _PURGE_EVERY:
            self.purge_expired()  # a long-running server keeps honouring the retention period
        with self.engine.begin() as conn:
            conn.execute(insert(MESSAGES).values(
                user_id=user_id, thread_id=thread_id, role=role, content=content,
                tool_calls=json.dumps(tool_calls, default=str) if tool_calls else None,
                created_at=_utc(now or datetime.now(UTC))))

    def history(self, user_id: str, thread_id: str, limit: int = 20) -> list[Message]:
        """The last ``limit`` messages of the thread, oldest first."""
        q = (select(MESSAGES.c.role, MESSAGES.c.content, MESSAGES.c.tool_calls, MESSAGES.c.created_at)
             .where(MESSAGES.c.user_id == user_id, MESSAGES.c.thread_id == thread_id)
             .order_by(MESSAGES.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [Message(r.role, r.content, json.loads(r.tool_calls) if r.tool_calls else [], _utc(r.created_at))
                for r in reversed(rows)]

    def threads(self, user_id: str) -> list[dict]:
        q = (select(MESSAGES.c.thread_id, func.count().label("n"), func.max(MESSAGES.c.created_at).label("last"))
             .where(MESSAGES.c.user_id == user_id).group_by(MESSAGES.c.thread_id).order_by(func.max(MESSAGES.c.id)))
        with self.engine.connect() as conn:
            return [{"thread_id": r.thread_id, "messages": r.n, "last": _utc(r.last)} for r in conn.execute(q)]

    # --- thread context --------------------------------------------------------------------------
    def context(self, user_id: str, thread_id: str) -> dict:
        q = select(THREADS.c.context).where(THREADS.c.user_id == user_id, THREADS.c.thread_id == thread_id)
        with self.engine.connect() as conn:
            raw = conn.execute(q).scalar_one_or_none()
        return json.loads(raw) if raw else {}

    def set_context(self, user_id: str, thread_id: str, context: dict) -> None:
        data, now = json.dumps(context, default=str), datetime.now(UTC)
        with self.engine.begin() as conn:
            done = conn.execute(update(THREADS).where(THREADS.c.user_id == user_id, THREADS.c.thread_id == thread_id)
                                .values(context=data, updated_at=now)).rowcount
            if not done:
                conn.execute(insert(THREADS).values(user_id=user_id, thread_id=thread_id, context=data,
                                                    updated_at=now))

    # --- deletion and retention ------------------------------------------------------------------
    def delete_history(self, user_id: str, thread_id: str | None = None) -> int:
        """Delete the person's messages (one thread or all); returns how many messages went."""
        where_m = [MESSAGES.c.user_id == user_id]
        where_t = [THREADS.c.user_id == user_id]
        if thread_id is not None:
            where_m.append(MESSAGES.c.thread_id == thread_id)
            where_t.append(THREADS.c.thread_id == thread_id)
        with self.engine.begin() as conn:
            n = conn.execute(delete(MESSAGES).where(*where_m)).rowcount
            conn.execute(delete(THREADS).where(*where_t))
        return int(n or 0)

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete messages (and idle thread contexts) older than the retention period."""
        cutoff = _utc(now or datetime.now(UTC)) - self.retention
        self._purged_at = datetime.now(UTC)
        with self.engine.begin() as conn:
            n = conn.execute(delete(MESSAGES).where(MESSAGES.c.created_at < cutoff)).rowcount
            conn.execute(delete(THREADS).where(THREADS.c.updated_at < cutoff))
        return int(n or 0)
