"""build_db_snapshot on hand-built pg_stat_activity and pg_stat_statements rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from luckytui.snapshots import CONNECTION_STATES
from luckytui.sources.base import SourceError
from luckytui.sources.postgres import STATEMENTS_HINT, build_db_snapshot, parse_ts

NOW = datetime(2026, 11, 26, 3, 4, 5, tzinfo=UTC)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def row(pid: int, state: str | None, *, query_age: float | None = None,
        change_age: float | None = None, backend_type: str = "client backend",
        wait: tuple[str, str] | None = None, blocked_by: tuple[int, ...] = (),
        query: str = "SELECT 1") -> dict[str, Any]:
    return {
        "pid": pid, "datname": "luckygas_prod", "usename": "app",
        "application_name": f"app-{pid}", "client_addr": "10.0.0.1",
        "backend_start": ago(3600), "xact_start": None,
        "query_start": ago(query_age) if query_age is not None else None,
        "state_change": ago(change_age) if change_age is not None else None,
        "wait_event_type": wait[0] if wait else None, "wait_event": wait[1] if wait else None,
        "state": state, "backend_type": backend_type, "query": query,
        "blocked_by": list(blocked_by),
    }


ROWS = [
    row(10, "active", query_age=1),
    row(11, "active", query_age=400, query="SELECT * FROM big_report"),
    row(12, "idle", query_age=900, change_age=899),
    row(13, "idle", query_age=5, change_age=4),
    row(14, "idle in transaction", query_age=200, change_age=95),
    row(15, "active", query_age=80, wait=("Lock", "transactionid"), blocked_by=(14,)),
    row(16, "idle in transaction (aborted)", query_age=30, change_age=30),
    row(17, "active", query_age=70, wait=("IO", "DataFileRead")),
    row(18, "fastpath function call", query_age=2),
    row(20, None, backend_type="autovacuum launcher"),
    row(21, None, backend_type="checkpointer"),
    row(22, "active", query_age=500, backend_type="autovacuum worker",
        query="autovacuum: VACUUM orders"),
    row(99, "active", query_age=9999, query="SELECT ... FROM pg_stat_activity"),
]


def test_counts_only_client_backends_and_not_our_own_session() -> None:
    snap = build_db_snapshot("prod", 100, ROWS, [], NOW, own_pid=99)
    assert snap.total == 9
    assert snap.counts == {"active": 3, "idle": 2, "idle in transaction": 1, "waiting": 1,
                           "other": 2}
    assert set(snap.counts) == {*CONNECTION_STATES, "other"}
    assert sum(snap.counts.values()) == snap.total
    assert snap.usage_ratio == 0.09
    assert snap.database == "prod"
    assert snap.max_connections == 100
    assert snap.taken_at == NOW


def test_own_pid_is_counted_when_not_given() -> None:
    snap = build_db_snapshot("prod", 100, ROWS, [], NOW)
    assert snap.total == 10
    assert snap.long_running[0].pid == 99


def test_waiting_means_waiting_on_a_lock_not_any_wait() -> None:
    snap = build_db_snapshot("prod", 100, [
        row(1, "active", query_age=1, wait=("Lock", "relation")),
        row(2, "active", query_age=1, wait=("LWLock", "WALWrite")),
        row(3, "idle in transaction", change_age=1, wait=("Lock", "tuple")),
        row(4, "active", query_age=1, wait=("Client", "ClientRead")),
    ], [], NOW)
    assert snap.counts["waiting"] == 2
    assert snap.counts["active"] == 2
    assert snap.counts["idle in transaction"] == 0


def test_long_running_threshold_and_order() -> None:
    snap = build_db_snapshot("prod", 100, ROWS, [], NOW, own_pid=99)
    assert [(b.pid, b.duration_s) for b in snap.long_running] == [
        (11, 400.0),  # active: since its query started
        (14, 95.0),  # idle in transaction: since it went idle
        (15, 80.0),
        (17, 70.0),
    ]
    waiter = snap.long_running[2]
    assert waiter.blocked_by == (14,)
    assert (waiter.wait_event_type, waiter.wait_event) == ("Lock", "transactionid")
    assert waiter.state == "active"
    assert waiter.query_start == NOW - timedelta(seconds=80)
    assert waiter.backend_start == NOW - timedelta(seconds=3600)
    assert snap.long_running[0].query == "SELECT * FROM big_report"
    assert snap.long_running[0].application_name == "app-11"

    stricter = build_db_snapshot("prod", 100, ROWS, [], NOW, own_pid=99, long_running_s=300)
    assert [b.pid for b in stricter.long_running] == [11]
    looser = build_db_snapshot("prod", 100, ROWS, [], NOW, own_pid=99, long_running_s=10)
    assert [b.pid for b in looser.long_running] == [11, 14, 15, 17, 16]


def test_idle_sessions_are_never_long_running() -> None:
    snap = build_db_snapshot("prod", 100, [row(1, "idle", query_age=9000, change_age=9000)],
                             [], NOW, long_running_s=0)
    assert snap.long_running == ()


def test_equal_durations_order_by_pid() -> None:
    rows = [row(pid, "active", query_age=120) for pid in (30, 10, 20)]
    snap = build_db_snapshot("prod", 100, rows, [], NOW)
    assert [b.pid for b in snap.long_running] == [10, 20, 30]


def test_rows_from_a_driver_with_datetimes() -> None:
    r = row(1, "active", wait=None)
    r["query_start"] = NOW - timedelta(seconds=90)
    r["backend_start"] = (NOW - timedelta(hours=1)).replace(tzinfo=None)  # naive means UTC
    r["blocked_by"] = None
    snap = build_db_snapshot("prod", 100, [r], [], NOW)
    assert snap.long_running[0].duration_s == 90
    assert snap.long_running[0].backend_start == NOW - timedelta(hours=1)
    assert snap.long_running[0].blocked_by == ()


def test_statements_slowest_mean_first_and_capped() -> None:
    rows = [
        {"queryid": 1, "query": "SELECT 1", "calls": 100, "total_exec_time": 50.0,
         "mean_exec_time": 0.5, "rows": 100},
        {"queryid": 2, "query": "SELECT report", "calls": 2, "total_exec_time": 5000.0,
         "mean_exec_time": 2500.0, "rows": 10},
        {"queryid": -3, "query": "UPDATE orders", "calls": 10, "total_exec_time": 120.0,
         "rows": 10},  # no mean: computed from the total
    ]
    snap = build_db_snapshot("prod", 100, [], rows, NOW)
    assert snap.statements_available
    assert snap.statements_hint is None
    assert [s.queryid for s in snap.statements] == ["2", "-3", "1"]
    assert snap.statements[1].mean_ms == 12.0
    assert snap.statements[0].total_ms == 5000.0
    assert snap.statements[0].calls == 2
    assert snap.statements[0].rows == 10
    top = build_db_snapshot("prod", 100, [], rows, NOW, top_statements=2)
    assert [s.queryid for s in top.statements] == ["2", "-3"]


def test_missing_pg_stat_statements_gives_the_hint() -> None:
    snap = build_db_snapshot("prod", 100, ROWS, None, NOW)
    assert not snap.statements_available
    assert snap.statements == ()
    assert snap.statements_hint == STATEMENTS_HINT
    assert "shared_preload_libraries" in STATEMENTS_HINT
    assert "CREATE EXTENSION pg_stat_statements" in STATEMENTS_HINT
    assert snap.total == 10  # the rest of the snapshot is unaffected


def test_an_empty_server() -> None:
    snap = build_db_snapshot("prod", 0, [], [], NOW)
    assert snap.total == 0
    assert snap.usage_ratio == 0.0
    assert snap.long_running == ()


@pytest.mark.parametrize("text", ["2026-11-26T03:04:05Z", "2026-11-26T03:04:05+00:00",
                                  "2026-11-26T05:04:05+02:00", "2026-11-26T03:04:05.000000Z"])
def test_timestamps_parse_from_iso_8601(text: str) -> None:
    assert parse_ts(text) == NOW


def test_bad_rows_raise() -> None:
    # one line for the pane, naming what is wrong, never a Python error's name alone
    with pytest.raises(SourceError, match=r"^PostgreSQL answered a row luckytui cannot "
                                          r"read \(no pid\)$"):
        build_db_snapshot("prod", 100, [{"state": "idle"}], [], NOW)
    with pytest.raises(SourceError, match=r"cannot read .*not a time"):
        build_db_snapshot("prod", 100, [row(1, "active", query_age=None) | {
            "query_start": "not a time"}], [], NOW)


# --- the activity view's sessions --------------------------------------------------


def test_sessions_are_every_busy_client_session_longest_first() -> None:
    snap = build_db_snapshot("prod", 100, ROWS, [], NOW, own_pid=99)
    # every non-idle client backend (not only the long-running ones), luckytui's own not
    assert [b.pid for b in snap.sessions] == [11, 14, 15, 17, 16, 18, 10]
    assert snap.sessions_total == 7 and not snap.idle_included
    waiter = next(b for b in snap.sessions if b.pid == 15)
    assert waiter.blocked_by == (14,) and waiter.wait_event == "transactionid"
    assert waiter.client_addr == "10.0.0.1"


def test_idle_sessions_only_when_asked_and_after_the_busy_ones() -> None:
    snap = build_db_snapshot("prod", 100, ROWS, [], NOW, own_pid=99, include_idle=True)
    assert [b.pid for b in snap.sessions] == [11, 14, 15, 17, 16, 18, 10, 12, 13]
    assert snap.idle_included and snap.sessions_total == 9
    assert snap.counts["idle"] == 2  # counted once, from the rows


def test_sessions_are_bounded_and_say_how_many_there_were() -> None:
    rows = [row(1000 + i, "active", query_age=i) for i in range(1234)]
    snap = build_db_snapshot("prod", 2000, rows, [], NOW)
    assert len(snap.sessions) == 500 and snap.sessions_total == 1234
    assert snap.sessions[0].pid == 1000 + 1233  # the longest kept
    assert min(b.duration_s for b in snap.sessions) == 734


def test_the_lock_waited_for_and_the_transaction_start() -> None:
    waiting = row(15, "active", query_age=80, wait=("Lock", "transactionid"),
                  blocked_by=(14,)) | {
        "xact_start": ago(90),
        "lock": {"mode": "ShareLock", "locktype": "transactionid", "relation": "orders"}}
    on_type = row(16, "active", query_age=10, wait=("Lock", "advisory"), blocked_by=(14,)) | {
        "lock": {"mode": "ExclusiveLock", "locktype": "advisory", "relation": None}}
    snap = build_db_snapshot("prod", 100, [waiting, on_type], [], NOW)
    first, second = snap.sessions
    assert (first.lock_mode, first.lock_on) == ("ShareLock", "orders")
    assert first.xact_start == NOW - timedelta(seconds=90)
    assert (second.lock_mode, second.lock_on) == ("ExclusiveLock", "advisory")
