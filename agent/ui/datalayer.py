"""Chainlit threads, steps and elements on Smart-0DTE's own database (a ``BaseDataLayer``).

Why our own layer rather than Chainlit's ``SQLAlchemyDataLayer``: that one needs an async driver
(aiosqlite/asyncpg, not among our dependencies) and its own hand-made schema; this one uses the
common database of :class:`engine.store.db.Database` through the same synchronous SQLAlchemy code
as the rest of the product (SQLite by default, PostgreSQL when ``SMART0DTE_DATABASE_URL`` says so),
with its own ``MetaData`` that creates itself, like :mod:`agent.memory`. Calls run in a worker
thread so the event loop never waits on the database.

History is per user: Chainlit asks :meth:`get_thread_author` before showing, resuming or deleting a
thread and lists only the logged-in user's threads. Deleting a thread also deletes the assistant's
memory of it (``agent_messages`` of that thread). Plot elements keep their JSON here, served back
by the app's ``/smart0dte/element/...`` route to the thread's author only.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from chainlit.data.base import BaseDataLayer
from chainlit.data.utils import queue_until_user_message
from chainlit.types import PageInfo, PaginatedResponse, Pagination, ThreadDict, ThreadFilter
from chainlit.user import PersistedUser, User
from sqlalchemy import Column, Index, MetaData, String, Table, Text, delete, insert, select, update

from agent.memory import ConversationStore

METADATA = MetaData()
USERS = Table("ui_users", METADATA,
              Column("id", String(64), primary_key=True),
              Column("identifier", String(128), nullable=False, unique=True),
              Column("metadata", Text, nullable=False, default="{}"),
              Column("created_at", String(40), nullable=False))
THREADS = Table("ui_threads", METADATA,
                Column("id", String(64), primary_key=True),
                Column("created_at", String(40), nullable=False),
                Column("name", Text, nullable=True),
                Column("user_id", String(64), nullable=True),
                Column("user_identifier", String(128), nullable=True),
                Column("tags", Text, nullable=True),
                Column("metadata", Text, nullable=True),
                Index("ix_ui_threads_user", "user_id", "created_at"))
STEPS = Table("ui_steps", METADATA,
              Column("id", String(64), primary_key=True),
              Column("thread_id", String(64), nullable=False),
              Column("created_at", String(40), nullable=True),
              Column("data", Text, nullable=False),
              Index("ix_ui_steps_thread", "thread_id", "created_at"))
ELEMENTS = Table("ui_elements", METADATA,
                 Column("id", String(64), primary_key=True),
                 Column("thread_id", String(64), nullable=True),
                 Column("data", Text, nullable=False),
                 Column("content", Text, nullable=True),
                 Index("ix_ui_elements_thread", "thread_id"))

ELEMENT_ROUTE = "/smart0dte/element"
_LOCK = threading.Lock()


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Smart0DTEDataLayer(BaseDataLayer):
    """Threads and their steps per user, on ``engine.db``'s common database."""

    def __init__(self, db: Any, memory: ConversationStore | None = None) -> None:
        self.db = db
        self.memory = memory
        self._engine = None
        # Chainlit fires create/update calls as concurrent tasks (a step's update can overtake its
        # create; the thread row is touched by several at once): one writer at a time keeps each
        # check-then-insert atomic in this process.
        self._write = threading.Lock()

    @property
    def engine(self):
        if self._engine is None:
            with _LOCK:  # checkfirst DDL under the engine's cross-process schema lock
                eng = self.db.create_tables(METADATA)
            self._engine = eng
        return self._engine

    async def _run(self, fn, *args):
        def locked():
            with self._write:
                return fn(*args)

        return await asyncio.to_thread(locked)

    # --- users -----------------------------------------------------------------------------------
    def _get_user(self, identifier: str) -> PersistedUser | None:
        with self.engine.connect() as c:
            r = c.execute(select(USERS).where(USERS.c.identifier == identifier)).first()
        if r is None:
            return None
        return PersistedUser(id=r.id, identifier=r.identifier, createdAt=r.created_at,
                             metadata=json.loads(r.metadata or "{}"))

    async def get_user(self, identifier: str) -> PersistedUser | None:
        return await self._run(self._get_user, identifier)

    def _create_user(self, user: User) -> PersistedUser | None:
        existing = self._get_user(user.identifier)
        with self.engine.begin() as c:
            if existing is None:
                c.execute(insert(USERS).values(id=str(uuid.uuid4()), identifier=user.identifier,
                                               metadata=json.dumps(user.metadata or {}), created_at=_now()))
            else:
                c.execute(update(USERS).where(USERS.c.id == existing.id).values(metadata=json.dumps(user.metadata or {})))
        return self._get_user(user.identifier)

    async def create_user(self, user: User) -> PersistedUser | None:
        return await self._run(self._create_user, user)

    # --- feedback (not offered in this UI) ---------------------------------------------------------
    async def delete_feedback(self, feedback_id: str) -> bool:
        return False

    async def upsert_feedback(self, feedback) -> str:
        return feedback.id or ""

    # --- elements --------------------------------------------------------------------------------
    def _create_element(self, element) -> None:
        data = dict(element.to_dict())
        content = element.content if isinstance(element.content, str) else None
        if content is not None:  # served back by our route; session file keys do not outlive the session
            data["url"] = f"{ELEMENT_ROUTE}/{element.thread_id}/{element.id}"
            data["chainlitKey"] = None
        with self.engine.begin() as c:
            c.execute(delete(ELEMENTS).where(ELEMENTS.c.id == element.id))
            c.execute(insert(ELEMENTS).values(id=element.id, thread_id=element.thread_id, data=json.dumps(data),
                                              content=content))

    @queue_until_user_message()
    async def create_element(self, element) -> None:
        await self._run(self._create_element, element)

    def _element(self, thread_id: str, element_id: str) -> tuple[dict, str | None] | None:
        with self.engine.connect() as c:
            r = c.execute(select(ELEMENTS).where(ELEMENTS.c.id == element_id, ELEMENTS.c.thread_id == thread_id)).first()
        return None if r is None else (json.loads(r.data), r.content)

    async def get_element(self, thread_id: str, element_id: str):
        found = await self._run(self._element, thread_id, element_id)
        return None if found is None else found[0]

    async def element_content(self, thread_id: str, element_id: str) -> str | None:
        found = await self._run(self._element, thread_id, element_id)
        return None if found is None else found[1]

    def _delete_element(self, element_id: str, thread_id: str | None) -> None:
        where = [ELEMENTS.c.id == element_id] + ([ELEMENTS.c.thread_id == thread_id] if thread_id else [])
        with self.engine.begin() as c:
            c.execute(delete(ELEMENTS).where(*where))

    @queue_until_user_message()
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        await self._run(self._delete_element, element_id, thread_id)

    # --- steps -----------------------------------------------------------------------------------
    def _upsert_step(self, step: dict) -> None:
        step = dict(step)
        with self.engine.begin() as c:
            old = c.execute(select(STEPS.c.data).where(STEPS.c.id == step["id"])).scalar_one_or_none()
            if old is not None:
                merged = {**json.loads(old), **{k: v for k, v in step.items() if v is not None}}
                c.execute(update(STEPS).where(STEPS.c.id == step["id"]).values(data=json.dumps(merged, default=str)))
            else:
                self._ensure_thread(c, step.get("threadId"))
                c.execute(insert(STEPS).values(id=step["id"], thread_id=step.get("threadId"),
                                               created_at=step.get("createdAt") or _now(),
                                               data=json.dumps(step, default=str)))

    def _ensure_thread(self, c, thread_id: str | None) -> None:
        if thread_id and c.execute(select(THREADS.c.id).where(THREADS.c.id == thread_id)).first() is None:
            c.execute(insert(THREADS).values(id=thread_id, created_at=_now()))

    @queue_until_user_message()
    async def create_step(self, step_dict) -> None:
        await self._run(self._upsert_step, step_dict)

    @queue_until_user_message()
    async def update_step(self, step_dict) -> None:
        await self._run(self._upsert_step, step_dict)

    def _delete_step(self, step_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(delete(STEPS).where(STEPS.c.id == step_id))

    @queue_until_user_message()
    async def delete_step(self, step_id: str) -> None:
        await self._run(self._delete_step, step_id)

    async def get_favorite_steps(self, user_id: str) -> list:
        return []

    # --- threads ---------------------------------------------------------------------------------
    def _author(self, thread_id: str) -> str:
        with self.engine.connect() as c:
            return c.execute(select(THREADS.c.user_identifier).where(THREADS.c.id == thread_id)).scalar_one_or_none() or ""

    async def get_thread_author(self, thread_id: str) -> str:
        return await self._run(self._author, thread_id)

    def _delete_thread(self, thread_id: str) -> None:
        author = self._author(thread_id)
        with self.engine.begin() as c:
            c.execute(delete(STEPS).where(STEPS.c.thread_id == thread_id))
            c.execute(delete(ELEMENTS).where(ELEMENTS.c.thread_id == thread_id))
            c.execute(delete(THREADS).where(THREADS.c.id == thread_id))
        if self.memory is not None and author:
            self.memory.delete_history(author, thread_id)  # the assistant forgets the thread too

    async def delete_thread(self, thread_id: str) -> None:
        await self._run(self._delete_thread, thread_id)

    def _row_dict(self, r, steps: list | None = None, elements: list | None = None) -> ThreadDict:
        return ThreadDict(id=r.id, createdAt=r.created_at, name=r.name, userId=r.user_id,
                          userIdentifier=r.user_identifier, tags=json.loads(r.tags) if r.tags else None,
                          metadata=json.loads(r.metadata) if r.metadata else {}, steps=steps or [],
                          elements=elements or [])

    def _list_threads(self, pagination: Pagination, filters: ThreadFilter) -> PaginatedResponse:
        q = select(THREADS).where(THREADS.c.user_id == filters.userId, THREADS.c.name.is_not(None))
        if filters.search:
            q = q.where(THREADS.c.name.ilike(f"%{filters.search}%"))
        if pagination.cursor:
            with self.engine.connect() as c:
                at = c.execute(select(THREADS.c.created_at).where(THREADS.c.id == pagination.cursor)).scalar_one_or_none()
            if at:
                q = q.where(THREADS.c.created_at < at)
        q = q.order_by(THREADS.c.created_at.desc()).limit(pagination.first + 1)
        with self.engine.connect() as c:
            rows = c.execute(q).all()
        page = [self._row_dict(r) for r in rows[:pagination.first]]
        return PaginatedResponse(pageInfo=PageInfo(hasNextPage=len(rows) > pagination.first,
                                                   startCursor=page[0]["id"] if page else None,
                                                   endCursor=page[-1]["id"] if page else None), data=page)

    async def list_threads(self, pagination: Pagination, filters: ThreadFilter) -> PaginatedResponse:
        return await self._run(self._list_threads, pagination, filters)

    def _get_thread(self, thread_id: str) -> ThreadDict | None:
        with self.engine.connect() as c:
            r = c.execute(select(THREADS).where(THREADS.c.id == thread_id)).first()
            if r is None:
                return None
            steps = [json.loads(s) for s in c.execute(select(STEPS.c.data).where(STEPS.c.thread_id == thread_id)
                                                       .order_by(STEPS.c.created_at)).scalars()]
            elements = [json.loads(e) for e in c.execute(select(ELEMENTS.c.data)
                                                         .where(ELEMENTS.c.thread_id == thread_id)).scalars()]
        return self._row_dict(r, steps, elements)

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        return await self._run(self._get_thread, thread_id)

    def _update_thread(self, thread_id: str, name, user_id, metadata, tags) -> None:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name[:200]
        if user_id is not None:
            values["user_id"] = user_id
            with self.engine.connect() as c:
                values["user_identifier"] = c.execute(select(USERS.c.identifier).where(USERS.c.id == user_id)).scalar_one_or_none()
        if tags is not None:
            values["tags"] = json.dumps(tags)
        with self.engine.begin() as c:
            self._ensure_thread(c, thread_id)
            if metadata is not None:
                old = c.execute(select(THREADS.c.metadata).where(THREADS.c.id == thread_id)).scalar_one_or_none()
                merged = {**(json.loads(old) if old else {}), **metadata}
                values["metadata"] = json.dumps({k: v for k, v in merged.items() if v is not None}, default=str)
            if values:
                c.execute(update(THREADS).where(THREADS.c.id == thread_id).values(**values))

    async def update_thread(self, thread_id: str, name: str | None = None, user_id: str | None = None,
                            metadata: dict | None = None, tags: list[str] | None = None) -> None:
        await self._run(self._update_thread, thread_id, name, user_id, metadata, tags)

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        return None
