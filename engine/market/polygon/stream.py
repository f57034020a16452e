"""One supervised Polygon/Massive WebSocket connection (one market: stocks, options or indices).

Built on ``massive.WebSocketClient``, used only through its supported parameters:

* the endpoint: the client connects to ``ws[s]://{feed}/{market}``; ``feed`` is a host[:port]
  string and ``secure`` picks ``ws``/``wss``, so ``SMART0DTE_POLYGON_WS_URL`` (e.g.
  ``wss://socket.massive.com`` or our loopback ``ws://127.0.0.1:PORT``) maps onto them;
* ``raw=True``: frames come to us undecoded and :class:`FrameParser` decodes them (faster, and a
  malformed frame is counted and skipped instead of ending the client's loop);
* ``max_reconnects=0``: the client gives a lost connection back to us instead of reconnecting
  at once, so this supervisor owns the policy; ``reconnect_delays`` (passed through to
  ``websockets.connect``) makes failed connection attempts use the same backoff, and ``logger``
  (also passed through) masks the key in the library's DEBUG frame dumps.

Policy: exponential backoff with jitter (``base·2^n`` capped at ``max_delay``, each delay drawn
from ``[d/2, d]``), reset once a connection delivers market data (status messages alone do not
count: a server that keeps answering ``max_connections`` gets ever longer waits); the client re-sends the current
subscriptions on every new connection (we build it with ``subscriptions=``), so a reconnect
always resubscribes. Stale-stream detection: while the market is expected to send data
(``expect_data()``: by default the exchange is open), ``stale_after`` seconds without a frame
mark the stream stale and force a reconnect. A refused key ends the loop with one
:class:`AuthError`; no retry storm against a key that will not work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass

from engine.core.errors import AuthError
from engine.market.polygon.messages import FrameParser
from engine.market.polygon.rest import KEY_HINT, route_vendor_logs

log = logging.getLogger("smart0dte.polygon.stream")


class _Redact(logging.Filter):
    """Masks the API key in records of the WebSocket library (its DEBUG frame dumps include the
    ``auth`` message)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret:
            text = record.getMessage()
            if self.secret in text:
                record.msg, record.args = text.replace(self.secret, "**********"), None
        return True


def _wire_logger(market: str, secret: str) -> logging.Logger:
    """The logger handed to ``websockets`` for one market, with the key masked."""
    lg = logging.getLogger(f"smart0dte.polygon.wire.{market}")
    if not any(isinstance(f, _Redact) and f.secret == secret for f in lg.filters):
        lg.filters = [f for f in lg.filters if not isinstance(f, _Redact)]
        lg.addFilter(_Redact(secret))
    return lg


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits U[d/2, d], d = min(max_delay, base·2^n)."""

    base: float = 0.5
    max_delay: float = 30.0
    attempt: int = 0
    rng: random.Random | None = None

    def next(self) -> float:
        d = min(self.max_delay, self.base * (2 ** self.attempt))
        self.attempt += 1
        r = (self.rng or random).random()
        return d / 2 + r * d / 2

    def reset(self) -> None:
        self.attempt = 0

    def delays(self) -> Generator[float]:
        """Generator form for ``websockets.connect(reconnect_delays=...)``."""
        while True:
            yield self.next()


def split_ws_url(url: str | None) -> tuple[str, bool]:
    """``wss://socket.massive.com`` → (``socket.massive.com``, True); ``ws://h:p/`` → (``h:p``, False)."""
    if not url:
        return "socket.massive.com", True
    text = url.strip()
    secure = not text.startswith("ws://")
    host = text.split("://", 1)[-1].rstrip("/")
    for market in ("stocks", "options", "indices"):
        host = host.removesuffix("/" + market)
    return host, secure


class StreamConnection:
    """Keeps one market's WebSocket up and feeds decoded frames to ``on_frame``.

    ``on_raw(market, frame)``, if given, sees every raw frame first (the stream recorder).
    ``topics`` are vendor subscriptions (``Q.SPY``, ``T.SPY``, ``AM.SPY``, ``Q.O:SPY…``,
    ``V.I:VIX``). :meth:`run` loops until :meth:`stop` or a refused key (then :attr:`error` holds
    the :class:`AuthError` and ``run`` raises it).
    """

    def __init__(self, market: str, api_key: str, on_frame: Callable, *, ws_url: str | None = None,
                 stale_after: float = 15.0, backoff: Backoff | None = None,
                 expect_data: Callable[[], bool] | None = None, open_timeout: float = 10.0,
                 on_raw: Callable[[str, str | bytes], None] | None = None) -> None:
        self.market = market
        self._on_raw = on_raw
        self._key = api_key
        self._on_frame = on_frame
        self.host, self.secure = split_ws_url(ws_url)
        self.stale_after = stale_after
        self.backoff = backoff or Backoff()
        self.expect_data = expect_data or _exchange_open
        self.open_timeout = open_timeout
        self.parser = FrameParser(market)
        self.topics: set[str] = set()
        self.connects = 0
        self.disconnects = 0
        self.stale_events = 0
        self.handler_errors = 0
        self.connected = False
        self.stale = False
        self.error: AuthError | None = None
        self.last_frame = time.monotonic()
        self._client = None
        self._stopping = False
        self._got_data = False

    # --- subscriptions ----------------------------------------------------------------------------
    def subscribe(self, topics: Iterable[str]) -> None:
        new = set(topics) - self.topics
        self.topics |= new
        if new and self._client is not None:
            self._client.subscribe(*sorted(new))

    def unsubscribe(self, topics: Iterable[str]) -> None:
        gone = set(topics) & self.topics
        self.topics -= gone
        if gone and self._client is not None:
            self._client.unsubscribe(*sorted(gone))

    # --- loop -------------------------------------------------------------------------------------
    async def _process(self, raw: str | bytes) -> None:
        self.last_frame = time.monotonic()
        self.connected = True  # authenticated and receiving (the client consumes the handshake)
        self.stale = False
        if self._on_raw is not None:
            self._on_raw(self.market, raw)
        before = self.parser.stats.malformed
        frame = self.parser.parse(raw)
        if not self._got_data and (frame.quotes or frame.trades or frame.bars):
            self._got_data = True  # market data flowed: this connection was good, start backoff over
            self.backoff.reset()
        if self.parser.stats.malformed > before:
            log.warning("polygon %s: skipped %d malformed event(s) (total %d); e.g. %s", self.market,
                        self.parser.stats.malformed - before, self.parser.stats.malformed,
                        self.parser.stats.examples[-1] if self.parser.stats.examples else "?")
        for st in frame.statuses:
            if st.get("status") not in ("connected", "auth_success", "success"):
                log.warning("polygon %s server status %s: %s", self.market, st.get("status"), st.get("message"))
        try:
            self._on_frame(frame)
        except Exception:  # a consumer's bug must not tear the connection down
            self.handler_errors += 1
            log.exception("polygon %s: frame handler failed (the stream stays up)", self.market)

    async def _watchdog(self, client) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.stale_after / 4))
            if client.websocket is None:  # still connecting: the backoff governs, not staleness
                self.last_frame = time.monotonic()
                continue
            quiet = time.monotonic() - self.last_frame
            if self.topics and quiet > self.stale_after and self.expect_data():
                self.stale = True
                self.stale_events += 1
                log.warning("polygon %s stream stale: no data for %.0f s; reconnecting", self.market, quiet)
                await client.close()
                return

    async def run(self) -> None:
        from massive import WebSocketClient
        from massive.exceptions import AuthError as MassiveAuthError

        route_vendor_logs()
        while not self._stopping:
            client = WebSocketClient(api_key=self._key, feed=self.host, market=self.market, raw=True,
                                     subscriptions=sorted(self.topics), max_reconnects=0, secure=self.secure)
            self._client = client
            self._got_data = False
            self.connects += 1
            self.last_frame = time.monotonic()
            watchdog = asyncio.create_task(self._watchdog(client))
            try:
                await client.connect(self._process, reconnect_delays=self.backoff.delays,
                                     open_timeout=self.open_timeout, logger=_wire_logger(self.market, self._key))
            except MassiveAuthError:
                self.error = AuthError(KEY_HINT)
                log.error("polygon %s: %s", self.market, KEY_HINT)
                raise self.error from None
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - any transport failure means reconnect
                log.warning("polygon %s connection lost: %s", self.market, type(err).__name__)
            finally:
                self.connected = False
                watchdog.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watchdog
                self._client = None
            if self._stopping:
                break
            self.disconnects += 1
            delay = self.backoff.next()
            log.info("polygon %s reconnecting in %.2f s (attempt %d)", self.market, delay, self.backoff.attempt)
            await asyncio.sleep(delay)

    async def stop(self) -> None:
        self._stopping = True
        client = self._client
        if client is not None and client.websocket is not None:
            with contextlib.suppress(Exception):
                await client.close()


def _exchange_open() -> bool:
    from datetime import UTC, datetime

    from engine.market.calendar import is_open

    try:
        return is_open(datetime.now(UTC))
    except Exception:  # noqa: BLE001 - a calendar problem must not stop staleness checks
        return True
