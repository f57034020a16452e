"""Child process: append N audit records as fast as possible once the gate opens."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from engine.settings import load_settings
from engine.store.audit import AuditLog
from engine.store.db import Database


def main(gate: str, n: int) -> None:
    log = AuditLog(Database(load_settings()))
    log.count()  # connected and tables ready before the gate opens
    (Path(gate) / f"ready-{os.getpid()}").touch()
    while not (Path(gate) / "go").exists():
        time.sleep(0.002)
    for i in range(n):
        log.append("race", actor=f"pid:{os.getpid()}", data={"i": i})


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
