"""Broadcasting and dispatch shared by the numba kernels of :mod:`engine.options`.

Public functions take numpy-broadcastable arguments; the kernels take flat float64 arrays of one
length. :func:`run_kernel` does the translation: broadcast (a mismatch is a :class:`ValueError`
naming the shapes), flatten, pick the single-threaded kernel for small inputs (a 400-contract
chain: thread start-up would cost more than it saves) or the ``prange`` kernel for large ones,
and give the result back in the broadcast shape.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Inputs with fewer elements than this run on one thread.
PARALLEL_THRESHOLD = 4096


def broadcast_inputs(*args: object) -> tuple[np.ndarray, ...]:
    """Float64 arrays of one broadcast shape; :class:`ValueError` naming the shapes if impossible."""
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    try:
        return tuple(np.broadcast_arrays(*arrays))
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"option inputs cannot be broadcast together: shapes {shapes}") from None


def run_kernel(serial: Callable, parallel: Callable, args: tuple, *, n_out: int = 0,
               extra: tuple = (), threshold: int = PARALLEL_THRESHOLD) -> np.ndarray:
    """Call ``kernel(*flat_args, *extra, out)`` and return ``out`` in the broadcast shape.

    ``n_out=0``: one result, ``out`` has shape ``(n,)``; ``n_out=k``: ``out`` is ``(k, n)`` and the
    result ``(k, *shape)``. Inputs of ``threshold`` elements or more take the parallel kernel
    (lower it for kernels that spend microseconds per element).
    """
    arrays = broadcast_inputs(*args)
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    n = flat[0].size
    out = np.empty((n_out, n) if n_out else n)
    (parallel if n >= threshold else serial)(*flat, *extra, out)
    return out.reshape((n_out, *shape) if n_out else shape)
