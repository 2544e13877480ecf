"""A restore while tablets keep sending: every acknowledged survey is in the restored database, the
tablets are told "not now" meanwhile (they keep their queue), and only one restore runs at a time."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from sipas import db
from sipas.admin import backup, check, restore, restore_lock
from sipas.errors import ValidationError
from sipas.survey import devices, gate, tablet
from tests.test_devices import signed, survey

NOW = datetime(2026, 12, 6, 9, 30)


class Tablet:
    """An enrolled tablet's queue: a survey leaves it only once the server acknowledges it."""

    def __init__(self, db_file, name: str):
        self.db_file, self.name = db_file, name
        with db.connect(db_file) as c:
            code = devices.add(c, name, now=NOW - timedelta(days=1), actor="test")
            self.secret = devices.enrol(c, name, code, now=NOW - timedelta(days=1))
            self.stock = devices.top_up(c, name, now=NOW - timedelta(hours=1))  # server-issued start tokens
        self.queue: list[dict] = []
        self.acked: set[str] = set()
        self.paused = 0

    def survey(self) -> dict:
        return survey(self.stock.pop(), completed_ago_ms=0)

    def send(self) -> None:
        if not self.queue:
            return
        message = signed(self.secret, {"surveys": list(self.queue), "starts": []}, device=self.name)
        with db.connect(self.db_file) as c:
            try:
                result = tablet.sync(c, message, now=NOW)
            except gate.IntakePaused:
                self.paused += 1
                return
            except Exception:  # "database is locked" and the like: the tablet keeps its queue
                self.paused += 1
                return
        done = {a[2:] for a in result.acks if a.startswith("r:")}
        self.acked |= done
        self.queue = [p for p in self.queue if p["token"] not in done]


def test_restore_while_five_tablets_send_loses_no_acknowledged_survey(conn, db_file, tmp_path):
    tablets = [Tablet(db_file, f"quay{i}") for i in range(5)]
    for t in tablets:  # some surveys before the backup
        t.queue = [t.survey() for _ in range(5)]
        t.send()
    snapshot = backup.backup_to(db_file, tmp_path / "snap.db")
    stop = threading.Event()

    def run(t: Tablet) -> None:
        while not stop.is_set():
            if len(t.queue) < 20:  # a citizen takes a while to fill a survey
                t.queue.append(t.survey())
            t.send()
            stop.wait(0.02)

    threads = [threading.Thread(target=run, args=(t,)) for t in tablets]
    for th in threads:
        th.start()
    try:
        results = []
        for _ in range(3):  # three restores in a row, with the tablets sending throughout
            threading.Event().wait(0.3)
            results.append(restore.restore(db_file, snapshot, backup_dir=tmp_path / "kept", actor="admin"))
        threading.Event().wait(0.2)
    finally:
        stop.set()
        for th in threads:
            th.join()
    for t in tablets:  # what is left in the queues goes once the restores are over
        t.send()
        assert t.queue == []
    acked = set().union(*(t.acked for t in tablets))
    stored = {r[0].removeprefix("kiosk:") for r in conn.execute("SELECT token FROM responses")}
    assert len(acked) > 25 and acked == stored  # every thanked survey is there, exactly once
    assert conn.execute("SELECT count(*) FROM responses").fetchone()[0] == len(acked)
    assert sum(r.carried for r in results) > 0
    # Each restore kept its own before-restore copy and wrote its own audit row.
    assert len({r.previous for r in results}) == 3 and all(r.previous.exists() for r in results)
    # Each restore replaced the previous one's result: its audit row is in the next one's kept copy.
    last = db.audit_entries(conn, 10)
    assert [(e["action"], e["actor"]) for e in last if e["action"] == "restore"] == [("restore", "admin")]
    assert str(results[-1].previous) in last[0]["note"]
    for earlier, later in zip(results, results[1:], strict=False):
        with db.connect(later.previous) as kept:
            notes = [e["note"] for e in db.audit_entries(kept, 10) if e["action"] == "restore"]
        assert len(notes) == 1 and str(earlier.previous) in notes[0]
    assert check.check_database(db_file) == []


def test_a_second_restore_is_told_to_wait_and_the_tablets_not_now(conn, db_file, tmp_path):
    snapshot = backup.backup_to(db_file, tmp_path / "snap.db")
    with restore_lock.hold(db_file):
        with pytest.raises(ValidationError) as exc:
            restore.restore(db_file, snapshot, backup_dir=tmp_path / "kept")
        assert exc.value.problems == [
            "Đang có một lần khôi phục khác chạy trên cơ sở dữ liệu này. Hãy chờ lần đó xong rồi thử lại."
        ]
        quay = Tablet(db_file, "quay1")
        quay.queue = [quay.survey()]
        with pytest.raises(gate.IntakePaused) as paused:
            tablet.sync(conn, signed(quay.secret, {"surveys": quay.queue}), now=NOW)
        assert str(paused.value) == (
            "Đang khôi phục dữ liệu từ bản sao lưu: tạm ngừng nhận phiếu, máy tính bảng giữ phiếu và gửi lại sau."
        )
        assert db.count_responses(conn) == 0
    assert not (tmp_path / "kept").exists()  # the refused restore kept no copy
    assert not restore_lock.busy(db_file)
    assert tablet.sync(conn, signed(quay.secret, {"surveys": quay.queue}), now=NOW).stored == 1


@pytest.mark.parametrize(
    "now, expected",
    [
        (
            datetime(1990, 1, 2, 8, 0),
            "Đồng hồ máy chủ đang chỉ 02/01/1990 08:00, trước ngày phát hành phần mềm (01/12/2026): chắc chắn sai.",
        ),
        (
            NOW - timedelta(days=3),
            "Đồng hồ máy chủ đang chỉ 03/12/2026 09:30, sớm hơn phiếu mới nhất đã lưu (06/12/2026 09:30): "
            "đồng hồ đã bị lùi.",
        ),
    ],
)
def test_a_clock_that_cannot_be_right_stops_the_tablets_and_keeps_their_surveys(conn, db_file, now, expected):
    quay = Tablet(db_file, "quay1")
    assert tablet.sync(conn, signed(quay.secret, {"surveys": [quay.survey()]}), now=NOW).stored == 1
    p = quay.survey()
    with pytest.raises(gate.IntakePaused) as exc:
        tablet.sync(conn, signed(quay.secret, {"surveys": [p]}), now=now)
    assert str(exc.value).startswith(expected)
    assert "Hãy chỉnh lại ngày giờ của máy chủ" in str(exc.value)
    assert db.count_responses(conn) == 1  # nothing stored under the wrong date, nothing acknowledged
    assert tablet.sync(conn, signed(quay.secret, {"surveys": [p]}), now=NOW + timedelta(minutes=5)).stored == 1
    # Within a day of the newest survey is accepted (a clock corrected by a few minutes).
    assert gate.clock_problem(conn, NOW - timedelta(hours=2)) is None
