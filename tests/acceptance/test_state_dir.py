"""Issue 3 §2/§6: a fresh ``SMART0DTE_HOME`` is created on first use, also by calls that start together."""

from __future__ import annotations


def test_concurrent_first_use_of_a_fresh_home(cli):
    results = cli.many(*[("risk", "status", "--json")] * 3)
    for res in results:
        assert res.ok()["state"] == "active"
