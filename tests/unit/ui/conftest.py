"""Chainlit writes its config and upload folder under its app root on import: keep that in a temp dir."""

import os
import tempfile

os.environ.setdefault("CHAINLIT_APP_ROOT", tempfile.mkdtemp(prefix="smart0dte-chainlit-"))
