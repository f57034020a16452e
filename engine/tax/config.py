"""Tax choices (``SMART0DTE_TAX__*``)."""

from __future__ import annotations

from pydantic import BaseModel


class TaxConfig(BaseModel):
    """Extended by the tax part."""
