from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.core.errors import MalformedSymbol, UnknownSymbol
from engine.core.instruments import (
    Equity,
    ExerciseStyle,
    Index,
    OptionContract,
    Right,
    Settlement,
    SettleTime,
    parse_occ,
    parse_symbol,
)


@pytest.mark.parametrize("text", ["SPY250303C00500000", "SPY   250303C00500000", "O:SPY250303C00500000",
                                  "spy250303c00500000"])
def test_occ_forms_parse_to_one_contract(text):
    c = parse_occ(text)
    assert c == OptionContract("SPY", date(2025, 3, 3), Right.CALL, Decimal(500))
    assert c.occ == "SPY250303C00500000"
    assert c.occ_padded == "SPY   250303C00500000" and len(c.occ_padded) == 21


def test_fractional_strike_round_trips():
    c = parse_occ("SPXW251121P05912500")
    assert c.strike == Decimal("5912.5")
    assert c.occ == "SPXW251121P05912500"
    assert parse_occ(c.occ_padded) == c


def test_contract_terms_come_from_the_root_table():
    spy = parse_occ("SPY251121C00600000")
    assert (spy.spec.style, spy.spec.settlement, spy.spec.settle_time) == (
        ExerciseStyle.AMERICAN, Settlement.PHYSICAL, SettleTime.PM)
    assert not spy.spec.section_1256 and spy.multiplier == 100
    spx = parse_occ("SPX251121C06000000")
    assert (spx.spec.style, spx.spec.settlement, spx.spec.settle_time) == (
        ExerciseStyle.EUROPEAN, Settlement.CASH, SettleTime.AM)
    assert parse_occ("SPXW251121C06000000").spec.settle_time is SettleTime.PM
    vix = parse_occ("VIX251119C00020000")
    assert vix.spec.settle_time is SettleTime.AM and vix.spec.section_1256
    assert vix.underlying == "VIX"


@pytest.mark.parametrize("bad", ["SPY251321C00500000", "SPY250303X00500000", "SPY250303C0050000",
                                 "SPY250303C00000000", "SPY250230C00500000"])
def test_malformed_occ_is_refused(bad):
    with pytest.raises(MalformedSymbol):
        parse_symbol(bad)


def test_symbols_and_aliases():
    assert parse_symbol("spy") == Equity("SPY")
    assert parse_symbol("^VIX") == Index("VIX")
    assert parse_symbol("I:VIX") == Index("VIX")
    with pytest.raises(UnknownSymbol):
        parse_symbol("TSLA")
    assert parse_symbol("TSLA", known_only=False) == Equity("TSLA")
    with pytest.raises(MalformedSymbol):
        parse_symbol("SPY$$")
