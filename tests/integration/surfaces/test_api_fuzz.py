"""Schemathesis over the API's own OpenAPI spec: whatever it sends, no 5xx comes back.

Driven operation by operation with hypothesis (schemathesis' pytest plugin does not load under
this pytest), against the real app on the embedded engine, authenticated as an admin so every
route is reachable.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from agent.surfaces_api import build_api
from tests.integration.surfaces.conftest import bearer


@pytest.mark.slow
def test_no_server_errors(api_engine, tokens):
    schema = schemathesis.openapi.from_asgi("/openapi.json", build_api(api_engine))
    auth = bearer(tokens["admin"])
    checked = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path == "/events":  # an endless stream; covered by its own test
            continue

        @given(case=op.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def check(case):
            case.headers = {**(case.headers or {}), **auth}
            response = case.call()
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.body!r} -> {response.status_code}: {response.text[:300]}")

        check()
        checked.append(f"{op.method.upper()} {op.path}")
    assert len(checked) >= 20, checked
