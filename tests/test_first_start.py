"""The first start's rules (sipas.admin.first_start): loopback peers, the code file, the attempt limit."""

import os
import stat

import pytest

from sipas.admin import auth, first_start
from sipas.admin.auth import AuthError


@pytest.mark.parametrize(
    "peer, local",
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # a dual-stack server's view of an IPv4 loopback visit
        ("127.0.1.1", True),
        ("::ffff:192.0.2.2", False),
        ("192.168.1.20", False),
        ("fe80::1%eth0", False),
        (None, False),  # Streamlit's st.context.ip_address for a loopback visit, and for no client
        ("", False),
        ("localhost", False),  # a name is not a TCP peer
    ],
)
def test_only_a_loopback_peer_is_the_server_itself(peer, local):
    assert first_start.is_loopback(peer) is local


def test_the_code_file_is_readable_by_the_servers_user_only_and_holds_the_code(tmp_path):
    path = tmp_path / "sipas.db"
    code = first_start.new_code(path)
    f = first_start.code_file(path)
    assert f.name == "sipas.db.setup-code"
    assert code in f.read_text(encoding="utf-8").splitlines()
    if os.name == "posix":
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    first_start.remove_code_file(path)
    assert not f.exists()


def test_an_unwritable_folder_still_gives_a_code(tmp_path):
    missing = tmp_path / "no-such-folder" / "sipas.db"
    assert len(first_start.new_code(missing)) == 8
    assert not first_start.code_file(missing).exists()


def test_five_wrong_codes_lock_the_code_for_15_minutes_even_the_right_one(conn):
    t = 1_000_000.0
    first_start.check_code(conn, " 12345678 ", "12345678", now=t)  # right, spaces ignored
    for i in range(5):
        with pytest.raises(AuthError) as wrong:
            first_start.check_code(conn, "00000000", "12345678", now=t + i)
        assert str(wrong.value) == first_start.WRONG_CODE
    with pytest.raises(AuthError, match="Nhập sai mã thiết lập quá nhiều lần. Vui lòng thử lại sau 15 phút"):
        first_start.check_code(conn, "12345678", "12345678", now=t + 10)
    # The lock does not touch the staff logins, and ends after 15 minutes.
    assert auth.lock_remaining(conn, "vanphong", t + 10) == 0
    first_start.check_code(conn, "12345678", "12345678", now=t + 4 + auth.LOCK_SECONDS + 1)


def test_a_20_mb_code_is_refused_without_echoing_it(conn):
    with pytest.raises(AuthError) as wrong:
        first_start.check_code(conn, "9" * 20_000_000, "12345678", now=1.0)
    assert len(str(wrong.value)) < 300
