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


def pytest_configure(config):
    config.addinivalue_line("markers", "both_backends: run on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc):
    """Tests marked ``both_backends`` run on SQLite and PostgreSQL; the rest on SQLite."""
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_backends") is not None
        params = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)] if both else ["sqlite"]
        metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture
def backend(request, fresh_home):
    if getattr(request, "param", "sqlite") == "sqlite":
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
