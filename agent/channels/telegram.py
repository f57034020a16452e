"""The Telegram bot (python-telegram-bot 22): ``smart0dte telegram``.

Long polling (no public URL needed). Free text goes to the agent, ``/quote /chain /positions /pnl
/risk /halt /help`` run directly, a staged order arrives with an inline keyboard (Confirm /
Cancel) and only that button, pressed by an allow-listed user, confirms; the keyboard is removed
as soon as it is pressed. Fills, stop-outs, auto-flatten, expiries and kill-switch changes are
pushed to the allow-listed users' private chats and to chats where they talked to the bot.

Settings: ``SMART0DTE_TELEGRAM_BOT_TOKEN`` (required), ``SMART0DTE_TELEGRAM_ALLOWED_USERS``
(JSON list of numeric user ids), ``SMART0DTE_TELEGRAM_BASE_URL`` (another Bot API server).

    bot = TelegramBot(engine, token="123:abc", allowed=[42], base_url="http://127.0.0.1:8081/bot")
    await bot.start(); ...; await bot.stop()        # or: bot.run() — blocks until Ctrl-C
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Iterable
from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from agent.channels import format as fmt
from agent.channels.core import ChannelCore, serve_forever

log = logging.getLogger("smart0dte.telegram")

COMMANDS = [("quote", "Bid/ask now: /quote SPY"), ("chain", "0DTE chain near the money: /chain SPY"),
            ("positions", "Open paper positions"), ("pnl", "Profit and loss: /pnl today|week|month"),
            ("risk", "Kill switch and limit usage"), ("halt", "Stop all trading now"), ("help", "What I can do")]


class TelegramBot:
    """The bot over one engine; :meth:`start`/:meth:`stop` inside a running loop, or :meth:`run`."""

    def __init__(self, engine: Any, *, token: str, allowed: Iterable[int | str], base_url: str | None = None,
                 llm: Any = "auto", charts: bool = True, poll_timeout: float = 10.0, push_poll_s: float = 0.25) -> None:
        self.core = ChannelCore(engine, "telegram", allowed, llm=llm, charts=charts)
        _hide_token_in_logs(token)
        self.poll_timeout = poll_timeout
        self.push_poll_s = push_poll_s
        self.chats: set[int] = {int(u) for u in self.core.allowed if u.lstrip("-").isdigit()}
        builder = ApplicationBuilder().token(token).concurrent_updates(True)
        if base_url:
            root = base_url.rstrip("/")
            root = root if root.endswith("/bot") else root + "/bot"
            builder = builder.base_url(root).base_file_url(root[:-len("/bot")] + "/file/bot")
        self.app: Application = builder.build()
        names = [c for c, _ in COMMANDS] + ["start"]
        self.app.add_handler(CommandHandler(names, self._on_command))
        self.app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self._on_text))
        self.app.add_handler(CallbackQueryHandler(self._on_button))
        self.app.add_error_handler(self._on_error)
        self._push_task: asyncio.Task | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (getMe), publish the command menu, start polling and the push of events."""
        await self.app.initialize()
        await self.app.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
        self._push_task = await self.core.start_push(lambda: self.chats, self._push_line, poll_s=self.push_poll_s)
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0.0, timeout=self.poll_timeout,
                                             allowed_updates=["message", "callback_query"])
        log.info("telegram bot @%s polling", self.app.bot.username)

    async def stop(self) -> None:
        if self._push_task is not None:
            self._push_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._push_task
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    def run(self) -> None:
        """Serve until Ctrl-C or SIGTERM (the ``smart0dte telegram`` command)."""
        serve_forever(self.start, self.stop)

    # --- handlers -------------------------------------------------------------------------------
    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        if user is None or chat is None or message is None or not message.text:
            return
        self._remember(user.id, chat.id)
        if self.core.is_allowed(user.id):  # the agent may take seconds: show "typing…"
            with contextlib.suppress(Exception):
                await self.app.bot.send_chat_action(chat.id, ChatAction.TYPING)
        reply = await self.core.ask(user.id, message.text, thread_id=f"tg:{chat.id}")
        await self.send(chat.id, reply)

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        if user is None or chat is None or message is None or not message.text:
            return
        self._remember(user.id, chat.id)
        head, _, rest = message.text.partition(" ")
        reply = await self.core.command(user.id, head, rest)
        await self.send(chat.id, reply)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.from_user is None or not query.data:
            return
        action, _, key = query.data.partition(":")
        refusal = self.core.claim(query.from_user.id, action, key)
        if refusal is not None:  # for the presser only; the message and its buttons stay as they are
            await query.answer(refusal.text[:200], show_alert=True)
            return
        await query.answer("Working on it…")
        message = query.message
        if message is not None:  # spend the buttons first: a second press finds none
            with contextlib.suppress(Exception):
                await query.edit_message_reply_markup(reply_markup=None)
        reply = await self.core.carry_out(query.from_user.id, action, key)
        if message is not None and getattr(message, "text", None):
            who = html.escape(query.from_user.first_name or str(query.from_user.id))
            text = f"{html.escape(message.text)}\n\n<b>{html.escape(reply.text)}</b> ({who})"
            with contextlib.suppress(Exception):
                await query.edit_message_text(text[:fmt.TELEGRAM_LIMIT], parse_mode=ParseMode.HTML, reply_markup=None)
                return
        if message is not None:
            await self.send(message.chat.id, reply)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %s", type(context.error).__name__, exc_info=context.error)
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None:
            with contextlib.suppress(Exception):
                await self.send(chat.id, fmt.error_reply(context.error or Exception(), "telegram"))

    # --- sending --------------------------------------------------------------------------------
    async def send(self, chat_id: int, reply: fmt.Reply) -> None:
        """Text (HTML, table in ``<pre>``, buttons as an inline keyboard), then the chart if any."""
        markup = None
        if reply.buttons:
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=f"{b.action}:{b.key}")
                                            for b in reply.buttons]])
        await self.app.bot.send_message(chat_id, fmt.telegram_html(reply), parse_mode=ParseMode.HTML,
                                        reply_markup=markup)
        picture = await self.core.picture(reply)
        if isinstance(picture, tuple):
            await self.app.bot.send_photo(chat_id, photo=picture[0], filename=picture[1],
                                          caption=reply.text.splitlines()[0][:200] if reply.text else None)
        elif picture:
            await self.app.bot.send_message(chat_id, picture)

    async def _push_line(self, chat_id: int, line: str) -> None:
        await self.app.bot.send_message(chat_id, line)

    def _remember(self, user_id: int, chat_id: int) -> None:
        if self.core.is_allowed(user_id):
            self.chats.add(chat_id)


class _RedactToken(logging.Filter):
    """The Bot API puts the token in every URL, and httpx logs URLs at INFO: never let it through."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token in record.getMessage():
            record.msg, record.args = record.getMessage().replace(self.token, "<bot-token>"), None
        return True


def _hide_token_in_logs(token: str) -> None:
    """Redact the token from httpx's own records and from everything reaching the root handlers
    (a logger's filter does not apply to its children's records; a handler's filter sees them all)."""
    targets: list[logging.Filterer] = [logging.getLogger("httpx"), *logging.getLogger().handlers]
    for target in targets:
        if not any(isinstance(f, _RedactToken) and f.token == token for f in target.filters):
            target.addFilter(_RedactToken(token))


def from_settings(engine: Any) -> TelegramBot:
    """The bot configured by settings; :class:`ValueError` with one clear line without a token."""
    s = engine.settings
    if s.telegram_bot_token is None or not s.telegram_bot_token.get_secret_value().strip():
        raise ValueError("SMART0DTE_TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and set it")
    if not s.telegram_allowed_users:
        log.warning("SMART0DTE_TELEGRAM_ALLOWED_USERS is empty: the bot will refuse everyone")
    return TelegramBot(engine, token=s.telegram_bot_token.get_secret_value(), allowed=s.telegram_allowed_users,
                       base_url=s.telegram_base_url)
