"""The Telegram bot through the REAL python-telegram-bot against our loopback Bot API."""

from __future__ import annotations

import asyncio

import pytest

from agent.channels.telegram import TelegramBot
from tests.integration.bots.conftest import ALLOWED, ORDER_TEXT, STRANGER, kinds, quoted_bid_ask, until
from tests.loopback.telegram_api import TelegramAPI

TOKEN = "123456:loopback-secret-token"


@pytest.fixture
async def tg(engine):
    with TelegramAPI(TOKEN) as api:
        bot = TelegramBot(engine, token=TOKEN, allowed=[ALLOWED], base_url=api.base_url, llm="offline",
                          poll_timeout=1.0, push_poll_s=0.05)
        await bot.start()
        try:
            yield api, bot
        finally:
            await bot.stop()


async def wait_for(api: TelegramAPI, pred, timeout: float = 30.0) -> dict:
    return await asyncio.to_thread(api.wait_for, pred, timeout)


def keyboard(msg: dict) -> list[dict]:
    return [b for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def test_question_and_commands_answer_with_the_tools_numbers(tg, engine):
    api, _ = tg
    assert {c["command"] for c in api.commands} >= {"quote", "chain", "positions", "pnl", "risk", "halt"}
    api.user_says(ALLOWED, "what's the quote on SPY?")
    msg = await wait_for(api, lambda m: "SPY: bid" in (m.get("text") or ""))
    bid, ask = quoted_bid_ask(msg["text"])
    live = await engine.quote("SPY")
    assert 0 < bid <= ask and abs(bid - float(live.bid)) / bid < 0.01, (msg["text"], live)
    assert msg["parse_mode"] == "HTML"

    api.user_says(ALLOWED, "/chain SPY")
    table = await wait_for(api, lambda m: "<pre>" in (m.get("text") or "") and "strike" in m["text"])
    assert "SPY options expiring" in table["text"] and "CALL bid/ask" in table["text"]
    photo = await wait_for(api, lambda m: "photo" in m)
    assert api.photos[photo["message_id"]].startswith(b"\x89PNG"), "the IV smile is sent as a PNG"

    api.user_says(ALLOWED, "/quote qqq")
    await wait_for(api, lambda m: "QQQ: bid" in (m.get("text") or ""))
    api.user_says(ALLOWED, "/quote XYZ")
    err = await wait_for(api, lambda m: "XYZ" in (m.get("text") or ""))
    assert "didn&#x27;t work" in err["text"] and "SPY, QQQ, IWM" in err["text"]


async def test_order_is_confirmed_only_by_its_button_and_the_fill_is_pushed(tg, engine):
    api, _ = tg
    api.user_says(ALLOWED, ORDER_TEXT)
    staged = await wait_for(api, lambda m: "Staged PAPER ticket" in (m.get("text") or ""))
    buttons = keyboard(staged)
    assert [b["text"] for b in buttons] == ["✅ Confirm", "✖ Cancel"]
    confirm = next(b["callback_data"] for b in buttons if b["callback_data"].startswith("confirm:"))

    api.user_says(ALLOWED, "confirm")  # typed text never confirms
    await wait_for(api, lambda m: "only you can" in (m.get("text") or ""))
    assert await engine.positions("paper") == []
    assert not kinds(engine, "order.confirmed")

    api.press(STRANGER, staged, confirm)  # a stranger's press is refused and changes nothing
    await until(lambda: api.callback_answers)
    assert "not on its list" in api.callback_answers[-1]["text"]
    assert keyboard(api.messages[staged["message_id"]]), "the stranger's press leaves the buttons"

    api.press(ALLOWED, staged, confirm)
    done = await wait_for(api, lambda m: m["message_id"] == staged["message_id"] and "Confirmed" in m["text"])
    assert not keyboard(done), "the buttons are removed once pressed"
    positions = await engine.positions("paper")
    assert len(positions) == 1 and positions[0]["quantity"] == 1 and positions[0]["symbol"].startswith("SPY")
    confirmed = kinds(engine, "order.confirmed")
    assert len(confirmed) == 1 and confirmed[0]["actor"] == f"person:{ALLOWED}@telegram"

    fill = await wait_for(api, lambda m: "fill:" in (m.get("text") or ""))
    assert fill["chat"]["id"] == ALLOWED and positions[0]["symbol"] in fill["text"]

    api.press(ALLOWED, staged, confirm)  # a replayed callback (an old client): refused by the engine
    await wait_for(api, lambda m: m["message_id"] == staged["message_id"] and "be used any more" in m["text"])
    assert len(kinds(engine, "order.confirmed")) == 1 and len(await engine.positions("paper")) == 1


async def test_stranger_is_refused_and_nothing_runs(tg, engine):
    api, _ = tg
    before = len(kinds(engine, "tool_call"))
    api.user_says(STRANGER, "/halt")
    api.user_says(STRANGER, ORDER_TEXT)
    await until(lambda: len(api.sent_to(STRANGER)) == 2)
    assert all("not on its list" in m["text"] for m in api.sent_to(STRANGER))
    assert len(kinds(engine, "tool_call")) == before, "no tool ran for the stranger"
    assert (await engine.risk_status("paper"))["state"] == "active"
    refused = kinds(engine, "bot.refused")
    assert len(refused) == 2 and {r["data"]["attempt"] for r in refused} == {"/halt", "message"}


async def test_halt_switches_the_kill_switch_and_is_pushed(tg, engine):
    api, _ = tg
    api.user_says(ALLOWED, "/halt lunch")
    await wait_for(api, lambda m: "Trading HALTED" in (m.get("text") or ""))
    assert (await engine.risk_status("paper"))["state"] == "halted"
    await wait_for(api, lambda m: "Kill switch on PAPER" in (m.get("text") or "") and "HALTED" in m["text"])
    api.user_says(ALLOWED, "/risk")
    await wait_for(api, lambda m: "Kill switch: halted" in (m.get("text") or ""))


async def test_cancelling_a_working_order_also_waits_for_the_button(tg, engine):
    api, _ = tg
    api.user_says(ALLOWED, "paper buy 1 spy 0dte call at 30 delta limit 0.55")
    staged = await wait_for(api, lambda m: "Staged PAPER ticket" in (m.get("text") or ""))
    api.press(ALLOWED, staged, keyboard(staged)[0]["callback_data"])
    await wait_for(api, lambda m: m["message_id"] == staged["message_id"] and "Confirmed" in m["text"])
    working = await engine.orders("paper", "open")
    assert len(working) == 1, "a limit under the ask rests"
    order_id = working[0]["order_id"]

    api.user_says(ALLOWED, f"cancel order {order_id}")
    ask = await wait_for(api, lambda m: "need your approval" in (m.get("text") or "") and keyboard(m))
    assert len(await engine.orders("paper", "open")) == 1, "nothing changes before the button"
    api.press(ALLOWED, ask, keyboard(ask)[0]["callback_data"])
    await wait_for(api, lambda m: m["message_id"] == ask["message_id"] and "Done: cancel order" in m["text"])
    assert await engine.orders("paper", "open") == []
    await wait_for(api, lambda m: f"order {order_id} is canceled" in (m.get("text") or "")
                   or f"order {order_id} is cancelled" in (m.get("text") or ""))
