"""PostgreSQL: what luckytui needs of a database server, and the real adapter.

Shared by the database source (reads) and the database remedies (writes):
the mark on every statement luckytui sends, luckytui's own sessions (by server
and backend pid), errors as one line with secrets kept out, and `PgOps`, the
Protocol the remedies act through, with `RealPgOps`, the real server through
psycopg (imported on first use off the event loop).

luckytui's own sessions: the bulk remedies (terminate-long, terminate-idle,
read-only ... terminate) and the single-backend ones must never end luckytui's
own sessions, and nothing else may be spared: `application_name` is set by any
client, so it proves nothing. Every luckytui connection registers the pid the
server gives it (`pg_backend_pid()`: through a pooler it is not the pid libpq
saw at connect) and forgets it when the connection goes. Sessions of other
luckytui processes are not known here; they reconnect on their next refresh if
ended.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from luckytui.redact import redact_text
from luckytui.systems.http import AnswerLimit

if TYPE_CHECKING:
    from psycopg import AsyncConnection

CLIENT_BACKEND = "client backend"
APP_NAME = "luckytui"

# Every statement luckytui sends starts with this comment, so that a DBA can tell
# its queries apart in pg_stat_statements and the server log. The slow statements
# list leaves out an entry only when it is both marked and recorded under the role
# luckytui connects as (pg_stat_statements' userid): the same statement run by
# any other role is its own entry, and is shown. (pg_stat_statements merges
# statements that differ only in comments or constants into one entry per role,
# so under luckytui's own role they cannot be told apart: give luckytui a role
# of its own, e.g. a member of pg_monitor.)
SQL_MARK = "/* luckytui */"


def marked(sql: str) -> str:
    """``sql`` with luckytui's mark after its first keyword ("SELECT /* luckytui */ ..."):
    PostgreSQL 18's pg_stat_statements drops a *leading* comment from the text it keeps,
    one after the first word it keeps."""
    head, *rest = sql.strip().split(None, 1)
    return f"{head} {SQL_MARK} {rest[0] if rest else ''}".rstrip()


def is_marked(text: str) -> bool:
    """Whether a statement's text carries luckytui's mark (within its first words)."""
    return SQL_MARK in text[:80]


# --- luckytui's own sessions -----------------------------------------------------------

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


class OwnSession:
    """The backend pid of one luckytui connection, registered as luckytui's own
    while that connection lives (the remedies spare it)."""

    def __init__(self) -> None:
        self.claimed: tuple[str, int] | None = None  # (server, pid) registered as ours

    def claim(self, server: str, pid: int) -> None:
        if self.claimed != (server, pid):
            self.release()
            register(server, pid)
            self.claimed = (server, pid)

    def release(self) -> None:
        claimed, self.claimed = self.claimed, None
        if claimed is not None:
            forget(*claimed)


# --- errors as one line -----------------------------------------------------------------

_CONNECT_FAILED = re.compile(
    r'connection to server (?:at "(?P<host>[^"]*)"(?: \((?P<addr>[^)]*)\))?, '
    r'port (?P<port>\d+)|on socket "(?P<socket>[^"]*)") failed: (?P<detail>.*)')
_SEVERITY = re.compile(r"^(?:FATAL|ERROR|PANIC):\s+")


def mask_passwords(query: str) -> str:
    """Query text without secrets (`ALTER ROLE ... PASSWORD '...'` in any quoting,
    literals assigned to secret-named settings...): pg_stat_statements keeps utility
    statements verbatim, and the pane is often on a shared screen."""
    return redact_text(query)


def scrub_secrets(text: str) -> str:
    """Hide anything that looks like a password in a conninfo string, a URL or a
    message."""
    return redact_text(text)


def _where(m: re.Match[str]) -> str:
    if m.group("socket"):
        return m.group("socket")
    host = m.group("host") or m.group("addr") or "?"
    return f"[{host}]:{m.group('port')}" if ":" in host else f"{host}:{m.group('port')}"


def describe_pg_error(exc: BaseException, timeout_s: float) -> str:
    """One line for the operator saying why the database gave no snapshot.

    Shaped after what the operator needs: "connection refused: 127.0.0.1:5433",
    'password authentication failed for user "x"', "timed out after 5 s",
    "statement timeout". It never contains a password.
    """
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout_s:g} s"
    sqlstate = getattr(exc, "sqlstate", None)
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else ""
    if sqlstate == "57014":  # query_canceled
        if "statement timeout" in text:
            return "statement timeout"
        return "query cancelled by the server"
    if type(exc).__name__ == "ConnectionTimeout" or first.endswith("timeout expired"):
        return f"timed out after {timeout_s:g} s"
    m = _CONNECT_FAILED.search(first)
    if m:
        detail = _SEVERITY.sub("", m.group("detail").strip())
        low = detail.lower()
        if low.startswith("connection refused"):
            return scrub_secrets(f"connection refused: {_where(m)}")
        if m.group("socket") and low.startswith("no such file"):
            return scrub_secrets(f"no server listening on socket {_where(m)}")
        if low.startswith("timeout expired"):
            return f"timed out after {timeout_s:g} s"
        if "server closed the connection" in low:
            return scrub_secrets(f"server closed the connection: {_where(m)}")
        if low.startswith(("connection timed out", "no route to host", "network is unreachable",
                           "connection reset")):
            return scrub_secrets(f"{low.split(' (', 1)[0]}: {_where(m)}")
        return scrub_secrets(detail)
    if first.startswith("failed to resolve host"):
        host = first.split("'")[1] if first.count("'") >= 2 else ""
        return scrub_secrets(f"host name not resolved: {host}".rstrip(": "))
    if "server closed the connection" in text or "connection is lost" in text:
        return "server closed the connection"
    if primary:
        return scrub_secrets(" ".join(str(primary).split()))
    for prefix in ("connection failed: ", "connection is bad: "):
        first = first.removeprefix(prefix)
    first = _SEVERITY.sub("", first)
    return scrub_secrets(first or type(exc).__name__)


def as_utc(value: datetime) -> datetime:
    """A driver's timestamptz as aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- the database, for the remedies -----------------------------------------------------

class PgOpsError(Exception):
    """The database refused or could not be reached; one line saying why."""


class PgOps(Protocol):
    """What the PostgreSQL actions need from a database: a server, or a twin.

    `activity()` rows: pid, backend_start (aware UTC datetime), backend_type,
    state, usename, application_name, datname, query, query_s and state_s
    (seconds since query_start and state_change, or None), own (luckytui's
    own session). `cancel` / `terminate` answer False when no backend has
    that pid with that backend_start (it is gone, or the pid was reused).
    """

    async def activity(self) -> list[dict[str, Any]]: ...

    async def cancel(self, pid: int, backend_start: datetime) -> bool: ...

    async def terminate(self, pid: int, backend_start: datetime) -> bool: ...

    async def read_only(self, datname: str) -> bool: ...

    async def set_read_only(self, datname: str, on: bool) -> None: ...

    async def aclose(self) -> None: ...

    def close(self) -> None:
        """Best effort, without waiting (for callers outside the event loop)."""
        ...


_psycopg: Any = None


async def load_psycopg() -> Any:
    """Import psycopg in a worker thread the first time (its import costs ~0.2 s)."""
    global _psycopg
    if _psycopg is None:
        _psycopg = await asyncio.to_thread(importlib.import_module, "psycopg")
    return _psycopg


ACTIVITY_SQL = marked("""
SELECT pid, backend_start, backend_type, state, usename, application_name, datname,
       left(query, 2000),
       extract(epoch FROM statement_timestamp() - query_start)::float8,
       extract(epoch FROM statement_timestamp() - state_change)::float8,
       pid = pg_backend_pid()
FROM pg_stat_activity
WHERE backend_start IS NOT NULL
ORDER BY pid""")
CANCEL_SQL = marked("""
SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = %s AND backend_start = %s""")
# The timeout (PostgreSQL 14+) waits until the backend has exited: when the
# action reports it terminated, it is gone.
TERMINATE_SQL = marked("""
SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
WHERE pid = %s AND backend_start = %s""")
TERMINATE_SQL_13 = marked("""
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = %s AND backend_start = %s""")
READ_ONLY_SQL = marked("""
SELECT d.datname,
       (SELECT cfg FROM pg_db_role_setting AS s, unnest(s.setconfig) AS cfg
        WHERE s.setdatabase = d.oid AND s.setrole = 0
          AND cfg LIKE 'default\\_transaction\\_read\\_only=%%')
FROM pg_database AS d WHERE d.datname = %s""")
TRUE_WORDS = ("on", "true", "yes", "1", "t", "y")


class RealPgOps:
    """A PostgreSQL server, through one kept psycopg connection (autocommit).

    `dsn` is a libpq conninfo string or URL without a password. The connection
    says `application_name=luckytui`, has a `statement_timeout` and is itself
    read-write whatever the database's default says (so that read-only mode
    can be turned off again); it is replaced after it breaks.
    """

    def __init__(self, dsn: str, *, timeout: float = 10.0) -> None:
        self.dsn = dsn
        self.timeout = timeout
        self._conn: AsyncConnection[tuple[Any, ...]] | None = None
        self._own = OwnSession()

    async def _connection(self) -> AsyncConnection[tuple[Any, ...]]:
        pg = await load_psycopg()
        if self._conn is not None and (self._conn.closed or self._conn.broken):
            self.close()
        if self._conn is None:
            options = (f"-c statement_timeout={max(100, int(self.timeout * 800))} "
                       "-c default_transaction_read_only=off")
            self._conn = await pg.AsyncConnection.connect(
                self.dsn, autocommit=True, connect_timeout=max(1, int(self.timeout)),
                application_name=APP_NAME, options=options)
        return self._conn

    async def _rows(self, sql: Any, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            async with asyncio.timeout(self.timeout):
                conn = await self._connection()
                cur = await conn.execute(sql, params)
                return await cur.fetchall() if cur.description else []
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._conn is not None and (self._conn.closed or self._conn.broken):
                self.close()
            raise PgOpsError(describe_pg_error(exc, self.timeout)) from None

    async def activity(self) -> list[dict[str, Any]]:
        """The sessions; `own` marks luckytui's: this connection (pg_backend_pid()) and
        every other one this process registered, by pid, never by application_name."""
        keys = ("pid", "backend_start", "backend_type", "state", "usename",
                "application_name", "datname", "query", "query_s", "state_s", "own")
        rows = [dict(zip(keys, row, strict=True)) for row in await self._rows(ACTIVITY_SQL)]
        conn = self._conn
        server = server_key(conn.info.host, conn.info.port) if conn is not None else ""
        for row in rows:
            row["backend_start"] = as_utc(row["backend_start"])
            if row["own"]:
                self._own.claim(server, row["pid"])
        mine = own_pids(server)
        for row in rows:
            row["own"] = bool(row["own"]) or row["pid"] in mine
        return rows

    async def cancel(self, pid: int, backend_start: datetime) -> bool:
        rows = await self._rows(CANCEL_SQL, (pid, backend_start))
        return bool(rows and rows[0][0])

    async def terminate(self, pid: int, backend_start: datetime) -> bool:
        version = (await self._rows("SHOW server_version_num"))[0][0]
        sql = TERMINATE_SQL if int(version) >= 140000 else TERMINATE_SQL_13
        rows = await self._rows(sql, (pid, backend_start))
        return bool(rows and rows[0][0])

    async def read_only(self, datname: str) -> bool:
        rows = await self._rows(READ_ONLY_SQL, (datname,))
        if not rows:
            raise PgOpsError(f'database "{datname}" does not exist')
        setting = rows[0][1]
        return bool(setting) and setting.split("=", 1)[1].strip().lower() in TRUE_WORDS

    async def set_read_only(self, datname: str, on: bool) -> None:
        pg = await load_psycopg()
        sql = pg.sql.SQL(marked("ALTER DATABASE {} SET default_transaction_read_only = "
                                + ("on" if on else "off"))).format(
            pg.sql.Identifier(datname))
        await self._rows(sql)

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        self._own.release()
        if conn is not None:
            await conn.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._own.release()
        if conn is not None:
            conn.pgconn.finish()


# --- a database served over HTTP instead of libpq ----------------------------------------


@dataclass(frozen=True)
class Twin:
    """How to read and act on a database configured by `api_url`: something that
    serves PostgreSQL's activity over HTTP. The engine has none of its own; the
    composition root registers one.

    `source(api_url, database, limit)` is the database pane's source;
    `ops(api_url, database, limit)` is a `PgOps` and the database it acts on.
    """

    source: Callable[[str, str, AnswerLimit], Any]
    ops: Callable[[str, str, AnswerLimit], tuple[PgOps, str]]


_twin: list[Twin] = []


def register_twin(twin: Twin) -> None:
    """Serve `api_url` databases with `twin` (the last registered wins)."""
    _twin[:] = [twin]


def twin_for(api_url: str) -> Twin:
    """The registered twin; PgOpsError when this process has none."""
    if not _twin:
        raise PgOpsError(f"nothing in this process serves the database at {api_url}")
    return _twin[0]
