"""Fixtures: a loopback TWS with a small 0DTE listing, and the production IB broker talking TCP to
it — alone (``broker``), or built by ``make_ib_broker`` from settings (paper port) with a real
ledger and audit log on SQLite (``db_broker``) or on SQLite and PostgreSQL (``ledger_broker``)."""

from __future__ import annotations

import pytest

from engine.execution.ib import Backoff, IBBroker, make_ib_broker
from engine.settings import load_settings
from engine.store.audit import AuditLog
from engine.store.db import Database
from tests.loopback.tws_server import LoopbackTWS

EXPIRY = "20261120"  # the pinned simulated session (SMART0DTE_SIM_START) is this day: 0DTE
FAST_BACKOFF = Backoff(initial=0.05, factor=2.0, maximum=0.4, jitter=0.1)


def occ(root: str, right: str, strike: int) -> str:
    return f"{root}{EXPIRY[2:]}{right}{strike * 1000:08d}"


@pytest.fixture
async def tws():
    srv = LoopbackTWS(equity=100_000.0)
    quotes = {  # strike: (call bid, call ask, put bid, put ask) around SPY 590
        580: (10.10, 10.20, 0.05, 0.07), 585: (5.30, 5.36, 0.22, 0.25), 590: (1.60, 1.64, 1.45, 1.49),
        595: (0.20, 0.23, 5.05, 5.12), 600: (0.03, 0.05, 9.90, 10.05)}
    for strike, (cb, ca, pb, pa) in quotes.items():
        srv.list_option("SPY", EXPIRY, "C", strike, bid=cb, ask=ca)
        srv.list_option("SPY", EXPIRY, "P", strike, bid=pb, ask=pa)
    srv.list_option("SPXW", EXPIRY, "C", 5900, bid=12.10, ask=12.40)
    srv.list_option("SPXW", EXPIRY, "P", 5900, bid=10.80, ask=11.10)
    srv.list_option("VIX", "20261118", "C", 20, bid=1.05, ask=1.15)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
def db(tws):
    settings = load_settings(ib_port_paper=tws.port)
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_db(request, tws):
    """The ledger on each backend: SQLite files, or PostgreSQL schemas under a unique prefix."""
    extra = {}
    if request.param == "postgres":
        extra = {"database_url": request.getfixturevalue("postgres_url"),
                 "database_schema_prefix": request.getfixturevalue("pg_schema_prefix")}
    database = Database(load_settings(ib_port_paper=tws.port, **extra))
    yield database
    database.drop_schemas()
    database.dispose()


async def _connected(b):
    b.commission_wait = 0.5
    await b.connect()
    return b


@pytest.fixture
async def broker(tws):
    """The adapter alone (no ledger, no audit): what the order paths need, and quick to set up."""
    s = load_settings(ib_port_paper=tws.port, ib_client_id=21)
    b = await _connected(IBBroker(host=s.ib_host, port=s.ib_port_paper, client_id=s.ib_client_id, ledger="paper",
                                  backoff=FAST_BACKOFF))
    yield b
    await b.disconnect()


def _factory_broker(tws, database):
    settings = load_settings(ib_port_paper=tws.port, ib_port_live=1, ib_client_id=21)
    return make_ib_broker(settings, "paper", db=database, audit=AuditLog(database), backoff=FAST_BACKOFF)


@pytest.fixture
async def db_broker(tws, db):
    """As the engine builds it (``make_ib_broker``): reconciling against the SQLite ledger, audited."""
    b = await _connected(_factory_broker(tws, db))
    yield b
    await b.disconnect()


@pytest.fixture
async def ledger_broker(tws, ledger_db):
    """``db_broker`` on each database backend."""
    b = await _connected(_factory_broker(tws, ledger_db))
    yield b
    await b.disconnect()
