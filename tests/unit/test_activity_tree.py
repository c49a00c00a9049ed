"""The database activity view's blocking tree."""

from __future__ import annotations

from luckytui.activity import blocking_tree
from luckytui.snapshots import Backend


def backend(pid: int, duration: float, *blocked_by: int) -> Backend:
    return Backend(pid=pid, datname="luckygas_prod", usename="app", application_name="w",
                   state="active", wait_event_type="Lock" if blocked_by else None,
                   wait_event="transactionid" if blocked_by else None, backend_start=None,
                   query_start=None, duration_s=duration, query="UPDATE orders",
                   blocked_by=blocked_by)


def shape(sessions: list[Backend]) -> list[tuple[int, int, bool]]:
    return [(r.depth, r.pid, r.backend is not None) for r in blocking_tree(sessions)]


def test_waiters_beneath_their_blocker_and_chains_nested() -> None:
    sessions = [backend(1, 5), backend(2, 95), backend(3, 80, 2), backend(4, 70, 3, 2),
                backend(5, 60, 2), backend(6, 300), backend(7, 10, 6)]
    assert shape(sessions) == [
        (0, 6, True), (1, 7, True),  # the longest blocker first
        (0, 2, True), (1, 3, True), (2, 4, True),  # 4 waits on 3, which waits on 2
        (1, 5, True)]  # and session 1, neither blocked nor blocking, is not there


def test_a_blocker_not_in_the_snapshot_still_heads_its_waiters() -> None:
    assert shape([backend(3, 8, 42), backend(4, 9, 42)]) == [
        (0, 42, False), (1, 4, True), (1, 3, True)]


def test_a_cycle_is_shown_once() -> None:
    rows = shape([backend(1, 2, 2), backend(2, 3, 1)])
    assert sorted(pid for _, pid, _ in rows) == [1, 2]
    assert rows[0][0] == 0 and rows[1][0] == 1


def test_no_locks_no_tree() -> None:
    assert blocking_tree([backend(1, 5), backend(2, 6)]) == []
