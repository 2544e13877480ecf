"""``GET /api/backup/<one-time token>``: a fresh backup streamed from a file (bounded memory).

Served by ``app.py``'s ``st.App``. The token comes from the backup page
(:mod:`sipas.admin.download_links`): made after the administrator typed the password again, once,
for 2 minutes, for that staff session (the ``sipas_staff`` cookie), whose account must still be an
active administrator. The backup is written with :func:`sipas.admin.backup.backup_to` into a
``sipas-backup-*`` temporary folder, sent in chunks by ``FileResponse``, then deleted.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from sipas import db
from sipas.admin import auth, backup, download_links
from sipas.errors import SipasError
from sipas.paths import db_path

COOKIE = "sipas_staff"  # ui.COOKIE: the staff session's cookie
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

log = logging.getLogger("sipas.admin.backup")


def _text(message: str, status: int) -> Response:
    return PlainTextResponse(message, status_code=status, headers=NO_STORE)


def _admin_of(staff_token: str, username: str) -> bool:
    with db.session(db_path()) as conn:
        user, _ = auth.check_session(conn, staff_token)
    return user is not None and user.username == username and user.is_admin


def _make(without_accounts: bool) -> tuple[Path, Path]:
    folder = Path(tempfile.mkdtemp(prefix="sipas-backup-"))
    try:
        return folder, backup.backup_to(db_path(), folder / "sipas.db", without_accounts=without_accounts)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


async def download_backup(request: Request) -> Response:
    staff_token = request.cookies.get(COOKIE)
    grant, status = download_links.take(request.path_params["token"], staff_token)
    if grant is None:
        return _text(download_links.GONE if status == 404 else download_links.REFUSED, status)
    if not await run_in_threadpool(_admin_of, staff_token, grant.username):
        return _text(download_links.REFUSED, 403)
    try:
        folder, path = await run_in_threadpool(_make, grant.without_accounts)
    except SipasError as exc:
        log.warning("backup download failed: %s", exc)
        return _text(f"Chưa tạo được bản sao lưu: {exc}", 500)
    return FileResponse(
        path,
        filename=grant.file_name,
        media_type="application/vnd.sqlite3",
        headers=NO_STORE,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


ROUTES = [Route("/api/backup/{token}", download_backup, methods=["GET"])]
