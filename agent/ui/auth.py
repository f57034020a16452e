"""Who may log in to the web chat: argon2 password hashes from settings, plus the demo account.

``SMART0DTE_USERS`` is JSON ``{"name": "<argon2 hash>"}`` (make a hash with
``python -c 'from argon2 import PasswordHasher; print(PasswordHasher().hash("…"))'``). The demo
account ``demo``/``demo`` exists only in demo mode (``--demo`` or ``SMART0DTE_DEMO_MODE=true``);
without users and outside demo mode the UI refuses to start (:func:`check_users`).
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"

_HASHER = PasswordHasher()


class NoUsers(RuntimeError):
    """Raised when the UI would start with nobody able to log in (or with a default password)."""


@lru_cache(maxsize=1)
def _demo_hash() -> str:
    # Hashed once per process: the demo account goes through the same argon2 check as real users.
    return _HASHER.hash(DEMO_PASSWORD)


def user_table(users: dict[str, str], demo: bool) -> dict[str, str]:
    """Name → argon2 hash of everyone who may log in (the demo account only in demo mode)."""
    table = dict(users)
    if demo and DEMO_USER not in table:
        table[DEMO_USER] = _demo_hash()
    return table


def check_users(users: dict[str, str], demo: bool) -> None:
    """Refuse production settings without users, with a malformed hash, or with the demo password."""
    if demo:
        return
    if not users:
        raise NoUsers("no UI users configured: set SMART0DTE_USERS='{\"name\": \"<argon2 hash>\"}' "
                      "or start the demo with `smart0dte ui --demo`")
    for name, hashed in users.items():
        if not str(hashed).startswith("$argon2"):
            raise NoUsers(f"SMART0DTE_USERS[{name!r}] is not an argon2 hash (plain passwords are refused)")
        if verify(hashed, DEMO_PASSWORD) or verify(hashed, name):
            raise NoUsers(f"SMART0DTE_USERS[{name!r}] uses a default password; choose another outside demo mode")


def verify(hashed: str, password: str) -> bool:
    """True when ``password`` matches the argon2 ``hashed``; a malformed hash never matches."""
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(users: dict[str, str], username: str, password: str) -> str | None:
    """The user name when the password is right, else ``None`` (unknown names cost a hash too)."""
    hashed = users.get(username)
    if hashed is None:
        verify(_demo_hash(), password)  # same work either way: no user-name oracle by timing
        return None
    return username if verify(hashed, password) else None
