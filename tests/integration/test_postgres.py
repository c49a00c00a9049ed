"""PostgresSource against a real PostgreSQL 15 server, with real sessions and real faults.

The test makes the sessions (idle, active in pg_sleep, idle in transaction,
one blocked on another's row lock), then compares luckytui's snapshot with a
direct query of pg_stat_activity taken at the same moment, while nothing
moves. Faults are real: the server stopped, restarted, frozen with SIGSTOP,
a catalog lock that makes the scan hit its statement_timeout, a wrong
password.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString

import psycopg
import pytest

from luckytui.config import ConfigError, parse_settings
from luckytui.snapshots import DbSnapshot
from luckytui.sources.base import SourceError
from luckytui.sources.factory import build_sources
from luckytui.sources.postgres import STATEMENTS_HINT, PostgresSource
from luckytui.systems.postgres import describe_pg_error, mask_passwords
from tests.integration.pg import (
    DATABASE,
    MONITOR_PASSWORD,
    MONITOR_ROLE,
    PLAIN_DATABASE,
    PgCluster,
    postgres,  # noqa: F401
)

LONG_S = 1.5  # the long-running threshold for these tests
# The comparison query carries luckytui's mark so that, like luckytui's own
# queries, it stays out of the slow statements it is compared with.
DIRECT_ACTIVITY = """SELECT /* luckytui */ pid, application_name,
       CASE WHEN pid = pg_backend_pid() THEN 'idle'
            WHEN wait_event_type = 'Lock' THEN 'waiting'
            WHEN state IN ('active', 'idle', 'idle in transaction') THEN state
            ELSE 'other' END AS bucket,
       CASE WHEN pid <> pg_backend_pid() AND state <> 'idle' THEN extract(epoch FROM
            statement_timestamp() - CASE WHEN state LIKE 'idle in transaction%'
                THEN coalesce(state_change, query_start, xact_start)
                ELSE coalesce(query_start, state_change, xact_start) END) END AS busy_s,
       pg_blocking_pids(pid) AS blocked_by,
       current_setting('max_connections')::int AS max_connections
FROM pg_stat_activity
WHERE backend_type = 'client backend'"""
DIRECT_STATEMENTS = """SELECT /* luckytui */ queryid::text, calls FROM pg_stat_statements
WHERE query NOT LIKE '%%/* luckytui */%%'
ORDER BY mean_exec_time DESC, queryid::text LIMIT %s"""


@dataclass(frozen=True)
class Direct:
    """What pg_stat_activity says, with the checker's own session counted as idle."""

    counts: dict[str, int]
    total: int
    max_connections: int
    long_running: list[tuple[int, tuple[int, ...]]]  # (pid, blocked_by), longest first
    app_names: dict[int, str]


async def direct(checker: psycopg.AsyncConnection[Any], own_pid: int | None) -> Direct:
    cur = await checker.execute(DIRECT_ACTIVITY)
    rows = await cur.fetchall()
    counts = {"active": 0, "idle": 0, "idle in transaction": 0, "waiting": 0, "other": 0}
    busy: list[tuple[float, int, tuple[int, ...]]] = []
    names = {}
    max_connections = 0
    for pid, app, bucket, busy_s, blocked_by, setting in rows:
        names[pid] = app
        max_connections = setting
        if pid == own_pid:
            continue
        counts[bucket] += 1
        if busy_s is not None and float(busy_s) > LONG_S:
            busy.append((-float(busy_s), pid, tuple(blocked_by)))
    busy.sort()
    return Direct(counts, sum(counts.values()), max_connections,
                  [(pid, blocked) for _, pid, blocked in busy], names)


def seen(snap: DbSnapshot) -> Direct:
    return Direct(dict(snap.counts), snap.total, snap.max_connections,
                  [(b.pid, b.blocked_by) for b in snap.long_running], {})


class Sessions:
    """The test's own sessions: closed at the end, their running statements cancelled."""

    def __init__(self, cluster: PgCluster) -> None:
        self.cluster = cluster
        self.conns: list[psycopg.AsyncConnection[Any]] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def connect(self, dbname: str = DATABASE) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(
            self.cluster.dsn(dbname), autocommit=True, application_name="test-session")
        self.conns.append(conn)
        return conn

    def start(self, conn: psycopg.AsyncConnection[Any], sql: LiteralString) -> None:
        """Send a statement that keeps running until the session is cancelled."""
        async def run() -> None:
            with suppress(psycopg.Error):
                await conn.execute(sql)
        self.tasks.append(asyncio.create_task(run()))

    async def close(self) -> None:
        for conn in self.conns:  # end pg_sleep and lock waits server-side first
            with suppress(Exception):
                await conn.cancel_safe(timeout=5)
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=5)
        for conn in self.conns:
            with suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)


@asynccontextmanager
async def sessions(cluster: PgCluster) -> AsyncIterator[Sessions]:
    made = Sessions(cluster)
    try:
        yield made
    finally:
        await made.close()


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def client_pids(checker: psycopg.AsyncConnection[Any]) -> dict[int, tuple[Any, ...]]:
    cur = await checker.execute(
        "SELECT pid, state, wait_event_type FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
    return {row[0]: row[1:] for row in await cur.fetchall()}


async def test_snapshot_equals_pg_stat_activity(postgres: PgCluster,  # noqa: F811
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGAPPNAME", raising=False)
    source = PostgresSource(postgres.dsn(DATABASE), "prod", timeout=5.0, long_running_s=LONG_S)
    async with sessions(postgres) as made:
        checker = await made.connect()

        async def quiet() -> bool:  # earlier tests' sessions are gone
            return not await client_pids(checker)
        await until(quiet, "earlier sessions to end")

        idle = [await made.connect() for _ in range(3)]
        for conn in idle:
            await conn.execute("SELECT 1")
        blocker, waiter, sleeper, sleeper2, fresh_tx = [await made.connect() for _ in range(5)]
        # the long-running ones, in this order: longest first
        await blocker.execute("BEGIN")
        await blocker.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        await asyncio.sleep(0.05)
        made.start(waiter, "UPDATE accounts SET balance = balance - 1 WHERE id = 1")
        await asyncio.sleep(0.05)
        made.start(sleeper, "SELECT pg_sleep(600)")

        async def parked() -> bool:
            states = await client_pids(checker)
            waiting = states.get(waiter.info.backend_pid, (None, None))[1]
            running = states.get(sleeper.info.backend_pid, (None,))[0]
            return bool(waiting == "Lock" and running == "active")
        await until(parked, "the waiter to wait on the lock and the sleeper to run")
        await asyncio.sleep(LONG_S + 0.6)
        # the short ones: busy for far less than the threshold when compared
        made.start(sleeper2, "SELECT pg_sleep(600)")
        await fresh_tx.execute("BEGIN")
        await fresh_tx.execute("SELECT 1")

        async def running() -> bool:
            state = (await client_pids(checker)).get(sleeper2.info.backend_pid, (None,))[0]
            return bool(state == "active")
        await until(running, "the second sleeper to run")

        for _ in range(20):  # compare only when nothing moved around the snapshot
            before = await direct(checker, source.backend_pid)
            snap = await source.fetch()
            after = await direct(checker, source.backend_pid)
            if before == after:
                break
        else:
            raise AssertionError("pg_stat_activity never held still")
        assert seen(snap) == Direct(after.counts, after.total, after.max_connections,
                                    after.long_running, {})
        # and what the test made is what both of them saw
        assert snap.max_connections == 1100
        assert snap.counts == {"active": 2, "idle": 4, "idle in transaction": 2,
                               "waiting": 1, "other": 0}
        assert snap.total == 9
        pids = [c.info.backend_pid for c in (blocker, waiter, sleeper)]
        assert [b.pid for b in snap.long_running] == pids
        assert snap.long_running[1].blocked_by == (blocker.info.backend_pid,)
        assert snap.long_running[0].blocked_by == snap.long_running[2].blocked_by == ()
        assert snap.long_running[0].state == "idle in transaction"
        assert "UPDATE accounts" in snap.long_running[1].query
        assert snap.long_running[2].query == "SELECT pg_sleep(600)"
        assert snap.long_running[1].wait_event_type == "Lock"
        assert all(b.duration_s > LONG_S for b in snap.long_running)
        # luckytui's own session: excluded, and named for the server
        own = source.backend_pid
        assert own is not None and own not in {b.pid for b in snap.long_running}
        assert after.app_names[own] == "luckytui"
        assert list(after.app_names.values()).count("luckytui") == 1
        # one connection kept across refreshes
        await source.fetch()
        assert source.backend_pid == own
        await source.aclose()


async def test_top_statements_by_mean_and_the_hint_without_the_extension(
        postgres: PgCluster) -> None:  # noqa: F811
    source = PostgresSource(postgres.dsn(DATABASE), "prod", top_statements=5,
                            statements_interval=0)
    plain = PostgresSource(postgres.dsn(PLAIN_DATABASE), "plain")
    async with sessions(postgres) as made:
        app = await made.connect()
        await app.execute("SELECT pg_stat_statements_reset()")
        await app.execute("SELECT pg_sleep(0.25)")
        # statements with luckytui's mark rank high, and the source learns they
        # are its own only after reading the first page: still 5 others shown
        for columns in (", 1", ", 1, 1", ", 1, 1, 1", ", 1, 1, 1, 1"):
            await app.execute(f"SELECT /* luckytui */ pg_sleep(0.02){columns}")
        await app.execute("SELECT now()")
        for _ in range(3):
            await app.execute("SELECT count(*) FROM accounts")
        await app.execute("ALTER ROLE luckytui_monitor PASSWORD 'rotated-pw-55e1'")
        await app.execute(f"ALTER ROLE luckytui_monitor PASSWORD '{MONITOR_PASSWORD}'")
        for _ in range(3):
            expected = await (await app.execute(DIRECT_STATEMENTS, (5,))).fetchall()
            snap = await source.fetch()
            again = await (await app.execute(DIRECT_STATEMENTS, (5,))).fetchall()
            if expected == again:
                break
        assert snap.statements_available and snap.statements_hint is None
        assert [(s.queryid, s.calls) for s in snap.statements] == [tuple(r) for r in expected]
        assert len(snap.statements) == 5
        means = [s.mean_ms for s in snap.statements]
        assert means == sorted(means, reverse=True)
        top = snap.statements[0]
        assert "pg_sleep" in top.query and top.mean_ms >= 250 and top.calls >= 1
        assert not any("/* luckytui */" in s.query for s in snap.statements)
        texts = "\n".join(s.query for s in snap.statements)
        assert MONITOR_PASSWORD not in texts and "rotated-pw-55e1" not in texts

        # read at most every statements_interval: a refresh in between reuses them
        slow = PostgresSource(postgres.dsn(DATABASE), "prod", statements_interval=60)
        first = await slow.fetch()
        await app.execute("SELECT pg_sleep(0.3)")
        assert (await slow.fetch()).statements == first.statements
        await slow.aclose()

        snap = await plain.fetch()
        assert not snap.statements_available
        assert snap.statements == () and snap.statements_hint == STATEMENTS_HINT
        assert snap.total >= 1  # the session above, in another database: the server's view
    await source.aclose()
    await plain.aclose()


async def test_stopped_server_is_one_line_then_the_same_source_recovers(
        postgres: PgCluster) -> None:  # noqa: F811
    source = PostgresSource(postgres.dsn(DATABASE), "prod", timeout=3.0)
    try:
        await source.fetch()
        postgres.stop()  # pg_ctl stop -m immediate
        with pytest.raises(SourceError) as failed:
            await source.fetch()
        assert str(failed.value) == f"connection refused: 127.0.0.1:{postgres.port}"
        with pytest.raises(SourceError):
            await source.fetch()
        postgres.start()
        snap = await source.fetch()
        assert snap.max_connections == 1100
        first = source.backend_pid
        # a restart between two refreshes costs no failed refresh: the dead
        # connection is replaced within the same fetch
        postgres.restart()
        await source.fetch()
        assert source.backend_pid != first
    finally:
        if not postgres.is_running():
            postgres.start()
        await source.aclose()


async def test_hung_server_times_out_within_the_limit_and_recovers(
        postgres: PgCluster) -> None:  # noqa: F811
    timeout = 2.0
    source = PostgresSource(postgres.dsn(DATABASE), "prod", timeout=timeout)
    try:
        await source.fetch()
        postgres.freeze()  # SIGSTOP the postmaster and every backend
        for _ in range(2):  # on the kept connection, then while connecting
            started = time.monotonic()
            with pytest.raises(SourceError) as failed:
                await source.fetch()
            elapsed = time.monotonic() - started
            assert elapsed < timeout + 1, elapsed
            assert str(failed.value) == "timed out after 2 s"
        postgres.resume()
        snap = await source.fetch()
        assert snap.max_connections == 1100
    finally:
        postgres.resume()
        await source.aclose()


async def test_cancelled_fetch_on_a_hung_server_returns_at_once(
        postgres: PgCluster) -> None:  # noqa: F811
    source = PostgresSource(postgres.dsn(DATABASE), "prod", timeout=30.0)
    try:
        await source.fetch()
        postgres.freeze()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(source.fetch(), 0.5)  # as the poller does
        assert time.monotonic() - started < 1.5
        postgres.resume()
        await source.fetch()
    finally:
        postgres.resume()
        await source.aclose()


async def test_a_blocked_scan_ends_as_statement_timeout(postgres: PgCluster) -> None:  # noqa: F811
    source = PostgresSource(postgres.dsn(DATABASE), "prod", timeout=1.5)
    async with sessions(postgres) as made:
        locker = await made.connect()
        await source.fetch()
        await locker.execute("BEGIN")
        await locker.execute("LOCK TABLE pg_extension IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(SourceError) as failed:
            await source.fetch()
        assert str(failed.value) == "statement timeout"
        assert time.monotonic() - started < 1.5
        await locker.execute("ROLLBACK")
        await source.fetch()
    await source.aclose()


async def test_passwords_come_from_pgpass_and_never_reach_the_message(
        postgres: PgCluster, tmp_path: Path) -> None:  # noqa: F811
    def passfile(password: str) -> str:
        path = tmp_path / f"pgpass-{password}"
        path.write_text(f"127.0.0.1:{postgres.port}:*:{MONITOR_ROLE}:{password}\n")
        path.chmod(0o600)
        return str(path)

    good = PostgresSource(postgres.dsn(DATABASE, MONITOR_ROLE, passfile=passfile(
        MONITOR_PASSWORD)), "prod")
    snap = await good.fetch()  # pg_monitor: sees every session and statement
    assert snap.statements_available and snap.statements
    await good.aclose()

    wrong = "wrong-pw-91c2"
    for dsn in (postgres.dsn(DATABASE, MONITOR_ROLE, passfile=passfile(wrong)),
                postgres.dsn(DATABASE, MONITOR_ROLE, password=wrong),
                f"postgresql://{MONITOR_ROLE}:{wrong}@127.0.0.1:{postgres.port}/{DATABASE}"):
        source = PostgresSource(dsn, "prod")
        with pytest.raises(SourceError) as failed:
            await source.fetch()
        message = str(failed.value)
        assert message == f'password authentication failed for user "{MONITOR_ROLE}"'
        assert wrong not in message and "\n" not in message
        await source.aclose()


def test_the_config_refuses_a_dsn_with_a_password_and_builds_the_real_source() -> None:
    for dsn in ("host=db user=app password=hunter2", "postgresql://app:hunter2@db/prod"):
        with pytest.raises(ConfigError) as refused:
            parse_settings({"databases": [{"name": "prod", "dsn": dsn}]}, "t.toml")
        assert "hunter2" not in str(refused.value)
    settings = parse_settings(
        {"databases": [{"name": "prod", "dsn": "host=db dbname=luckygas_prod"}]}, "t.toml")
    [source] = build_sources(settings)
    assert isinstance(source, PostgresSource) and source.name == "db"
    assert source.dsn == "host=db dbname=luckygas_prod" and source.database == "prod"


def test_error_lines_and_masking() -> None:
    assert describe_pg_error(TimeoutError(), 5.0) == "timed out after 5 s"
    err = psycopg.OperationalError(
        'connection failed: connection to server on socket "/run/x/.s.PGSQL.5432" failed: '
        "No such file or directory\n\tIs the server running locally?")
    assert describe_pg_error(err, 5) == "no server listening on socket /run/x/.s.PGSQL.5432"
    err = psycopg.OperationalError(
        'connection failed: connection to server at "db.internal" (10.0.0.5), port 5432 '
        "failed: FATAL:  sorry, too many clients already")
    assert describe_pg_error(err, 5) == "sorry, too many clients already"
    err = psycopg.OperationalError("something odd with password=hunter2 in it")
    assert "hunter2" not in describe_pg_error(err, 5)
    assert mask_passwords("ALTER ROLE app PASSWORD 'x''y' VALID UNTIL 'infinity'") == (
        "ALTER ROLE app PASSWORD '***' VALID UNTIL 'infinity'")


def test_fixture_runs_the_server_as_the_server_user(postgres: PgCluster) -> None:  # noqa: F811
    if os.geteuid() == 0:
        assert Path(f"/proc/{postgres.pid}").stat().st_uid != 0
    assert postgres.is_running()
