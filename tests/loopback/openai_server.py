"""A loopback OpenAI-compatible server (Chat Completions, streaming and tool calls), scripted per test.

Tests drive it with the REAL ``openai`` client (through LangChain's ``ChatOpenAI``)::

    with OpenAIServer([call("quote", {"symbol": "SPY"}), answer_from_tool()]) as srv:
        settings = load_settings(openai_base_url=srv.base_url, openai_api_key="sk-test-...")

Each POST ``/v1/chat/completions`` consumes the next *step* of the script. A step is a dict
(``{"content": "..."}``, ``{"tool_calls": [{"name", "arguments"}]}`` or an API error
``{"status": 401, "message": "..."}``) or a callable that gets the
request body and returns such a dict — so a step can read the tool results the client sent back.
Every request body is recorded in :attr:`OpenAIServer.requests` (tests assert on what reached the
model: envelopes, no secrets). With ``"stream": true`` the reply is server-sent events in
OpenAI's chunk format, content split into small pieces and tool-call arguments streamed in parts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Step = dict | Callable[[dict], dict]


def call(name: str, arguments: dict | str, *more: tuple[str, dict]) -> dict:
    """A step that asks for one (or more) tool calls."""
    calls = [{"name": name, "arguments": arguments}] + [{"name": n, "arguments": a} for n, a in more]
    return {"tool_calls": calls}


def say(text: str) -> dict:
    return {"content": text}


def tool_messages(body: dict) -> list[dict]:
    """The tool results the client sent in this request, oldest first."""
    return [m for m in body.get("messages", []) if m.get("role") == "tool"]


def last_tool_json(body: dict) -> dict:
    """The JSON payload inside the envelope of the latest tool result."""
    content = tool_messages(body)[-1]["content"]
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content)
    start, end = content.index("{"), content.rindex("}") + 1
    return json.loads(content[start:end])


class OpenAIServer:
    """Context manager running the scripted server on 127.0.0.1 (a free port)."""

    def __init__(self, script: list[Step] | None = None, *, model: str = "loopback-model") -> None:
        self.script: list[Step] = list(script or [])
        self.model = model
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._n = 0

    # --- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> OpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                step = server._next(body, {k.lower(): v for k, v in self.headers.items()})
                if step is None:
                    self._json(500, {"error": {"message": "script exhausted", "type": "server_error"}})
                    return
                if "status" in step:  # {"status": 401, "message": ...}: an API error reply
                    self._json(step["status"], {"error": {"message": step.get("message", "error"),
                                                          "type": step.get("type", "invalid_request_error"),
                                                          "code": step.get("code")}})
                    return
                if body.get("stream"):
                    self._stream(body, step)
                else:
                    self._json(200, server._completion(step))

            def _json(self, code: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict, step: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for chunk in server._chunks(step, include_usage=bool((body.get("stream_options") or {})
                                                                     .get("include_usage"))):
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def add(self, *steps: Step) -> None:
        with self._lock:
            self.script.extend(steps)

    # --- replies ---------------------------------------------------------------------------------
    def _next(self, body: dict, headers: dict) -> dict | None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if not self.script:
                return None
            step = self.script.pop(0)
            self._n += 1
        return step(body) if callable(step) else step

    def _tool_calls(self, step: dict) -> list[dict]:
        out = []
        for i, tc in enumerate(step.get("tool_calls") or []):
            args = tc["arguments"] if isinstance(tc["arguments"], str) else json.dumps(tc["arguments"])
            out.append({"id": tc.get("id") or f"call_{self._n}_{i}", "type": "function",
                        "function": {"name": tc["name"], "arguments": args}})
        return out

    def _completion(self, step: dict) -> dict:
        calls = self._tool_calls(step)
        message: dict[str, Any] = {"role": "assistant", "content": step.get("content")}
        if calls:
            message["tool_calls"] = calls
        return {"id": f"chatcmpl-{self._n}", "object": "chat.completion", "created": int(time.time()),
                "model": self.model, "choices": [{"index": 0, "message": message, "logprobs": None,
                                                  "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}

    def _chunks(self, step: dict, *, include_usage: bool) -> list[dict]:
        base = {"id": f"chatcmpl-{self._n}", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": self.model}

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

        out = [chunk({"role": "assistant", "content": ""})]
        text = step.get("content") or ""
        for i in range(0, len(text), 7):
            out.append(chunk({"content": text[i:i + 7]}))
        calls = self._tool_calls(step)
        for i, tc in enumerate(calls):
            out.append(chunk({"tool_calls": [{"index": i, "id": tc["id"], "type": "function",
                                              "function": {"name": tc["function"]["name"], "arguments": ""}}]}))
            args = tc["function"]["arguments"]
            for j in range(0, len(args), 11):
                out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": args[j:j + 11]}}]}))
        out.append(chunk({}, "tool_calls" if calls else "stop"))
        if include_usage:
            out.append({**base, "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                                         "total_tokens": 15}})
        return out
