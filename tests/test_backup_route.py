"""The backup download route (backup_route.py, sipas.admin.download_links): a one-time link, for 2
minutes, for the administrator's own session, streamed from a temporary file that is then deleted."""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing

import pytest
from conftest import asgi_get

import backup_route
import ui
from sipas import db
from sipas.admin import auth, download_links


@pytest.fixture
def admin(conn, db_file, tmp_path, monkeypatch):
    db.upsert_staff(conn, {"code": "CB01", "full_name": "Nguyễn Văn A"})
    user = auth.create_user(conn, "quantri", "mat-khau-dai", "clerk", is_admin=True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "systemp"))
    (tmp_path / "systemp").mkdir()
    return user, auth.start_session(conn, user)


def get(token: str, staff_token: str | None):
    return asgi_get(backup_route.ROUTES, f"/api/backup/{token}", {"sipas_staff": staff_token} if staff_token else {})


def test_the_cookie_is_the_pages_own():
    assert backup_route.COOKIE == ui.COOKIE


def test_a_link_gives_one_backup_once_and_leaves_no_temporary_file(admin, tmp_path):
    user, session = admin
    token = download_links.issue(session, user.username, "sipas-backup-2027-01-02-0800.db")
    status, headers, body = get(token, session)
    assert status == 200
    assert headers["content-disposition"] == 'attachment; filename="sipas-backup-2027-01-02-0800.db"'
    assert headers["cache-control"] == "no-store" and headers["content-type"] == "application/vnd.sqlite3"
    assert int(headers["content-length"]) == len(body) > 4096 and body.startswith(b"SQLite format 3\x00")
    copy = tmp_path / "got.db"
    copy.write_bytes(body)
    with closing(sqlite3.connect(copy)) as c:
        assert c.execute("SELECT full_name FROM staff").fetchall() == [("Nguyễn Văn A",)]
        assert c.execute("SELECT count(*) FROM users").fetchone() == (1,)
    assert list((tmp_path / "systemp").iterdir()) == []  # streamed, then deleted

    status, headers, body = get(token, session)  # the same link again
    assert (status, body.decode()) == (404, download_links.GONE)
    assert headers["content-type"].startswith("text/plain") and "utf-8" in headers["content-type"]


def test_a_copy_to_leave_the_office_has_no_account(admin, tmp_path):
    user, session = admin
    token = download_links.issue(session, user.username, "x.db", without_accounts=True)
    status, _, body = get(token, session)
    copy = tmp_path / "leaving.db"
    copy.write_bytes(body)
    with closing(sqlite3.connect(copy)) as c:
        assert status == 200 and c.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_an_unknown_or_expired_link_is_404_in_vietnamese(admin):
    user, session = admin
    assert get("khong-co-lien-ket-nay", session)[0::2] == (404, download_links.GONE.encode())
    old = download_links.issue(session, user.username, "x.db", now=1000.0)  # expired long ago
    assert get(old, session)[0::2] == (404, download_links.GONE.encode())
    soon = download_links.issue(session, user.username, "x.db")
    grant, status = download_links.take(soon, session, now=download_links.TTL + 10**10)
    assert (grant, status) == (None, 404)


def test_another_session_or_no_session_is_403_and_spends_the_link(admin, conn):
    user, session = admin
    other = auth.create_user(conn, "quantri2", "mat-khau-dai", "clerk", is_admin=True)
    other_session = auth.start_session(conn, other)
    token = download_links.issue(session, user.username, "x.db")
    assert get(token, other_session)[0::2] == (403, download_links.REFUSED.encode())
    assert get(token, session)[0::2] == (404, download_links.GONE.encode())  # spent by the attempt
    token = download_links.issue(session, user.username, "x.db")
    assert get(token, None)[0::2] == (403, download_links.REFUSED.encode())


def test_a_session_that_ended_or_lost_the_administrator_right_gets_nothing(admin, conn):
    user, session = admin
    token = download_links.issue(session, user.username, "x.db")
    auth.logout(conn, session)
    assert get(token, session)[0::2] == (403, download_links.REFUSED.encode())
