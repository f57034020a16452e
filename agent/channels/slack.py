"""The Slack bot (slack-bolt, asyncio): ``smart0dte slack``.

Two ways in: HTTP mode (Events API, slash commands and interactivity POSTed to ``/slack/events``;
every request must carry a valid ``X-Slack-Signature`` made with the signing secret and a fresh
``X-Slack-Request-Timestamp``, anything else gets 401 and runs nothing), or Socket Mode when an
app-level token is set (no public URL). Direct messages and @mentions go to the agent; the slash
commands ``/quote /chain /positions /pnl /risk /halt /help`` run directly; a staged order comes as
Block Kit with Confirm/Cancel buttons, and only that button, pressed by an allow-listed user,
confirms — the message is updated at once so its buttons are gone. Fills, stop-outs,
auto-flatten, expiries and kill-switch changes are pushed to the allow-listed users' DMs and the
channels where they used the bot.

Settings: ``SMART0DTE_SLACK_BOT_TOKEN`` (xoxb-, required), ``SMART0DTE_SLACK_SIGNING_SECRET``
(HTTP mode) or ``SMART0DTE_SLACK_APP_TOKEN`` (xapp-, Socket Mode), ``SMART0DTE_SLACK_ALLOWED_USERS``
(JSON list of user ids like ``["U0123ABC"]``), ``SMART0DTE_SLACK_API_URL`` (another Web API base).
The Slack app itself (slash commands, scopes, event subscriptions, interactivity) is created from
``agent/channels/slack_manifest.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import Iterable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent.channels import format as fmt
from agent.channels.core import COMMANDS, ChannelCore, serve_forever

log = logging.getLogger("smart0dte.slack")

SLASH_COMMANDS = [*COMMANDS, "halt", "help"]
_MENTION = re.compile(r"<@[A-Z0-9]+>\s*")


class SlackBot:
    """The bot over one engine. ``signing_secret`` for HTTP mode; ``app_token`` for Socket Mode."""

    def __init__(self, engine: Any, *, bot_token: str, allowed: Iterable[str], signing_secret: str | None = None,
                 app_token: str | None = None, api_url: str | None = None, llm: Any = "auto", charts: bool = True,
                 push_poll_s: float = 0.25) -> None:
        if not signing_secret and not app_token:
            raise ValueError("Slack needs SMART0DTE_SLACK_SIGNING_SECRET (HTTP mode) or SMART0DTE_SLACK_APP_TOKEN "
                             "(Socket Mode)")
        self.core = ChannelCore(engine, "slack", allowed, llm=llm, charts=charts)
        self.app_token = app_token
        self.push_poll_s = push_poll_s
        # Push targets: each allow-listed user's DM (posting to a user id opens it until we learn its
        # D… channel id, so one person never gets a line twice) and the channels they used us in.
        self.dms: dict[str, str] = {u: u for u in self.core.allowed}
        self.channels: set[str] = set()
        client = AsyncWebClient(token=bot_token, **({"base_url": api_url.rstrip("/") + "/"} if api_url else {}))
        self.app = AsyncApp(client=client, signing_secret=signing_secret or "",
                            request_verification_enabled=bool(signing_secret) and not app_token,
                            process_before_response=False, logger=log)
        self._seen: deque[str] = deque(maxlen=512)  # event ids: Slack retries deliveries it thinks were lost
        self._tasks: set[asyncio.Task] = set()
        self._runner: Any = None
        self._socket: Any = None
        self.port: int | None = None
        self._register()

    # --- listeners ------------------------------------------------------------------------------
    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_mention)
        for name in SLASH_COMMANDS:
            app.command(f"/{name}")(self._on_command)
        app.action("smart0dte_confirm")(self._on_button)
        app.action("smart0dte_cancel")(self._on_button)
        app.error(self._on_error)

    async def _on_message(self, event: dict, body: dict) -> None:
        # Direct messages only: in channels the bot answers @mentions (app_mention), not every line.
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or self._repeat(body):
            return
        await self._converse(event)

    async def _on_mention(self, event: dict, body: dict) -> None:
        if not event.get("bot_id") and not self._repeat(body):
            await self._converse(event, _MENTION.sub("", event.get("text") or "").strip())

    async def _converse(self, event: dict, text: str | None = None) -> None:
        user, channel = event.get("user"), event["channel"]
        thread = event.get("thread_ts") or (None if event.get("channel_type") == "im" else event.get("ts"))
        self._remember(user, channel)
        reply = await self.core.ask(user, text if text is not None else event.get("text") or "",
                                    thread_id=f"slack:{channel}:{thread or ''}")
        await self.send(channel, reply, thread_ts=thread)

    async def _on_command(self, ack: Any, command: dict, respond: Any) -> None:
        user, name = command.get("user_id"), command.get("command", "")
        if not self.core.is_allowed(user):
            await ack(self.core.refuse(user, name).text)  # only the stranger sees it (ephemeral)
            return
        await ack()
        self._remember(user, command["channel_id"])
        reply = await self.core.command(user, name, command.get("text") or "")
        try:
            await self.send(command["channel_id"], reply)
        except SlackApiError as err:  # e.g. not_in_channel: answer through the command's response URL
            log.warning("could not post to %s (%s); answering the command privately", command["channel_id"],
                        err.response.get("error"))
            await respond(text=reply.plain()[:3000], blocks=fmt.slack_blocks(reply))

    async def _on_button(self, ack: Any, body: dict, action: dict) -> None:
        await ack()
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        message = body.get("message") or {}
        verb = "confirm" if action.get("action_id") == "smart0dte_confirm" else "cancel"
        key = str(action.get("value") or "")
        refusal = self.core.claim(user, verb, key)
        if refusal is not None:  # for the presser only; the message and its buttons stay as they are
            await self.app.client.chat_postEphemeral(channel=channel, user=user, text=refusal.text)
            return
        text, kept = message.get("text") or "", _without_actions(message.get("blocks"))
        with contextlib.suppress(Exception):  # spend the buttons first: a second press finds none
            await self.app.client.chat_update(channel=channel, ts=message["ts"], text=text,
                                              blocks=[*kept, fmt.slack_note("⏳ working…")])
        reply = await self.core.carry_out(user, verb, key)
        # Slack renders <@U…> as the person's name: who pressed is part of the record in the chat.
        await self.app.client.chat_update(channel=channel, ts=message["ts"], text=f"{text}\n{reply.text}",
                                          blocks=[*kept, fmt.slack_note(reply.text), _pressed_by(user)])

    async def _on_error(self, error: Exception, body: dict) -> None:
        """A listener crashed: log it, and tell the person in words rather than leave them waiting."""
        log.error("slack listener failed: %s", type(error).__name__, exc_info=error)
        event = body.get("event") or {}
        channel = event.get("channel") or body.get("channel_id") or (body.get("channel") or {}).get("id")
        if channel:
            with contextlib.suppress(Exception):
                await self.send(channel, fmt.error_reply(error, "slack"))

    def _repeat(self, body: dict) -> bool:
        event_id = body.get("event_id")
        if event_id and event_id in self._seen:
            return True
        if event_id:
            self._seen.append(event_id)
        return False

    def _remember(self, user: Any, channel: str) -> None:
        if self.core.is_allowed(user):
            if channel.startswith("D"):
                self.dms[str(user)] = channel
            else:
                self.channels.add(channel)

    # --- sending --------------------------------------------------------------------------------
    async def send(self, channel: str, reply: fmt.Reply, *, thread_ts: str | None = None) -> None:
        """Block Kit message (text fallback for notifications), then the chart as an uploaded file."""
        await self.app.client.chat_postMessage(channel=channel, text=reply.plain()[:3000], blocks=fmt.slack_blocks(reply),
                                               thread_ts=thread_ts, unfurl_links=False)
        picture = await self.core.picture(reply)
        if isinstance(picture, tuple):
            await self.app.client.files_upload_v2(channel=channel, content=picture[0], filename=picture[1],
                                                  title=reply.text.splitlines()[0][:120] if reply.text else "chart",
                                                  thread_ts=thread_ts)
        elif picture:
            await self.app.client.chat_postMessage(channel=channel, text=picture, thread_ts=thread_ts)

    def _push_targets(self) -> set[str]:
        return set(self.dms.values()) | self.channels

    async def _push_line(self, channel: str, line: str) -> None:
        await self.app.client.chat_postMessage(channel=channel, text=line)

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 3000) -> None:
        """Check the token (auth.test), start the push of events, then serve HTTP or Socket Mode."""
        auth = await self.app.client.auth_test()
        log.info("slack bot %s in team %s", auth.get("user"), auth.get("team"))
        self._tasks.add(await self.core.start_push(self._push_targets, self._push_line, poll_s=self.push_poll_s))
        if self.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.app_token, web_client=self.app.client)
            await self._socket.connect_async()
            return
        from aiohttp import web

        self._runner = web.AppRunner(self.app.web_app(path="/slack/events", port=port))
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("slack events endpoint on http://%s:%s/slack/events", host, self.port)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()

    def run(self, host: str = "127.0.0.1", port: int = 3000) -> None:
        """Serve until Ctrl-C or SIGTERM (the ``smart0dte slack`` command)."""
        serve_forever(lambda: self.start(host, port), self.stop)


def _pressed_by(user: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"pressed by <@{user}>"}]}


def _without_actions(blocks: list[dict] | None) -> list[dict]:
    return [b for b in blocks or [] if b.get("type") != "actions"]


def from_settings(engine: Any) -> SlackBot:
    """The bot configured by settings; :class:`ValueError` with one clear line when its token, or
    both the signing secret and the app token, are missing."""
    s = engine.settings

    def secret(value: Any) -> str | None:
        return (value.get_secret_value().strip() or None) if value is not None else None

    token = secret(s.slack_bot_token)
    if not token:
        raise ValueError("SMART0DTE_SLACK_BOT_TOKEN is not set: install the Slack app and set its xoxb- bot token")
    if not s.slack_allowed_users:
        log.warning("SMART0DTE_SLACK_ALLOWED_USERS is empty: the bot will refuse everyone")
    return SlackBot(engine, bot_token=token, allowed=s.slack_allowed_users, signing_secret=secret(s.slack_signing_secret),
                    app_token=secret(s.slack_app_token), api_url=s.slack_api_url)
