"""Rows that cannot happen are refused with their row number (acceptance finding)."""

from __future__ import annotations

import pytest

from engine.core.errors import InvalidInput
from engine.tax.config import TaxConfig
from engine.tax.imports import parse_project_csv


def test_trading_an_expired_option_is_refused():
    text = ("datetime,account,symbol,side,quantity,price,fees\n"
            "2025-03-03T10:00:00,live,SPY250303C00500000,BUY,1,1.00,0.65\n"
            "2025-03-05T10:00:00,live,SPY250303C00500000,BUY,1,1.00,0.65\n")
    with pytest.raises(InvalidInput) as err:
        parse_project_csv(text, "t.csv", "digest", TaxConfig())
    assert "row 2" in err.value.message and "expired" in err.value.message
