"""Who is acting. The engine refuses human-only actions (confirming an order, switching mode,
changing limits, the kill switch) unless the principal is a person.

Surfaces build principals: the chat UI, bots and the CLI for the person behind them; the agent
gets an ``AGENT`` principal acting *for* that person, so anything the model asks for is marked as
the model's and can stage but never confirm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PrincipalKind(StrEnum):
    PERSON = "person"
    AGENT = "agent"      # a language model or router acting for a person
    SERVICE = "service"  # a program with a service token, or the engine's own signal loop


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    LIVE_TRADER = "live-trader"
    ADMIN = "admin"


ROLE_ORDER = (Role.VIEWER, Role.TRADER, Role.LIVE_TRADER, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class Principal:
    id: str
    kind: PrincipalKind
    roles: frozenset[Role] = field(default_factory=frozenset)
    surface: str = "cli"
    on_behalf_of: str | None = None

    @property
    def is_person(self) -> bool:
        return self.kind is PrincipalKind.PERSON

    def has(self, role: Role) -> bool:
        """Roles are cumulative: admin ⊇ live-trader ⊇ trader ⊇ viewer."""
        if not self.roles:
            return False
        top = max(ROLE_ORDER.index(r) for r in self.roles)
        return ROLE_ORDER.index(role) <= top

    @property
    def label(self) -> str:
        tail = f" for {self.on_behalf_of}" if self.on_behalf_of else ""
        return f"{self.kind.value}:{self.id}@{self.surface}{tail}"

    @classmethod
    def person(cls, id: str, surface: str, roles: frozenset[Role] | None = None) -> Principal:
        return cls(id, PrincipalKind.PERSON, roles if roles is not None else frozenset({Role.ADMIN}), surface)

    @classmethod
    def agent_for(cls, person: Principal) -> Principal:
        """The model acting for ``person``: same roles for reading and staging, never a person."""
        return cls(person.id, PrincipalKind.AGENT, person.roles, person.surface, person.id)

    @classmethod
    def engine(cls) -> Principal:
        return cls("engine", PrincipalKind.SERVICE, frozenset({Role.TRADER}), "engine")
