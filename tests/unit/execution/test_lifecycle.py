"""The order state machine: explicit legal/illegal moves and property tests of its invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import IllegalTransition
from engine.execution.broker import TERMINAL_STATUSES, OrderStatus
from engine.execution.lifecycle import ALLOWED, OrderState, can_transition, status_after_fill, transition

S = OrderStatus


def test_happy_path_and_skips():
    o = OrderState(3)
    for nxt in (S.SUBMITTED, S.ACCEPTED):
        o.move(nxt)
    assert o.fill(1) is S.PARTIALLY_FILLED
    assert o.fill(1) is S.PARTIALLY_FILLED
    assert o.fill(1) is S.FILLED
    assert o.history == [S.INITIALIZED, S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PARTIALLY_FILLED, S.FILLED]
    quick = OrderState(2, S.SUBMITTED)
    assert quick.fill(2) is S.FILLED  # filled at once: SUBMITTED -> FILLED


@pytest.mark.parametrize("a,b", [(S.INITIALIZED, S.ACCEPTED), (S.INITIALIZED, S.FILLED), (S.FILLED, S.CANCELED),
                                 (S.CANCELED, S.ACCEPTED), (S.REJECTED, S.SUBMITTED), (S.ACCEPTED, S.SUBMITTED),
                                 (S.EXPIRED, S.FILLED), (S.ACCEPTED, S.REJECTED)])
def test_illegal_moves_raise(a, b):
    with pytest.raises(IllegalTransition, match=f"from {a.value} to {b.value}"):
        transition(a, b)


def test_fill_rules():
    o = OrderState(2, S.ACCEPTED)
    with pytest.raises(IllegalTransition):
        o.fill(3)
    with pytest.raises(IllegalTransition):
        o.fill(0)
    with pytest.raises(IllegalTransition):
        o.move(S.FILLED)  # nothing filled yet
    o.move(S.CANCELED)
    with pytest.raises(IllegalTransition):
        o.fill(1)
    assert status_after_fill(5, 0) is S.ACCEPTED
    with pytest.raises(IllegalTransition):
        status_after_fill(5, 6)


def test_terminal_states_have_no_exits_and_every_state_is_reachable():
    assert all(not ALLOWED[t] for t in TERMINAL_STATUSES)
    seen, frontier = {S.INITIALIZED}, [S.INITIALIZED]
    while frontier:
        for nxt in ALLOWED[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(S)


actions = st.lists(st.one_of(st.sampled_from(list(S)).map(lambda s: ("move", s)),
                             st.integers(min_value=-1, max_value=4).map(lambda n: ("fill", n))), max_size=30)


@settings(max_examples=400, deadline=None)
@given(quantity=st.integers(min_value=1, max_value=6), steps=actions)
def test_invariants_hold_under_any_sequence(quantity, steps):
    o = OrderState(quantity)
    for kind, arg in steps:
        before = (o.status, o.filled, len(o.history))
        try:
            o.fill(arg) if kind == "fill" else o.move(arg)
        except IllegalTransition:
            assert (o.status, o.filled, len(o.history)) == before  # a refused step changes nothing
            continue
        if before[0].is_terminal:
            pytest.fail(f"terminal {before[0]} changed")
        assert kind == "fill" or can_transition(before[0], o.status)
        assert 0 <= o.filled <= o.quantity
        assert (o.status is S.FILLED) == (o.filled == o.quantity)
        assert o.filled >= before[1]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(S)), st.sampled_from(list(S)))
def test_transition_agrees_with_table(a, b):
    if b in ALLOWED[a]:
        assert transition(a, b) is b
    else:
        with pytest.raises(IllegalTransition):
            transition(a, b)
