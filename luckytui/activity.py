"""The database activity view's blocking tree, from one snapshot's sessions.

Each session waiting on a lock names the sessions that block it (`pg_blocking_pids`,
as `blocked_by`). The tree puts every blocker that waits on nothing at the top and
the sessions waiting on it indented beneath, nested as deep as the chain goes (a row
lock's second waiter waits on the first, which waits on the holder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from luckytui.snapshots import Backend


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One line of the tree: a session at a depth. `backend` is None for a blocker the
    snapshot does not carry (an idle session holding an advisory lock, or one beyond
    the rows sent)."""

    depth: int
    pid: int
    backend: Backend | None


def _parent(waiter: Backend, by_pid: dict[int, Backend]) -> int:
    """The blocker a waiter goes under: one that itself waits (the nearest link of a
    chain), else the first named."""
    for pid in waiter.blocked_by:
        blocker = by_pid.get(pid)
        if blocker is not None and blocker.blocked_by and pid != waiter.pid:
            return pid
    return waiter.blocked_by[0]


def blocking_tree(sessions: Sequence[Backend]) -> list[TreeRow]:
    """Blockers (longest first) with their waiters beneath, depth first. A session
    neither blocked nor blocking is not in it; a cycle (a deadlock the server has not
    broken yet) is cut where it comes round again."""
    by_pid = {b.pid: b for b in sessions}
    children: dict[int, list[Backend]] = {}
    for b in sessions:
        if b.blocked_by:
            children.setdefault(_parent(b, by_pid), []).append(b)
    for waiters in children.values():
        waiters.sort(key=lambda b: (-b.duration_s, b.pid))

    def longest(pid: int) -> tuple[float, int]:
        b = by_pid.get(pid)
        return (-(b.duration_s if b else 0.0), pid)

    roots = sorted((pid for pid in children
                    if pid not in by_pid or not by_pid[pid].blocked_by), key=longest)
    rows: list[TreeRow] = []
    placed: set[int] = set()

    def place(pid: int, depth: int) -> None:
        if pid in placed:
            return
        placed.add(pid)
        rows.append(TreeRow(depth, pid, by_pid.get(pid)))
        for waiter in children.get(pid, ()):
            place(waiter.pid, depth + 1)

    for pid in roots:
        place(pid, 0)
    for pid in sorted(children, key=longest):  # only in cycles: no blocker that waits not
        place(pid, 0)
    return rows
