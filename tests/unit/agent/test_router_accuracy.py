"""Exact tool-and-arguments accuracy of the offline router over the realistic utterance set."""

from __future__ import annotations

from agent.router.parse import route
from tests.unit.agent.router_cases import CASES, TODAY
from tools.catalog import load

REGISTRY = load()


def canonical(name: str, args: dict) -> object:
    """Arguments as the tool will see them (defaults filled); the raw dict when they do not validate."""
    try:
        return REGISTRY.get(name).input_model.model_validate(args).model_dump(mode="json")
    except Exception:
        return ("invalid", args)


def outcome(text: str, tool: str | None, args: dict) -> bool:
    r = route(text, TODAY)
    if tool is None:
        return not r.calls
    return len(r.calls) == 1 and r.calls[0].name == tool and canonical(tool, r.calls[0].args) == canonical(tool, args)


def test_case_set_is_broad():
    tools = {tool for _, tool, _ in CASES}
    assert len(CASES) >= 120
    assert tools - {None} == set(REGISTRY.names()), "every tool has utterances"
    assert sum(tool is None for _, tool, _ in CASES) >= 10


def test_expected_arguments_are_valid_tool_inputs():
    for text, tool, args in CASES:
        if tool is not None:
            REGISTRY.get(tool).input_model.model_validate(args), text


def test_router_accuracy_at_least_95_percent():
    misses = [(text, tool, args, route(text, TODAY).calls) for text, tool, args in CASES
              if not outcome(text, tool, args)]
    accuracy = 1 - len(misses) / len(CASES)
    print(f"\noffline router exact tool+args accuracy: {accuracy:.3f} on {len(CASES)} utterances")
    for miss in misses:
        print("  miss:", miss)
    assert accuracy >= 0.95
