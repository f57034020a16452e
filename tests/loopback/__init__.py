"""Loopback servers that stand in for external services in tests (TWS API, market data)."""
