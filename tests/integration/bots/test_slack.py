"""The Slack bot through the REAL slack-bolt + slack_sdk against our loopback Web API, with events,
slash commands and button presses POSTed to the bot's HTTP endpoint, signed like Slack signs them."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime

import httpx
import pytest

from agent.channels.slack import SlackBot
from engine.core.clock import NY
from engine.execution.monitor import PositionMonitor
from tests.integration.bots.conftest import ORDER_TEXT, kinds, quoted_bid_ask
from tests.loopback.slack_api import (
    SlackAPI,
    button_press,
    dm_event,
    mention_event,
    signature,
    signed_headers,
    slash_command,
)

TOKEN, SECRET = "xoxb-loopback-bot-token", "loopback-signing-secret"
ALLOWED, STRANGER = "U0TRADER", "U0STRANGER"


@pytest.fixture
async def slack(engine):
    with SlackAPI(TOKEN) as api:
        bot = SlackBot(engine, bot_token=TOKEN, signing_secret=SECRET, allowed=[ALLOWED], api_url=api.base_url,
                       llm="offline", push_poll_s=0.05)
        await bot.start(port=0)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bot.port}", timeout=30) as http:

                async def post(body_and_type: tuple[bytes, str], **sign) -> httpx.Response:
                    body, ctype = body_and_type
                    return await http.post("/slack/events", content=body, headers=signed_headers(SECRET, body, ctype,
                                                                                                 **sign))
                yield api, post, http
        finally:
            await bot.stop()


async def wait_for(api: SlackAPI, pred, timeout: float = 30.0, pool: str = "messages") -> dict:
    return await asyncio.to_thread(api.wait_for, pred, timeout, pool=pool)


def buttons(msg: dict) -> list[dict]:
    return [e for b in msg.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]]


async def test_question_and_slash_commands_answer_with_the_tools_numbers(slack, engine):
    api, post, _ = slack
    assert (await post(dm_event(ALLOWED, "quote SPY"))).status_code == 200
    msg = await wait_for(api, lambda m: "SPY: bid" in m["text"])
    bid, ask = quoted_bid_ask(msg["text"])
    live = await engine.quote("SPY")
    assert 0 < bid <= ask and abs(bid - float(live.bid)) / bid < 0.01
    assert msg["channel"] == f"D{ALLOWED}" and msg["blocks"][0]["text"]["type"] == "mrkdwn"

    r = await post(slash_command(ALLOWED, "/chain", "QQQ"))
    assert r.status_code == 200 and not r.text.strip(), "acknowledged at once, answered by a message"
    table = await wait_for(api, lambda m: "QQQ options expiring" in m["text"])
    assert any(b["text"]["text"].startswith("```CALL bid/ask") for b in table["blocks"] if b.get("text"))
    png = await wait_for(api, lambda f: f.get("shared"), pool="files")
    assert png["data"].startswith(b"\x89PNG") and png["channel"] == "C0TRADING"

    api.not_member.add("C0PRIVATE")  # a channel the bot was never invited to: the command answers privately
    await post(slash_command(ALLOWED, "/risk", channel="C0PRIVATE", response_url=f"{api.root}/respond/1"))
    private = await wait_for(api, lambda r: "Kill switch: active" in r.get("text", ""), pool="responses")
    assert private["blocks"][0]["type"] == "section"

    body = mention_event(ALLOWED, "what is my pnl today?")
    await post(body)
    answer = await wait_for(api, lambda m: m["text"].startswith("P&L today (paper)"))
    assert answer["channel"] == "C0TRADING" and answer["thread_ts"] == json.loads(body[0])["event"]["ts"]
    assert (await post(body)).status_code == 200  # Slack's retry of the same event is answered once
    await post(dm_event(ALLOWED, "quote SPY"))
    await wait_for(api, lambda m: len([x for x in api.messages.values() if "SPY: bid" in x["text"]]) == 2)
    assert len([m for m in api.messages.values() if m["text"].startswith("P&L today")]) == 1


async def test_order_is_confirmed_only_by_its_button_and_the_fill_is_pushed(slack, engine):
    api, post, _ = slack
    await post(dm_event(ALLOWED, ORDER_TEXT))
    staged = await wait_for(api, lambda m: "Staged PAPER ticket" in m["text"])
    assert [b["action_id"] for b in buttons(staged)] == ["smart0dte_confirm", "smart0dte_cancel"]

    await post(dm_event(ALLOWED, "confirm"))  # typed text never confirms
    await wait_for(api, lambda m: "only you can" in m["text"])
    assert await engine.positions("paper") == [] and not kinds(engine, "order.confirmed")

    assert (await post(button_press(STRANGER, staged, "smart0dte_confirm"))).status_code == 200
    refusal = await wait_for(api, lambda m: m["user"] == STRANGER, pool="ephemeral")
    assert "not on its list" in refusal["text"] and buttons(api.messages[staged["ts"]])

    press = button_press(ALLOWED, staged, "smart0dte_confirm")  # kept to be replayed below
    assert (await post(press)).status_code == 200
    done = await wait_for(api, lambda m: m["ts"] == staged["ts"] and "Confirmed" in m["text"])
    assert not buttons(done), "the buttons are gone once pressed"
    positions = await engine.positions("paper")
    assert len(positions) == 1 and positions[0]["quantity"] == 1
    assert [r["actor"] for r in kinds(engine, "order.confirmed")] == [f"person:{ALLOWED}@slack"]
    fill = await wait_for(api, lambda m: "fill:" in m["text"])
    assert fill["channel"] == staged["channel"] and positions[0]["symbol"] in fill["text"]
    assert len([m for m in api.messages.values() if "fill:" in m["text"]]) == 1, "one line per person"

    await post(press)  # the same press again (a replayed payload)
    await wait_for(api, lambda m: m["ts"] == staged["ts"] and "be used any more" in m["text"])
    assert len(kinds(engine, "order.confirmed")) == 1 and len(await engine.positions("paper")) == 1

    # the engine's own 0DTE auto-flatten (its position monitor at 15:55 ET) is pushed with its fill
    await PositionMonitor(engine.execution, "paper").flatten_expiring(datetime(2026, 11, 20, 15, 55, tzinfo=NY))
    await wait_for(api, lambda m: m["text"].startswith("🔔 Auto-flatten on PAPER") and positions[0]["symbol"] in m["text"])
    await wait_for(api, lambda m: "fill: order FLAT-" in m["text"] and "@ credit" in m["text"])
    assert await engine.positions("paper") == []


async def test_stranger_is_refused_and_nothing_runs(slack, engine):
    api, post, _ = slack
    before = len(kinds(engine, "tool_call"))
    r = await post(slash_command(STRANGER, "/halt"))
    assert r.status_code == 200 and "not on its list" in r.text, "the refusal is the ephemeral ack"
    await post(dm_event(STRANGER, ORDER_TEXT))
    await wait_for(api, lambda m: m["channel"] == f"D{STRANGER}" and "not on its list" in m["text"])
    assert len(kinds(engine, "tool_call")) == before
    assert (await engine.risk_status("paper"))["state"] == "active"
    assert {r["data"]["attempt"] for r in kinds(engine, "bot.refused")} == {"/halt", "message"}


async def test_tampered_or_stale_signature_is_refused(slack, engine):
    _, post, http = slack
    body, ctype = slash_command(ALLOWED, "/halt", "now")
    headers = signed_headers(SECRET, body, ctype)
    tampered = body.replace(b"text=now", b"text=later")  # changed after signing
    assert (await http.post("/slack/events", content=tampered, headers=headers)).status_code == 401
    forged = {**headers, "X-Slack-Signature": signature("not-the-secret", headers["X-Slack-Request-Timestamp"], body)}
    assert (await http.post("/slack/events", content=body, headers=forged)).status_code == 401
    assert (await http.post("/slack/events", content=body, headers={"Content-Type": ctype})).status_code == 401
    stale = await post((body, ctype), timestamp=int(time.time()) - 3600)
    assert stale.status_code == 401, "a replayed old request is refused"
    assert (await engine.risk_status("paper"))["state"] == "active" and not kinds(engine, "kill_switch")
    challenge = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"}).encode()
    r = await post((challenge, "application/json"))
    assert r.status_code == 200 and "c-123" in r.text, "Slack's URL check is answered when signed"
    assert (await post((body, ctype))).status_code == 200  # the same request, signed properly, passes
    await until_halted(engine)


async def until_halted(engine) -> None:
    deadline = time.monotonic() + 30
    while (await engine.risk_status("paper"))["state"] != "halted":
        assert time.monotonic() < deadline, "the signed /halt never halted"
        await asyncio.sleep(0.05)


async def test_socket_mode_answers_and_refuses_through_the_websocket(engine):
    app_token = "xapp-loopback-app-token"
    with SlackAPI(TOKEN, app_token=app_token) as api:
        bot = SlackBot(engine, bot_token=TOKEN, app_token=app_token, allowed=[ALLOWED], api_url=api.base_url,
                       llm="offline", push_poll_s=0.05)
        await bot.start()
        try:
            assert bot.port is None, "Socket Mode opens no HTTP port"
            sock = await wait_socket(api)
            sent = await asyncio.to_thread(sock.send, dm_event(ALLOWED, "quote IWM"))
            await asyncio.to_thread(sock.wait_ack, sent)
            msg = await wait_for(api, lambda m: "IWM: bid" in m["text"])
            assert msg["channel"] == f"D{ALLOWED}"
            refused = await asyncio.to_thread(sock.send, slash_command(STRANGER, "/positions"))
            ack = await asyncio.to_thread(sock.wait_ack, refused)
            assert "not on its list" in json.dumps(ack.get("payload"))
            assert [r["data"]["attempt"] for r in kinds(engine, "bot.refused")] == ["/positions"]
        finally:
            await bot.stop()


async def wait_socket(api: SlackAPI):
    deadline = time.monotonic() + 30
    while api.socket is None:
        assert time.monotonic() < deadline, "the bot never asked for a Socket Mode URL"
        await asyncio.sleep(0.05)
    return api.socket
