"""Shared plumbing of the ``smart0dte`` command line: output, errors, the engine, asyncio.

Contract: read commands take ``--json``; errors exit 2 with one line on stderr naming the problem,
or, with ``--json``, ``{"error": {"type", "message"[, "field"]}}`` on stdout. Heavy libraries are
imported inside commands, never at module import, so every call starts fast.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer

from engine.core.errors import Smart0DTEError

T = TypeVar("T")

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table")


def to_jsonable(obj: Any) -> Any:
    """Decimals and numpy scalars become JSON numbers; datetimes ISO 8601 with offset."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return None if obj != obj else obj  # NaN -> null
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "model_dump"):
        return to_jsonable(obj.model_dump(mode="json"))
    if hasattr(obj, "item"):  # numpy scalar
        return to_jsonable(obj.item())
    if hasattr(obj, "tolist"):
        return to_jsonable(obj.tolist())
    if hasattr(obj, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(obj, k)) for k in obj.__dataclass_fields__}
    return str(obj)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(data), separators=(",", ":"), allow_nan=False) + "\n")


def fail(err: Exception | str, as_json: bool, *, code: int = 2, type_: str = "error") -> NoReturn:
    if isinstance(err, Smart0DTEError):
        payload = {"type": err.type, "message": err.message}
        if err.field:
            payload["field"] = err.field
    else:
        payload = {"type": type_, "message": str(err)}
    if as_json:
        print_json({"error": payload})
    else:
        sys.stderr.write(f"error: {payload['message']}\n")
    raise typer.Exit(code)


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def get_engine():
    """A fresh engine from settings; invalid settings end the command with one clear line."""
    from engine.runtime import Engine
    from engine.settings import SettingsError, get_settings

    try:
        return Engine(get_settings())
    except SettingsError as err:
        sys.stderr.write(f"error: {err}\n")
        raise typer.Exit(2) from None


def guarded(as_json_param: str = "as_json") -> Callable:
    """Decorator: expected errors (``Smart0DTEError``, ``ValueError``) exit 2 the contract's way."""

    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            as_json = bool(kwargs.get(as_json_param, False))
            try:
                return fn(*args, **kwargs)
            except typer.Exit:
                raise
            except Smart0DTEError as err:
                fail(err, as_json)
            except ValueError as err:
                fail(err, as_json, type_="invalid_input")

        return wrapper

    return deco


async def with_engine(fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``fn(engine)`` and close the engine afterwards."""
    engine = get_engine()
    try:
        return await fn(engine)
    finally:
        await engine.close()
