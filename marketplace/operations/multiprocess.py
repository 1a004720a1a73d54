"""Where the server processes of `marketplace serve --workers N` write their request counts, so that any of them
answers a scrape with the sum (prometheus_client's multiprocess mode). Imports nothing of prometheus_client:
the variable must be set before it is first imported, in every server process."""

from __future__ import annotations

import os
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare_folder(environ: MutableMapping[str, str] = os.environ) -> str:
    """For `marketplace serve`, before any server process starts: `PROMETHEUS_MULTIPROC_DIR` if set, else a new
    temporary folder, emptied of a previous run's counts (they would be added to this run's)."""
    path = Path(environ.get(VARIABLE) or tempfile.mkdtemp(prefix="marketplace-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    environ[VARIABLE] = str(path)
    return str(path)
