"""The Chainlit app behind ``smart0dte ui`` (run by :mod:`agent.ui.launch`, never imported by tests).

One :class:`~engine.runtime.Engine` per process serves every session. Each logged-in person gets
an :class:`~agent.core.Assistant` acting as ``Principal.agent_for(person)``, so the model can read
and stage, never confirm. Per turn: each tool call is a Chainlit step (arguments in, rendered
result out, charts attached), the answer streams token by token, and a staged order is shown with
Confirm/Cancel buttons whose click — only the click — reaches :mod:`agent.confirm` with
``Principal.person(user, "web")``. The trading mode is switched in the settings panel by typing
LIVE (audited by the engine); the banner script polls ``/smart0dte/mode``.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

import chainlit as cl
from chainlit.auth import get_current_user
from chainlit.input_widget import Select, TextInput
from chainlit.server import app as http_app
from fastapi import Depends, HTTPException, Response

from agent.core import Assistant
from agent.memory import ConversationStore
from agent.types import Event
from agent.ui import auth, charts, render
from agent.ui.datalayer import ELEMENT_ROUTE, Smart0DTEDataLayer
from agent.ui.orders import TicketDesk, book_scenario
from engine.core.errors import Smart0DTEError
from engine.core.principal import Principal
from tools.catalog import load as load_tools
from tools.registry import ToolContext

log = logging.getLogger("smart0dte.ui")

STARTERS = (
    ("SPY 0DTE chain", "Show me the SPY 0DTE chain near the money", "table"),
    ("Paper iron condor", "Paper-sell a 5-wide SPY iron condor at 20 delta at market", "shield"),
    ("Backtest", "Backtest a 10-delta SPY iron condor over the last 30 days on synthetic data", "line-chart"),
    ("Portfolio this week", "What's my P&L this week?", "wallet"),
    ("Wash sales this year", "What did I lose to wash sales this year?", "receipt"),
)

_engine: Any = None
_layer: Smart0DTEDataLayer | None = None


def engine() -> Any:
    """The process's engine, built on first use (inside the server's event loop)."""
    global _engine
    if _engine is None:
        from engine.runtime import Engine
        from engine.settings import get_settings

        _engine = Engine(get_settings())
    return _engine


@cl.on_app_shutdown
async def close_engine() -> None:
    """Ctrl-C / SIGTERM: the engine's feed, brokers and database connections close cleanly."""
    global _engine
    if _engine is not None:
        engine_, _engine = _engine, None
        await engine_.close()


# --- login and persistence -------------------------------------------------------------------------
@cl.password_auth_callback
def password_login(username: str, password: str) -> cl.User | None:
    s = engine().settings
    name = auth.authenticate(auth.user_table(s.users, s.demo_mode), username.strip(), password)
    if name is None:
        return None
    return cl.User(identifier=name, display_name=name, metadata={"provider": "credentials", "kind": "person"})


@cl.data_layer
def data_layer() -> Smart0DTEDataLayer:
    global _layer
    if _layer is None:
        e = engine()
        _layer = Smart0DTEDataLayer(e.db, ConversationStore(e.db, e.settings.chat_retention_days))
    return _layer


# --- small HTTP routes: the banner's mode and persisted plots ---------------------------------------
def _install_routes() -> None:
    """``/smart0dte/mode`` (public: PAPER or LIVE) and the plots of saved threads (author only).

    Chainlit registers a catch-all SPA route at import, so ours are moved in front of it.
    """
    before = len(http_app.router.routes)

    @http_app.get("/smart0dte/mode")
    async def mode() -> dict:
        try:
            return {"mode": (await engine().trading_mode()).upper()}
        except Exception:  # the banner must never break the page; unknown means "not live"
            log.exception("trading mode unavailable")
            return {"mode": "PAPER"}

    @http_app.get(ELEMENT_ROUTE + "/{thread_id}/{element_id}")
    async def element(thread_id: str, element_id: str,
                      user: Annotated[Any, Depends(get_current_user)]) -> Response:
        layer = data_layer()
        if user is None or await layer.get_thread_author(thread_id) != user.identifier:
            raise HTTPException(status_code=404, detail="not found")
        content = await layer.element_content(thread_id, element_id)
        if content is None:
            raise HTTPException(status_code=404, detail="not found")
        return Response(content, media_type="application/json")

    ours = http_app.router.routes[before:]
    del http_app.router.routes[before:]
    http_app.router.routes[0:0] = ours


_install_routes()


# --- session set-up --------------------------------------------------------------------------------
@cl.set_starters
async def starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    return [cl.Starter(label=label, message=message, icon=None) for label, message, _ in STARTERS]


def _person() -> Principal:
    user = cl.user_session.get("user")
    if user is None:  # password auth is always on; no user means no session
        raise PermissionError("not logged in")
    return Principal.person(user.identifier, "web")


async def _settings_panel(mode: str) -> None:
    await cl.ChatSettings([
        Select(id="mode", label="Trading mode", values=["paper", "live"], initial_value=mode,
               description="Live needs live trading armed in the server's settings and the word LIVE typed below."),
        TextInput(id="typed", label="Type LIVE to switch to live trading", initial="", placeholder="LIVE"),
    ]).send()


async def _start_session() -> None:
    person = _person()
    cl.user_session.set("assistant", Assistant(engine(), person, ledger="paper"))
    cl.user_session.set("desk", TicketDesk())
    cl.user_session.set("ticket_messages", {})
    await _settings_panel(await engine().trading_mode())


@cl.on_chat_start
async def on_chat_start() -> None:
    try:
        await _start_session()
    except Exception as err:
        await _error(err)


@cl.on_chat_resume
async def on_chat_resume(thread: dict) -> None:
    try:
        await _start_session()  # the assistant's memory of this thread lives in agent_messages
    except Exception as err:
        await _error(err)


@cl.on_settings_update
async def on_settings_update(values: dict) -> None:
    """The person's mode switch: the engine checks the person, the typed word and that live is armed."""
    e = engine()
    wanted = str(values.get("mode") or "paper").lower()
    current = await e.trading_mode()
    try:
        if wanted != current:
            done = await e.switch_mode(wanted, _person(), str(values.get("typed") or "").strip())
            await cl.Message(content=f"Trading mode is now **{done['mode'].upper()}** "
                                     f"(was {done['previous'].upper()}; recorded in the audit log).",
                             author="Smart-0DTE").send()
    except Smart0DTEError as err:
        await cl.Message(content=f"**Trading mode unchanged** (**{current.upper()}**): {err.message}",
                         author="Smart-0DTE").send()
    except Exception as err:
        await _error(err)
    await _settings_panel(await e.trading_mode())


# --- one turn --------------------------------------------------------------------------------------
@cl.on_message
async def on_message(message: cl.Message) -> None:
    try:
        await _turn(message.content)
    except Exception as err:
        await _error(err)


async def _turn(text: str) -> None:
    assistant: Assistant = cl.user_session.get("assistant")
    if assistant is None:
        await _start_session()
        assistant = cl.user_session.get("assistant")
    assistant.ledger = await engine().trading_mode()
    # The answer is written in pieces between tool calls: each piece is its own message, made at its
    # first token, so the page reads in order (step, what it showed, next step, …).
    answer: cl.Message | None = None
    said = False
    steps: dict[int, cl.Step] = {}
    result = None
    async for event in assistant.stream(text, cl.context.session.thread_id):
        if event.kind == "tool_start" and event.call is not None:
            if answer is not None:
                await answer.send()
                answer, said = None, True
            steps[id(event.call)] = await _step_start(event)
        elif event.kind == "tool_end" and event.call is not None:
            await _step_end(steps.pop(id(event.call), None) or await _step_start(event), event, assistant.ledger)
        elif event.kind == "token":
            answer = answer or cl.Message(content="", author="Smart-0DTE")
            await answer.stream_token(event.text)
        elif event.kind == "final":
            result = event.result
    if answer is not None:
        await answer.send()
    elif not said:
        await cl.Message(content=(result.answer if result is not None and result.answer else "(no answer)"),
                         author="Smart-0DTE").send()
    if result is not None and result.pending_confirmation:
        await _show_pending(result.pending_confirmation)


async def _step_start(event: Event) -> cl.Step:
    call = event.call
    # Nested under the turn's run step (Step.send does not do it), so it shows above the answer.
    run = cl.context.current_step
    step = cl.Step(name=call.name, type="tool", show_input="json", default_open=True,
                   parent_id=run.id if run is not None else None)
    step.input = json.dumps(call.args, indent=2, default=str)
    await step.send()
    return step


async def _step_end(step: cl.Step, event: Event, ledger: str) -> None:
    call = event.call
    step.is_error = call.ok is False
    step.output = render.tool_markdown(call.name, call.output, call.error)
    step.language = None
    if call.ok and call.output:
        try:
            step.elements = await _charts(call.name, call.output, ledger)
        except Exception:  # a chart is a bonus: the table above already shows the data
            log.exception("chart for %s failed", call.name)
    await step.update()


async def _charts(name: str, out: dict, ledger: str) -> list[cl.Plotly]:
    figs = []
    if name == "backtest":
        figs.append(("Equity curve", charts.equity_curve(out)))
    elif name == "strategy_payoff":
        figs.append(("Payoff", charts.payoff(out)))
    elif name in ("portfolio_greeks", "positions"):
        if name == "portfolio_greeks":
            figs.append(("Greeks", charts.greeks_bars(out)))
        try:
            grid = await book_scenario(engine(), ledger)
        except Smart0DTEError as err:
            log.info("no scenario grid: %s", err.message)
            grid = None
        if grid:
            figs.append(("P&L scenario", charts.scenario_heatmap(grid)))
    return [cl.Plotly(name=title, figure=fig, display="inline", size="large") for title, fig in figs if fig is not None]


# --- the person's Confirm / Cancel -----------------------------------------------------------------
async def _show_pending(pending: dict) -> None:
    desk: TicketDesk = cl.user_session.get("desk")
    key = desk.add(pending)
    if pending.get("kind") == "order":
        body = render.order_ticket({"ticket_id": pending.get("ticket_id"), "expires_at": pending.get("expires_at"),
                                    "ledger": pending.get("ledger"), "preview": pending.get("preview"),
                                    "risk": pending.get("risk")})
        risk_ok = (pending.get("risk") or {}).get("passed", True)
        ttl = engine().settings.ticket_ttl_seconds
        body += (f"\n\n**Only your click sends this order** (the ticket expires {ttl} s after staging; typing "
                 "\"confirm\" does nothing)." if risk_ok else "\n\n**A risk check failed: the engine will refuse this order.**")
    else:
        body = (f"The assistant asks to run **{pending.get('kind')}** with `{json.dumps(pending.get('args'))}`. "
                "Only your click does it.")
    actions = [cl.Action(name="smart0dte_confirm", payload={"key": key}, label="Confirm", icon="check",
                         tooltip="Send this order (your decision, not the model's)"),
               cl.Action(name="smart0dte_cancel", payload={"key": key}, label="Cancel", icon="x",
                         tooltip="Discard the ticket; nothing is sent")]
    msg = cl.Message(content=body, actions=actions, author="Smart-0DTE")
    await msg.send()
    cl.user_session.get("ticket_messages")[key] = msg


async def _retire_buttons(key: str) -> None:
    msg = cl.user_session.get("ticket_messages", {}).pop(key, None)
    if msg is not None:
        await msg.remove_actions()


@cl.action_callback("smart0dte_confirm")
async def on_confirm(action: cl.Action) -> None:
    try:
        key = str((action.payload or {}).get("key") or "")
        desk: TicketDesk = cl.user_session.get("desk")
        await _retire_buttons(key)  # first: a second click has nothing to press
        ledger = await engine().trading_mode()
        pending = desk.get(key)
        if pending is not None and pending.get("ledger") == "live" and not await _typed_live_ok(pending):
            outcome = await desk.cancel(key, engine(), _person())
            await cl.Message(content="LIVE order not confirmed (the ticket id was not typed). " + outcome.markdown,
                             author="Smart-0DTE").send()
            return
        outcome = await desk.confirm(key, engine(), _person(), ledger)
        content = outcome.markdown
        if outcome.ok:
            content += "\n\n**Positions now**\n\n" + await _positions_markdown(ledger)
        await cl.Message(content=content, author="Smart-0DTE").send()
    except Exception as err:
        await _error(err)


async def _typed_live_ok(pending: dict) -> bool:
    """A LIVE ticket needs more than a click: the person types its id (as in the terminal chat)."""
    ticket = str(pending.get("ticket_id"))
    reply = await cl.AskUserMessage(content=f"**LIVE order with real money.** Type the ticket id `{ticket}` to send it; "
                                            "anything else cancels.", author="Smart-0DTE",
                                    timeout=engine().settings.ticket_ttl_seconds).send()
    return bool(reply) and str(reply.get("output", "")).strip() == ticket


@cl.action_callback("smart0dte_cancel")
async def on_cancel(action: cl.Action) -> None:
    try:
        key = str((action.payload or {}).get("key") or "")
        await _retire_buttons(key)
        outcome = await cl.user_session.get("desk").cancel(key, engine(), _person())
        await cl.Message(content=outcome.markdown, author="Smart-0DTE").send()
    except Exception as err:
        await _error(err)


async def _positions_markdown(ledger: str) -> str:
    out = await load_tools().call("positions", {"account": ledger}, ToolContext(engine(), _person(), ledger))
    return render.positions(out.model_dump(mode="json"))


async def _error(err: Exception) -> None:
    """One clear line in the chat; the traceback goes to the server log only."""
    if isinstance(err, Smart0DTEError):
        text = f"**Error:** {err.message}"
    else:
        log.exception("UI callback failed")
        text = f"**Error:** something went wrong ({type(err).__name__}); nothing was changed. Please try again."
    await cl.Message(content=text, author="Smart-0DTE").send()
