"""Order tickets: the preview a person confirms. ``stage`` writes one; ``claim`` hands it out once.

The ticket id is also the order's ``client_order_id``. A ticket expires ``ticket_ttl_seconds``
(120) after staging by the WALL clock, deliberately not the market clock: the simulated market may
run frozen, faster or slower than real time, while the window is the person's real time to read
and decide. A ticket is refused when unknown, expired, already used (replayed), cancelled,
failed its risk checks, or when it belongs to someone else (foreign); claiming is one atomic
``UPDATE ... WHERE status = 'staged'``, so two confirmations racing in two processes cannot both
succeed.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from engine.core.errors import TicketError
from engine.execution.models import TicketRow


def new_ticket_id() -> str:
    """Short enough to type at a live confirmation prompt, long enough never to collide."""
    return "T" + secrets.token_hex(6).upper()


def wall_iso(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class TicketStore:
    def __init__(self, db: Any, ttl_seconds: float, wall: Any = time.time) -> None:
        self.db, self.ttl, self.wall = db, float(ttl_seconds), wall

    def create(self, ledger: str, *, ticket_id: str, principal: str, owner: str, request: dict, order: dict,
               preview: dict, risk: dict, passed: bool) -> TicketRow:
        now = self.wall()
        row = TicketRow(id=ticket_id, principal=principal, owner=owner, account=ledger, request=request,
                        order=order, preview=preview, risk=risk, created_wall=now, expires_wall=now + self.ttl,
                        status="staged" if passed else "rejected")
        with self.db.session(ledger) as s:
            s.add(row)
        return row

    def get(self, ledger: str, ticket_id: str) -> TicketRow | None:
        with self.db.session(ledger) as s:
            return s.get(TicketRow, ticket_id)

    def _owned(self, ledger: str, ticket_id: str, person: str) -> TicketRow:
        row = self.get(ledger, ticket_id)
        if row is None:
            raise TicketError(f"unknown ticket {ticket_id}")
        if row.owner != person:
            raise TicketError(f"ticket {ticket_id} belongs to someone else")
        return row

    def claim(self, ledger: str, ticket_id: str, *, person: str) -> TicketRow:
        """Mark the ticket confirmed by ``person`` exactly once, or raise :class:`TicketError`."""
        row = self._owned(ledger, ticket_id, person)
        if row.status == "confirmed":
            raise TicketError(f"ticket {ticket_id} was already confirmed (order {row.order_id})")
        if row.status == "cancelled":
            raise TicketError(f"ticket {ticket_id} was cancelled")
        if row.status == "rejected":
            raise TicketError(f"ticket {ticket_id} failed its risk checks; stage a new one")
        if self.wall() > row.expires_wall:
            raise TicketError(f"ticket {ticket_id} expired at {wall_iso(row.expires_wall):%H:%M:%S} UTC; "
                              "stage it again")
        with self.db.session(ledger) as s:
            res = s.execute(update(TicketRow).where(TicketRow.id == ticket_id, TicketRow.status == "staged")
                            .values(status="confirmed", confirmed_by=person, order_id=ticket_id))
            if res.rowcount != 1:
                raise TicketError(f"ticket {ticket_id} was already confirmed")
        row.status, row.confirmed_by, row.order_id = "confirmed", person, ticket_id
        return row

    def set_status(self, ledger: str, ticket_id: str, status: str) -> None:
        with self.db.session(ledger) as s:
            s.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(status=status))

    def cancel(self, ledger: str, ticket_id: str, *, person: str) -> None:
        row = self._owned(ledger, ticket_id, person)
        if row.status != "staged":
            raise TicketError(f"ticket {ticket_id} is {row.status}: nothing to cancel")
        self.set_status(ledger, ticket_id, "cancelled")
