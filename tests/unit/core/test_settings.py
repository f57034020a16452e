from __future__ import annotations

import pytest

from engine.settings import SettingsError, load_settings


def test_defaults_are_embedded_and_paper(fresh_home):
    s = load_settings()
    assert s.home == fresh_home
    assert s.feed == "sim"
    assert s.live_trading == "disarmed"
    assert s.database_url is None and s.redis_url is None
    assert s.sim_start is not None and s.sim_start.utcoffset() is not None


def test_invalid_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("SMART0DTE_FEED", "bloomberg")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "SMART0DTE_FEED" in str(err.value)
    assert "\n" not in str(err.value)


def test_naive_sim_start_is_refused(monkeypatch):
    monkeypatch.setenv("SMART0DTE_SIM_START", "2026-11-20T10:30:00")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "SMART0DTE_SIM_START" in str(err.value)


def test_secrets_are_masked(monkeypatch):
    monkeypatch.setenv("SMART0DTE_POLYGON_API_KEY", "pk_live_supersecret")
    monkeypatch.setenv("SMART0DTE_OPENAI_API_KEY", "sk-supersecret")
    s = load_settings()
    assert "supersecret" not in repr(s)
    assert "supersecret" not in str(s.model_dump(mode="json"))
    assert s.polygon_api_key.get_secret_value() == "pk_live_supersecret"


def test_polygon_feed_needs_a_key(monkeypatch):
    monkeypatch.setenv("SMART0DTE_FEED", "polygon")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "POLYGON_API_KEY" in str(err.value)
