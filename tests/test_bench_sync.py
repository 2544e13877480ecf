"""bench/bench_sync.py in small: a few enrolled tablets syncing with a real server over HTTP, killed once.

No browser: the simulated tablets post signed messages to ``/api/tablet/sync`` as the tablet's app does. What
is asserted is the bench's own verdict on correctness (every acknowledged survey stored exactly once and
nothing else, every acknowledged start counted, the database clean after the SIGKILL, forged messages refused
and counted); its latency target is for the 300-tablet run on a quiet machine (bench/RESULTS.md), not for a test.
"""

from __future__ import annotations

from bench import bench_sync


def test_a_few_tablets_syncing_through_a_kill_lose_nothing_and_double_nothing(capsys):
    rc = bench_sync.main(["--tablets", "4", "--seconds", "8", "--interval", "2", "--kill-at", "3", "--no-record"])
    out = capsys.readouterr().out
    print(out)
    assert rc in (0, 3), out  # 3: only the latency target missed (a loaded machine)
    assert "acknowledged but missing 0, stored twice 0" in out
    assert "all refused, each counted in kiosk_refusals, nothing stored" in out
