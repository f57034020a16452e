"""Plotly payoff diagram of a structure, for chat and reports (no browser needed to build it)."""

from __future__ import annotations

from engine.strategies.payoff import Payoff


def payoff_figure(p: Payoff, *, spot: float | None = None, title: str | None = None):
    """A ``plotly.graph_objects.Figure``: P&L at expiry against spot, breakevens and spot marked."""
    import plotly.graph_objects as go

    s = p.structure
    legs = ", ".join(f"{'+' if leg.qty > 0 else ''}{leg.qty} {leg.strike:g}{leg.right[0].upper()}" for leg in s.legs)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=p.spots, y=p.pnl, mode="lines", name="P&L at expiry",
                             line={"color": "#1f77b4", "width": 2},
                             hovertemplate="spot %{x:.2f}<br>P&L $%{y:,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=p.spots, y=[max(v, 0) for v in p.pnl], fill="tozeroy", mode="none",
                             fillcolor="rgba(44,160,44,0.18)", showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=p.spots, y=[min(v, 0) for v in p.pnl], fill="tozeroy", mode="none",
                             fillcolor="rgba(214,39,40,0.18)", showlegend=False, hoverinfo="skip"))
    fig.add_hline(y=0, line={"color": "gray", "width": 1})
    for be in p.breakevens:
        fig.add_vline(x=be, line={"color": "gray", "dash": "dot"}, annotation_text=f"BE {be:.2f}")
    if spot is not None:
        fig.add_vline(x=spot, line={"color": "black", "dash": "dash"}, annotation_text=f"spot {spot:.2f}")
    mp = "unlimited" if p.max_profit is None else f"${p.max_profit:,.0f}"
    ml = "unlimited" if p.max_loss is None else f"${p.max_loss:,.0f}"
    fig.update_layout(
        title=title or f"{s.underlying} {s.name.replace('_', ' ')} ×{p.quantity}: {legs}<br>"
                       f"<sup>max profit {mp} · max loss {ml} · margin ${p.margin:,.0f}</sup>",
        xaxis_title=f"{s.underlying} at expiry", yaxis_title="P&L ($)", template="plotly_white",
        hovermode="x")
    return fig
