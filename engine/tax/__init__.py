"""Tax lots, wash sales (IRC §1091), Section 1256 60/40, Form 8949 / 6781 / Schedule D.

Public surface: :class:`~engine.tax.service.TaxService` (``import_file``, ``report``, ``export``,
``whatif``), :class:`~engine.tax.report.TaxReport`, :class:`~engine.tax.whatif.WashSaleWarning`,
:func:`~engine.tax.matching.run_walk` (the engine itself, for backtests and benchmarks) and
:class:`~engine.tax.config.TaxConfig`. Imported lazily: ``import engine.tax`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.tax.config import TaxConfig

if TYPE_CHECKING:
    from engine.tax.matching import run_walk
    from engine.tax.report import TaxReport
    from engine.tax.service import TaxService
    from engine.tax.whatif import WashSaleWarning

_LAZY = {"TaxService": "engine.tax.service", "TaxReport": "engine.tax.report",
         "WashSaleWarning": "engine.tax.whatif", "run_walk": "engine.tax.matching"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = ["TaxConfig", "TaxService", "TaxReport", "WashSaleWarning", "run_walk"]
