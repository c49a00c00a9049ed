"""The database pane's data: connections by state, long-running sessions, slow statements.

`build_db_snapshot` turns rows shaped like `pg_stat_activity` (with
`pg_blocking_pids` folded in as `blocked_by`) and `pg_stat_statements` into a
`DbSnapshot`. It is pure, and shared by every way of reaching a database: the
real server (`PostgresSource`, below) and any twin serving the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from luckytui.snapshots import CONNECTION_STATES, Backend, DbSnapshot, Statement
from luckytui.sources.base import SourceError, one_line
from luckytui.systems.postgres import (
    CLIENT_BACKEND,
    SQL_MARK,
    OwnSession,
    describe_pg_error,
    is_marked,
    load_psycopg,
    marked,
    mask_passwords,
    server_key,
)

if TYPE_CHECKING:
    from psycopg import AsyncConnection

STATEMENTS_HINT = (
    "pg_stat_statements is not installed: add it to shared_preload_libraries "
    "and CREATE EXTENSION pg_stat_statements"
)
IDLE_IN_TRANSACTION = ("idle in transaction", "idle in transaction (aborted)")
SESSION_LIMIT = 500  # the activity view's rows, longest first ("500 of 1,234")


def parse_ts(value: object) -> datetime | None:
    """A timestamptz from a driver (datetime) or JSON (ISO 8601 text), as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    else:
        raise TypeError(f"not a timestamp: {type(value).__name__}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def connection_state(row: Mapping[str, Any]) -> str:
    """The pane's state for one session: waiting on a lock counts as "waiting"."""
    if row.get("wait_event_type") == "Lock":
        return "waiting"
    state = row.get("state")
    if state in CONNECTION_STATES:
        return str(state)
    return "other"


def _duration_s(row: Mapping[str, Any], now: datetime) -> float | None:
    """How long the session has been in what it is doing (query or open transaction)."""
    state = row.get("state")
    if state in IDLE_IN_TRANSACTION:
        order = ("state_change", "query_start", "xact_start")
    else:
        order = ("query_start", "state_change", "xact_start")
    for key in order:
        ts = parse_ts(row.get(key))
        if ts is not None:
            return max(0.0, (now - ts).total_seconds())
    return None


def _lock(row: Mapping[str, Any]) -> tuple[str, str]:
    """The lock a session waits for (pg_locks: mode, and a relation or the lock's type)."""
    lock = row.get("lock")
    if not isinstance(lock, Mapping):
        return "", ""
    return str(lock.get("mode") or ""), str(lock.get("relation") or lock.get("locktype") or "")


def _backend(row: Mapping[str, Any], duration_s: float) -> Backend:
    mode, on = _lock(row)
    return Backend(
        pid=int(row["pid"]),
        datname=str(row.get("datname") or ""),
        usename=str(row.get("usename") or ""),
        application_name=str(row.get("application_name") or ""),
        state=str(row.get("state") or ""),
        wait_event_type=row.get("wait_event_type"),
        wait_event=row.get("wait_event"),
        backend_start=parse_ts(row.get("backend_start")),
        query_start=parse_ts(row.get("query_start")),
        duration_s=duration_s,
        query=str(row.get("query") or ""),
        blocked_by=tuple(int(p) for p in row.get("blocked_by") or ()),
        client_addr=str(row.get("client_addr") or ""),
        xact_start=parse_ts(row.get("xact_start")),
        lock_mode=mode,
        lock_on=on,
    )


def _statement(row: Mapping[str, Any]) -> Statement:
    calls = int(row.get("calls") or 0)
    total = float(row.get("total_exec_time", row.get("total_time")) or 0.0)
    mean = row.get("mean_exec_time", row.get("mean_time"))
    return Statement(
        queryid=str(row.get("queryid", "")),
        query=str(row.get("query") or ""),
        calls=calls,
        mean_ms=float(mean) if mean is not None else (total / calls if calls else 0.0),
        total_ms=total,
        rows=int(row.get("rows") or 0),
    )


@contextlib.contextmanager
def _unreadable_rows(sender: str) -> Iterator[None]:
    """A row that cannot be read (a NULL pid, an odd type) as one SourceError line."""
    try:
        yield
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        what = f"no {exc.args[0]}" if isinstance(exc, KeyError) and exc.args else \
            one_line(exc, 120)
        raise SourceError(f"{sender} answered a row luckytui cannot read ({what})"
                          ) from None


def build_db_snapshot(
    database: str,
    max_connections: int,
    activity_rows: Sequence[Mapping[str, Any]],
    statement_rows: Sequence[Mapping[str, Any]] | None,
    now: datetime,
    own_pid: int | None = None,
    long_running_s: float = 60.0,
    top_statements: int = 10,
    idle_sessions: int = 0,
    sender: str = "PostgreSQL",
    include_idle: bool = False,
    session_limit: int = SESSION_LIMIT,
) -> DbSnapshot:
    """One refresh of the database pane from one scan's rows.

    Only client backends count (background workers and luckytui's own session
    do not). A session waiting on a lock counts as "waiting" instead of its
    state. Long-running sessions are the non-idle ones busy for longer than
    `long_running_s`, longest first. `statement_rows` is None when
    pg_stat_statements is not available. `idle_sessions` counts idle client
    backends that the server counted instead of sending (not in `activity_rows`).
    `sessions` are the activity view's: every non-idle client session (idle ones too
    with `include_idle`), longest first, at most `session_limit` of them.
    A row it cannot read is a SourceError naming `sender` and what is wrong.
    """
    with _unreadable_rows(sender):
        now = parse_ts(now) or now
        counts = dict.fromkeys((*CONNECTION_STATES, "other"), 0)
        counts["idle"] = idle_sessions
        total = idle_sessions
        long_running: list[Backend] = []
        sessions: list[Backend] = []
        for row in activity_rows:
            if row.get("backend_type", CLIENT_BACKEND) != CLIENT_BACKEND:
                continue
            if int(row["pid"]) == own_pid:
                continue
            total += 1
            counts[connection_state(row)] += 1
            state = row.get("state")
            if state is None or state == "idle":
                if include_idle:
                    sessions.append(_backend(row, _duration_s(row, now) or 0.0))
                continue
            duration = _duration_s(row, now)
            backend = _backend(row, duration or 0.0)
            sessions.append(backend)
            if duration is not None and duration > long_running_s:
                long_running.append(backend)
        long_running.sort(key=lambda b: (-b.duration_s, b.pid))
        # longest first; idle sessions (shown on demand) after every busy one
        sessions.sort(key=lambda b: (b.state == "idle", -b.duration_s, b.pid))
        shown, seen = tuple(sessions[: max(0, session_limit)]), len(sessions)

        if statement_rows is None:
            return DbSnapshot(
                taken_at=now, database=database, max_connections=max_connections, counts=counts,
                total=total, long_running=tuple(long_running), statements=(),
                statements_available=False, statements_hint=STATEMENTS_HINT,
                sessions=shown, sessions_total=seen, idle_included=include_idle)
        statements = sorted((_statement(r) for r in statement_rows),
                            key=lambda s: (-s.mean_ms, s.queryid))
        return DbSnapshot(
            taken_at=now, database=database, max_connections=max_connections, counts=counts,
            total=total, long_running=tuple(long_running),
            statements=tuple(statements[: max(0, top_statements)]),
            sessions=shown, sessions_total=seen, idle_included=include_idle)


# --- a real server ----------------------------------------------------------------------


# One scan of pg_stat_activity per refresh, an aggregate, so its answer is one row:
# - max_connections; our own pid (excluded from the counts; through a pooler it
#   is not the pid libpq saw at connect); the server's clock (durations do not
#   depend on the client's); where pg_stat_statements is installed in this
#   database, if it is (so its presence is known on every refresh, for free);
# - the idle client sessions, counted: at 1,000 connections they are most rows,
#   and sending and decoding them would cost more than the scan itself;
# - the other client sessions as one JSON array, with pg_blocking_pids (which
#   costs about a scan of the lock table) only for the ones waiting on a Lock, and
#   for those the lock they wait for (pg_locks: its mode, and the relation: a row
#   lock's waiter waits on a transaction id, its relation is in the tuple lock held);
# - the idle client sessions sent too while the activity view asks for them
#   (ACTIVITY_WITH_IDLE_SQL: then the count of idle ones is not used).
ACTIVITY_SQL = marked("""
SELECT current_setting('max_connections')::int,
       pg_backend_pid(),
       statement_timestamp(),
       (SELECT ARRAY[n.nspname::text, x.extversion]
        FROM pg_extension AS x JOIN pg_namespace AS n ON n.oid = x.extnamespace
        WHERE x.extname = 'pg_stat_statements'),
       count(*) FILTER (WHERE a.state = 'idle' AND a.backend_type = 'client backend'),
       json_agg(json_build_object(
           'pid', a.pid, 'datname', a.datname, 'usename', a.usename,
           'application_name', a.application_name, 'client_addr', a.client_addr,
           'backend_start', a.backend_start, 'xact_start', a.xact_start,
           'query_start', a.query_start, 'state_change', a.state_change,
           'wait_event_type', a.wait_event_type, 'wait_event', a.wait_event,
           'state', a.state, 'backend_type', a.backend_type, 'query', left(a.query, 2000),
           'blocked_by', CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END,
           'lock', CASE WHEN a.wait_event_type = 'Lock' THEN (
               SELECT json_build_object(
                   'mode', l.mode, 'locktype', l.locktype,
                   'relation', coalesce(l.relation, t.relation)::regclass::text)
               FROM pg_locks AS l
               LEFT JOIN pg_locks AS t ON t.pid = l.pid AND t.locktype = 'tuple' AND t.granted
               WHERE l.pid = a.pid AND NOT l.granted LIMIT 1) END))
         FILTER (WHERE a.state IS DISTINCT FROM 'idle' AND a.backend_type = 'client backend')
FROM pg_stat_activity AS a""")
ACTIVITY_WITH_IDLE_SQL = ACTIVITY_SQL.replace(
    "FILTER (WHERE a.state IS DISTINCT FROM 'idle' AND", "FILTER (WHERE")

# The top statements by mean time, ranked and cut server-side, without their
# text: pg_stat_statements(true) reads every entry's text from its file (~10 ms
# for 500 entries), pg_stat_statements(false) does not (~0.6 ms). Texts do not
# change for an entry, so they are read once, only for entries new to the top.
# Statements known to be luckytui's own (its role, its queryids) are left out; a few
# more than asked for are read in case some of them are luckytui's, not known yet.
# {schema}: where the extension lives; {total}/{mean}: the 1.8+ column names
# (PostgreSQL 13+) or the older ones.
STATEMENTS_SQL = marked("""
SELECT userid, dbid, queryid, calls, {total}, {mean}, rows
FROM {schema}.pg_stat_statements(false)
WHERE queryid IS NOT NULL AND NOT (userid = %s::oid AND queryid = ANY(%s::int8[]))
ORDER BY {mean} DESC
LIMIT %s""")
STATEMENT_TEXTS_SQL = marked("""
SELECT userid, dbid, queryid, left(query, 2000)
FROM {schema}.pg_stat_statements(true)
WHERE queryid = ANY(%s::int8[])""")
STATEMENT_COLUMNS = ("calls", "total_exec_time", "mean_exec_time", "rows")
STATEMENTS_RETRY_S = 60.0  # after pg_stat_statements refused to answer (not preloaded, ...)
OWN_MARGIN = 2  # extra statements read in case some are luckytui's own, not known yet
TEXT_CACHE_MAX = 2000
MAX_REREADS = 4  # pages read again on a refresh that finds own statements not known yet



StatementKey = tuple[int, int, int]  # userid, dbid, queryid: one pg_stat_statements entry


class PostgresSource:
    """A real PostgreSQL server, read with psycopg's async API.

    `dsn` is a libpq conninfo string or URL without a password (libpq's PG*
    environment variables, ~/.pgpass and service files apply as in psql).
    One connection is kept open (autocommit, `application_name=luckytui` unless
    the DSN or PGAPPNAME names another, a `statement_timeout` below `timeout`)
    and replaced after any failure. A refresh is one scan of pg_stat_activity;
    when pg_stat_statements is installed in this database, its top
    `top_statements` by mean time are read too, at most every
    `statements_interval` seconds (they are cumulative and move slowly).
    Each fetch finishes within `timeout`, whatever the server does.
    """

    name = "db"

    def __init__(self, dsn: str, database: str, *, timeout: float = 5.0,
                 long_running_s: float = 60.0, top_statements: int = 10,
                 statements_interval: float = 10.0) -> None:
        self.dsn = dsn
        self.database = database
        self.timeout = timeout
        self.long_running_s = long_running_s
        self.top_statements = top_statements
        self.statements_interval = statements_interval
        self._conn: AsyncConnection[tuple[Any, ...]] | None = None
        self._backend_pid: int | None = None
        self._statements: list[dict[str, Any]] | None = None  # the last ones read
        self._statements_at = -math.inf  # monotonic time they were read
        self._statements_retry_at = -math.inf  # not before, after a refusal
        self._texts: dict[StatementKey, str] = {}
        self._own: set[int] = set()  # queryids of luckytui's own statements, in its role
        self._role: int | None = None  # the oid of the role luckytui connects as
        self._own_session = OwnSession()
        self._learned_own = False  # the last page read had own statements not known before
        self.include_idle = False  # the activity view shows idle sessions too

    @property
    def backend_pid(self) -> int | None:
        """The server pid of luckytui's own session at the last refresh."""
        return self._backend_pid

    @property
    def statement_timeout_ms(self) -> int:
        """Below the fetch's timeout, so a slow scan ends as "statement timeout"."""
        return max(100, int(self.timeout * 800))

    async def fetch(self) -> DbSnapshot:
        pg = await load_psycopg()
        work = asyncio.create_task(self._fetch(pg))
        try:
            done, _ = await asyncio.wait({work}, timeout=self.timeout)
        except asyncio.CancelledError:
            await self._abandon(work)
            raise
        if not done:
            await self._abandon(work)
            raise SourceError(f"timed out after {self.timeout:g} s")
        return work.result()

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        self._own_session.release()
        if conn is not None:
            await conn.close()

    # --- inside the time limit ---

    async def _fetch(self, pg: Any) -> DbSnapshot:
        reused = self._conn is not None
        try:
            return await self._refresh(pg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            lost = self._conn is not None and (self._conn.closed or self._conn.broken)
            self._drop()
            if not (reused and lost and isinstance(exc, pg.OperationalError)):
                raise SourceError(self._describe(exc)) from None
        # The kept connection was dead (server restarted, idle connection cut):
        # one more try on a new connection, within the same time limit.
        try:
            return await self._refresh(pg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._drop()
            raise SourceError(self._describe(exc)) from None

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, SourceError):
            return str(exc)
        return one_line(SourceError(describe_pg_error(exc, self.timeout)))

    async def _refresh(self, pg: Any) -> DbSnapshot:
        conn = await self._connection(pg)
        cur = conn.cursor(binary=True)
        include_idle = self.include_idle
        await cur.execute(ACTIVITY_WITH_IDLE_SQL if include_idle else ACTIVITY_SQL,
                          prepare=True)
        row = await cur.fetchone()
        if row is None:
            raise SourceError("pg_stat_activity returned nothing")
        max_connections, own_pid, now, pgss, idle, sessions = row
        self._backend_pid = int(own_pid)
        self._own_session.claim(server_key(conn.info.host, conn.info.port), self._backend_pid)
        schema, version = pgss if pgss else (None, None)
        activity: list[dict[str, Any]] = sessions or []
        for session in activity:
            if session.get("query"):
                session["query"] = mask_passwords(session["query"])
        return build_db_snapshot(
            self.database, int(max_connections), activity,
            await self._top_statements(pg, conn, schema, version), now,
            own_pid=self._backend_pid, long_running_s=self.long_running_s,
            top_statements=self.top_statements,
            idle_sessions=0 if include_idle else int(idle or 0), include_idle=include_idle)

    async def _top_statements(self, pg: Any, conn: AsyncConnection[tuple[Any, ...]],
                              schema: str | None, version: str | None,
                              ) -> list[dict[str, Any]] | None:
        """The statement rows for this refresh: read again, kept, or None for the hint."""
        clock = time.monotonic()
        if schema is None or clock < self._statements_retry_at:
            self._statements = None
            return None
        if self._statements is not None and clock - self._statements_at < \
                self.statements_interval:
            return self._statements
        old = _version_tuple(version) < (1, 8)
        names = {"schema": pg.sql.Identifier(schema),
                 "total": pg.sql.SQL("total_time" if old else "total_exec_time"),
                 "mean": pg.sql.SQL("mean_time" if old else "mean_exec_time")}
        try:
            statements = await self._read_statements(pg, conn, names)
            for _ in range(MAX_REREADS):
                if len(statements) >= self.top_statements or not self._learned_own:
                    break
                # some of the page were luckytui's own, unknown until now: read
                # the page again, with them left out by the server this time
                statements = await self._read_statements(pg, conn, names)
        except (pg.errors.ObjectNotInPrerequisiteState, pg.errors.InsufficientPrivilege,
                pg.errors.UndefinedTable, pg.errors.UndefinedColumn, pg.errors.UndefinedFunction):
            # Installed but not usable (not in shared_preload_libraries, no
            # privilege, an unknown version): show the hint, ask again later.
            self._statements_retry_at = clock + STATEMENTS_RETRY_S
            self._statements = None
            return None
        self._statements = statements[: self.top_statements]
        self._statements_at = clock
        return self._statements

    async def _read_statements(self, pg: Any, conn: AsyncConnection[tuple[Any, ...]],
                               names: dict[str, Any]) -> list[dict[str, Any]]:
        """One page of the top statements, with the texts of those new to it."""
        cur = conn.cursor(binary=True)
        limit = self.top_statements + OWN_MARGIN
        await cur.execute(pg.sql.SQL(STATEMENTS_SQL).format(**names),
                          (self._role, sorted(self._own), limit), prepare=True)
        top = await cur.fetchall()
        self._learned_own = False
        missing = {row[2] for row in top if tuple(row[:3]) not in self._texts}
        if missing:
            await cur.execute(pg.sql.SQL(STATEMENT_TEXTS_SQL).format(**names),
                              (sorted(missing),))
            if len(self._texts) > TEXT_CACHE_MAX:
                self._texts.clear()
            for userid, dbid, queryid, query in await cur.fetchall():
                text = query or ""
                if is_marked(text) and userid == self._role:
                    self._own.add(queryid)
                    self._learned_own = len(top) == limit
                self._texts[(userid, dbid, queryid)] = mask_passwords(text)
        statements = []
        for row in top:
            if row[0] == self._role and row[2] in self._own:
                continue
            statement = dict(zip(STATEMENT_COLUMNS, row[3:], strict=True))
            statement["queryid"] = row[2]
            statement["query"] = self._texts.get(tuple(row[:3]), "")
            statements.append(statement)
        return statements

    async def _connection(self, pg: Any) -> AsyncConnection[tuple[Any, ...]]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        self._conn = None
        conn: AsyncConnection[tuple[Any, ...]] = await pg.AsyncConnection.connect(
            self.dsn, autocommit=True, connect_timeout=max(2, math.ceil(self.timeout)),
            fallback_application_name="luckytui")
        self._conn = conn
        cur = await conn.execute(
            "SELECT " + SQL_MARK + " set_config('statement_timeout', %s, false),"
            " set_config('TimeZone', 'UTC', false),"
            " (SELECT oid FROM pg_roles WHERE rolname = current_user)",
            (f"{self.statement_timeout_ms}ms",))
        role = await cur.fetchone()
        self._role = int(role[2]) if role is not None and role[2] is not None else None
        return conn

    # --- giving up ---

    def _drop(self) -> None:
        """Forget the connection, closing its socket now (no round trip)."""
        conn, self._conn = self._conn, None
        self._own_session.release()
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.pgconn.finish()

    async def _abandon(self, work: asyncio.Task[DbSnapshot]) -> None:
        """Stop a fetch that ran out of time, without waiting on the server.

        Closing the socket first makes psycopg's cancellation path skip its
        cancel request, which a hung server would not answer either.
        """
        self._drop()
        work.add_done_callback(_retrieve)  # a late failure is not worth a warning
        work.cancel()
        await asyncio.wait({work}, timeout=1.0)  # ends at once: nothing left to wait on


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _version_tuple(version: str | None) -> tuple[int, ...]:
    parts = []
    for part in (version or "0").split("."):
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)
