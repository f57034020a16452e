"""Parameter sweeps: a grid over delta, width, entry time, take-profit and stop-loss.

Each grid point is one full backtest on the SAME history (loaded once; workers receive it once,
not per task). Backends:

- ``process`` (default): a ``ProcessPoolExecutor`` over all cores (``spawn`` context: no
  inherited threads or locks); the history is sent to each worker once via the initializer.
- ``ray``: ``pip install .[ray]``; the history is put in Ray's object store once and tasks run on
  a local Ray (``ray.init(num_cpus=…)``) or a cluster (``settings.backtest.ray_address``).
- ``serial``: in-process (tests, tiny grids).

Rows rank by ``metric`` (descending; ``max_drawdown`` ascending); ``None`` values rank last.
Results are identical whatever the backend (each run is deterministic).
"""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from engine.backtest.params import BacktestParams
from engine.backtest.progress import progress_bar
from engine.core.errors import InvalidInput

GRID_KEYS = ("short_delta", "wing_width", "entry", "exit", "take_profit", "stop_loss", "quantity")
ASCENDING = {"max_drawdown", "max_drawdown_pct"}


@dataclass
class SweepResult:
    metric: str
    backend: str
    runs: int
    seconds: float
    rows: list[dict]

    def to_dict(self) -> dict:
        return {"metric": self.metric, "backend": self.backend, "runs": self.runs,
                "seconds": round(self.seconds, 3), "rows": self.rows}


def grid_points(grid: dict[str, list]) -> list[dict]:
    bad = sorted(set(grid) - set(GRID_KEYS))
    if bad:
        raise InvalidInput(f"cannot sweep over {', '.join(bad)}; choose from {', '.join(GRID_KEYS)}", field="grid")
    keys = list(grid)
    for k in keys:
        if not grid[k]:
            raise InvalidInput(f"grid for {k} is empty", field=k)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


def _one(settings, base: dict, point: dict, history) -> dict:
    from engine.backtest.service import BacktestService

    params = BacktestParams.model_validate({**base, **point, "report": False, "progress": False})
    m = BacktestService(settings).run_sync(params, history=history).metrics.to_dict()
    return {"params": {k: (v.strftime("%H:%M") if hasattr(v, "strftime") else v) for k, v in point.items()}, **m}


_WORKER: dict = {}


def _init_worker(settings, base: dict, history) -> None:
    _WORKER.update(settings=settings, base=base, history=history)


def _worker_run(point: dict) -> dict:
    return _one(_WORKER["settings"], _WORKER["base"], point, _WORKER["history"])


def _rank(rows: list[dict], metric: str) -> list[dict]:
    asc = metric in ASCENDING

    def key(r: dict):
        v = r.get(metric)
        return (v is None, (v if asc else -v) if v is not None else 0.0)
    return sorted(rows, key=key)


def validate(base: BacktestParams, grid: dict[str, list], metric: str) -> list[dict]:
    """Every grid point as params overrides; refuses a bad metric, key or value before any work."""
    from engine.backtest.metrics import Metrics

    if metric not in Metrics.__dataclass_fields__:
        raise InvalidInput(f"unknown metric {metric!r}; one of {', '.join(Metrics.__dataclass_fields__)}",
                           field="metric")
    points = grid_points(grid)
    for p in points:
        BacktestParams.model_validate({**base.model_dump(), **p})
    return points


def run_sweep(service, base: BacktestParams, grid: dict[str, list], history, *, metric: str = "sharpe",
              backend: str = "process", workers: int | None = None, top: int | None = None) -> SweepResult:
    points = validate(base, grid, metric)
    base_d = base.model_dump()
    settings = service.settings
    n = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    if backend == "serial" or len(points) == 1:
        with progress_bar(len(points), "sweep") as tick:
            rows = [tick(_one(settings, base_d, p, history)) for p in points]
        backend = "serial"
    elif backend == "process":
        with ProcessPoolExecutor(max_workers=min(n, len(points)), mp_context=get_context("spawn"),
                                 initializer=_init_worker, initargs=(settings, base_d, history)) as pool, \
                progress_bar(len(points), "sweep") as tick:
            rows = [tick(r) for r in pool.map(_worker_run, points, chunksize=max(1, len(points) // (4 * n)))]
    elif backend == "ray":
        rows = _ray_rows(settings, base_d, points, history, n)
    else:
        raise InvalidInput(f"unknown sweep backend {backend!r}; process, ray or serial", field="backend")
    ranked = _rank(rows, metric)
    return SweepResult(metric, backend, len(points), time.perf_counter() - t0, ranked[:top] if top else ranked)


def _ray_rows(settings, base: dict, points: list[dict], history, workers: int) -> list[dict]:
    try:
        import ray
    except ImportError:
        raise InvalidInput("the ray backend needs Ray: pip install '.[ray]'", field="backend") from None
    started = False
    if not ray.is_initialized():
        address = settings.backtest.ray_address
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(_one)
        h = ray.put(history)
        s = ray.put(settings)
        return ray.get([remote.remote(s, base, p, h) for p in points])
    finally:
        if started:
            ray.shutdown()
