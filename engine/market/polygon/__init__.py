"""Polygon/Massive market data through the official ``massive`` client (REST + WebSocket).

Public surface: ``PolygonFeed(settings)`` (the ``Feed``), ``PolygonRest(api_key, base_url)``,
``StreamConnection``/``Backoff`` (one supervised WebSocket), ``FrameParser`` (fast frame decoding),
``StreamRecorder``/``read_recording`` (raw stream recordings, ``*.polygon.tsv``).
"""

from engine.market.polygon.feed import PolygonFeed
from engine.market.polygon.messages import FrameParser, ParseStats, our_symbol, vendor_topic
from engine.market.polygon.recording import StreamRecorder, read_recording
from engine.market.polygon.rest import PolygonRest, chain_from_snapshots
from engine.market.polygon.stream import Backoff, StreamConnection, split_ws_url

__all__ = ["Backoff", "FrameParser", "ParseStats", "PolygonFeed", "PolygonRest", "StreamConnection",
           "StreamRecorder", "chain_from_snapshots", "our_symbol", "read_recording", "split_ws_url",
           "vendor_topic"]
