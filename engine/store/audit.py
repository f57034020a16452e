"""The append-only, hash-chained audit log.

Every record carries the SHA-256 of the record before it (``prev_hash``) and its own ``hash``
over ``(id, ts, kind, actor, ledger, data, prev_hash)`` in canonical JSON, so altering, inserting
or deleting any record breaks the chain from that point; deleting the newest records is caught
by the head row (``audit_head``: the last id and hash), which every append updates in the same
transaction.

Appends are serialized across processes by updating the head row first: SQLite then holds its
write lock and PostgreSQL the row lock until commit, so two writers can never fork the chain.

Records: orders staged, confirmed, submitted, every state change, risk decisions, fills, mode
switches, kill-switch changes, settings changes, tool calls. ``data`` must be JSON-able (Decimals
and datetimes are converted to strings).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, bindparam, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.base import CommonBase

GENESIS = "0" * 64


class AuditRecord(CommonBase):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    ledger: Mapped[str | None] = mapped_column(String(8), nullable=True)
    data: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(CommonBase):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


_H = AuditHead.__table__
_TOUCH = update(_H).where(_H.c.id == 1).values(last_id=_H.c.last_id)
_HEAD_INSERT = insert(_H).values(id=1, last_id=0, last_hash=GENESIS)
_HEAD = select(_H.c.last_id, _H.c.last_hash).where(_H.c.id == 1)
_INSERT = insert(AuditRecord.__table__)
_ADVANCE = update(_H).where(_H.c.id == 1).values(last_id=bindparam("i"), last_hash=bindparam("h"))


def plain(obj: Any) -> Any:
    """JSON-able copy: Decimals as strings (exact), datetimes ISO 8601, enums by value."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [plain(v) for v in obj]
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else str(obj)
    return str(obj)


def _ts_text(ts: datetime) -> str:
    """Storage may drop the zone (SQLite): hash the UTC instant at microsecond precision."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(id_: int, ts: datetime, kind: str, actor: str, ledger: str | None, data: dict,
                prev_hash: str) -> str:
    body = json.dumps([id_, _ts_text(ts), kind, actor, ledger, data, prev_hash],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _as_dict(r: AuditRecord) -> dict:
    ts = r.ts if r.ts.tzinfo else r.ts.replace(tzinfo=UTC)
    return {"id": r.id, "ts": ts, "kind": r.kind, "actor": r.actor, "ledger": r.ledger,
            "data": r.data, "prev_hash": r.prev_hash, "hash": r.hash}


class AuditLog:
    """``AuditLog(db).append(kind, actor=..., data=...)``, ``tail(limit)``, ``verify()``."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self._wake = None  # engine.events.Publisher, built on first append when Redis is configured

    def append(self, kind: str, *, actor: str, data: dict | None = None,
               ledger: str | None = None) -> dict:
        """Append one record (its own transaction) and return it as a dict.

        Core statements on one connection, not the ORM: the log is written on every step of every
        order, so its cost is the order path's cost.
        """
        payload = plain(data or {})
        ts = datetime.now(UTC)
        self.db.ensure(None)
        with self.db.engine_for(None).begin() as conn:
            # the UPDATE takes the write lock (SQLite) / row lock (PostgreSQL) before anything is read
            if conn.execute(_TOUCH).rowcount == 0:
                conn.execute(_HEAD_INSERT)
            last_id, last_hash = conn.execute(_HEAD).one()
            new_id = last_id + 1
            h = record_hash(new_id, ts, kind, actor, ledger, payload, last_hash)
            rec = {"id": new_id, "ts": ts, "kind": kind, "actor": actor, "ledger": ledger, "data": payload,
                   "prev_hash": last_hash, "hash": h}
            conn.execute(_INSERT, rec)
            conn.execute(_ADVANCE, {"i": new_id, "h": h})
        self._publish(new_id)
        return rec

    def _publish(self, record_id: int) -> None:
        """Wake followers in other processes (engine.events); without Redis they poll."""
        url = getattr(self.db.settings, "redis_url", None)
        if not url:
            return
        if self._wake is None:
            from engine.events import Publisher

            self._wake = Publisher(url)
        self._wake.publish(record_id)

    def after(self, after_id: int, kinds: tuple[str, ...], limit: int = 200) -> list[dict]:
        """Records newer than ``after_id`` whose kind is in ``kinds`` (a trailing ``*`` matches a
        prefix), oldest first: what push surfaces follow."""
        from sqlalchemy import or_

        exact = [k for k in kinds if not k.endswith("*")]
        match = or_(AuditRecord.kind.in_(exact),
                    *(AuditRecord.kind.startswith(k[:-1]) for k in kinds if k.endswith("*")))
        with self.db.session(None) as s:
            q = select(AuditRecord).where(AuditRecord.id > after_id, match).order_by(AuditRecord.id).limit(limit)
            return [_as_dict(r) for r in s.scalars(q)]

    def tail(self, limit: int = 20, kind: str | None = None) -> list[dict]:
        """The newest ``limit`` records, oldest first."""
        with self.db.session(None) as s:
            q = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(max(1, int(limit)))
            if kind:
                q = q.where(AuditRecord.kind == kind)
            rows = list(s.execute(q).scalars())
        return [_as_dict(r) for r in reversed(rows)]

    def count(self) -> int:
        with self.db.session(None) as s:
            head = s.get(AuditHead, 1)
            return 0 if head is None else head.last_id

    def verify(self, batch: int = 5000) -> tuple[bool, int | None, str]:
        """Walk the chain: ``(True, None, "n records intact")`` or ``(False, id, why)``."""
        prev, expected_id, n = GENESIS, 1, 0
        with self.db.session(None) as s:
            head = s.get(AuditHead, 1)
            last = 0
            while True:
                rows = list(s.execute(select(AuditRecord).where(AuditRecord.id > last)
                                      .order_by(AuditRecord.id).limit(batch)).scalars())
                if not rows:
                    break
                for r in rows:
                    if r.id != expected_id:
                        return False, expected_id, f"record {expected_id} is missing (next is {r.id})"
                    if r.prev_hash != prev:
                        return False, r.id, f"record {r.id} does not link to record {r.id - 1}"
                    if record_hash(r.id, r.ts, r.kind, r.actor, r.ledger, r.data, r.prev_hash) != r.hash:
                        return False, r.id, f"record {r.id} ({r.kind}) was altered: its hash does not match"
                    prev, expected_id, last, n = r.hash, r.id + 1, r.id, n + 1
            head_id = 0 if head is None else head.last_id
            head_hash = GENESIS if head is None else head.last_hash
            if head_id != n or head_hash != prev:
                return False, n + 1, (f"record {n + 1} is missing: the log ends at {n} but "
                                      f"{head_id} records were written")
        return True, None, f"{n} records intact"
