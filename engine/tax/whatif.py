"""What-if: would this trade, made now, be (or cause) a wash sale? (IRC §1091)

Two ways a proposed trade runs into §1091:

* it SELLS at a loss while substantially identical securities were bought within the last 30
  days (or are still held from such a purchase): "selling this now at a loss would be a wash
  sale because SPY250307C00510000 was bought 2025-03-05 …";
* it BUYS within 30 days after a loss sale (or sells short within 30 days of closing a short at a
  loss), becoming the replacement: "buying this now would disallow $312.40 of the loss on …".

The check replays the whole book with the proposed trade inserted at ``when`` through the same
walk as the report, so lot choice, partial replacement, IRA accounts and the matching preset are
the report's. A sale that realizes a loss with no replacement yet returns ``None`` (buying back
within 30 days would still wash it: the risk guard asks again when that purchase is proposed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from engine.core.money import ZERO
from engine.tax.config import TaxConfig
from engine.tax.explain import usd
from engine.tax.matching import run_walk
from engine.tax.trades import TaxTrade, make_trade

_REF = "\x00whatif"


@dataclass(slots=True)
class WashSaleWarning:
    """Why a proposed trade would be (or cause) a wash sale. ``message`` is one plain sentence."""

    symbol: str
    account: str
    side: str
    quantity: int
    price: Decimal
    wash_sale_matching: str
    loss: Decimal                 # loss this trade itself would realize (0 for a purchase)
    disallowed: Decimal           # loss that would be disallowed in total
    permanent: bool               # all of it lost for good (replacement in an IRA)
    replacements: list[dict] = field(default_factory=list)
    message: str = ""


def check_trade(trades: Iterable[TaxTrade], config: TaxConfig, *, symbol: str, quantity: int,
                price: object, account: str, side: str, when: datetime, matching: str | None = None,
                lot_method: str | None = None, lots: list[date] | None = None) -> WashSaleWarning | None:
    """The warning for one proposed trade, or ``None`` when §1091 would not apply.

    ``lot_method`` (fifo/lifo/hifo) applies to the whole replay; ``lots`` identifies specifically
    which lots (by purchase day, in order) the proposed sale would close."""
    if config.is_paper(account):
        return None
    hypo = make_trade(datetime_=when, account=account, symbol=symbol, side=side, quantity=quantity,
                      price=price, fees="0", source="whatif", ref=_REF, overrides=config.section_1256)
    # Lots, washes and folded premiums never cross underlyings (both presets group within one), so
    # only this underlying's trades are replayed: a what-if stays fast on a large book.
    same = [t for t in trades if t.security.underlying == hypo.security.underlying]
    result = run_walk([*same, hypo], config, matching=matching, lot_method=lot_method,
                      picks={_REF: list(lots)} if lots else None, keep_ops=True)
    seq = next(op.seq for op in result.ops if op.ref == _REF and op.kind == "trade")
    matching = matching or config.wash_sale_matching
    own = [d for d in result.dispositions if d.seq == seq]
    caused = [(d, w) for d in result.dispositions if d.seq != seq for w in d.washes or () if w.repl_seq == seq]
    own_disallowed = sum((d.disallowed for d in own), ZERO)
    if not own_disallowed and not caused:
        return None
    loss = sum((d.loss for d in own if d.loss > 0), ZERO)
    reps: list[dict] = []
    sentences: list[str] = []
    if own_disallowed:
        links = [w for d in own for w in d.washes or ()]
        reps += [{"symbol": w.repl_symbol, "account": w.repl_account, "date": w.repl_date.isoformat(),
                  "quantity": w.units / w.repl_multiplier, "amount": w.amount, "ira": w.ira} for w in links]
        why = "; ".join(f"{w.repl_symbol} was {'sold short' if w.short else 'bought'} {w.repl_date.isoformat()}"
                        f"{' in IRA account ' + w.repl_account if w.ira else ''}" for w in links)
        fate = "lost for good (IRA replacement, Rev. Rul. 2008-5)" if all(w.ira for w in links) else \
            "added to the replacement's basis"
        action = "selling" if hypo.side.value == "SELL" else "closing"
        sentences.append(f"{action} this now at a loss would be a wash sale because {why} (within 30 days): "
                         f"{usd(own_disallowed)} of the {usd(loss)} loss would be disallowed and {fate}")
    if caused:
        reps += [{"symbol": w.loss_symbol, "account": w.loss_account, "date": w.loss_date.isoformat(),
                  "quantity": w.units / w.repl_multiplier, "amount": w.amount, "ira": w.ira} for _, w in caused]
        what = "; ".join(f"{usd(w.amount)} of the loss on {w.loss_symbol} closed {w.loss_date.isoformat()}"
                         for _, w in caused)
        action = "buying" if hypo.side.value == "BUY" else "selling short"
        fate = " permanently (IRA purchase, Rev. Rul. 2008-5)" if all(w.ira for _, w in caused) else ""
        sentences.append(f"{action} this now would be a wash-sale replacement: it would disallow {what}{fate}")
    total = own_disallowed + sum((w.amount for _, w in caused), ZERO)
    permanent = all(r["ira"] for r in reps)
    return WashSaleWarning(hypo.symbol, hypo.account, hypo.side.value, hypo.quantity, hypo.price, matching,
                           loss, total, permanent, reps, "; ".join(sentences))
