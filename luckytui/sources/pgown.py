"""luckytui's own PostgreSQL sessions in this process, by server and backend pid.

The bulk remedies (terminate-long, terminate-idle, read-only ... terminate) and
the single-backend ones must never end luckytui's own sessions, and nothing
else may be spared: `application_name` is set by any client, so it proves
nothing. Every luckytui connection registers the pid the server gives it
(`pg_backend_pid()`: through a pooler it is not the pid libpq saw at connect)
and forgets it when the connection goes. Sessions of other luckytui processes
are not known here; they reconnect on their next refresh if ended.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_own: dict[str, dict[int, int]] = {}  # server -> pid -> how many connections claim it


def server_key(host: str | None, port: int | str | None) -> str:
    """Which server a connection talks to (pids are per server)."""
    return f"{host or 'local'}:{port or 5432}"


def register(server: str, pid: int) -> None:
    with _lock:
        pids = _own.setdefault(server, {})
        pids[pid] = pids.get(pid, 0) + 1


def forget(server: str, pid: int) -> None:
    with _lock:
        pids = _own.get(server, {})
        left = pids.get(pid, 0) - 1
        if left > 0:
            pids[pid] = left
        else:
            pids.pop(pid, None)


def own_pids(server: str) -> frozenset[int]:
    with _lock:
        return frozenset(_own.get(server, {}))
