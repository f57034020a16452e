"""IB-style commissions and regulatory fees from the data table."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.core.errors import InvalidInput
from engine.execution.broker import Side
from engine.execution.config import FillConfig
from engine.execution.fees import FeeLine, FeeSchedule, load_rules


def schedule(**kw) -> FeeSchedule:
    return FeeSchedule.from_config(FillConfig(**kw))


def test_standard_commission_and_pass_through_fees_on_a_spread():
    f = schedule().order_fees([FeeLine(Side.SELL, 10, D("1.20")), FeeLine(Side.BUY, 10, D("0.40"))])
    assert f.commission == D("13.00")                      # 20 contracts x $0.65
    assert f.orf == D("0.46")                              # 20 x 0.02295
    assert f.occ == D("0.40")                              # 20 x 0.02
    assert f.sec == D("0.03")                              # 1,200 of sales x 27.80 per million
    assert f.taf == D("0.03")                              # 10 sold x 0.00279
    assert f.total == f.commission + f.regulatory


def test_per_order_minimum_and_cheap_option_tiers():
    assert schedule().order_fees([FeeLine(Side.BUY, 1, D("2.00"))]).commission == D("1.00")
    assert schedule().order_fees([FeeLine(Side.BUY, 10, D("0.07"))]).commission == D("5.00")   # $0.50 tier
    assert schedule().order_fees([FeeLine(Side.BUY, 10, D("0.03"))]).commission == D("2.50")   # $0.25 tier
    assert schedule(commission_per_contract=D("0.50")).order_fees([FeeLine(Side.BUY, 10, D("2"))]).commission == D("5.00")


def test_sales_only_fees_are_zero_on_buys():
    f = schedule().order_fees([FeeLine(Side.BUY, 100, D("5.00"))])
    assert f.sec == 0 and f.taf == 0 and f.orf > 0


def test_occ_cap_and_stock_leg():
    big = schedule().order_fees([FeeLine(Side.BUY, 5000, D("1.00"))])
    assert big.occ == D("55.00")
    stock = schedule().order_fees([FeeLine(Side.SELL, 100, D("500"), is_option=False, multiplier=1)])
    assert stock.commission == D("1.00") and stock.orf == 0 and stock.sec == D("1.39")


def test_increment_charges_the_minimum_once_per_order():
    s = schedule()
    first = s.increment([], [FeeLine(Side.BUY, 1, D("2.00"))])
    second = s.increment([FeeLine(Side.BUY, 1, D("2.00"))], [FeeLine(Side.BUY, 1, D("2.00"))])
    assert first.commission == D("1.00") and second.commission == D("0.30")  # 2 x 0.65 = 1.30 in total


def test_bad_table_row_is_named(tmp_path):
    p = tmp_path / "fees.csv"
    p.write_text("fee,asset,side,basis,rate,premium_below,min_per_order,max_per_order,note\n"
                 "orf,option,all,contract,abc,,,,\n")
    with pytest.raises(InvalidInput, match="line 2"):
        load_rules(p)
    p.write_text("fee,asset,side,basis,rate,premium_below,min_per_order,max_per_order,note\n"
                 "toll,option,all,contract,1,,,,\n")
    with pytest.raises(InvalidInput, match="unknown"):
        load_rules(p)


def test_custom_table_from_settings(tmp_path):
    p = tmp_path / "fees.csv"
    p.write_text("fee,asset,side,basis,rate,premium_below,min_per_order,max_per_order,note\n"
                 "orf,option,all,contract,0.10,,,,\n")
    f = FeeSchedule.from_config(FillConfig(fee_table=str(p))).order_fees([FeeLine(Side.BUY, 10, D("1"))])
    assert f.orf == D("1.00") and f.occ == 0
