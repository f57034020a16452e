"""``wash_sale_check``: the tax engine's what-if through the registry, on imported live trades."""

from __future__ import annotations

import pytest

from tools.registry import ToolInputError

# bought 2026-11-02 at 2.00, sold 2026-11-10 at 1.00: a $100 loss (plus fees) inside the window
TRADES = """datetime,account,symbol,side,quantity,price,fees
2026-11-02T10:00:00,live,SPY261218C00650000,BUY,1,2.00,0.65
2026-11-10T10:00:00,live,SPY261218C00650000,SELL,1,1.00,0.65
"""


async def test_rebuy_within_30_days_is_a_wash_sale(engine, registry, person_ctx, tmp_path):
    csv = tmp_path / "trades.csv"
    csv.write_text(TRADES)
    await engine.tax.import_file(csv)
    out = await registry.call("wash_sale_check", {"symbol": "SPY261218C00650000", "quantity": 1, "price": 1.10,
                                                  "side": "buy"}, person_ctx)
    assert out.wash_sale is True
    assert out.disallowed == pytest.approx(101.30)
    assert "SPY261218C00650000" in out.message
    clean = await registry.call("wash_sale_check", {"symbol": "SPY261218P00600000", "quantity": 1, "price": 1.0,
                                                    "side": "buy"}, person_ctx)
    assert clean.wash_sale is False and clean.disallowed is None


async def test_paper_is_never_a_tax_account(registry, person_ctx):
    with pytest.raises(ToolInputError) as err:
        await registry.call("wash_sale_check", {"symbol": "SPY", "price": 600, "account": "paper"}, person_ctx)
    assert err.value.field == "account"
