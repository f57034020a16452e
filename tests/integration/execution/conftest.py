"""Fixtures: a scripted market, a real database (SQLite files or PostgreSQL schemas), the service."""

from __future__ import annotations

import pytest

from engine.settings import load_settings
from engine.store.audit import AuditLog
from engine.store.db import Database
from tests.integration.execution.market import ScriptedMarket


def make_settings(home, **kw):
    return load_settings(home=home, **kw)


@pytest.fixture
def market() -> ScriptedMarket:
    return ScriptedMarket()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, fresh_home):
    if request.param == "sqlite":
        return {}
    url = request.getfixturevalue("postgres_url")
    return {"database_url": url, "database_schema_prefix": request.getfixturevalue("pg_schema_prefix")}


@pytest.fixture
def settings(fresh_home, backend):
    return make_settings(fresh_home, **backend)


@pytest.fixture
def db(settings):
    database = Database(settings)
    yield database
    database.drop_schemas()
    database.dispose()


@pytest.fixture
def audit(db) -> AuditLog:
    return AuditLog(db)


@pytest.fixture
async def svc(settings, db, market, audit):
    from engine.execution.service import ExecutionService

    service = ExecutionService(settings, db=db, market=market, audit=audit)
    yield service
    await service.close()
