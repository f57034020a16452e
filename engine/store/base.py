"""Declarative bases and the paper/live ledger mechanism.

Two kinds of tables:

* ``CommonBase`` — shared by both ledgers: audit log, users, conversations, settings changes.
* ``LedgerBase`` — one copy per ledger (orders, fills, positions, cash, tax lots). Their tables
  are declared in the placeholder schema ``ledger``; the session of a ledger maps it with
  SQLAlchemy's ``schema_translate_map``: to a separate SQLite file (``paper.db`` / ``live.db``,
  attached as schema-less) or to a separate PostgreSQL schema (``paper`` / ``live``). Paper and
  live therefore can never share a row.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

LEDGER_SCHEMA = "ledger"

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Ledger(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class CommonBase(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


class LedgerBase(DeclarativeBase):
    metadata = MetaData(schema=LEDGER_SCHEMA, naming_convention=_NAMING)
