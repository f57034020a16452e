"""A loopback fake of the Slack Web API, driven by the REAL slack_sdk ``AsyncWebClient`` inside
slack-bolt, plus the Slack side of HTTP mode: signed events, slash commands and button presses.

    with SlackAPI(bot_token) as api:                       # AsyncWebClient(base_url=api.base_url)
        await post_signed(bot_url, secret, *event("U1", "quote SPY"))      # a DM to the bot
        msg = api.wait_for(lambda m: "SPY" in m["text"])                    # what the bot posted

Web API methods: auth.test, chat.postMessage, chat.update, chat.postEphemeral,
files.getUploadURLExternal, files.completeUploadExternal (the upload URL it hands out is on this
server too). JSON, form-encoded and query parameters are accepted, as slack_sdk sends each; a
wrong bot token gets ``invalid_auth`` like Slack. Every call is kept in :attr:`calls`;
:attr:`messages` holds what the bot posted, updates applied.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.loopback.http_base import QuietHandler, serve

TEAM, BOT_USER, BOT_ID = "T0LOOP", "U0BOT", "B0BOT"


class SlackAPI:
    """Context manager running the fake on 127.0.0.1 (a free port) for ``bot_token``."""

    def __init__(self, bot_token: str, app_token: str | None = None) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.socket: SocketModeServer | None = None   # started on the first apps.connections.open
        self.calls: list[tuple[str, dict]] = []
        self.messages: dict[str, dict] = {}      # ts → message the bot posted (updated in place)
        self.ephemeral: list[dict] = []
        self.responses: list[dict] = []          # bodies POSTed to a command's response URL
        self.not_member: set[str] = set()        # channels the bot was never invited to
        self.files: dict[str, dict] = {}         # file id → {"name", "length", "data", "channel"}
        self._seq = 0
        self._cond = threading.Condition()

    # --- what tests look at --------------------------------------------------------------------
    def wait_for(self, pred: Callable[[dict], bool], timeout: float = 20.0, *, pool: str = "messages") -> dict:
        """The first posted message (``pool="messages"``), ephemeral message or uploaded file
        (``pool="files"``) matching ``pred``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                items = {"messages": lambda: list(self.messages.values()), "ephemeral": lambda: list(self.ephemeral),
                         "files": lambda: list(self.files.values()), "responses": lambda: list(self.responses)}[pool]()
                for item in items:
                    if pred(item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s; calls {[c[0] for c in self.calls]}; "
                                         f"messages {[m.get('text') for m in self.messages.values()]}")
                self._cond.wait(left)

    def in_channel(self, channel: str) -> list[dict]:
        with self._cond:
            return [m for m in self.messages.values() if m["channel"] == channel]

    # --- the Web API ---------------------------------------------------------------------------
    def handle(self, method: str, params: dict, token: str | None) -> dict:
        if method == "apps.connections.open":  # the one method called with the app-level token
            if not self.app_token or token != self.app_token:
                return {"ok": False, "error": "invalid_auth"}
            with self._cond:
                self.calls.append((method, {}))
                if self.socket is None:
                    self.socket = SocketModeServer().start()
                return {"ok": True, "url": self.socket.url}
        if token != self.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        fn = getattr(self, "_m_" + method.replace(".", "_"), None)
        if fn is None:
            return {"ok": False, "error": "unknown_method"}
        with self._cond:
            self.calls.append((method, params))
            try:
                return {"ok": True, **fn(params)}
            except KeyError as err:
                return {"ok": False, "error": f"invalid_arguments: missing {err.args[0]}"}
            finally:
                self._cond.notify_all()

    def _ts(self) -> str:
        self._seq += 1
        return f"{int(time.time())}.{self._seq:06d}"

    def _m_auth_test(self, p: dict) -> dict:
        return {"url": "https://loopback.slack.com/", "team": "Loopback", "user": "smart0dte", "team_id": TEAM,
                "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _m_chat_postMessage(self, p: dict) -> dict:
        if not p.get("text") and not p.get("blocks"):
            raise KeyError("text")
        if p["channel"] in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        ts = self._ts()
        blocks = p.get("blocks")
        msg = {"type": "message", "channel": p["channel"], "ts": ts, "text": p.get("text", ""), "user": BOT_USER,
               "bot_id": BOT_ID, "blocks": json.loads(blocks) if isinstance(blocks, str) else (blocks or []),
               "thread_ts": p.get("thread_ts")}
        self.messages[ts] = msg
        return {"channel": p["channel"], "ts": ts, "message": msg}

    def _m_chat_update(self, p: dict) -> dict:
        msg = self.messages.get(p["ts"])
        if msg is None or msg["channel"] != p["channel"]:
            return {"ok": False, "error": "message_not_found"}
        blocks = p.get("blocks")
        msg.update(text=p.get("text", msg["text"]), edited=True,
                   blocks=json.loads(blocks) if isinstance(blocks, str) else (blocks or []))
        return {"channel": p["channel"], "ts": p["ts"], "text": msg["text"]}

    def _m_chat_postEphemeral(self, p: dict) -> dict:
        self.ephemeral.append({"channel": p["channel"], "user": p["user"], "text": p.get("text", "")})
        return {"message_ts": self._ts()}

    def _m_files_getUploadURLExternal(self, p: dict) -> dict:
        file_id = f"F{self._seq + 1:08d}"
        self._seq += 1
        self.files[file_id] = {"id": file_id, "name": p["filename"], "length": int(p["length"]), "data": None}
        return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, p: dict) -> dict:
        items = json.loads(p["files"]) if isinstance(p["files"], str) else p["files"]
        out = []
        for item in items:
            f = self.files[item["id"]]
            if f["data"] is None or len(f["data"]) != f["length"]:
                return {"ok": False, "error": "file_upload_incomplete"}
            f.update(title=item.get("title"), channel=p.get("channel_id"), shared=True)
            out.append({"id": f["id"], "name": f["name"], "title": f["title"]})
        return {"files": out}

    def upload(self, file_id: str, data: bytes) -> bool:
        with self._cond:
            f = self.files.get(file_id)
            if f is None:
                return False
            f["data"] = data
            self._cond.notify_all()
            return True

    # --- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> SlackAPI:
        api = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                if url.path.startswith("/upload/"):
                    ok = api.upload(url.path.rsplit("/", 1)[1], raw)
                    return self.reply(200 if ok else 404, b"OK - " + str(len(raw)).encode(), "text/plain")
                if url.path.startswith("/respond/"):
                    with api._cond:
                        api.responses.append(json.loads(raw or b"{}"))
                        api._cond.notify_all()
                    return self.reply(200, b"ok", "text/plain")
                if not url.path.startswith("/api/"):
                    return self.reply(404, b"not found", "text/plain")
                params: dict[str, Any] = dict(parse_qsl(url.query))
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("application/json"):
                    params.update(json.loads(raw or b"{}"))
                elif raw:
                    params.update(parse_qsl(raw.decode()))
                auth = self.headers.get("Authorization", "")
                token = auth[7:] if auth.startswith("Bearer ") else params.pop("token", None)
                self.reply(200, json.dumps(api.handle(url.path[len("/api/"):], params, token)).encode())

        self._server = serve(Handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.socket is not None:
            self.socket.stop()
        self._server.shutdown()
        self._server.server_close()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root + "/api/"


class SocketModeServer:
    """Slack's side of Socket Mode: a WebSocket at :attr:`url` (handed out by apps.connections.open)
    that says ``hello``, delivers envelopes (:meth:`send`) and records the bot's acks."""

    def __init__(self) -> None:
        self.acks: dict[str, dict] = {}
        self._cond = threading.Condition()
        self._ws: Any = None
        self._seq = 0

    def start(self) -> SocketModeServer:
        import asyncio

        from aiohttp import WSMsgType, web

        async def link(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0LOOP"},
                                "debug_info": {"host": "loopback", "approximate_connection_time": 3600}})
            with self._cond:
                self._ws = ws
                self._cond.notify_all()
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    with self._cond:
                        self.acks[data.get("envelope_id", "")] = data
                        self._cond.notify_all()
            return ws

        started = threading.Event()

        def serve() -> None:
            self.loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_get("/link", link)
            self._runner = web.AppRunner(app)
            self.loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.url = f"ws://127.0.0.1:{self._runner.addresses[0][1]}/link"
            started.set()
            self.loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        started.wait(10)
        return self

    def send(self, body_and_type: tuple[bytes, str], timeout: float = 20.0) -> str:
        """Deliver what HTTP mode would POST (:func:`dm_event`, :func:`slash_command`,
        :func:`button_press`) as a Socket Mode envelope; returns its id."""
        import asyncio

        kind, payload = as_envelope(*body_and_type)
        with self._cond:
            if not self._cond.wait_for(lambda: self._ws is not None, timeout):
                raise AssertionError("the bot never connected over Socket Mode")
            self._seq += 1
            envelope_id = f"env-{self._seq}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": ""}
        asyncio.run_coroutine_threadsafe(self._ws.send_json(envelope), self.loop).result(timeout)
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 20.0) -> dict:
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was never acknowledged")
            return self.acks[envelope_id]

    def stop(self) -> None:
        import asyncio

        async def down() -> None:
            if self._ws is not None:
                await self._ws.close()
            await self._runner.cleanup()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(down(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


def as_envelope(body: bytes, content_type: str) -> tuple[str, dict]:
    """The Socket Mode envelope type and payload of an HTTP-mode request body."""
    if content_type.startswith("application/json"):
        return "events_api", json.loads(body)
    form = dict(parse_qsl(body.decode()))
    if "payload" in form:
        return "interactive", json.loads(form["payload"])
    return "slash_commands", form


# --- the Slack side of HTTP mode: what Slack POSTs to the bot ----------------------------------------
def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``X-Slack-Signature``: ``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, content_type: str, *, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(secret, ts, body),
            "Content-Type": content_type}


_EVENT_SEQ = iter(range(1, 1_000_000))


def dm_event(user: str, text: str, channel: str | None = None) -> tuple[bytes, str]:
    """An Events API ``message`` in the user's DM with the bot (body, content type)."""
    n = next(_EVENT_SEQ)
    body = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0LOOP", "type": "event_callback",
            "event_id": f"Ev{n:08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            "event": {"type": "message", "channel_type": "im", "channel": channel or f"D{user}", "user": user,
                      "text": text, "ts": f"{time.time():.6f}", "event_ts": f"{time.time():.6f}"}}
    return json.dumps(body).encode(), "application/json"


def mention_event(user: str, text: str, channel: str = "C0TRADING") -> tuple[bytes, str]:
    """An ``app_mention``: ``user`` wrote ``<@bot> text`` in ``channel`` (answered in a thread)."""
    n = next(_EVENT_SEQ)
    ts = f"{time.time():.6f}"
    body = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0LOOP", "type": "event_callback",
            "event_id": f"Ev{n:08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            "event": {"type": "app_mention", "channel": channel, "user": user, "text": f"<@{BOT_USER}> {text}",
                      "ts": ts, "event_ts": ts}}
    return json.dumps(body).encode(), "application/json"


def slash_command(user: str, command: str, text: str = "", channel: str = "C0TRADING",
                  response_url: str = "https://hooks.slack.invalid/commands/1") -> tuple[bytes, str]:
    form = {"token": "legacy", "team_id": TEAM, "team_domain": "loopback", "channel_id": channel,
            "channel_name": "trading", "user_id": user, "user_name": user.lower(), "command": command, "text": text,
            "api_app_id": "A0LOOP", "response_url": response_url, "trigger_id": "1.2.3"}
    return urlencode(form).encode(), "application/x-www-form-urlencoded"


def button_press(user: str, message: dict, action_id: str) -> tuple[bytes, str]:
    """A ``block_actions`` payload: ``user`` pressed the button ``action_id`` on the bot's ``message``."""
    button = next(e for b in message["blocks"] if b.get("type") == "actions" for e in b["elements"]
                  if e["action_id"] == action_id)
    payload = {"type": "block_actions", "team": {"id": TEAM, "domain": "loopback"},
               "user": {"id": user, "username": user.lower(), "team_id": TEAM}, "api_app_id": "A0LOOP",
               "token": "legacy", "trigger_id": "1.2.3", "response_url": "https://hooks.slack.invalid/actions/1",
               "container": {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"]},
               "channel": {"id": message["channel"], "name": "dm"}, "message": message,
               "actions": [{"type": "button", "action_id": action_id, "block_id": "smart0dte_ticket",
                            "value": button["value"], "text": button["text"], "action_ts": f"{time.time():.6f}"}]}
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
