"""Polygon frame decoding, symbol mapping, backoff and WebSocket URL handling (no network)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime

import pytest

from engine.core.marketdata import Bar, Quote, Trade
from engine.market.polygon import Backoff, FrameParser, our_symbol, split_ws_url, vendor_topic

T = 1_763_656_200_000  # 2025-11-20 16:30:00 UTC = 11:30 New York


def q(sym, bp, ap, t=T, **kw):
    return {"ev": "Q", "sym": sym, "bx": 4, "bp": bp, "bs": 2, "ax": 7, "ap": ap, "as": 3, "c": 0, "i": [604],
            "t": t, "q": 1, "z": 3, **kw}


def test_stock_frame_conflates_quotes_and_keeps_trades_and_bars():
    p = FrameParser("stocks")
    frame = p.parse(json.dumps([
        q("SPY", 600.0, 600.02), q("QQQ", 500.0, 500.01), q("SPY", 600.01, 600.03, T + 5),
        {"ev": "T", "sym": "SPY", "x": 4, "i": "1", "z": 3, "p": 600.02, "s": 100, "c": [0], "t": T + 6, "q": 9},
        {"ev": "AM", "sym": "SPY", "v": 4110, "av": 9, "op": 1.0, "vw": 600.0, "o": 599.9, "c": 600.1, "h": 600.2,
         "l": 599.8, "a": 1.0, "z": 5, "s": T - 60_000, "e": T},
        {"ev": "status", "status": "success", "message": "subscribed to: Q.SPY"},
    ]))
    assert set(frame.quotes) == {"SPY", "QQQ"}
    spy = frame.quotes["SPY"]
    assert isinstance(spy, Quote) and (spy.bid, spy.ask) == (600.01, 600.03)
    assert (spy.bid_size, spy.ask_size) == (200, 300)  # round lots -> shares
    assert spy.ts == datetime.fromtimestamp((T + 5) / 1000, UTC) and spy.source == "polygon"
    assert spy.session == date(2025, 11, 20)
    assert spy == Quote("SPY", 600.01, 600.03, spy.ts, 200, 300, None, "polygon", date(2025, 11, 20))
    with pytest.raises(AttributeError):
        spy.bid = 1.0  # still frozen
    (trade,) = frame.trades
    assert isinstance(trade, Trade) and (trade.price, trade.size) == (600.02, 100)
    (bar,) = frame.bars
    assert isinstance(bar, Bar) and bar.start.strftime("%H:%M") == "11:29" and bar.vwap == 600.0
    assert p.stats.quotes == 2 and p.stats.events == 6 and p.stats.statuses == 1 and p.stats.malformed == 0
    assert len(frame.events()) == 4


def test_option_and_index_symbols_map_to_ours():
    opt = FrameParser("options").parse(json.dumps([q("O:SPY251120C00600000", 1.2, 1.25)]))
    (o,) = opt.quotes.values()
    assert o.symbol == "SPY251120C00600000" and o.bid_size == 2  # contracts, not lots
    idx = FrameParser("indices").parse(json.dumps([{"ev": "V", "val": 17.25, "T": "I:VIX", "t": T}]))
    v = idx.quotes["VIX"]
    assert (v.bid, v.ask, v.last, v.mid) == (17.25, 17.25, 17.25, 17.25)
    assert our_symbol("O:SPY251120C00600000") == "SPY251120C00600000" and our_symbol("SPY") == "SPY"
    assert vendor_topic("SPY") == ("stocks", "SPY")
    assert vendor_topic("^VIX") == ("indices", "I:VIX")
    assert vendor_topic("SPY   251120P00590000") == ("options", "O:SPY251120P00590000")


@pytest.mark.parametrize("bad", [
    {"ev": "Q", "sym": "SPY"},
    {"ev": "Q", "sym": "SPY", "bp": "600", "ap": 600.1, "t": T},
    {"ev": "Q", "sym": "SPY", "bp": 600.0, "ap": 600.1, "t": "now"},
    {"ev": "Q", "sym": 7, "bp": 600.0, "ap": 600.1, "t": T},
    {"ev": "Q", "sym": "SPY", "bp": -1.0, "ap": 600.1, "t": T},
    {"ev": "Q", "sym": "SPY", "bp": 600.0, "ap": 600.1, "t": T, "bs": "lots"},
    {"ev": "Q", "sym": "SPY", "bp": 600.0, "ap": 600.1, "t": T, "as": -3},
    {"ev": "T", "sym": "SPY", "p": 0, "s": 1, "t": T},
    {"ev": "AM", "sym": "SPY", "o": 2, "h": 1, "l": 1, "c": 1, "v": 1, "s": T},
    {"ev": "XYZ"},
    {"no": "ev"},
    ["nested"],
    None,
])
def test_malformed_events_are_counted_and_the_rest_used(bad):
    p = FrameParser("stocks")
    frame = p.parse(json.dumps([bad, q("SPY", 600.0, 600.02)]))
    assert p.stats.malformed == 1 and p.stats.examples
    assert frame.quotes["SPY"].bid == 600.0


def test_nan_and_infinity_prices_are_malformed():
    p = FrameParser("stocks", loads=json.loads)  # stdlib json accepts the NaN/Infinity tokens
    frame = p.parse('[{"ev":"Q","sym":"SPY","bp":NaN,"ap":1.0,"t":1},{"ev":"Q","sym":"QQQ","bp":1.0,'
                    '"ap":Infinity,"t":1},{"ev":"Q","sym":"IWM","bp":1.0,"ap":1.01,"t":1},'
                    '{"ev":"T","sym":"SPY","p":NaN,"s":1,"t":1},'
                    '{"ev":"AM","sym":"SPY","o":NaN,"h":1,"l":1,"c":1,"v":1,"s":1},'
                    '{"ev":"AM","sym":"SPY","o":1,"h":Infinity,"l":1,"c":1,"v":1,"s":1}]')
    assert set(frame.quotes) == {"IWM"} and not frame.trades and not frame.bars and p.stats.malformed == 5
    idx = FrameParser("indices", loads=json.loads)
    assert not idx.parse('[{"ev":"V","val":NaN,"T":"I:VIX","t":1}]').quotes and idx.stats.malformed == 1


def test_frames_that_are_not_json_or_not_arrays():
    p = FrameParser("stocks")
    assert not p.parse("not json").quotes
    assert not p.parse(b'[{"ev": "Q"').quotes
    assert not p.parse("42").quotes
    assert p.stats.malformed == 3 and p.stats.frames == 3
    single = p.parse(json.dumps(q("SPY", 1.0, 1.01)))  # a bare object is accepted as a one-event frame
    assert "SPY" in single.quotes


def test_parser_accepts_a_custom_decoder_and_bytes():
    p = FrameParser("stocks", loads=json.loads)
    assert p.parse(json.dumps([q("SPY", 1.0, 1.01)]).encode()).quotes["SPY"].ask == 1.01


def test_backoff_grows_with_jitter_and_resets():
    b = Backoff(base=0.5, max_delay=4.0, rng=random.Random(3))
    delays = [b.next() for _ in range(8)]
    caps = [min(4.0, 0.5 * 2 ** i) for i in range(8)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, caps, strict=True))
    assert len({round(d, 6) for d in delays[4:]}) > 1  # jittered, not a fixed schedule
    b.reset()
    assert b.next() <= 0.5
    gen = Backoff(base=1.0, max_delay=2.0, rng=random.Random(1)).delays()
    assert all(0.5 <= next(gen) <= 2.0 for _ in range(5))


def test_split_ws_url():
    assert split_ws_url(None) == ("socket.massive.com", True)
    assert split_ws_url("wss://delayed.massive.com/") == ("delayed.massive.com", True)
    assert split_ws_url("ws://127.0.0.1:8765") == ("127.0.0.1:8765", False)
    assert split_ws_url("ws://127.0.0.1:8765/stocks") == ("127.0.0.1:8765", False)


def test_recording_round_trip_and_bad_lines(tmp_path):
    from engine.core.errors import InvalidInput
    from engine.market.polygon.recording import StreamRecorder, is_recording, read_recording

    path = tmp_path / "x.polygon.tsv"
    rec = StreamRecorder(path)
    rec.write("stocks", json.dumps([q("SPY", 1.0, 1.01)]), recv_ms=5)
    rec.write("indices", b'[{"ev":"V","val":17.0,"T":"I:VIX","t":1}]', recv_ms=6)
    rec.close()
    rec.write("stocks", "[]", recv_ms=7)  # reopens and appends
    rec.close()
    rows = list(read_recording(path))
    assert [(ms, m) for ms, m, _ in rows] == [(5, "stocks"), (6, "indices"), (7, "stocks")]
    assert FrameParser("stocks").parse(rows[0][2]).quotes["SPY"].bid == 1.0
    assert is_recording(path) and not is_recording(tmp_path / "x.csv")
    path.write_text("5\tstocks\t[]\nnot a recording line\n")
    with pytest.raises(InvalidInput, match="line 2"):
        list(read_recording(path))


@pytest.mark.parametrize("body, kind, text", [
    ('{"status":"ERROR","request_id":"x","error":"Unknown API Key"}', "AuthError", "SMART0DTE_POLYGON_API_KEY"),
    ('{"status":"ERROR","request_id":"x","error":"API Key was not provided"}', "AuthError", "refused"),
    ('{"status":"NOT_AUTHORIZED","request_id":"x","message":"You are not entitled to this data."}', "FeedError",
     "not entitled"),
    ('{"status":"NOT_FOUND","request_id":"x","message":"Data not found."}', "NoData", "no data for SPY chain"),
    ("<html>502 Bad Gateway</html>", "FeedError", "502 Bad Gateway"),
])
def test_vendor_error_bodies_map_to_typed_errors(body, kind, text):
    from engine.market.polygon.rest import _error_from_body

    err = _error_from_body(body, "SPY chain")
    assert type(err).__name__ == kind and text in str(err)
