"""``ExecutionService``: the engine's one door to orders (stage → confirm), ledgers, the kill switch
and the trading mode. Every order from every source goes through :meth:`_guard`.

* ``stage(request, principal)`` needs no person: it resolves and prices the legs, runs the risk
  guard and stores a :class:`Ticket` (120 s, wall clock — see :mod:`engine.execution.tickets`).
* ``confirm(ticket_id, principal)`` needs a PERSON principal; live tickets also need
  ``SMART0DTE_LIVE_TRADING=armed``, a configured live broker, the live mode switched on by a person
  and the live-trader role. Quotes are fetched again and the guard runs again before sending.
* Paper and live are separate ledgers, with separate brokers and order managers; both can run at
  once. On first use of a ledger in a process the order manager reconciles with its broker.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.core.clock import NY
from engine.core.errors import InvalidInput, PermissionDenied, RiskRejected, TicketError
from engine.core.instruments import looks_like_option, parse_occ
from engine.core.principal import Principal, Role
from engine.execution.account import LedgerView, kill_state, wall_now, write_kill_state
from engine.execution.broker import BrokerOrder, OrderType, TimeInForce
from engine.execution.fees import FeeSchedule
from engine.execution.fill_model import FillModel
from engine.execution.pricing import Priced, preview_dict, price_order, risk_order, signed_limit
from engine.execution.risk import KILL_STATES, RiskContext, RiskDecision, RiskGuard, is_risk_reducing
from engine.execution.structures import OrderRequest, ResolvedLeg, check_tick, resolve_legs
from engine.execution.tickets import TicketStore, new_ticket_id, wall_iso
from engine.store.audit import plain

log = logging.getLogger(__name__)
LEDGERS = ("paper", "live")


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    account: str
    expires_at: datetime
    preview: dict
    risk: dict

    def to_dict(self) -> dict:
        return {"ticket_id": self.ticket_id, "account": self.account, "expires_at": self.expires_at,
                "preview": self.preview, "risk": self.risk}


class ExecutionService:
    def __init__(self, settings: Any, *, db: Any, market: Any, audit: Any, brokers: dict | None = None) -> None:
        self.settings, self.db, self.market, self.audit = settings, db, market, audit
        self.model = FillModel(settings.fills)
        self.fees = FeeSchedule.from_config(settings.fills)
        self.guard = RiskGuard(settings.risk)
        self.tickets = TicketStore(db, settings.ticket_ttl_seconds)
        self._brokers: dict[str, Any] = dict(brokers or {})
        self._managers: dict[str, Any] = {}
        self._tax: Any = None  # the wash-sale what-if of live previews, built on first live stage
        self.sleep = asyncio.sleep  # how algorithms wait (tests drive simulated time instead)

    # --- brokers and order managers ----------------------------------------------------------------
    def _make_broker(self, ledger: str) -> Any:
        if ledger == "paper":
            from engine.execution.paper import PaperBroker

            return PaperBroker(self.db, self.market, fill_model=self.model, fees=self.fees, account="paper",
                               starting_cash=self.settings.risk.paper_starting_cash, option_close=self._option_close)
        if self.settings.live_broker != "ib":
            raise PermissionDenied("no live broker is configured (SMART0DTE_LIVE_BROKER=ib)")
        from engine.execution.ib import make_ib_broker

        return make_ib_broker(self.settings, "live", db=self.db, audit=self.audit)

    async def manager(self, ledger: str):
        """The order manager of ``ledger``: broker connected, reconciled, paper book polled."""
        from engine.execution.oms import OrderManager
        from engine.portfolio.ledger import ensure_deposit

        ledger = _ledger(ledger)
        oms = self._managers.get(ledger)
        if oms is not None:
            return oms
        broker = self._brokers.get(ledger) or self._make_broker(ledger)
        self._brokers[ledger] = broker
        if not broker.connected:
            await broker.connect()
        self._audit_settings_change()
        oms = OrderManager(self.db, self.audit, broker, ledger, market_now=self.market.clock.now)
        if ledger == "paper":
            with self.db.session(ledger) as s:
                ensure_deposit(s, self.settings.risk.paper_starting_cash)
        await oms.reconcile()
        self._managers[ledger] = oms
        await self.poll(ledger)
        return oms

    def _audit_settings_change(self) -> None:
        """Audit risk/fill/trading settings that differ from the last ones this installation ran with."""
        from engine.execution.models import EngineStateRow, utcnow

        if getattr(self, "_settings_checked", False):
            return
        self._settings_checked = True
        s = self.settings
        now = {"risk": s.risk.model_dump(mode="json"), "fills": s.fills.model_dump(mode="json"),
               "live_trading": s.live_trading, "live_broker": s.live_broker,
               "ticket_ttl_seconds": s.ticket_ttl_seconds, "stale_quote_seconds": s.stale_quote_seconds}
        flat = {f"{k}.{kk}" if isinstance(v, dict) else k: vv
                for k, v in now.items() for kk, vv in (v.items() if isinstance(v, dict) else [(None, v)])}
        from sqlalchemy.exc import IntegrityError

        try:
            with self.db.session(None) as sess:
                row = sess.get(EngineStateRow, "settings")
                before = row.value if row else None
                if before == flat:
                    return
                if row is None:
                    sess.add(EngineStateRow(key="settings", value=flat, updated_at=utcnow()))
                else:
                    row.value, row.updated_at = flat, utcnow()
        except IntegrityError:  # another process starting at the same moment recorded it first
            return
        changed = {k: [None if before is None else before.get(k), v] for k, v in flat.items()
                   if before is None or before.get(k) != v}
        self.audit.append("settings.change", actor="settings", data={"first_run": before is None, "changed": changed})

    async def poll(self, ledger: str = "paper") -> int:
        """Let the paper broker re-examine resting orders, and book what it did."""
        oms = self._managers.get(ledger)
        if oms is None:
            return 0
        poll = getattr(oms.broker, "poll", None)
        n = await poll() if poll is not None else 0
        await oms.pump()
        return n

    def _option_close(self, order: BrokerOrder, now: datetime) -> datetime | None:
        """When a DAY order of ``order``'s contracts stops trading today."""
        day = now.astimezone(NY).date()
        closes = []
        for leg in order.legs:
            if looks_like_option(leg.symbol):
                span = self.market.hours.option_hours(order.underlying, day, parse_occ(leg.symbol).expiry)
                if span is not None:
                    closes.append(span[1])
        return min(closes) if closes else None

    # --- staging -------------------------------------------------------------------------------
    async def stage(self, request: Any, principal: Principal) -> Ticket:
        req = OrderRequest.parse(request)
        ledger = req.account
        if ledger == "live":
            self._require_live_possible()
        legs, chain = await resolve_legs(req, lambda spec: self.market.chain(req.underlying, spec))
        priced = await self._price(legs, req.quantity, OrderType(req.order_type), req.limit_price,
                                   float(chain.spot), chain=chain)
        check_tick(priced.limit_price, legs)
        stop = signed_limit(req.stop_price, priced.mid)
        check_tick(stop, legs, "stop_price")
        ticket_id = new_ticket_id()
        order = BrokerOrder(ticket_id, ledger, req.underlying, tuple(leg.order_leg for leg in legs), req.quantity,
                            OrderType(req.order_type), priced.limit_price, stop, TimeInForce(req.tif),
                            created_at=self.market.clock.now())
        decision = await self._guard(priced, ticket_id, req.underlying, ledger)
        preview = preview_dict(priced)
        _leg_deltas(preview["legs"], legs, chain)
        if ledger == "live":
            preview["broker_what_if"] = await self._what_if(order)
            preview["tax_warnings"] = await self._wash_sale_warnings(priced)
        owner = principal.on_behalf_of or principal.id
        row = self.tickets.create(ledger, ticket_id=ticket_id, principal=principal.label, owner=owner,
                                  request=req.model_dump(mode="json"), order=order.to_dict(),
                                  preview=plain(preview), risk=decision.to_dict(), passed=decision.passed)
        self.audit.append("order.staged", actor=principal.label, ledger=ledger, data={
            "ticket_id": ticket_id, "order": order.to_dict(), "net_price": preview["net_price"],
            "max_loss": preview["max_loss"], "risk_passed": decision.passed})
        self.audit.append("risk.decision", actor="risk-guard", ledger=ledger,
                          data={"ticket_id": ticket_id, "stage": "stage", **decision.to_dict()})
        await self._maybe_halt(decision, ledger)
        return Ticket(ticket_id, ledger, wall_iso(row.expires_wall), preview, decision.to_dict())

    async def _what_if(self, order: BrokerOrder) -> dict:
        """The live broker's own margin/commission preview (IB ``whatIfOrder``)."""
        from engine.core.errors import BrokerError

        try:
            wi = await (await self.manager("live")).broker.what_if(order)
        except BrokerError as err:
            return {"error": str(err)}
        return {"initial_margin_change": wi.initial_margin_change,
                "maintenance_margin_change": wi.maintenance_margin_change, "commission": wi.commission,
                "equity_with_loan_after": wi.equity_with_loan_after, "warning": wi.warning}

    async def _price(self, legs: list[ResolvedLeg], quantity: int, order_type: OrderType, limit: Decimal | None,
                     spot: float, chain: Any = None) -> Priced:
        quotes = []
        for leg in legs:
            q = None
            if chain is not None and leg.contract is not None and leg.contract.expiry == chain.expiry:
                q = chain.quote(leg.symbol)
            quotes.append(q if q is not None else await self.market.quote(leg.symbol))
        return price_order(legs, quotes, quantity, order_type, limit, model=self.model, fees=self.fees, spot=spot,
                           naked_pct=self.settings.risk.margin_naked_pct)

    # --- the guard -----------------------------------------------------------------------------
    async def context(self, ledger: str, legs: list[ResolvedLeg] | None = None, underlying: str = "",
                      client_order_id: str = "") -> RiskContext:
        """The account state the guard sees now."""
        await self._for_reading(ledger)
        now = self.market.clock.now().astimezone(NY)
        view = LedgerView(self.db, self.market, ledger, naked_pct=self.settings.risk.margin_naked_pct)
        positions = await view.positions()
        open_orders, working = view.working()
        day = await view.pnl("today", now, positions)
        if ledger == "live" and ledger in self._brokers:
            bp = float((await self._brokers[ledger].account_summary()).buying_power)
        else:
            bp = float(day["cash"] - await view.margin_held())
        daily = float(day["total"])
        market_open, close = self._hours(legs or [], underlying, now)
        return RiskContext(
            now=now, kill_state=kill_state(self.db, ledger)["state"], market_open=market_open,
            session_close=close, positions={p["symbol"]: p["quantity"] for p in positions},
            open_contracts=sum(abs(p["quantity"]) for p in positions if p["multiplier"] != 1),
            working_contracts=working, open_orders=open_orders, buying_power=bp, daily_pnl=daily,
            recent_orders=view.recent_order_times(), wall_now=wall_now(),
            known_client_ids={client_order_id} if client_order_id and view.order_exists(client_order_id) else set(),
            stale_after_s=self.settings.stale_quote_seconds)

    def _hours(self, legs: list[ResolvedLeg], underlying: str, now: datetime) -> tuple[bool, datetime | None]:
        from engine.market import calendar

        hours = self.market.hours
        opened, closes = True, []
        for leg in legs:
            if leg.contract is None:
                opened &= calendar.is_open(now)
                continue
            opened &= hours.option_trading(underlying, leg.contract.expiry, now)
            span = hours.option_hours(underlying, now.date(), leg.contract.expiry)
            if span is not None and leg.contract.expiry == now.date():
                closes.append(span[1])
        return opened, (min(closes) if closes else None)

    async def _guard(self, priced: Priced, client_order_id: str, underlying: str, ledger: str) -> RiskDecision:
        return (await self._guard_ctx(priced, client_order_id, underlying, ledger))[0]

    async def _guard_ctx(self, priced: Priced, client_order_id: str, underlying: str,
                         ledger: str) -> tuple[RiskDecision, RiskContext]:
        ctx = await self.context(ledger, list(priced.legs), underlying, client_order_id)
        return self.guard.check(risk_order(priced, client_order_id, underlying), ctx), ctx

    async def _maybe_halt(self, decision: RiskDecision, ledger: str) -> None:
        if decision.halt and kill_state(self.db, ledger)["state"] != "halted":
            await self._set_kill(ledger, "halted", "risk-guard", "daily loss limit reached")

    # --- confirming ----------------------------------------------------------------------------
    async def confirm(self, ticket_id: str, principal: Principal) -> dict:
        if not isinstance(principal, Principal) or not principal.is_person:
            label = getattr(principal, "label", str(principal))
            self.audit.append("order.confirm_denied", actor=label, data={"ticket_id": ticket_id,
                                                                          "reason": "not a person"})
            raise PermissionDenied("only a person can confirm an order; a tool, model or service cannot")
        ledger = self._ticket_ledger(ticket_id)
        if ledger == "live":
            await self.require_live(principal)
        row = self.tickets.claim(ledger, ticket_id, person=principal.id)
        self.audit.append("order.confirmed", actor=principal.label, ledger=ledger, data={"ticket_id": ticket_id})
        order = BrokerOrder.from_dict(row.order)
        try:
            priced, decision, ctx = await self._recheck(order, ledger)
        except BaseException:
            self.tickets.set_status(ledger, ticket_id, "rejected")  # never left confirmed without an order
            raise
        if not decision.passed:
            self.tickets.set_status(ledger, ticket_id, "rejected")
            raise RiskRejected(f"order refused: {decision.summary()}", checks=decision.failures)
        oms = await self.manager(ledger)
        reducing = is_risk_reducing(risk_order(priced, ticket_id, order.underlying), ctx.positions)
        intent = "close" if reducing else "open"
        algo = (row.request or {}).get("algo")
        if algo:
            return await self._run_algo(order, algo, ledger)
        result = await oms.place(order, principal=principal.label, ticket_id=ticket_id, intent=intent)
        exits = (row.request or {}).get("exits")
        if exits and intent == "open":
            from engine.execution.monitor import register_exits

            register_exits(self.db, ledger, result, exits)
        return {"order_id": result["order_id"], "status": result["status"], "account": ledger,
                "filled_quantity": result["filled_quantity"], "avg_fill_price": result["avg_fill_price"],
                "reason": result["reason"], "fills": oms.fills_of(result["order_id"])}

    async def _recheck(self, order: BrokerOrder, ledger: str,
                       stage: str = "confirm") -> tuple[Priced, RiskDecision, RiskContext]:
        """Price ``order`` on fresh quotes and run the guard again (confirm, exits, slices)."""
        legs = [ResolvedLeg(x.symbol, x.side, x.ratio, x.contract) for x in order.legs]
        spot = (await self.market.quote(order.underlying)).mid
        priced = await self._price(legs, order.quantity, order.order_type, order.limit_price, spot)
        decision, ctx = await self._guard_ctx(priced, order.client_order_id, order.underlying, ledger)
        self.audit.append("risk.decision", actor="risk-guard", ledger=ledger,
                          data={"order_id": order.client_order_id, "stage": stage, **decision.to_dict()})
        await self._maybe_halt(decision, ledger)
        return priced, decision, ctx

    async def _run_algo(self, order: BrokerOrder, algo: dict, ledger: str) -> dict:
        from engine.execution.twap import Twap, TwapParams

        rep = await Twap(self, order, TwapParams(minutes=algo["minutes"], slices=algo["slices"],
                                                 ticks=algo["ticks"]), sleep=self.sleep).run()
        oms = await self.manager(ledger)
        fills = [f for c in rep.children for f in oms.fills_of(c["order_id"])]
        return {"order_id": rep.parent_id, "status": rep.status, "account": ledger,
                "filled_quantity": rep.filled, "avg_fill_price": None, "reason": rep.reason, "fills": fills,
                "children": rep.children}

    async def submit_internal(self, order: BrokerOrder, *, intent: str, principal: Principal | None = None,
                              parent_id: str | None = None) -> dict:
        """The engine's own orders (exits, 0DTE flatten, TWAP slices): no ticket, same risk guard.

        Exits and flattening were agreed by the person when they confirmed the opening order (or
        are the engine's safety rules); they still pass every check, so a HALTED kill switch
        stops them too, and REDUCING lets them through because they reduce risk.
        """
        who = principal or Principal.engine()
        ledger = _ledger(order.account)
        _, decision, _ = await self._recheck(order, ledger, intent)
        if not decision.passed:
            raise RiskRejected(f"{intent} order refused: {decision.summary()}", checks=decision.failures)
        oms = await self.manager(ledger)
        return await oms.place(order, principal=who.label, intent=intent, parent_id=parent_id)

    def _ticket_ledger(self, ticket_id: str) -> str:
        for ledger in LEDGERS:
            if ledger == "live" and not self.settings.live_armed:
                continue
            if self.tickets.get(ledger, ticket_id) is not None:
                return ledger
        raise TicketError(f"unknown ticket {ticket_id}")

    def ticket_account(self, ticket_id: str) -> str:
        """Which ledger a ticket belongs to (surfaces ask before prompting for a live confirmation)."""
        return self._ticket_ledger(ticket_id)

    async def cancel_ticket(self, ticket_id: str, principal: Principal) -> dict:
        ledger = self._ticket_ledger(ticket_id)
        owner = principal.on_behalf_of or principal.id
        self.tickets.cancel(ledger, ticket_id, person=owner)
        self.audit.append("order.ticket_cancelled", actor=principal.label, ledger=ledger, data={"ticket_id": ticket_id})
        return {"ticket_id": ticket_id, "status": "cancelled"}

    async def cancel_order(self, order_id: str, principal: Principal, ledger: str | None = None) -> dict:
        for led in ([ledger] if ledger else self._open_ledgers()):
            oms = await self.manager(led)
            try:
                oms.get(order_id)
            except Exception:
                continue
            return await oms.cancel(order_id, actor=principal.label, reason=f"canceled by {principal.label}")
        raise InvalidInput(f"no order {order_id}", field="order_id")

    # --- live mode ------------------------------------------------------------------------------
    def _require_live_possible(self) -> None:
        if not self.settings.live_armed:
            raise PermissionDenied("live trading is not armed (SMART0DTE_LIVE_TRADING=armed)")
        if self.settings.live_broker == "none":
            raise PermissionDenied("no live broker is configured (SMART0DTE_LIVE_BROKER=ib)")

    async def require_live(self, principal: Principal) -> None:
        """Raise PermissionDenied unless ``principal`` may confirm a live order now."""
        self._require_live_possible()
        if await self.trading_mode() != "live":
            raise PermissionDenied("trading mode is paper: a person must switch to live first")
        if not principal.has(Role.LIVE_TRADER):
            raise PermissionDenied(f"{principal.id} may not trade live (needs the live-trader role)")

    async def trading_mode(self) -> str:
        from engine.execution.models import ModeRow

        with self.db.session(None) as s:
            row = s.get(ModeRow, 1)
            mode = row.mode if row else "paper"
        return mode if mode == "paper" or self.settings.live_armed else "paper"

    async def switch_mode(self, mode: str, principal: Principal, typed_confirmation: str) -> dict:
        from engine.execution.models import ModeRow, utcnow

        mode = str(mode).lower()
        if mode not in LEDGERS:
            raise InvalidInput(f"mode must be paper or live, not {mode!r}", field="mode")
        if not isinstance(principal, Principal) or not principal.is_person:
            raise PermissionDenied("only a person can switch the trading mode")
        if mode == "live":
            self._require_live_possible()
            if not principal.has(Role.LIVE_TRADER):
                raise PermissionDenied(f"{principal.id} may not trade live (needs the live-trader role)")
            if typed_confirmation != "LIVE":
                raise PermissionDenied("switching to live needs the typed confirmation LIVE")
        before = await self.trading_mode()
        with self.db.session(None) as s:
            row = s.get(ModeRow, 1)
            if row is None:
                s.add(ModeRow(id=1, mode=mode, set_by=principal.label, updated_at=utcnow()))
            else:
                row.mode, row.set_by, row.updated_at = mode, principal.label, utcnow()
        self.audit.append("mode.switch", actor=principal.label, data={"from": before, "to": mode})
        return {"mode": mode, "previous": before, "by": principal.label}

    # --- kill switch ---------------------------------------------------------------------------
    async def set_kill_switch(self, state: str, principal: Principal, reason: str = "",
                              ledger: str | None = None) -> dict:
        state = {"resume": "active", "halt": "halted", "reduce": "reducing"}.get(str(state).lower(), str(state).lower())
        if state not in KILL_STATES:
            raise InvalidInput(f"kill switch state must be one of {', '.join(KILL_STATES)}", field="state")
        if not isinstance(principal, Principal) or not principal.is_person:
            raise PermissionDenied("only a person can change the kill switch")
        out = {}
        for led in ([_ledger(ledger)] if ledger else self._open_ledgers()):
            out[led] = await self._set_kill(led, state, principal.label, reason)
        return {"state": state, "ledgers": out}

    async def _set_kill(self, ledger: str, state: str, by: str, reason: str) -> dict:
        before = kill_state(self.db, ledger)["state"]
        value = write_kill_state(self.db, ledger, state, by, reason)
        self.audit.append("kill_switch", actor=by, ledger=ledger, data={"from": before, "to": state, "reason": reason})
        canceled = []
        if state == "halted":
            oms = await self.manager(ledger)
            for o in oms.list(status="open"):
                await oms.cancel(o["order_id"], actor=by, reason="kill switch HALTED")
                canceled.append(o["order_id"])
        return {**value, "canceled": canceled}

    def _open_ledgers(self) -> list[str]:
        return ["paper", "live"] if self.settings.live_armed and self.settings.live_broker != "none" else ["paper"]

    # --- reading ---------------------------------------------------------------------------------
    async def _for_reading(self, ledger: str) -> str:
        """Reconcile first when the ledger's broker is available; a live ledger without a
        configured broker is still readable (its history), just not reconciled."""
        ledger = _ledger(ledger)
        if ledger == "paper" or (self.settings.live_armed and self.settings.live_broker != "none"):
            await self.manager(ledger)
        return ledger

    async def orders(self, ledger: str = "paper", status: str | None = None) -> list[dict]:
        from engine.execution.oms import OrderManager

        ledger = await self._for_reading(ledger)
        oms = self._managers.get(ledger) or OrderManager(self.db, self.audit, None, ledger)
        return oms.list(status=status)

    async def positions(self, ledger: str = "paper") -> list[dict]:
        ledger = await self._for_reading(ledger)
        return await LedgerView(self.db, self.market, ledger).positions()

    async def pnl(self, ledger: str = "paper", period: str = "today") -> dict:
        ledger = await self._for_reading(ledger)
        return await LedgerView(self.db, self.market, ledger).pnl(period, self.market.clock.now())

    async def portfolio_greeks(self, ledger: str = "paper") -> dict:
        from engine.portfolio.greeks import ledger_greeks

        return await ledger_greeks(await self.positions(ledger), self.market)

    async def risk_status(self, ledger: str = "paper") -> dict:
        ledger = await self._for_reading(ledger)
        ctx = await self.context(ledger)
        cfg = self.settings.risk
        kill = kill_state(self.db, ledger)
        limit = float(cfg.daily_loss_limit)
        return {"state": kill["state"], "account": ledger, "kill_switch": kill,
                "limits": _json_limits(cfg.model_dump()),
                "usage": {"open_contracts": ctx.open_contracts, "working_contracts": ctx.working_contracts,
                          "open_orders": ctx.open_orders,
                          "orders_last_minute": sum(1 for t in ctx.recent_orders if ctx.wall_now - t < 60),
                          "buying_power": round(ctx.buying_power, 2), "daily_pnl": round(ctx.daily_pnl, 2),
                          "daily_loss_used_pct": round(max(0.0, -ctx.daily_pnl) / limit * 100, 2),
                          "market_time": ctx.now, "mode": await self.trading_mode()}}

    # --- the running engine ---------------------------------------------------------------------
    async def _wash_sale_warnings(self, priced: Priced) -> list[str]:
        """IRC §1091 what-if for each leg of a live order: shown with the preview, never blocking
        (a wash sale defers a loss; it is the trader's call, not a risk limit)."""
        tax = self._tax
        if tax is None:
            from engine.tax.service import TaxService

            tax = self._tax = TaxService(self.settings, db=self.db)
        warnings: list[str] = []
        for leg, price in zip(priced.legs, priced.leg_prices, strict=False):
            try:
                w = await tax.whatif(leg.symbol, leg.ratio * priced.quantity, abs(price), "live",
                                     side=leg.side.value.upper(), when=self.market.clock.now())
            except Exception as err:  # the preview must not fail for an advisory check
                log.warning("wash-sale what-if failed for %s: %s", leg.symbol, err)
                continue
            if w is not None:
                warnings.append(w.message)
        return warnings

    async def tick(self, ledger: str = "paper") -> dict:
        """One pass of the execution loop: the paper book re-examined, exits and 0DTE flatten,
        expiries booked, the daily loss limit enforced. ``python -m engine`` calls it every
        second or so; a CLI call runs it implicitly through reconciliation only."""
        from engine.execution.expiry import market_settlement, process_expirations
        from engine.execution.monitor import PositionMonitor

        ledger = _ledger(ledger)
        if ledger == "live" and not (self.settings.live_armed and self.settings.live_broker != "none"):
            return {"ledger": ledger, "skipped": "live trading is not configured"}
        await self.manager(ledger)
        polled = await self.poll(ledger)
        exits = await PositionMonitor(self, ledger).check()
        expired = await process_expirations(self.db, self.audit, ledger, self.market.clock.now(),
                                            market_settlement(self.market))
        ctx = await self.context(ledger)
        if ctx.daily_pnl <= -float(self.settings.risk.daily_loss_limit) and ctx.kill_state != "halted":
            await self._set_kill(ledger, "halted", "risk-guard", "daily loss limit reached")
        return {"ledger": ledger, "polled": polled, "exits": exits, "expired": expired}

    async def run(self, stop: asyncio.Event, interval_s: float = 1.0) -> None:
        """Tick every ledger that can trade until ``stop`` is set; errors are logged, not fatal."""
        while not stop.is_set():
            for ledger in self._open_ledgers():
                try:
                    await self.tick(ledger)
                except Exception:  # one bad pass must not stop exits and flattening for good
                    log.exception("execution tick failed for %s", ledger)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                pass

    async def close(self) -> None:
        for broker in self._brokers.values():
            try:
                await broker.disconnect()
            except Exception as err:  # closing must not mask the caller's own error
                log.warning("broker disconnect failed: %s", err)


def _leg_deltas(rows: list[dict], legs: list[ResolvedLeg], chain: Any) -> None:
    """Each previewed leg with its delta from the chain it was picked from (None off that chain)."""
    for row, leg in zip(rows, legs, strict=False):
        c = leg.contract
        row["delta"] = None
        if c is None or chain is None or c.expiry != getattr(chain, "expiry", None):
            continue
        try:
            side = chain.calls if c.is_call else chain.puts
            value = float(side.delta[chain.by_strike(c.right.value, float(c.strike))])
        except Exception:  # noqa: BLE001 - a missing delta must not fail the preview
            continue
        row["delta"] = round(value, 4) if value == value else None


def _json_limits(limits: dict) -> dict:
    """Money limits as JSON numbers (not Decimal strings), times as HH:MM."""
    out: dict = {}
    for key, value in limits.items():
        if isinstance(value, Decimal):
            out[key] = float(value)
        elif hasattr(value, "strftime"):
            out[key] = value.strftime("%H:%M")
        else:
            out[key] = value
    return out


def _ledger(ledger: Any) -> str:
    value = str(ledger or "paper").lower()
    if value not in LEDGERS:
        raise InvalidInput(f"account must be paper or live, not {ledger!r}", field="account")
    return value


__all__ = ["ExecutionService", "Ticket"]
