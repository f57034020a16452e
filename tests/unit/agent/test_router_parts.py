"""The router's pieces alone: normalisation, numbers in words, typos, entities, dates."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.router import dates
from agent.router.entities import extract, find_deltas, find_price, find_quantity, find_times, find_width
from agent.router.text import fix_typo, normalize, number_words

TODAY = date(2026, 11, 20)  # a Friday


@pytest.mark.parametrize("words, out", [
    ("twenty five delta", "25 delta"), ("one hundred and five", "105"), ("sixty days", "60 days"),
    ("a dozen contracts", "a 12 contracts"), ("half dozen", "6"), ("ten wide", "10 wide"),
])
def test_number_words(words, out):
    assert " ".join(number_words(words.split())) == out


@pytest.mark.parametrize("typo, word", [("iorn", "iron"), ("condr", "condor"), ("straddel", "straddle"),
                                        ("backtst", "backtest"), ("postions", "position"), ("spy", "spy"),
                                        ("qqq", "qqq"), ("dog", "dog")])
def test_typos(typo, word):
    assert fix_typo(typo) == word or normalize(typo) == word


@pytest.mark.parametrize("text, out", [("one point two five", "1.25"), ("a buck ten", "1.10"),
                                       ("two bucks", "2.00"), ("at noon", "at 12:00")])
def test_prices_and_times_in_words(text, out):
    assert normalize(text) == out


def test_normalize_slang():
    assert normalize("Sell 2 SPY IC's 10d 5-wide @ 1.10") == "sell 2 spy iron_condor 10d 5 wide @ 1.10"
    assert normalize("what's the P&L?") == "what is the pnl"
    assert normalize("0 DTE iron fly") == "0dte iron_butterfly"


def test_entities():
    e = extract(normalize("sell 3 qqq 0dte iron condors at 15 delta 10 wide for 1.25"))
    assert (e.ticker, e.structure, e.side, e.deltas, e.width, e.quantity, e.price) == \
        ("QQQ", "iron_condor", "sell", [0.15], 10.0, 3, 1.25)
    assert find_deltas("10d and .3 delta and delta 45") == [0.1, 0.3, 0.45]
    assert find_width("$5 wide") == 5 and find_width("wings of 10") == 10 and find_width("spy") is None
    assert find_quantity("sell 20 delta puts") is None and find_quantity("buy 4 lots") == 4
    assert find_price("at 20 delta") is None and find_price("@ .95") == 0.95 and find_price("limit 2.1") == 2.1
    assert find_times("enter at 9:45 exit 3:30pm") == [("entry", time(9, 45)), ("exit", time(15, 30))]
    assert find_times("at 10") == [("entry", time(10, 0))] and find_times("at 25 delta") == []


@pytest.mark.parametrize("text, expected", [
    ("last 60 days", (date(2026, 9, 21), TODAY)), ("past 2 weeks", (date(2026, 11, 6), TODAY)),
    ("last year", (date(2025, 1, 1), date(2025, 12, 31))), ("ytd", (date(2026, 1, 1), TODAY)),
    ("in october", (date(2026, 10, 1), date(2026, 10, 31))), ("in december", (date(2025, 12, 1), date(2025, 12, 31))),
    ("from 2026-01-05 to 2026-02-06", (date(2026, 1, 5), date(2026, 2, 6))),
    ("between 3/1 and 3/31", (date(2026, 3, 1), date(2026, 3, 31))), ("since august", (date(2026, 8, 1), TODAY)),
    ("in 2024", (date(2024, 1, 1), date(2024, 12, 31))), ("hello", None),
])
def test_ranges(text, expected):
    assert dates.find_range(normalize(text), TODAY) == expected


@pytest.mark.parametrize("text, future, expected", [
    ("yesterday", False, date(2026, 11, 19)), ("tomorrow", True, date(2026, 11, 23)),
    ("last friday", False, date(2026, 11, 13)), ("next friday", True, date(2026, 11, 27)),
    ("dec 18", True, date(2026, 12, 18)), ("nov 17", False, date(2026, 11, 17)), ("12/18/26", True, date(2026, 12, 18)),
    ("2026-02-30", False, None),
])
def test_days(text, future, expected):
    assert dates.find_day(normalize(text), TODAY, future=future) == expected


def test_yesterday_skips_the_weekend_and_holidays():
    assert dates.find_day("yesterday", date(2026, 11, 23)) == date(2026, 11, 20)  # Monday → Friday
    assert dates.find_day("yesterday", date(2026, 11, 27)) == date(2026, 11, 25)  # day after Thanksgiving


def test_years():
    assert dates.find_year("wash sales 2024", TODAY) == 2024
    assert dates.find_year("taxes last year", TODAY) == 2025 and dates.find_year("this year", TODAY) == 2026


def test_several_tickers_give_one_quote_each():
    from agent.router.parse import route

    r = route("quote spy, qqq and vix", TODAY)
    assert [(c.name, c.args) for c in r.calls] == [("quote", {"symbol": "SPY"}), ("quote", {"symbol": "QQQ"}),
                                                   ("quote", {"symbol": "VIX"})]


_WORDS = ["spy", "qqq", "iwm", "vix", "ic", "iron", "condor", "fly", "10d", "5", "wide", "delta", "buy", "sell",
          "backtest", "last", "60", "days", "from", "to", "2026-02-30", "13/45", "dec", "32", "at", "9:99", "25:00",
          "tp", "sl", "2x", "50%", "@", "$", "/", "600/595", "put", "call", "cancel", "order", "#", "yesterday",
          "next", "friday", "twenty", "thousand", "dozen", "half", "quote", "chain", "tax", "1256", "0dte", "ytd",
          "SPY261120C00600000", "-", "'s", "p&l", "strikes", "between", "and", "since", "ago", "x", ".5", "..."]


@given(words=st.lists(st.sampled_from(_WORDS), max_size=14), noise=st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_router_never_crashes_and_only_names_real_tools(words, noise):
    from agent.router.parse import route
    from tools.catalog import load

    for text in (" ".join(words), noise, " ".join(words) + " " + noise):
        r = route(text, TODAY)
        assert r.kind in ("tool", "refusal", "offtopic", "education", "greeting", "thanks")
        for c in r.calls:
            assert c.name in load().names() and isinstance(c.args, dict)


@pytest.mark.parametrize("question", ["what is a straddle", "explain pin risk", "what is an iron fly",
                                      "what is a put credit spread", "what is the expected move", "explain theta",
                                      "what is a wash sale", "what is section 1256"])
def test_education_answers_come_from_prompt_files(question):
    from agent import answers
    from agent.router.parse import route

    r = route(question, TODAY)
    assert r.kind == "education" and not r.calls
    text = answers.fixed(r.kind, r.topic)
    assert text and not text.startswith("Options give the right")  # a specific text, not the generic one


_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS_W = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _say(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS_W[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    rest = n % 100
    return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " and " + _say(rest))


@given(n=st.integers(min_value=1, max_value=999))
@settings(max_examples=150, deadline=None)
def test_numbers_in_words_equal_digits(n):
    assert normalize(f"last {_say(n)} days") == f"last {n} days"


@given(n=st.integers(min_value=1, max_value=700), unit=st.sampled_from(["days", "weeks", "d"]),
       delta=st.integers(min_value=5, max_value=45), width=st.integers(min_value=1, max_value=20))
@settings(max_examples=150, deadline=None)
def test_backtest_windows_and_numbers_round_trip(n, unit, delta, width):
    from datetime import timedelta

    from agent.router.parse import route

    r = route(f"backtest qqq ic {delta}d {width} wide last {n} {unit}", TODAY)
    [c] = r.calls
    days = n * (7 if unit == "weeks" else 1)
    assert c.name == "backtest" and c.args["start"] == (TODAY - timedelta(days=days)).isoformat()
    assert c.args["short_delta"] == delta / 100 and c.args["wing_width"] == width and c.args["underlying"] == "QQQ"
