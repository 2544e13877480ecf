"""Server memory while an administrator downloads a backup of a ~200 MB database.

Before: the backup page's ``st.download_button`` (the code at ``--before`` commit, default the one
before the streamed route): the file is read into memory and handed to Streamlit's media store.
After: the one-time link ``/api/backup/<token>`` (this tree's ``app.py``), streamed from a temp file.

Load: a database of ``--responses`` demo surveys plus ``--filler-mb`` MB of random blobs in an extra
table (so the file is ~200 MB quickly); one administrator in headless Chromium logs in, types the
password again, downloads the file, and the download is checked (size, SQLite header). Measured: the
server process's peak resident memory (VmHWM, /proc/<pid>/status) before the click and after the
download. Run: ``.venv/bin/python bench/bench_download.py`` (needs /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipas import db, demo  # noqa: E402
from sipas.admin import auth  # noqa: E402
from tests import browser as b  # noqa: E402

PW = "matkhau-dung-1"


def vm(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_db(path: Path, responses: int, filler_mb: int) -> None:
    with db.session(path) as c:
        b.keep_counter_open(c)
        demo.generate(c, responses, seed=11)
        auth.create_user(c, "quantri", PW, "clerk", full_name="Nguyễn Thị Lan", first_admin=True)
    with closing(sqlite3.connect(path)) as c:
        c.execute("CREATE TABLE bench_filler (b BLOB)")
        for _ in range(filler_mb):
            c.execute("INSERT INTO bench_filler VALUES (?)", (os.urandom(1 << 20),))
        c.commit()
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run(tree: Path, path: Path, work: Path, streamed: bool) -> dict:
    port = b.free_port()
    env = {**os.environ, "SIPAS_DB": str(path), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    log = work / f"server-{port}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = b.Server(url=f"http://127.0.0.1:{port}", db=path, log=log, process=proc, tablet={}, cmd=cmd, env=env)
    try:
        b._wait_healthy(server, 90)
        with b.chromium() as chromium:
            page = b.new_tablet_page(
                chromium, viewport={"width": 1440, "height": 900}, has_touch=False, accept_downloads=True
            )
            b.log_in(page, server, "quantri", PW, timeout=90_000)
            b.go_to(page, "Sao lưu")
            idle = vm(proc.pid, "VmHWM")
            page.get_by_label("Nhập lại mật khẩu của bạn để tải bản sao lưu").fill(PW)
            before = b.runs(page)
            page.get_by_role("button", name="Tạo" if streamed else "Tạo bản sao lưu mới").first.click()
            b.wait_for_run(page, timeout=300_000, after=before)
            start = time.monotonic()
            if streamed:
                target = page.get_by_test_id("sipas-backup-link")
            else:
                target = page.get_by_test_id("stDownloadButton").get_by_role("button")
            target.wait_for(state="visible", timeout=300_000)
            with page.expect_download(timeout=300_000) as info:
                target.click()
            saved = work / f"got-{port}.db"
            info.value.save_as(saved)
            seconds = time.monotonic() - start
            with saved.open("rb") as f:
                assert f.read(16) == b"SQLite format 3\x00"
            size = saved.stat().st_size
            saved.unlink()
        return {"idle": idle, "peak": vm(proc.pid, "VmHWM"), "size": size, "seconds": seconds}
    finally:
        b._stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--responses", type=int, default=2000)
    ap.add_argument("--filler-mb", type=int, default=200)
    ap.add_argument("--before", default="034818e", help="commit with the download button")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-download-") as tmp:
        work = Path(tmp)
        path = work / "sipas.db"
        make_db(path, args.responses, args.filler_mb)
        print(f"database {path.stat().st_size / 1_048_576:.0f} MB ({args.responses} demo surveys + filler)")
        old = work / "before"
        old.mkdir()
        archive = subprocess.run(["git", "archive", args.before], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        for label, tree, streamed in (("before (download_button)", old, False), ("after (/api/backup)", ROOT, True)):
            r = run(tree, path, work, streamed)
            print(
                f"{label}: server peak RSS {r['idle']:.0f} MB before the click → {r['peak']:.0f} MB after "
                f"the download of {r['size'] / 1_048_576:.0f} MB ({r['seconds']:.1f} s)"
            )


if __name__ == "__main__":
    main()
