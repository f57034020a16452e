"""Signals: typed trade ideas from past data only, usable live and as backtest entry filters.

Public surface::

    from engine.signals import Signal, SignalService
    from engine.signals import indicators   # the pure generators (numpy arrays in, Signal out)
"""

from engine.signals.service import SignalService
from engine.signals.types import Signal

__all__ = ["Signal", "SignalService"]
