"""A live order's preview carries the tax engine's wash-sale what-if as a warning (never a block)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from engine.core.instruments import parse_occ
from engine.execution.broker import Side
from engine.execution.structures import ResolvedLeg
from engine.runtime import Engine
from engine.settings import load_settings

TRADES = """datetime,account,symbol,side,quantity,price,fees
2026-11-02T10:00:00,live,SPY261218C00650000,BUY,1,2.00,0.65
2026-11-10T10:00:00,live,SPY261218C00650000,SELL,1,1.00,0.65
"""


async def test_rebuying_a_loss_within_30_days_warns(tmp_path):
    engine = Engine(load_settings())
    try:
        csv = tmp_path / "t.csv"
        csv.write_text(TRADES)
        await engine.tax.import_file(csv)
        symbol = "SPY261218C00650000"
        priced = SimpleNamespace(quantity=1, leg_prices=(Decimal("1.10"), Decimal("0.40")), legs=(
            ResolvedLeg(symbol, Side.BUY, 1, parse_occ(symbol)),
            ResolvedLeg("SPY261218C00660000", Side.SELL, 1, parse_occ("SPY261218C00660000"))))
        warnings = await engine.execution._wash_sale_warnings(priced)
        assert len(warnings) == 1 and symbol in warnings[0] and "wash" in warnings[0].lower()
    finally:
        await engine.close()
