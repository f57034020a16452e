"""Typed engine errors → HTTP answers a person or a program understands (never a stack trace)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from engine.core import errors as E

log = logging.getLogger("smart0dte.api")

_STATUS: list[tuple[type[E.Smart0DTEError], int]] = [
    (E.PermissionDenied, 403),
    (E.NotFound, 404),
    (E.NoData, 404),
    (E.TicketError, 409),
    (E.RiskRejected, 409),
    (E.IllegalTransition, 409),
    (E.StaleData, 409),
    (E.MarketClosed, 409),
    (E.InvalidInput, 422),
    (E.BrokerError, 502),
    (E.FeedError, 502),
    (E.AuthError, 502),
]


def status_of(err: E.Smart0DTEError) -> int:
    for cls, code in _STATUS:
        if isinstance(err, cls):
            return code
    return 400


def error_body(type_: str, message: str, field: str | None = None) -> dict:
    body: dict = {"type": type_, "message": message}
    if field:
        body["field"] = field
    return {"error": body}


def install(app: FastAPI) -> None:
    @app.exception_handler(E.Smart0DTEError)
    async def _typed(_req: Request, err: E.Smart0DTEError) -> JSONResponse:
        return JSONResponse(error_body(err.type, err.message, err.field), status_code=status_of(err))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        loc = [str(x) for x in first.get("loc", ()) if x not in ("body", "query", "path")]
        field = ".".join(loc) or None
        msg = first.get("msg", "invalid request")
        return JSONResponse(error_body("invalid_arguments", f"{field}: {msg}" if field else msg, field),
                            status_code=422)

    @app.exception_handler(ValueError)
    async def _value(_req: Request, err: ValueError) -> JSONResponse:
        return JSONResponse(error_body("invalid_input", str(err)), status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, err: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", req.method, req.url.path)
        return JSONResponse(error_body("internal", "internal error; it has been logged"), status_code=500)
