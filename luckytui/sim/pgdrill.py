"""A drill's database faults, played for real on the embedded PostgreSQL server.

When a drill with database faults (long queries, a connection leak, a lock
pile-up) runs with a real server, `DrillSessions` opens their sessions there as
order-worker would (role luckygas_app, application_name order-worker), each
owned by one of order-worker's pods in the model:

- `long_queries`: sessions running `SELECT o.*, pg_sleep(3600) ...`;
- `connection_leak`: one session left idle in a transaction (holding ten
  pending orders' rows) each time the model's leak is due, until the
  generator's share of max_connections is used up (less the room the faults
  still to start will need: a few dozen sessions in all, as the server's
  max_connections is 50 and the superuser keeps 3 of them);
- `lock_pileup`: a session idle in a transaction holding order 88200's row,
  and `waiters` sessions whose UPDATE of that row waits on it.

Their ages are the server's own: a query is as old as it has really run.

Every tick it looks at the server (one scan of pg_stat_activity, as a
postgres_exporter would) and keeps `ServerView` up to date: how many client
backends the server has, and which of the drill's sessions are still
connected, running a query, or waiting on a lock. The model reads that view
for the database alert, the orders endpoint and the drill's "is it over"
test, so the room's terminate and cancel on the server are what recover it.
A session whose pod the model has retired (`restart order-worker`) is closed,
as the pod's death would close it; scaling order-worker does nothing to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from luckytui.sim.drill import LOCK_QUERY, LOCK_WAIT_QUERY, LONG_QUERY
from luckytui.sim.resources import DATABASE, LEAK_QUERY

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from luckytui.sim.drill import Fault
    from luckytui.sim.loadgen import LoadGenerator
    from luckytui.sim.model import Production

log = logging.getLogger(__name__)

WORKER = "order-worker"
MONITOR_APP = "postgres_exporter"
# the sessions a one-off fault opens
SIZES: dict[str, Callable[[Mapping[str, Any]], int]] = {
    "long_queries": lambda p: int(p["count"]),
    "lock_pileup": lambda p: 1 + int(p["waiters"]),
}
ACTIVITY_SQL = ("SELECT pid, state, wait_event_type FROM pg_stat_activity"
                " WHERE backend_type = 'client backend'")


@dataclass
class ServerView:
    """What the real server showed at the last look (read by the model; no I/O)."""

    max_connections: int
    clients: int = 0  # client backends on the server
    alive: set[int] = field(default_factory=set)  # the drill's sessions still connected
    active: set[int] = field(default_factory=set)  # of those, running a query
    waiting: set[int] = field(default_factory=set)  # of those, waiting on a lock

    def harming(self, f: Fault, model: Production) -> bool:
        """Is this database fault's harm on the server now?"""
        if f.kind == "long_queries":
            return bool(f.pids & self.active - self.waiting)
        if f.kind == "lock_pileup":  # the row is held, or order writes still wait on it
            return bool(f.pids & model.order_locks & self.alive or f.pids & self.waiting)
        if f.kind == "connection_leak":
            return model.leak_active or bool(f.pids & self.alive)
        return False


@dataclass
class Session:
    conn: AsyncConnection[Any]
    pid: int
    pod: str
    task: asyncio.Task[None] | None = None  # its statement, while one runs


class DrillSessions:
    """Opens the drill's database faults on the server and reports what is left of them."""

    def __init__(self, load: LoadGenerator, model: Production, view: ServerView) -> None:
        self.load = load
        self.model = model
        self.view = view
        self.sessions: dict[int, Session] = {}
        self.played: set[int] = set()  # the faults (by index) whose sessions were opened
        self.leaks_opened = 0  # leak sessions due so far that were tried
        self._monitor: AsyncConnection[Any] | None = None
        self._pick = 0

    async def run(self, tick_s: float) -> None:
        while True:
            self.model.sync()
            try:
                await self.look()
                await self.retire()
                await self.play()
            except self.load.psycopg.Error as exc:
                log.debug("drill sessions: %s", exc)
                await self._close_monitor()
            await asyncio.sleep(tick_s)

    async def stop(self) -> None:
        for session in list(self.sessions.values()):
            await self._close(session)
        await self._close_monitor()

    # --- what the server shows ----------------------------------------------------

    async def look(self) -> None:
        """One scan of pg_stat_activity: the server's clients and the drill's sessions."""
        if self._monitor is None or self._monitor.closed:
            self._monitor = await self.load.psycopg.AsyncConnection.connect(
                self.load.dsn(DATABASE, "postgres"), autocommit=True,
                application_name=MONITOR_APP, connect_timeout=5,
                options="-c pg_stat_statements.track=none")  # not the workload's statements
        cur = await self._monitor.execute(ACTIVITY_SQL)
        rows = await cur.fetchall()
        on_server = {pid: (state, wait) for pid, state, wait in rows}
        for pid in [p for p in self.sessions if p not in on_server]:  # terminated
            await self._close(self.sessions[pid])
        mine = {pid: on_server[pid] for pid in self.sessions}
        self.view.clients = len(rows)
        self.view.alive = set(mine)
        self.view.active = {p for p, (state, _) in mine.items() if state == "active"}
        self.view.waiting = {p for p, (_, wait) in mine.items() if wait == "Lock"}

    async def _close_monitor(self) -> None:
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            with contextlib.suppress(Exception):
                await monitor.close()

    # --- the pods' sessions -------------------------------------------------------

    async def retire(self) -> None:
        """The sessions of pods the model has removed end with their pods."""
        for session in [s for s in self.sessions.values() if s.pod not in self.model.pods]:
            await self._close(session)

    async def play(self) -> None:
        """Open the sessions of the database faults that have started: the one-off ones
        first, then the leak's (a clock that jumps starts several at once)."""
        faults = list(enumerate(self.model.drill.faults))
        for i, f in faults:
            if not f.started or i in self.played or f.kind not in SIZES:
                continue
            self.played.add(i)
            if f.kind == "long_queries":
                for _ in range(f.params["count"]):
                    await self._open(f, LONG_QUERY, wait=False)
            else:
                holder = await self._open(f, LOCK_QUERY, transaction=True)
                if holder is None:
                    continue
                self.model.order_locks.add(holder.pid)
                for _ in range(f.params["waiters"]):
                    await self._open(f, LOCK_WAIT_QUERY, wait=False)
        for _, f in faults:
            if f.started and f.kind == "connection_leak":
                await self._leak(f)

    async def _leak(self, f: Fault) -> None:
        """As many leaked sessions as the model's leak has made due; when the generator's
        share of the server is full (less the sessions of the faults still to come),
        the pool refuses them."""
        room = self.load.leak_cap - sum(
            SIZES[g.kind](g.params) for i, g in enumerate(self.model.drill.faults)
            if g.kind in SIZES and i not in self.played)
        while self.leaks_opened < self.model.leak_attempts:
            self.leaks_opened += 1
            if self.load.sessions < room:
                await self._open(f, LEAK_QUERY, transaction=True)

    def _pod(self) -> str | None:
        now = self.model.now
        pods = sorted(p.name for p in self.model.pods.values() if p.deployment == WORKER
                      and p.ready(now) and p.terminating_at is None)
        if not pods:
            return None
        self._pick += 1
        return pods[self._pick % len(pods)]

    async def _open(self, f: Fault, sql: str, *, transaction: bool = False,
                    wait: bool = True) -> Session | None:
        """A session of one of order-worker's ready pods running `sql`: left idle in its
        transaction (`transaction`), or with the statement still running (`wait=False`)."""
        pod = self._pod()
        if pod is None or self.load.sessions >= self.load.leak_cap:
            return None
        conn = await self.load.connect(WORKER, autocommit=not transaction)
        session = Session(conn, conn.info.backend_pid, pod)
        self.sessions[session.pid] = session
        self.load.sessions += 1
        f.pids.add(session.pid)
        if wait:
            await conn.execute(sql)
        else:
            session.task = asyncio.get_running_loop().create_task(self._statement(session, sql))
        return session

    async def _statement(self, session: Session, sql: str) -> None:
        try:
            await session.conn.execute(sql)
        except self.load.psycopg.Error as exc:  # cancelled or terminated: the worker goes on
            log.debug("drill session %d: %s", session.pid, exc)

    async def _close(self, session: Session) -> None:
        if self.sessions.pop(session.pid, None) is None:
            return
        self.load.sessions -= 1
        self.view.alive.discard(session.pid)
        self.view.active.discard(session.pid)
        self.view.waiting.discard(session.pid)
        if session.task is not None and not session.task.done():
            session.task.cancel()  # psycopg cancels the statement on the server
            with contextlib.suppress(BaseException):
                await session.task
        with contextlib.suppress(Exception):
            await session.conn.close()
