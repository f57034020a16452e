"""The Chainlit app's own pieces in-process: login callback, the banner's mode route, plot access."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_module(monkeypatch, fresh_home):
    monkeypatch.setenv("SMART0DTE_DEMO_MODE", "true")
    from engine.settings import reset_settings_cache

    reset_settings_cache()
    import agent.ui.app as app

    app._engine, app._layer = None, None  # built again for this test's home
    yield app
    app._engine, app._layer = None, None


def test_password_login_uses_argon2_users_and_the_demo_account(app_module):
    user = app_module.password_login("demo", "demo")
    assert user.identifier == "demo" and user.metadata["kind"] == "person"
    assert app_module.password_login("demo", "wrong") is None
    assert app_module.password_login("root", "demo") is None


def test_mode_route_answers_before_the_spa_catch_all(app_module):
    from chainlit.server import app
    from fastapi.testclient import TestClient

    client = TestClient(app)
    r = client.get("/smart0dte/mode")
    assert r.status_code == 200 and r.json() == {"mode": "PAPER"}
    plot = client.get("/smart0dte/element/some-thread/some-element")  # no session cookie
    assert plot.status_code in (401, 404) and "plotly" not in plot.text


def test_starters_cover_the_typical_asks(app_module):
    labels = [label for label, _, _ in app_module.STARTERS]
    assert labels == ["SPY 0DTE chain", "Paper iron condor", "Backtest", "Portfolio this week", "Wash sales this year"]
