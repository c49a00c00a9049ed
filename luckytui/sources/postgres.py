"""The database pane's data: connections by state, long-running sessions, slow statements.

`build_db_snapshot` turns rows shaped like `pg_stat_activity` (with
`pg_blocking_pids` folded in as `blocked_by`) and `pg_stat_statements` into a
`DbSnapshot`. It is pure, and shared by every way of reaching a database: the
simulation's activity API (`SimPostgresSource`, below) and a real server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from luckytui.snapshots import CONNECTION_STATES, Backend, DbSnapshot, Statement
from luckytui.sources.base import SourceError
from luckytui.sources.endpoints import describe_error

STATEMENTS_HINT = (
    "pg_stat_statements is not installed: add it to shared_preload_libraries "
    "and CREATE EXTENSION pg_stat_statements"
)
CLIENT_BACKEND = "client backend"
IDLE_IN_TRANSACTION = ("idle in transaction", "idle in transaction (aborted)")


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


def _backend(row: Mapping[str, Any], duration_s: float) -> Backend:
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


def build_db_snapshot(
    database: str,
    max_connections: int,
    activity_rows: Sequence[Mapping[str, Any]],
    statement_rows: Sequence[Mapping[str, Any]] | None,
    now: datetime,
    own_pid: int | None = None,
    long_running_s: float = 60.0,
    top_statements: int = 10,
) -> DbSnapshot:
    """One refresh of the database pane from one scan's rows.

    Only client backends count (background workers and luckytui's own session
    do not). A session waiting on a lock counts as "waiting" instead of its
    state. Long-running sessions are the non-idle ones busy for longer than
    `long_running_s`, longest first. `statement_rows` is None when
    pg_stat_statements is not available.
    """
    now = parse_ts(now) or now
    counts = dict.fromkeys((*CONNECTION_STATES, "other"), 0)
    total = 0
    long_running: list[Backend] = []
    for row in activity_rows:
        if row.get("backend_type", CLIENT_BACKEND) != CLIENT_BACKEND:
            continue
        if int(row["pid"]) == own_pid:
            continue
        total += 1
        counts[connection_state(row)] += 1
        state = row.get("state")
        if state is None or state == "idle":
            continue
        duration = _duration_s(row, now)
        if duration is not None and duration > long_running_s:
            long_running.append(_backend(row, duration))
    long_running.sort(key=lambda b: (-b.duration_s, b.pid))

    if statement_rows is None:
        return DbSnapshot(
            taken_at=now, database=database, max_connections=max_connections, counts=counts,
            total=total, long_running=tuple(long_running), statements=(),
            statements_available=False, statements_hint=STATEMENTS_HINT)
    statements = sorted((_statement(r) for r in statement_rows),
                        key=lambda s: (-s.mean_ms, s.queryid))
    return DbSnapshot(
        taken_at=now, database=database, max_connections=max_connections, counts=counts,
        total=total, long_running=tuple(long_running),
        statements=tuple(statements[: max(0, top_statements)]))


# --- the simulation ------------------------------------------------------------------


class SimPostgresSource:
    """The simulated database, read through the simulation's activity API.

    `url` is the activity document's URL
    (`http://host:port/databases/<datname>/activity`), or the API's base URL,
    to which that path is added for `database`.
    """

    name = "db"

    def __init__(self, url: str, database: str, timeout: float = 5.0) -> None:
        base = url.rstrip("/")
        if not base.endswith("/activity"):
            base = f"{base}/databases/{quote(database, safe='')}/activity"
        self.url = base
        self.database = database
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def fetch(self) -> DbSnapshot:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout),
                                             headers={"User-Agent": "luckytui/0.1"})
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client.get(self.url)
                payload = response.content
        except (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError) as exc:
            raise SourceError(
                f"database simulation: {describe_error(exc, self.timeout)}") from None
        if response.status_code == 404:
            raise SourceError(f'database "{self.database}" does not exist')
        if response.status_code != 200:
            raise SourceError(f"HTTP {response.status_code} from the database simulation")
        try:
            doc = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise SourceError("the database simulation answered malformed JSON") from None
        try:
            if not isinstance(doc, dict) or not isinstance(doc.get("activity"), list):
                raise ValueError("no activity list")
            statements = doc.get("statements")
            if statements is not None and not isinstance(statements, list):
                raise ValueError("statements is not a list")
            now = parse_ts(doc.get("now")) or datetime.now(UTC)
            return build_db_snapshot(self.database, int(doc["max_connections"]),
                                     doc["activity"], statements, now)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise SourceError(
                f"the database simulation answered an unexpected document: {what}") from None

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


# --- a real server ----------------------------------------------------------------------
# `PostgresSource` (psycopg, async) belongs here: one scan of pg_stat_activity with
# pg_blocking_pids folded in, max_connections, and pg_stat_statements when installed,
# all passed to `build_db_snapshot` with the session's own pid, exactly as above.

