"""Rich rendering of quotes and chains, and the live dashboard (``smart0dte dashboard``).

Imported only by the commands that print tables, so JSON calls never load rich's machinery.
"""

from __future__ import annotations

import asyncio
import math

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

QUOTE_SYMBOLS = ("SPY", "QQQ", "IWM", "VIX")


def console() -> Console:
    """A console; when output is piped, wide enough for a full chain row (rich defaults to 80)."""
    c = Console()
    return c if c.is_terminal else Console(width=170)


def show(renderable) -> None:
    console().print(renderable)


def _num(x, fmt: str = "{:.2f}") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return fmt.format(x)


def _change(last: float | None, prev: float | None) -> Text:
    if last is None or not prev:
        return Text("—")
    d = last - prev
    style = "green" if d > 0 else ("red" if d < 0 else "")
    return Text(f"{d:+.2f} ({d / prev:+.2%})", style=style)


def quote_table(quotes, prev_close: dict[str, float | None] | None = None, title: str = "Quotes") -> Table:
    t = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
    for col in ("symbol", "bid", "ask", "last", "size", "change", "time (ET)", "session", "source"):
        t.add_column(col, justify="right" if col not in ("symbol", "source") else "left")
    prev_close = prev_close or {}
    for q in quotes:
        t.add_row(q.symbol, _num(q.bid), _num(q.ask), _num(q.last), f"{q.bid_size}×{q.ask_size}",
                  _change(q.last, prev_close.get(q.symbol)), q.ts.astimezone(_ny()).strftime("%H:%M:%S"),
                  str(q.session or ""), q.source)
    return t


def _ny():
    from engine.core.clock import NY

    return NY


def chain_table(ch, strikes: int) -> Table:
    """Calls left, strike centre, puts right — the layout of a broker's chain screen."""
    title = (f"{ch.underlying} {ch.expiry.isoformat()} chain — spot {ch.spot:.2f} at "
             f"{ch.ts.astimezone(_ny()).strftime('%Y-%m-%d %H:%M:%S ET')}")
    t = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
    side_cols = ("bid", "ask", "iv", "delta", "gamma", "theta", "vol", "OI")
    for c in side_cols:
        t.add_column(f"C {c}", justify="right", style="green" if c in ("bid", "ask") else None)
    t.add_column("strike", justify="center", style="bold")
    for c in reversed(side_cols):
        t.add_column(f"P {c}", justify="right", style="red" if c in ("bid", "ask") else None)
    rows = ch.rows(strikes)
    by_strike: dict[float, dict[str, dict]] = {}
    for r in rows:
        by_strike.setdefault(r["strike"], {})[r["right"]] = r
    atm = ch.atm_strike()

    def cells(r: dict | None) -> list[str]:
        if r is None:
            return [""] * len(side_cols)
        return [_num(r["bid"]), _num(r["ask"]), _num(r["iv"], "{:.1%}"), _num(r["delta"], "{:+.2f}"),
                _num(r["gamma"], "{:.3f}"), _num(r["theta"], "{:.2f}"), _num(r["volume"], "{:,}"),
                _num(r["open_interest"], "{:,}")]

    for k in sorted(by_strike):
        pc = cells(by_strike[k].get("put"))
        t.add_row(*cells(by_strike[k].get("call")), Text(f"{k:g}", style="reverse" if k == atm else ""),
                  *reversed(pc))
    return t


class DashboardState:
    """Fetches one frame's data from the engine."""

    def __init__(self, engine, underlying: str, strikes: int) -> None:
        self.engine = engine
        self.underlying = underlying.upper()
        self.strikes = strikes
        self._prev: dict[str, float | None] = {}
        self._prev_session = None

    async def frame(self):
        market = self.engine.market
        quotes = await market.quotes(list(QUOTE_SYMBOLS))
        session = quotes[0].session
        if session != self._prev_session:
            self._prev = {s: await market.previous_close(s, session) for s in QUOTE_SYMBOLS}
            self._prev_session = session
        from engine.core.errors import Smart0DTEError

        try:
            chain = await market.chain(self.underlying, "0dte")
            chain_view = chain_table(chain, self.strikes)
        except Smart0DTEError as err:  # e.g. no expiry today: show why instead of dying
            chain_view = Text(f"{self.underlying} 0DTE chain unavailable: {err}", style="yellow")
        trail = await self._intraday(market, session)
        now = quotes[0].ts.astimezone(_ny())  # the instant the frame's quotes show
        mode = _clock_mode(market)
        header = Text.assemble(("Smart-0DTE ", "bold cyan"), ("market dashboard  ", "bold"),
                               (f"{now:%Y-%m-%d %H:%M:%S} ET  ", ""), (f"session {session}  ", "magenta"),
                               (mode, "dim"))
        body = Group(header, quote_table(quotes, self._prev, title="Underlyings"), trail, chain_view,
                     Text("Ctrl-C to exit", style="dim"))
        return Panel(body, box=box.ROUNDED)

    async def _intraday(self, market, session) -> Text:
        """A sparkline of the chain's underlying over the session so far (one-minute closes)."""
        from datetime import timedelta

        from engine.core.errors import Smart0DTEError
        from engine.market import calendar

        start = calendar.session_open(session)
        end = min(market.now(), calendar.session_close(session))
        try:
            bars = await market.bars(self.underlying, start, end) if end > start else []
        except Smart0DTEError:
            bars = []
        closes = [b.close for b in bars if b.start + timedelta(seconds=b.interval_s) <= end]
        if len(closes) < 2:
            return Text(f"{self.underlying} today: waiting for the first minute", style="dim")
        lo, hi = min(closes), max(closes)
        return Text.assemble((f"{self.underlying} today ", "bold"), (sparkline(closes, 78), "cyan"),
                             (f"  lo {lo:.2f}  hi {hi:.2f}", "dim"))


def sparkline(values: list[float], width: int) -> str:
    """``values`` squeezed into ``width`` block characters (last value of each bucket)."""
    blocks = "▁▂▃▄▅▆▇█"
    n = len(values)
    picked = [values[min(n - 1, (i + 1) * n // width - 1)] for i in range(min(width, n))]
    lo, hi = min(picked), max(picked)
    span = hi - lo or 1.0
    return "".join(blocks[min(7, int((v - lo) / span * 8))] for v in picked)


def _clock_mode(market) -> str:
    from engine.market.clock_factory import SessionMirrorClock

    clock = market.clock
    if isinstance(clock, SessionMirrorClock):
        return "replaying the last session (market closed)" if clock.mirroring else "live (wall time)"
    speed = getattr(market.settings, "sim_speed", 1.0)
    return f"feed {market.settings.feed}, simulated time ×{speed:g}"


async def _dashboard(once: bool, refresh: float, underlying: str, strikes: int) -> None:
    from agent.cli.common import get_engine

    engine = get_engine()
    out = console()
    try:
        state = DashboardState(engine, underlying, strikes)
        if once:
            out.print(await state.frame())
            return
        with Live(await state.frame(), console=out, refresh_per_second=4, screen=False) as live:
            while True:
                await asyncio.sleep(refresh)
                live.update(await state.frame())
    finally:
        await engine.close()


def run_dashboard(*, once: bool, refresh: float, underlying: str, strikes: int) -> None:
    """Run until Ctrl-C (or one frame with ``once``); Ctrl-C ends quietly with exit code 0."""
    try:
        asyncio.run(_dashboard(once, refresh, underlying, strikes))
    except KeyboardInterrupt:
        console().print("[dim]dashboard stopped[/dim]")
