"""``python -m engine``: run the headless engine as a service (see :mod:`engine.service_loop`)."""

from __future__ import annotations

import asyncio
import logging
import sys


def main() -> int:
    from engine.runtime import Engine
    from engine.service_loop import run_service
    from engine.settings import SettingsError, get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        engine = Engine(get_settings())
    except SettingsError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    asyncio.run(run_service(engine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
