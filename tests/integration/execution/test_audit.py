"""The hash-chained audit log on SQLite and PostgreSQL: append, tail, verify, tamper detection."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete, update

from engine.store.audit import AuditHead, AuditRecord

pytestmark = pytest.mark.both_backends


def test_append_tail_and_verify(audit):
    assert audit.verify() == (True, None, "0 records intact")
    for i in range(5):
        audit.append("test.event", actor="person:alice@cli", data={"i": i, "price": Decimal("1.25")})
    rows = audit.tail(3)
    assert [r["data"]["i"] for r in rows] == [2, 3, 4] and rows[0]["data"]["price"] == "1.25"
    assert rows[-1]["prev_hash"] == rows[-2]["hash"] and len(rows[-1]["hash"]) == 64
    assert audit.verify() == (True, None, "5 records intact")


def test_altered_record_is_named(audit, db):
    for i in range(4):
        audit.append("k", actor="a", data={"i": i})
    with db.session(None) as s:
        s.execute(update(AuditRecord).where(AuditRecord.id == 3).values(data={"i": 99}))
    ok, broken, message = audit.verify()
    assert not ok and broken == 3 and "altered" in message


def test_removed_middle_and_last_records_are_caught(audit, db):
    for i in range(4):
        audit.append("k", actor="a", data={"i": i})
    with db.session(None) as s:
        s.execute(delete(AuditRecord).where(AuditRecord.id == 4))
    ok, broken, message = audit.verify()
    assert not ok and broken == 4 and "missing" in message
    with db.session(None) as s:
        s.execute(delete(AuditRecord).where(AuditRecord.id == 2))
    ok, broken, _ = audit.verify()
    assert not ok and broken == 2


def test_rewritten_chain_is_caught_by_links(audit, db):
    for i in range(3):
        audit.append("k", actor="a", data={"i": i})
    with db.session(None) as s:
        s.execute(update(AuditRecord).where(AuditRecord.id == 2).values(prev_hash="f" * 64))
    assert audit.verify()[:2] == (False, 2)


def test_head_row_deleted(audit, db):
    audit.append("k", actor="a", data={})
    with db.session(None) as s:
        s.execute(delete(AuditHead))
    assert audit.verify()[0] is False


@pytest.mark.slow
def test_concurrent_writers_in_separate_processes_never_fork_the_chain(audit, settings, fresh_home):
    from tests.integration.execution.procs import run_together

    audit.append("start", actor="test", data={})  # tables exist before the race
    results = run_together("tests.integration.execution.audit_child", ["40"], 3, fresh_home, settings)
    assert all(code == 0 for code, _, _ in results), [err[-800:] for _, _, err in results]
    assert audit.verify() == (True, None, "121 records intact")
    actors = {r["actor"] for r in audit.tail(121) if r["kind"] == "race"}
    assert len(actors) == 3
