"""The person's side of a staged order in the web chat, and the book's scenario grid.

:class:`TicketDesk` remembers the pending items of one chat session (by a random key that travels
in the Confirm/Cancel buttons' payload — never the ticket itself, so a forged payload cannot
name someone else's ticket) and carries out the person's click exactly once. The engine is still
the judge: it refuses an expired ticket (``settings.ticket_ttl_seconds``), a reused one, or a
non-person; those refusals come back as one clear line.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.confirm import confirm_pending, decline_pending
from agent.ui import render
from engine.core.errors import Smart0DTEError
from engine.core.principal import Principal


@dataclass
class Outcome:
    """What a click did: ``ok`` and a Markdown message for the chat."""

    ok: bool
    markdown: str
    result: dict = field(default_factory=dict)


class TicketDesk:
    """Pending confirmations of one chat session; each can be decided once."""

    def __init__(self) -> None:
        self._pending: dict[str, dict] = {}

    def add(self, pending: dict) -> str:
        key = secrets.token_urlsafe(12)
        self._pending[key] = pending
        return key

    def __contains__(self, key: str) -> bool:
        return key in self._pending

    def get(self, key: str) -> dict | None:
        """The pending item behind ``key`` (still undecided), or ``None``."""
        return self._pending.get(key)

    async def confirm(self, key: str, engine: Any, person: Principal, ledger: str = "paper") -> Outcome:
        pending = self._pending.pop(key, None)
        if pending is None:
            return Outcome(False, "This button was already used or belongs to another session; nothing was sent.")
        try:
            done = await confirm_pending(engine, pending, person, ledger)
        except Smart0DTEError as err:
            return Outcome(False, f"**Not sent:** {err.message}")
        if pending.get("kind") != "order":
            return Outcome(True, f"**Done:** {pending.get('kind')}\n\n" + render.generic(done), done)
        return Outcome(True, fill_markdown(done), done)

    async def cancel(self, key: str, engine: Any, person: Principal) -> Outcome:
        pending = self._pending.pop(key, None)
        if pending is None:
            return Outcome(False, "This button was already used or belongs to another session.")
        try:
            await decline_pending(engine, pending, person)
        except Smart0DTEError as err:  # e.g. already expired: still nothing was placed
            return Outcome(True, f"Cancelled; nothing was sent ({err.message}).")
        what = f"ticket `{pending['ticket_id']}`" if pending.get("ticket_id") else str(pending.get("kind"))
        return Outcome(True, f"**Cancelled** {what}; nothing was sent.")


def fill_markdown(done: dict) -> str:
    """The broker's answer to a confirmed order: status, then every leg of every fill (times in ET)."""
    status = str(done.get("status") or "").lower()
    lines = [f"**Order `{done.get('order_id')}` {status.upper()}** in the {done.get('account', 'paper')} "
             f"account — filled {done.get('filled_quantity', 0)}, average net price "
             f"{render.cell(_num(done.get('avg_fill_price')))}" + (f" ({done['reason']})" if done.get("reason") else "")]
    rows, costs = [], 0.0
    for f in done.get("fills") or []:
        costs += float(_num(f.get("commission")) or 0) + float(_num(f.get("fees")) or 0)
        for leg in f.get("legs") or []:
            rows.append([_et(f.get("ts")), leg.get("symbol"), leg.get("side"), leg.get("quantity"), _num(leg.get("price"))])
    if rows:
        lines += ["", render.table(["Time (ET)", "Contract", "Side", "Qty", "Price"], rows, "lllrr"),
                  "", f"Commissions and fees: {render.dollars(costs)}"]
    return "\n".join(lines)


def _num(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _et(ts: Any) -> str:
    from engine.core.clock import NY

    try:
        return datetime.fromisoformat(str(ts).replace("Z", "+00:00")).astimezone(NY).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(ts or "")[:19]


def seconds_left(pending: dict, now: datetime) -> float | None:
    """Seconds until the ticket expires (negative once it has), ``None`` when unknown."""
    raw = pending.get("expires_at")
    if not raw:
        return None
    try:
        expires = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (expires - now).total_seconds()


async def book_scenario(engine: Any, ledger: str = "paper") -> dict | None:
    """Full-revaluation P&L grid of the open book (spot ±3 %, IV ±5 points), or ``None`` when flat."""
    from engine.core.instruments import OptionContract, parse_symbol
    from engine.options.portfolio import scenario_grid

    positions = [p for p in await engine.positions(ledger) if float(_get(p, "quantity") or 0) != 0]
    if not positions:
        return None
    wanted = set()
    for p in positions:
        inst = parse_symbol(str(_get(p, "symbol")), known_only=False)
        if isinstance(inst, OptionContract):
            wanted.add((inst.underlying, inst.expiry))
    chains = [await engine.chain(u, e) for u, e in sorted(wanted)]
    book = [{"symbol": _get(p, "symbol"), "quantity": int(float(_get(p, "quantity")))} for p in positions]
    return scenario_grid(book, chains).to_dict()


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
