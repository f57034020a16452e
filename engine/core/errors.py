"""Typed errors shared by every part.

Each carries a short machine ``type`` (used in ``{"error": {"type", "message", "field"}}`` JSON), a
message a trader understands, and, where one input is to blame, the ``field`` that is wrong.
Surfaces map them: CLI exit code 2, HTTP 4xx, a polite chat line.
"""

from __future__ import annotations


class Smart0DTEError(Exception):
    """Base of all expected errors. ``str(err)`` is the one-line message."""

    type: str = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, str | None]:
        return {"type": self.type, "message": self.message, "field": self.field}


class InvalidInput(Smart0DTEError):
    """A value given by a person, file or program is malformed or out of range."""

    type = "invalid_input"


class UnknownSymbol(InvalidInput):
    type = "unknown_symbol"


class MalformedSymbol(InvalidInput):
    type = "malformed_symbol"


class NoData(Smart0DTEError):
    """The question is well formed but there is no data to answer it (e.g. an empty date range)."""

    type = "no_data"


class NotFound(Smart0DTEError):
    type = "not_found"


class StaleData(Smart0DTEError):
    type = "stale_data"


class MarketClosed(Smart0DTEError):
    type = "market_closed"


class RiskRejected(Smart0DTEError):
    """The risk guard refused an order; ``checks`` lists every failing check."""

    type = "risk_rejected"

    def __init__(self, message: str, *, checks: list[dict] | None = None) -> None:
        super().__init__(message)
        self.checks = checks or []


class PermissionDenied(Smart0DTEError):
    """The acting principal may not do this (e.g. a model trying to confirm an order)."""

    type = "permission_denied"


class TicketError(Smart0DTEError):
    """A ticket is expired, already used, unknown or someone else's."""

    type = "ticket_error"


class IllegalTransition(Smart0DTEError):
    type = "illegal_transition"


class BrokerError(Smart0DTEError):
    type = "broker_error"


class FeedError(Smart0DTEError):
    type = "feed_error"


class AuthError(Smart0DTEError):
    """Credentials (API key, token) were refused by a remote service."""

    type = "auth_error"
