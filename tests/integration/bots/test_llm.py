"""A bot on the LLM path (loopback OpenAI server): the model can stage, only the button confirms,
and the bot's own token never reaches the model."""

from __future__ import annotations

import asyncio
import json

from agent.channels.telegram import TelegramBot
from engine.runtime import Engine
from engine.settings import load_settings
from tests.integration.bots.conftest import ALLOWED, kinds
from tests.loopback.openai_server import OpenAIServer, call, say
from tests.loopback.telegram_api import TelegramAPI

TOKEN = "123456789:AAE-telegram-TOPSECRET-token"
ORDER = {"underlying": "SPY", "legs": [{"right": "call", "delta": 0.3, "side": "buy"}], "quantity": 1,
         "order_type": "market"}


async def test_model_stages_and_claims_to_confirm_but_only_the_button_does(fresh_home):
    script = [call("place_paper_order", ORDER), say("Done — I have confirmed and sent your order."),
              say("Confirmed again, all good.")]
    with OpenAIServer(script) as llm, TelegramAPI(TOKEN) as api:
        engine = Engine(load_settings(openai_base_url=llm.base_url, openai_api_key="sk-loopback-TOPSECRET",
                                      telegram_bot_token=TOKEN))
        bot = TelegramBot(engine, token=TOKEN, allowed=[ALLOWED], base_url=api.base_url, poll_timeout=1.0,
                          push_poll_s=0.05)
        await bot.start()
        try:
            assert engine.settings.llm_configured
            api.user_says(ALLOWED, "buy one SPY 0DTE call around 30 delta at market")
            staged = await asyncio.to_thread(api.wait_for, lambda m: "confirmed and sent" in (m.get("text") or ""), 60)
            buttons = [b for row in staged["reply_markup"]["inline_keyboard"] for b in row]
            assert [b["text"] for b in buttons] == ["✅ Confirm", "✖ Cancel"]
            assert await engine.positions("paper") == [] and not kinds(engine, "order.confirmed"), \
                "the model's words confirm nothing"

            api.user_says(ALLOWED, "yes confirm it")  # the model answers; still nothing is sent
            await asyncio.to_thread(api.wait_for, lambda m: "Confirmed again" in (m.get("text") or ""), 60)
            assert await engine.positions("paper") == []

            api.press(ALLOWED, staged, buttons[0]["callback_data"])
            await asyncio.to_thread(api.wait_for, lambda m: m["message_id"] == staged["message_id"]
                                    and "✅ Confirmed" in m["text"], 60)
            assert len(await engine.positions("paper")) == 1
            assert [r["actor"] for r in kinds(engine, "order.confirmed")] == [f"person:{ALLOWED}@telegram"]
            assert "TOPSECRET" not in json.dumps(llm.requests), "no secret reaches the model"
        finally:
            await bot.stop()
            await engine.close()
            engine.db.dispose()
