"""Issue 3 §2/§6: a fresh ``SMART0DTE_HOME`` is created on first use, also by calls that start together."""

from __future__ import annotations

import pytest


@pytest.mark.xfail(reason="routed: concurrent first use of a fresh HOME races (engine/store/migrate.py "
                          "upgrade_target without an inter-process lock: 'table trading_mode already exists'; "
                          "engine/execution/service.py _audit_settings_change: UNIQUE execution_state.key) "
                          "-> traceback, exit 1", strict=False)
def test_concurrent_first_use_of_a_fresh_home(cli):
    results = cli.many(*[("risk", "status", "--json")] * 3)
    for res in results:
        assert res.ok()["state"] == "active"
