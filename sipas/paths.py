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


def cache_dir() -> Path:
    """Where the product keeps what it can always compute again (the comment model's weights,
    :func:`sipas.index.classify.default_model`): ``$SIPAS_CACHE_DIR`` if set, else ``data/cache`` under the
    project root. Its files may be deleted at any time."""
    return Path(os.environ.get("SIPAS_CACHE_DIR") or DATA_DIR / "cache")


def read_json_file(path: Path, missing: str | None = None):
    """A data file of the product (questionnaire, crosswalk, options, comment topics) read as JSON; a broken
    file raises CatalogError naming it and the line and column (``missing``: the message for no file)."""
    import json

    from sipas.errors import CatalogError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if missing is None:
            raise
        raise CatalogError(missing) from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"Tệp {path.name}: JSON không hợp lệ ở dòng {exc.lineno}, cột {exc.colno}.") from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"Tệp {path.name}: không đọc được dạng UTF-8.") from exc
