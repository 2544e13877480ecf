"""The one place for SQL, as a package: ``from sipas import db; db.list_cases(conn)`` keeps working.

Layers (imports go one way, top to bottom):

- :mod:`sipas.db.connection` — connections (WAL, busy timeout, ``synchronous=FULL``), the FIFO write
  queue, ``flock`` between processes, :func:`transaction` (``BEGIN IMMEDIATE``);
- :mod:`sipas.db.schema` — the frozen migrations (``PRAGMA user_version``), trigger DDL, ``open_db``;
- one module of queries per group of tables: :mod:`~sipas.db.responses` (storing surveys, the index
  counts), :mod:`~sipas.db.config` (kiosk events, roster, dated settings, audit),
  :mod:`~sipas.db.accounts`, :mod:`~sipas.db.baseline`, :mod:`~sipas.db.analysis` (filtered counts),
  :mod:`~sipas.db.cases`, :mod:`~sipas.db.tickets`, :mod:`~sipas.db.dossiers`, :mod:`~sipas.db.qr`,
  :mod:`~sipas.db.maintenance` (backup and ``check``).

Index queries read roll-ups kept exact by triggers, so the index of a million responses is a sum over a
few thousand rows. Excluded responses are left out of the roll-ups.
"""

from sipas.db.accounts import *  # noqa: F403
from sipas.db.analysis import *  # noqa: F403
from sipas.db.baseline import *  # noqa: F403
from sipas.db.cases import *  # noqa: F403
from sipas.db.config import *  # noqa: F403
from sipas.db.connection import *  # noqa: F403
from sipas.db.devices import *  # noqa: F403
from sipas.db.dossiers import *  # noqa: F403
from sipas.db.kiosk import *  # noqa: F403
from sipas.db.maintenance import *  # noqa: F403
from sipas.db.qr import *  # noqa: F403
from sipas.db.responses import *  # noqa: F403

# Private helpers that tests reach for directly.
from sipas.db.responses import _insert_one  # noqa: F401
from sipas.db.schema import *  # noqa: F403
from sipas.db.tickets import *  # noqa: F403
