from datetime import date, datetime

import pytest

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.market.hours import TradingHours


def ny(*a):
    return datetime(*a, tzinfo=NY)


def test_broad_etf_options_close_at_1615_unless_expiring():
    h = TradingHours()
    day = date(2026, 11, 20)
    assert h.option_hours("SPY", day, date(2026, 11, 23)) == (ny(2026, 11, 20, 9, 30), ny(2026, 11, 20, 16, 15))
    assert h.option_hours("SPY", day, day) == (ny(2026, 11, 20, 9, 30), ny(2026, 11, 20, 16, 0))
    assert h.option_trading("QQQ", date(2026, 11, 23), ny(2026, 11, 20, 16, 10))
    assert not h.option_trading("QQQ", day, ny(2026, 11, 20, 16, 10))
    assert h.option_hours("IWM", day, date(2026, 11, 19)) is None  # already expired
    assert h.underlying_hours("SPY", day) == (ny(2026, 11, 20, 9, 30), ny(2026, 11, 20, 16, 0))


def test_early_close_moves_option_hours():
    h = TradingHours()
    day = date(2026, 11, 27)  # 13:00 close
    assert h.option_hours("SPY", day, day)[1] == ny(2026, 11, 27, 13, 0)
    assert h.option_hours("SPY", day, date(2026, 11, 30))[1] == ny(2026, 11, 27, 13, 15)
    assert h.underlying_hours("VIX", day)[1] == ny(2026, 11, 27, 13, 15)


def test_vix_stops_trading_the_session_before_its_wednesday_expiry():
    h = TradingHours()
    wed = date(2026, 11, 25)
    assert h.option_hours("VIX", wed, wed) is None
    assert h.option_hours("VIX", date(2026, 11, 24), wed)[1] == ny(2026, 11, 24, 16, 15)


def test_overrides_from_settings_and_bad_override():
    h = TradingHours({"SPY": {"option_close": "16:00"}, "TSLA": {"close": "16:00"}})
    assert h.option_hours("SPY", date(2026, 11, 20), date(2026, 11, 23))[1] == ny(2026, 11, 20, 16, 0)
    assert h.hours("TSLA").option_close.hour == 16
    with pytest.raises(InvalidInput, match="SPY"):
        TradingHours({"SPY": {"option_close": "4pm"}})
    with pytest.raises(InvalidInput, match="unknown column.*optoin_close"):
        TradingHours({"SPY": {"optoin_close": "16:00"}})


def test_settings_field_reaches_the_service(monkeypatch):
    from engine.market.service import MarketService
    from engine.settings import load_settings

    monkeypatch.setenv("SMART0DTE_PRODUCT_HOURS", '{"QQQ": {"option_close": "16:05"}}')
    svc = MarketService(load_settings())
    assert svc.hours.hours("QQQ").option_close.minute == 5
