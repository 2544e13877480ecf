"""Where the project's files live, and the database path rule of data-interchange.md."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEFAULT_DB = DATA_DIR / "sipas.db"


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """``--db PATH`` if given, else ``$SIPAS_DB``, else ``data/sipas.db`` under the project root."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("SIPAS_DB")
    if env:
        return Path(env)
    return DEFAULT_DB
