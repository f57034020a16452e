"""People and programs that may use the API and MCP surfaces: bearer tokens, stored hashed.

``smart0dte users add NAME --role trader`` prints a new token once; only its SHA-256 is stored.
A fast hash is right here (unlike passwords): tokens carry 256 bits of randomness, so there is
nothing to brute-force, and lookups stay O(1) per request. ``kind`` separates a person's token
from a service's (a script, an AI client): only a person's token may confirm an order.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, MetaData, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from engine.core.errors import InvalidInput, NotFound
from engine.core.principal import Principal, PrincipalKind, Role
from engine.store.db import Database

TOKEN_PREFIX = "s0d_"
ROLES = tuple(r.value for r in Role)


class _AuthBase(DeclarativeBase):
    metadata = MetaData()


class ApiUser(_AuthBase):
    __tablename__ = "api_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default=PrincipalKind.PERSON.value)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    """Users and their tokens in the common database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.create_tables(_AuthBase.metadata)

    def add(self, name: str, role: str, *, service: bool = False) -> str:
        """Create a user; returns the token, which is shown once and never stored."""
        name = name.strip()
        if not name or len(name) > 64:
            raise InvalidInput("user name must be 1-64 characters", field="name")
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
        if service and role in (Role.LIVE_TRADER.value, Role.ADMIN.value):
            raise InvalidInput("a service token cannot hold the live-trader or admin role", field="role")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.session() as s:
            if s.scalar(select(ApiUser).where(ApiUser.name == name)) is not None:
                raise InvalidInput(f"user {name!r} exists already", field="name")
            s.add(ApiUser(name=name, role=role, token_hash=hash_token(token), created_at=datetime.now(UTC),
                          kind=(PrincipalKind.SERVICE if service else PrincipalKind.PERSON).value))
        return token

    def remove(self, name: str) -> None:
        with self.db.session() as s:
            user = s.scalar(select(ApiUser).where(ApiUser.name == name))
            if user is None:
                raise NotFound(f"no user named {name!r}")
            s.delete(user)

    def list(self) -> list[dict]:
        with self.db.session() as s:
            return [{"name": u.name, "role": u.role, "kind": u.kind, "created_at": u.created_at,
                     "disabled": u.disabled} for u in s.scalars(select(ApiUser).order_by(ApiUser.name))]

    def authenticate(self, token: str | None, surface: str = "api") -> Principal | None:
        """The principal behind a token, or ``None`` (unknown, disabled or malformed)."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = hash_token(token)
        with self.db.session() as s:
            user = s.scalar(select(ApiUser).where(ApiUser.token_hash == digest))
        if user is None or user.disabled or not hmac.compare_digest(user.token_hash, digest):
            return None
        return Principal(user.name, PrincipalKind(user.kind), frozenset({Role(user.role)}), surface)
