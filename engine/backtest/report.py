"""The backtest report: one self-contained plotly HTML page, and a PNG of its charts for chat.

The page holds the summary statistics, the equity curve, the drawdown, the per-session P&L,
the distribution of trade P&L, and the trades table. plotly.js is written once next to the
reports and referenced relatively, so every page opens offline and stays small. The PNG is rendered by kaleido 1.x, which drives a Chromium through
choreographer: we pass the browser explicitly (``settings.backtest.browser_path``, Debian's
``/usr/bin/chromium``) rather than letting it search ``BROWSER_PATH``/``PATH`` or a browser
downloaded by ``kaleido.get_chrome()`` (never used here). MathJax is disabled (it would be
fetched from a CDN).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from engine.backtest.metrics import drawdown


class PngExportError(RuntimeError):
    """Why the PNG could not be written (missing browser, kaleido failure), in one line."""


def build_figure(result):
    """Four charts of one :class:`~engine.backtest.service.BacktestResult`."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    days = [d.isoformat() for d in result.days]
    eq = np.asarray(result.equity, dtype=float)
    dd, _ = drawdown(eq, result.capital)
    pnl = np.asarray(result.daily_pnl, dtype=float)
    trade_pnl = [float(t.pnl) for t in result.trades]
    fig = make_subplots(rows=2, cols=2, subplot_titles=("Equity", "Drawdown", "P&L per session",
                                                         "Trade P&L distribution"),
                        vertical_spacing=0.14, horizontal_spacing=0.08)
    fig.add_trace(go.Scatter(x=days, y=eq, mode="lines", name="equity", line={"color": "#1f77b4"}), 1, 1)
    fig.add_trace(go.Scatter(x=days, y=dd, mode="lines", fill="tozeroy", name="drawdown",
                             line={"color": "#d62728"}), 1, 2)
    fig.add_trace(go.Bar(x=days, y=pnl, name="session P&L",
                         marker_color=np.where(pnl >= 0, "#2ca02c", "#d62728").tolist()), 2, 1)
    fig.add_trace(go.Histogram(x=trade_pnl, nbinsx=min(60, max(10, len(trade_pnl) // 3)),
                               name="trade P&L", marker_color="#9467bd"), 2, 2)
    m = result.metrics
    pf = "n/a" if m.profit_factor is None else f"{m.profit_factor:.2f}"
    sh = "n/a" if m.sharpe is None else f"{m.sharpe:.2f}"
    fig.update_layout(
        title=f"{result.underlying} {result.strategy.replace('_', ' ')} {result.start}..{result.end} "
              f"({result.data})<br><sup>{m.trades} trades · P&L ${m.total_pnl:,.0f} · win "
              f"{(m.win_rate or 0):.0%} · PF {pf} · Sharpe {sh} · max DD ${m.max_drawdown:,.0f}</sup>",
        template="plotly_white", showlegend=False, height=800, width=1200)
    return fig


def _table(result) -> str:
    head = ("day", "entry", "exit", "legs", "qty", "entry px", "exit px", "fees", "P&L", "reason")
    rows = []
    for t in result.trades:
        legs = " ".join(f"{'+' if leg['qty'] > 0 else ''}{leg['qty']}{leg['right'][0].upper()}{leg['strike']:g}"
                        for leg in t.legs)
        cells = (t.day, t.entry_time, t.exit_time, legs, t.quantity, t.entry_price, t.exit_price, t.fees,
                 t.pnl, t.exit_reason)
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return ("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _summary(result) -> str:
    from collections import Counter

    def shown(v):
        return "n/a" if v is None else f"{v:,.4g}" if isinstance(v, float) else v
    sources = Counter(result.iv_sources)
    items = {**{k: shown(v) for k, v in result.metrics.to_dict().items()}, "data": result.data,
             "iv source": ", ".join(f"{k} ({n} sessions)" for k, n in sorted(sources.items())),
             "sessions": len(result.days)}
    return "<dl>" + "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>"
                            for k, v in items.items()) + "</dl>"


def write_html(result, path: Path) -> Path:
    """Write the report page (plotly.js embedded: opens without network)."""
    fig = build_figure(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    _plotly_js(path.parent)
    chart = fig.to_html(full_html=False, include_plotlyjs="directory")
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Backtest {html.escape(result.strategy)} {html.escape(result.underlying)}</title>
<style>body{{font-family:sans-serif;margin:24px}} table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ddd;padding:3px 6px;text-align:right}} dl{{display:grid;grid-template-columns:
max-content auto;gap:2px 16px}} dt{{font-weight:bold}}</style></head><body>
<h1>{html.escape(result.underlying)} {html.escape(result.strategy)} backtest</h1>
{_summary(result)}{chart}<h2>Trades</h2>{_table(result)}
<p>Option prices: {html.escape(result.data)}. {html.escape(' '.join(result.notes))}</p></body></html>"""
    path.write_text(page, encoding="utf-8")
    return path


def _plotly_js(folder: Path) -> None:
    """plotly.js once per report folder (reports reference it relatively: small files, offline)."""
    target = folder / "plotly.min.js"
    if not target.is_file():
        from plotly.offline import get_plotlyjs

        tmp = target.with_suffix(".tmp")
        tmp.write_text(get_plotlyjs(), encoding="utf-8")
        tmp.replace(target)


def write_png(fig, path: Path, browser: Path) -> Path:
    """Render ``fig`` to PNG with kaleido driving ``browser``; :class:`PngExportError` if impossible."""
    if not Path(browser).is_file():
        raise PngExportError(f"no Chromium at {browser} (set SMART0DTE_BACKTEST__BROWSER_PATH)")
    try:
        import kaleido
    except ImportError as err:
        raise PngExportError(f"kaleido is not installed: {err}") from None
    try:
        kaleido.write_fig_sync(fig, path=str(path), opts={"format": "png", "width": 1200, "height": 800},
                               kopts={"path": str(browser), "mathjax": False})
    except Exception as err:  # kaleido/choreographer raise many types; the caller reports the reason
        raise PngExportError(f"kaleido could not render with {browser}: {type(err).__name__}: {err}") from None
    if not path.is_file():
        raise PngExportError(f"kaleido returned without writing {path}")
    return path
