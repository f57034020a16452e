"""Plotly figures for the web chat: backtest equity curve, strategy payoff, P&L scenario heat map.

Each builder takes plain data (a tool's output JSON, or a :class:`ScenarioGrid` as a dict) and
returns a ``plotly.graph_objects.Figure`` or ``None`` when there is nothing to draw. Plotly is
imported inside the builders: the module loads fast and the figures stay pure functions of data.
"""

from __future__ import annotations

from typing import Any

LAYOUT = {"template": "plotly_white", "height": 360, "margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


def equity_curve(out: dict) -> Any | None:
    """Account equity per session of a backtest (``equity_curve``) above its drawdown from the peak."""
    points = out.get("equity_curve") or []
    if not points:
        return None
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    dates = [p["date"] for p in points]
    equity = [float(p["equity"]) for p in points]
    peak, drawdown = float("-inf"), []
    for v in equity:
        peak = max(peak, v)
        drawdown.append(v - peak)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.06)
    fig.add_trace(go.Scatter(x=dates, y=equity, mode="lines+markers", name="Equity ($)", line={"width": 2},
                             marker={"size": 4}), row=1, col=1)
    fig.add_trace(go.Scatter(x=dates, y=drawdown, mode="lines", name="Drawdown ($)", fill="tozeroy",
                             line={"width": 1, "color": "rgba(214,39,40,0.8)"}), row=2, col=1)
    fig.update_yaxes(title_text="Equity ($)", row=1, col=1)
    fig.update_yaxes(title_text="Drawdown ($)", row=2, col=1)
    fig.update_layout(title=f"{out.get('strategy')} on {out.get('underlying')}: equity curve", showlegend=False,
                      **{**LAYOUT, "height": 440})
    return fig


def payoff(out: dict) -> Any | None:
    """P&L at expiry by underlying price, with spot and breakevens marked."""
    curve = out.get("curve") or []
    if not curve:
        return None
    import plotly.graph_objects as go

    xs = [float(p["spot"]) for p in curve]
    ys = [float(p["pnl"]) for p in curve]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=[max(y, 0) for y in ys], fill="tozeroy", mode="none", name="profit",
                             fillcolor="rgba(44,160,44,0.2)", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=xs, y=[min(y, 0) for y in ys], fill="tozeroy", mode="none", name="loss",
                             fillcolor="rgba(214,39,40,0.12)", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="P&L at expiry ($)", line={"width": 2, "color": "#1f77b4"}))
    if out.get("spot") is not None:
        fig.add_vline(x=float(out["spot"]), line_dash="dash", line_color="gray",
                      annotation_text=f"spot {float(out['spot']):.2f}", annotation_position="top")
    for b in out.get("breakevens") or []:
        fig.add_vline(x=float(b), line_dash="dot", line_color="orange", annotation_text=f"BE {float(b):.2f}",
                      annotation_position="bottom right" if b >= float(out.get("spot") or b) else "bottom left")
    fig.update_layout(title=f"{out.get('strategy')} on {out.get('underlying')}: payoff at expiry",
                      xaxis_title="Underlying at expiry", yaxis_title="P&L ($)", showlegend=False, **LAYOUT)
    return fig


def scenario_heatmap(grid: dict, title: str = "Book P&L by underlying move and vol shift") -> Any | None:
    """Heat map of ``ScenarioGrid.to_dict()``: rows = vol shift (points), columns = spot move (%)."""
    pnl = grid.get("pnl") or []
    if not pnl:
        return None
    import plotly.graph_objects as go

    xs = [f"{m:+.1f}%" for m in grid["spot_moves_pct"]]
    ys = [f"{v:+.0f} vol" for v in grid["vol_moves_pts"]]
    bound = max((abs(v) for row in pnl for v in row), default=1.0) or 1.0
    fig = go.Figure(go.Heatmap(z=pnl, x=xs, y=ys, colorscale="RdYlGn", zmin=-bound, zmax=bound,
                               text=[[f"{v:,.0f}" for v in row] for row in pnl], texttemplate="%{text}",
                               colorbar={"title": "P&L $"},
                               hovertemplate="spot %{x}, %{y}: %{z:,.2f} $<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="Underlying move", yaxis_title="IV shift", **LAYOUT)
    return fig


def greeks_bars(out: dict) -> Any | None:
    """Portfolio Greeks per underlying as a heat map (rows underlyings, columns Greeks)."""
    by = out.get("by_underlying") or {}
    if not by:
        return None
    import plotly.graph_objects as go

    cols = (("delta_dollars", "Δ $"), ("gamma_dollars_1pct", "Γ $/1%"), ("vega_per_point", "Vega $/pt"),
            ("theta_per_day", "Θ $/day"))
    names = list(by)
    z = [[float(by[u].get(k) or 0.0) for k, _ in cols] for u in names]
    # Colour by sign and size within each Greek (units differ between columns).
    scale = [max(abs(row[j]) for row in z) or 1.0 for j in range(len(cols))]
    zn = [[row[j] / scale[j] for j in range(len(cols))] for row in z]
    fig = go.Figure(go.Heatmap(z=zn, x=[label for _, label in cols], y=names, colorscale="RdBu", zmin=-1, zmax=1,
                               text=[[f"{v:,.0f}" for v in row] for row in z], texttemplate="%{text}",
                               showscale=False, hovertemplate="%{y} %{x}: %{text}<extra></extra>"))
    fig.update_layout(title="Portfolio Greeks by underlying", **{**LAYOUT, "height": 120 + 50 * len(names)})
    return fig
