"""1-minute bar CSV import: real eqker file, other layouts, and all-or-nothing validation."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from engine.core.clock import NY
from engine.core.errors import InvalidInput
from engine.market.bars import read_minute_csv

HEADER = "datetime,open,high,low,close,volume\n"


def _write(tmp_path, text: str, name: str = "bars.csv", newline: str = "\n"):
    p = tmp_path / name
    p.write_bytes(text.replace("\n", newline).encode())
    return p


def test_eqker_spy_newest_first_end_labelled(shared_data):
    frame = read_minute_csv(os.path.join(shared_data, "eqker", "SPY_1min.csv"), "SPY")
    assert len(frame) == 1950
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    # labelled by END in the file (first 09:31, last 16:00) -> START 09:30 .. 15:59
    assert frame.index[0] == datetime(2019, 2, 11, 9, 30, tzinfo=NY)
    assert frame.index[-1] == datetime(2019, 2, 15, 15, 59, tzinfo=NY)
    assert str(frame.index.tz) == "America/New_York"
    # the file's first data row (2019-02-15 16:00 end) is our last bar
    last = frame.iloc[-1]
    assert (last.open, last.high, last.low, last.close, last.volume) == (277.27, 277.4, 277.19, 277.39, 2689895)
    assert frame.loc[datetime(2019, 2, 11, 13, 9, tzinfo=NY), "volume"] == 0  # the one zero-volume minute
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame["volume"].dtype.kind == "i"


def test_start_labelled_file_is_not_shifted(tmp_path):
    p = _write(tmp_path, HEADER + "2024-03-01 09:30:00,10,11,9.5,10.5,100\n2024-03-01 09:31:00,10.5,10.6,10.4,10.5,50\n"
               "2024-03-01 15:59:00,10,10,10,10,1")
    frame = read_minute_csv(p)
    assert frame.index[0] == datetime(2024, 3, 1, 9, 30, tzinfo=NY)
    assert frame.index[-1] == datetime(2024, 3, 1, 15, 59, tzinfo=NY)


def test_explicit_label_end_shifts(tmp_path):
    p = _write(tmp_path, HEADER + "2024-03-01 10:00:00,10,11,9.5,10.5,100\n2024-03-01 10:01:00,10,11,9.5,10.5,100\n"
               "2024-03-01 10:02:00,10,11,9.5,10.5,100")
    assert read_minute_csv(p, label="end").index[0] == datetime(2024, 3, 1, 9, 59, tzinfo=NY)
    assert read_minute_csv(p).index[0] == datetime(2024, 3, 1, 10, 0, tzinfo=NY)


@pytest.mark.parametrize("text", [
    # date + time columns, capitalized names, semicolons, CRLF
    "Date;Time;Open;High;Low;Close;Volume\n2024-03-01;09:30;10;11;9.5;10.5;100\n2024-03-01;09:31;10.5;10.6;10.4;10.5;50\n"
    "2024-03-01;09:32;10.5;10.6;10.4;10.5;50\n",
    # epoch milliseconds (UTC) and o/h/l/c/v names with an extra vwap column
    "t,o,h,l,c,v,vw\n1709303400000,10,11,9.5,10.5,100,10.2\n1709303460000,10.5,10.6,10.4,10.5,50,10.5\n"
    "1709303520000,10.5,10.6,10.4,10.5,50,10.5",
    # ISO 8601 with offset, thousands separators in quoted volume, a symbol column
    'timestamp,symbol,open,high,low,close,volume\n2024-03-01T09:30:00-05:00,SPY,10,11,9.5,10.5,"1,100"\n'
    '2024-03-01T09:31:00-05:00,SPY,10.5,10.6,10.4,10.5,50\n2024-03-01T09:32:00-05:00,SPY,10.5,10.6,10.4,10.5,50\n',
    # US dates with 12-hour times
    "Date,Time,Open,High,Low,Close,Volume\n03/01/2024,9:30 AM,10,11,9.5,10.5,100\n"
    "03/01/2024,9:31 AM,10.5,10.6,10.4,10.5,50\n03/01/2024,9:32 AM,10.5,10.6,10.4,10.5,50\n",
    # MetaStock/Finam style <DATE>/<TIME>
    "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>\nSPY,1,20240301,093000,10,11,9.5,10.5,100\n"
    "SPY,1,20240301,093100,10.5,10.6,10.4,10.5,50\nSPY,1,20240301,093200,10.5,10.6,10.4,10.5,50\n",
])
def test_common_layouts(tmp_path, text):
    frame = read_minute_csv(_write(tmp_path, text, newline="\r\n"), "SPY")
    assert len(frame) == 3
    assert frame.index[0] == datetime(2024, 3, 1, 9, 30, tzinfo=NY)
    assert frame.iloc[0].open == 10 and frame.iloc[0].high == 11


@pytest.mark.parametrize("row, reason", [
    ("2024-03-01 09:31:00,10,9,9.5,10.5,100", "high 9 is below"),
    ("2024-03-01 09:31:00,10,11,10.6,10.5,100", "low 10.6 is above"),
    ("2024-03-01 09:31:00,10,11,9.5,abc,100", "close 'abc' is not a number"),
    ("2024-03-01 09:31:00,10,11,9.5,10.5,-5", "volume -5"),
    ("2024-03-01 09:31:00,10,11,9.5,10.5,1.5", "volume 1.5"),
    ("2024-03-01 09:31:00,0,11,0,10.5,1", "prices must be positive"),
    ("2024-03-01 09:31:30,10,11,9.5,10.5,1", "not on a whole minute"),
    ("yesterday,10,11,9.5,10.5,1", "is not a date and time"),
    ("2024-03-01 09:31:00,10,11,9.5", "has 4 fields, header has 6"),
    ("2024-03-01 09:31:00,10,11,9.5,,1", "close is empty"),
])
def test_one_bad_row_rejects_the_file_with_row_and_reason(tmp_path, row, reason):
    text = HEADER + "2024-03-01 09:30:00,10,11,9.5,10.5,100\n" + row + "\n2024-03-01 09:32:00,10,11,9.5,10.5,1"
    with pytest.raises(InvalidInput) as info:
        read_minute_csv(_write(tmp_path, text))
    msg = info.value.message
    assert "row 2 (line 3)" in msg and reason in msg


def test_duplicate_minute_names_both_rows(tmp_path):
    text = HEADER + "2024-03-01 09:30:00,10,11,9.5,10.5,100\n2024-03-01 09:31:00,10,11,9.5,10.5,1\n" \
        "2024-03-01 09:30:00,10,11,9.5,10.5,1\n"
    with pytest.raises(InvalidInput, match=r"row 3: duplicate bar 2024-03-01 09:30 \(also row 1\)"):
        read_minute_csv(_write(tmp_path, text))


def test_symbol_column_must_match(tmp_path):
    text = "time,symbol,open,high,low,close,volume\n2024-03-01 09:30,QQQ,10,11,9.5,10.5,1\n"
    with pytest.raises(InvalidInput, match="symbol 'QQQ' is not SPY"):
        read_minute_csv(_write(tmp_path, text), "SPY")


def test_other_bar_sizes_and_empty_files_are_refused(shared_data, tmp_path):
    with pytest.raises(InvalidInput, match="15 minutes apart"):
        read_minute_csv(os.path.join(shared_data, "eqker", "SPY_15min.csv"))
    with pytest.raises(InvalidInput, match="daily bars"):
        read_minute_csv(os.path.join(shared_data, "eqker", "QQQ_daily.csv"))
    with pytest.raises(InvalidInput, match="no data rows"):
        read_minute_csv(_write(tmp_path, HEADER))
    with pytest.raises(InvalidInput, match="file is empty"):
        read_minute_csv(_write(tmp_path, "\n\n"))
    with pytest.raises(InvalidInput, match="no open/high/low/close"):
        read_minute_csv(_write(tmp_path, "x,y,z\n1,2,3\n"))
    with pytest.raises(InvalidInput, match="cannot read"):
        read_minute_csv(tmp_path / "missing.csv")


def test_dst_day_naive_times_are_new_york(tmp_path):
    # 2024-03-11 is the first session after the spring-forward: 09:30 NY = 13:30 UTC
    text = HEADER + "2024-03-11 09:30:00,10,11,9.5,10.5,1\n2024-03-11 09:31:00,10,11,9.5,10.5,1\n" \
        "2024-03-11 09:32:00,10,11,9.5,10.5,1"
    frame = read_minute_csv(_write(tmp_path, text))
    assert frame.index[0].tz_convert("UTC").hour == 13
