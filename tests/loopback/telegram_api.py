"""A loopback fake of the Telegram Bot API, driven by the REAL python-telegram-bot.

Point PTB at it with ``ApplicationBuilder().base_url(api.base_url).base_file_url(api.file_url)``.
It serves ``/bot<token>/<method>`` for getMe, deleteWebhook, getUpdates (long poll), sendMessage,
sendPhoto, editMessageText, editMessageReplyMarkup, answerCallbackQuery, setMyCommands and
sendChatAction, accepting PTB's form-encoded and multipart requests; a wrong token gets 401 like
the real server. Tests play the people::

    with TelegramAPI(token) as api:
        api.user_says(42, "/quote SPY")                  # an update from user 42 in their private chat
        msg = api.wait_for(lambda m: "SPY" in m["text"]) # what the bot sent (dict), waiting on a condition
        api.press(42, msg, "confirm:T123")               # a callback query on that message's button

Every bot call is kept in :attr:`calls` (method, params); :attr:`messages` holds the chat as the
server sees it, edits applied.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from tests.loopback.http_base import QuietHandler, serve

_INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout"}


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Form-encoded, multipart or JSON parameters as Telegram reads them; uploaded files apart."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if content_type.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[name] = payload
            else:
                params[name] = payload.decode()
    elif content_type.startswith("application/json"):
        params = json.loads(body or b"{}")
    else:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    for key, value in list(params.items()):
        if isinstance(value, str) and value[:1] in "{[":
            params[key] = json.loads(value)
        elif key in _INT_FIELDS and isinstance(value, str) and value.lstrip("-").isdigit():
            params[key] = int(value)
    return params, files


class TelegramAPI:
    """Context manager running the fake on 127.0.0.1 (a free port) for the bot ``token``."""

    def __init__(self, token: str, *, bot_id: int = 777000, username: str = "smart0dte_test_bot") -> None:
        self.token = token
        self.bot = {"id": bot_id, "is_bot": True, "first_name": "Smart-0DTE", "username": username,
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
        self.calls: list[tuple[str, dict]] = []
        self.messages: dict[int, dict] = {}          # message_id → message the bot sent (edited in place)
        self.photos: dict[int, bytes] = {}
        self.commands: list[dict] = []
        self.callback_answers: list[dict] = []
        self._updates: list[dict] = []
        self._next_update = 1
        self._next_message = 1
        self._cond = threading.Condition()

    # --- the people's side -------------------------------------------------------------------
    def user_says(self, user_id: int, text: str, chat_id: int | None = None) -> dict:
        """A message from ``user_id`` (a command when it starts with ``/``)."""
        with self._cond:
            message = {"message_id": self._new_message_id(), "date": int(time.time()), "text": text,
                       "chat": self._chat(chat_id or user_id), "from": self._user(user_id)}
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            return self._push({"message": message})

    def press(self, user_id: int, message: dict, data: str) -> dict:
        """``user_id`` presses the inline button with callback ``data`` on the bot's ``message``."""
        with self._cond:
            query = {"id": f"cq{self._next_update}", "from": self._user(user_id), "chat_instance": "ci",
                     "message": self.messages.get(message["message_id"], message), "data": data}
            return self._push({"callback_query": query})

    def wait_for(self, pred: Callable[[dict], bool], timeout: float = 20.0, *, kind: str = "message") -> dict:
        """The first message the bot sent (``kind="message"``) or call it made (``kind="call"``,
        ``pred`` gets ``(method, params)``) that matches, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                pool = list(self.messages.values()) if kind == "message" else self.calls
                for item in pool:
                    if (pred(item) if kind == "message" else pred(*item)):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s; bot calls: {[c[0] for c in self.calls]}; "
                                         f"messages: {[m.get('text') or m.get('caption') for m in self.messages.values()]}")
                self._cond.wait(left)

    def sent_to(self, chat_id: int) -> list[dict]:
        with self._cond:
            return [m for m in self.messages.values() if m["chat"]["id"] == chat_id]

    # --- server internals --------------------------------------------------------------------
    def _user(self, user_id: int) -> dict:
        return {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}

    def _chat(self, chat_id: int) -> dict:
        return {"id": chat_id, "type": "private" if chat_id > 0 else "group"}

    def _new_message_id(self) -> int:
        self._next_message += 1
        return self._next_message

    def _push(self, update: dict) -> dict:
        update["update_id"] = self._next_update
        self._next_update += 1
        self._updates.append(update)
        self._cond.notify_all()
        return update

    def handle(self, method: str, params: dict, files: dict[str, bytes]) -> Any:
        with self._cond:
            self.calls.append((method, params))
            self._cond.notify_all()
        if method == "getUpdates":
            return self._get_updates(params)
        with self._cond:
            try:
                result = getattr(self, f"_m_{method}")(params, files)
            finally:
                self._cond.notify_all()
            return result

    def _get_updates(self, p: dict) -> list[dict]:
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]  # offset confirms older ones
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return self._updates[:limit]

    def _m_getMe(self, p: dict, f: dict) -> dict:
        return self.bot

    def _m_deleteWebhook(self, p: dict, f: dict) -> bool:
        return True

    def _m_setMyCommands(self, p: dict, f: dict) -> bool:
        self.commands = list(p.get("commands") or [])
        return True

    def _m_sendChatAction(self, p: dict, f: dict) -> bool:
        return True

    def _m_answerCallbackQuery(self, p: dict, f: dict) -> bool:
        self.callback_answers.append(p)
        return True

    def _new_message(self, p: dict, **content: Any) -> dict:
        msg = {"message_id": self._new_message_id(), "date": int(time.time()), "chat": self._chat(int(p["chat_id"])),
               "from": self.bot, **content}
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        self.messages[msg["message_id"]] = msg
        return msg

    def _m_sendMessage(self, p: dict, f: dict) -> dict:
        msg = self._new_message(p, text=p["text"])
        msg["parse_mode"] = p.get("parse_mode")  # kept for tests; not part of a real Message
        return msg

    def _m_sendPhoto(self, p: dict, f: dict) -> dict:
        data = f.get("photo") or b""
        if not data.startswith(b"\x89PNG"):
            raise _BadRequest("photo: expected an uploaded PNG")
        msg = self._new_message(p, photo=[{"file_id": f"ph{len(self.photos)}", "file_unique_id": "u",
                                           "width": 1200, "height": 800, "file_size": len(data)}],
                                caption=p.get("caption"))
        self.photos[msg["message_id"]] = data
        return msg

    def _edited(self, p: dict) -> dict:
        msg = self.messages.get(int(p.get("message_id") or 0))
        if msg is None or msg["chat"]["id"] != int(p.get("chat_id") or 0):
            raise _BadRequest("message to edit not found")
        return msg

    def _m_editMessageText(self, p: dict, f: dict) -> dict:
        msg = self._edited(p)
        msg["text"] = p["text"]
        msg["edit_date"] = int(time.time())
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        else:
            msg.pop("reply_markup", None)  # an edit without a keyboard removes it, as on Telegram
        return msg

    def _m_editMessageReplyMarkup(self, p: dict, f: dict) -> dict:
        msg = self._edited(p)
        if p.get("reply_markup") and p["reply_markup"].get("inline_keyboard"):
            msg["reply_markup"] = p["reply_markup"]
        else:
            msg.pop("reply_markup", None)
        return msg

    # --- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> TelegramAPI:
        api = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) != 2 or parts[0] != f"bot{api.token}":
                    return self._send(401 if parts[0].startswith("bot") else 404,
                                      {"ok": False, "error_code": 401, "description": "Unauthorized"})
                method = parts[1]
                if not hasattr(api, f"_m_{method}") and method != "getUpdates":
                    return self._send(404, {"ok": False, "error_code": 404, "description": "Not Found: method"})
                try:
                    params, files = parse_body(self.headers.get("Content-Type", ""), body)
                    result = api.handle(method, params, files)
                except _BadRequest as err:
                    return self._send(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {err}"})
                self._send(200, {"ok": True, "result": result})

            def _send(self, status: int, payload: dict) -> None:
                self.reply(status, json.dumps(payload).encode())

        self._server = serve(Handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/file/bot"


class _BadRequest(Exception):
    pass
