"""The benchmarks' private PostgreSQL server, and traffic to put on it.

`bench_cluster()` starts the integration tests' `PgCluster` (PostgreSQL from
`pg_config --bindir`, run as the `postgres` user when we are root, on a free
loopback port, pg_stat_statements preloaded, fsync off), with extra superuser
roles that log in over TCP without a password (trust for that role alone on
127.0.0.1), so that a second monitoring program can run as a role of its own
and pg_stat_statements' `userid` tells its statements apart. The server is
stopped and its files removed on leaving the block, whatever ends it.

`on_signals_cleanup()` turns SIGTERM and SIGHUP into KeyboardInterrupt, so
that a killed benchmark still runs its `finally` blocks (Ctrl-C already does).

`Traffic` holds idle sessions and busy ones (queries in a loop: sleeps, short
CPU work, pauses in between), from a thread of its own, while the main thread
reads the terminals of the programs being measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.integration.pg import (  # noqa: E402
    DATABASE,
    SERVER_USER,
    ClusterError,
    PgCluster,
)

__all__ = ["DATABASE", "SERVER_USER", "ClusterError", "PgCluster", "Traffic", "bench_cluster",
           "on_signals_cleanup"]

LOAD_MARK = "/* bench-load */"


@contextlib.contextmanager
def on_signals_cleanup() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread while inside."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _trust_roles(cluster: PgCluster, roles: tuple[str, ...]) -> None:
    """Let these roles in over TCP without a password (before the scram-sha-256 line)."""
    hba = cluster.data / "pg_hba.conf"
    lines = "".join(f"host all {role} 127.0.0.1/32 trust\n" for role in roles)
    hba.write_text(lines + hba.read_text())  # written in place: the owner stays


@contextlib.contextmanager
def bench_cluster(*, max_connections: int = 1100, track_planning: bool = False,
                  roles: tuple[str, ...] = ()) -> Iterator[PgCluster]:
    """A started, populated private cluster with `roles` as passwordless superusers."""
    cluster = PgCluster(max_connections=max_connections, track_planning=track_planning)
    try:
        cluster.init()
        _trust_roles(cluster, roles)
        cluster.start()
        try:
            cluster.populate()
            for role in roles:
                cluster.execute(f"CREATE ROLE {role} LOGIN SUPERUSER")
        except Exception as exc:
            raise ClusterError(f"setting up the databases failed: {exc}"
                               + cluster.log_tail()) from None
        yield cluster
    finally:
        cluster.destroy()


async def open_sessions(dsn: str, count: int, *, parallel: int = 32,
                        name: str = "app") -> list[Any]:
    """`count` autocommit sessions, each having run one statement (so they show as idle)."""
    import psycopg

    gate = asyncio.Semaphore(parallel)
    opened: list[Any] = []

    async def one(i: int) -> None:
        async with gate:
            conn = await psycopg.AsyncConnection.connect(
                dsn, autocommit=True, application_name=f"{name}-{i % 20}")
            opened.append(conn)
            await conn.execute(LOAD_MARK + " SELECT 1")

    try:
        await asyncio.gather(*(one(i) for i in range(count)))
    except BaseException:
        for conn in opened:
            await conn.close()
        raise
    return opened


class Traffic:
    """Idle sessions and busy ones, held by a thread of its own until `stop()`.

    A busy session loops: half the time `pg_sleep` for 0.2-1.5 s, else a short
    CPU query (a few ms), and a pause of up to 0.5 s between (idle then), so the
    list of active sessions changes from one refresh to the next. The last
    `long` of the busy sessions run long queries instead (`pg_sleep` for 70-150
    s, the first one started `stagger` s after the one before), so that some
    sessions pass a one-minute "long-running" mark, one after the other, and
    leave it again.
    """

    def __init__(self, dsn: str, *, idle: int = 300, busy: int = 20, long: int = 0,
                 stagger: float = 8.0, seed: int = 1) -> None:
        if not 0 <= long <= busy:
            raise ValueError("the long sessions are some of the busy ones")
        self.dsn, self.idle, self.busy, self.long, self.stagger = dsn, idle, busy, long, stagger
        self.rng = random.Random(seed)
        self.queries = 0
        self.started_at = 0.0  # time.monotonic() when the busy sessions began
        self._ready = threading.Event()
        self._halt = threading.Event()  # stop() was called, maybe before the loop ran
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="bench-traffic", daemon=True)

    def start(self, timeout: float = 180.0) -> Traffic:
        self._thread.start()
        try:
            ready = self._ready.wait(timeout)
        except BaseException:  # Ctrl-C while the sessions open: __exit__ will not run
            self.stop()
            raise
        if not ready:
            self.stop()
            raise RuntimeError(f"opening {self.idle + self.busy} sessions took over {timeout:g} s")
        if self._error is not None:
            raise RuntimeError(f"opening the sessions failed: {self._error}") from self._error
        return self

    def stop(self) -> None:
        self._halt.set()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(30)

    def __enter__(self) -> Traffic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start(); the thread just ends
            self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        conns = await open_sessions(self.dsn, self.idle + self.busy)
        if self._halt.is_set():
            self._stop.set()
        busy = conns[self.idle:]
        short, long = busy[: self.busy - self.long], busy[self.busy - self.long:]
        self.started_at = time.monotonic()
        tasks = [asyncio.create_task(self._short_queries(conn, random.Random(self.rng.random())))
                 for conn in short]
        tasks += [asyncio.create_task(self._long_queries(conn, random.Random(self.rng.random()),
                                                         i * self.stagger))
                  for i, conn in enumerate(long)]
        try:
            self._ready.set()
            await self._stop.wait()
        finally:
            self._stop.set()
            for conn in busy:  # ends the queries under way, server-side
                with contextlib.suppress(Exception):
                    await conn.cancel_safe(timeout=5)
            _, pending = await asyncio.wait(tasks, timeout=10) if tasks else ((), ())
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for conn in conns:
                with contextlib.suppress(Exception):
                    await conn.close()

    async def _pause(self, seconds: float) -> None:
        stop = self._stop
        assert stop is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def _short_queries(self, conn: Any, rng: random.Random) -> None:
        assert self._stop is not None
        while not self._stop.is_set():
            if rng.random() < 0.5:
                await conn.execute(f"{LOAD_MARK} SELECT pg_sleep({rng.uniform(0.2, 1.5):.2f})")
            else:
                rows = rng.randrange(20_000, 80_000)
                await conn.execute(f"{LOAD_MARK} SELECT count(*), sum(g % 7) "
                                   f"FROM generate_series(1, {rows}) g")
            self.queries += 1
            await self._pause(rng.uniform(0.0, 0.5))

    async def _long_queries(self, conn: Any, rng: random.Random, delay: float) -> None:
        assert self._stop is not None
        await self._pause(delay)
        while not self._stop.is_set():
            await conn.execute(f"{LOAD_MARK} SELECT pg_sleep({rng.uniform(70, 150):.0f})")
            self.queries += 1
            await self._pause(rng.uniform(0.5, 3.0))
