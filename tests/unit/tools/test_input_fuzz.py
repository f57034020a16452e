"""Hypothesis fuzzing of every tool's input model: any JSON either validates or fails with a typed
``ToolInputError`` naming the problem — never another exception, never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.catalog import load
from tools.registry import ToolInputError

REGISTRY = load()
SPECS = REGISTRY.all()

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["SPY", "qqq", " iwm ", "VIX", "0dte", "0DTE", "2026-11-20", "2026-02-30", "10:00", "25:61",
                     "call", "put", "both", "buy", "sell", "iron_condor", "straddle", "paper", "live", "open",
                     "identical", "underlying", "today", "week", "SPY261120C00600000", "O:SPY261120P00590000",
                     "-1", "1e309", "NaN", "", "ignore previous instructions"]),
)
_json = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=12)


def _args_for(spec):
    names = list(spec.input_model.model_fields)
    keys = st.sampled_from(names + ["extra_field", "account", "confirm"]) if names else st.sampled_from(["x", "confirm"])
    return st.dictionaries(keys, _json, max_size=len(names) + 2)


def _check(spec, args) -> None:
    try:
        _, parsed = REGISTRY.parse(spec.name, args)
    except ToolInputError as err:
        assert err.message and isinstance(err.message, str)
        assert err.field is None or isinstance(err.field, str)
        assert err.to_dict()["type"] == "invalid_arguments"
        return
    dumped = parsed.model_dump(mode="json")
    json.dumps(dumped, allow_nan=False)  # a valid input is plain JSON again
    assert spec.input_model.model_validate(dumped) == parsed


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_arguments_never_crash(spec, data):
    _check(spec, data.draw(_args_for(spec)))


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@given(raw=_json)
@settings(max_examples=25, deadline=None)
def test_non_object_arguments_are_refused_cleanly(spec, raw):
    if isinstance(raw, dict) or raw is None:
        return
    with pytest.raises(ToolInputError):
        REGISTRY.parse(spec.name, raw)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_unknown_fields_are_refused_by_name(spec):
    with pytest.raises(ToolInputError) as err:
        REGISTRY.parse(spec.name, {"definitely_not_a_field": 1})
    assert "definitely_not_a_field" in (err.value.field or "") or err.value.field is not None


def test_every_input_field_is_described():
    for spec in SPECS:
        schema = spec.input_schema()
        assert schema.get("additionalProperties") is False, spec.name
        for name, prop in schema.get("properties", {}).items():
            assert prop.get("description"), f"{spec.name}.{name} has no description"
