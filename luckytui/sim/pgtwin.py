"""The simulated database as luckytui reads and acts on it: a twin of PostgreSQL.

The simulation serves its database's activity and remedies over HTTP
(`pgapi.py`). `SimPostgresSource` reads that activity into the same
`DbSnapshot` a real server gives (`sources.postgres.build_db_snapshot`), and
`SimPgOps` implements `systems.postgres.PgOps`, so the database remedies run
unchanged. `register()` hands both to the engine for databases configured by
`api_url` (the demo's config); the composition roots and the simulation call it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from luckytui.mitigations.pg import iso, parse_time
from luckytui.snapshots import DbSnapshot
from luckytui.sources.base import SourceError
from luckytui.sources.postgres import build_db_snapshot, parse_ts
from luckytui.systems import postgres as pg_system
from luckytui.systems.http import (
    AnswerLimit,
    AnswerTooLarge,
    AnswerTooSlow,
    Http,
    HttpClient,
    describe_error,
    get_or_fail,
)
from luckytui.systems.postgres import CLIENT_BACKEND, PgOpsError


class SimPostgresSource:
    """The simulated database, read through the simulation's activity API.

    `url` is the activity document's URL
    (`http://host:port/databases/<datname>/activity`), or the API's base URL,
    to which that path is added for `database`.
    """

    name = "db"

    def __init__(self, url: str, database: str, timeout: float = 5.0,
                 limit: AnswerLimit | None = None) -> None:
        base = url.rstrip("/")
        if not base.endswith("/activity"):
            base = f"{base}/databases/{quote(database, safe='')}/activity"
        self.url = base
        self.database = database
        self.timeout = timeout
        self.limit = limit or AnswerLimit()
        self.http: Http = HttpClient(self.limit, timeout)
        self.include_idle = False  # the activity view shows idle sessions too

    async def fetch(self) -> DbSnapshot:
        status, payload = await get_or_fail(self.http, self.url, "database simulation",
                                            self.timeout)
        if status == 404:
            raise SourceError(f'database "{self.database}" does not exist')
        if status != 200:
            raise SourceError(f"HTTP {status} from the database simulation")
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
                                     doc["activity"], statements, now,
                                     sender="the database simulation",
                                     include_idle=self.include_idle)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise SourceError(
                f"the database simulation answered an unexpected document: {what}") from None

    async def aclose(self) -> None:
        await self.http.aclose()


class SimPgOps:
    """The simulated database, through the simulation's HTTP API at `base_url`."""

    def __init__(self, base_url: str, datname: str, *, timeout: float = 5.0,
                 limit: AnswerLimit | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.datname = datname
        self.timeout = timeout
        self.limit = limit or AnswerLimit()

    def _url(self, datname: str, *parts: str) -> str:
        return "/".join((self.base_url, "databases", quote(datname, safe=""), *parts))

    async def _call(self, method: str, url: str, body: dict[str, Any] | None = None,
                    ) -> tuple[int, Any]:
        import aiohttp

        http = HttpClient(self.limit, self.timeout)  # one per call: close() cannot wait
        try:
            status, payload = await http.request(method, url, json=body)
        except (AnswerTooLarge, AnswerTooSlow) as exc:
            raise PgOpsError(f"database simulation: {exc}") from None
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            raise PgOpsError(
                f"database simulation: {describe_error(exc, self.timeout)}") from None
        finally:
            await http.aclose()
        try:
            doc = json.loads(payload)
        except ValueError:
            doc = None
        if status not in (200, 404):
            detail = doc.get("error") if isinstance(doc, dict) else None
            raise PgOpsError(str(detail) if detail else f"HTTP {status} from the database "
                             "simulation")
        return status, doc

    async def activity(self) -> list[dict[str, Any]]:
        status, doc = await self._call("GET", self._url(self.datname, "activity"))
        if status == 404 or not isinstance(doc, dict):
            raise PgOpsError(f'database "{self.datname}" does not exist')
        now = parse_time(doc.get("now")) or datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        for a in doc.get("activity") or []:
            start = parse_time(a.get("backend_start"))
            if start is None:
                continue
            ages = {}
            for key in ("query_start", "state_change"):
                ts = parse_time(a.get(key))
                ages[key] = None if ts is None else max(0.0, (now - ts).total_seconds())
            rows.append({
                "pid": int(a["pid"]), "backend_start": start,
                "backend_type": a.get("backend_type") or CLIENT_BACKEND,
                "state": a.get("state"), "usename": a.get("usename"),
                "application_name": a.get("application_name"), "datname": a.get("datname"),
                "query": a.get("query") or "", "query_s": ages["query_start"],
                "state_s": ages["state_change"], "own": False})
        return rows

    async def _signal(self, what: str, pid: int, backend_start: datetime) -> bool:
        status, doc = await self._call(
            "POST", self._url(self.datname, "backends", str(pid), what),
            {"backend_start": iso(backend_start)})
        return status == 200 and isinstance(doc, dict) and bool(doc.get("done"))

    async def cancel(self, pid: int, backend_start: datetime) -> bool:
        return await self._signal("cancel", pid, backend_start)

    async def terminate(self, pid: int, backend_start: datetime) -> bool:
        return await self._signal("terminate", pid, backend_start)

    async def read_only(self, datname: str) -> bool:
        status, doc = await self._call("GET", self._url(datname, "read-only"))
        if status == 404 or not isinstance(doc, dict):
            raise PgOpsError(f'database "{datname}" does not exist')
        return bool(doc.get("read_only"))

    async def set_read_only(self, datname: str, on: bool) -> None:
        status, _ = await self._call("POST", self._url(datname, "read-only"),
                                     {"read_only": on})
        if status == 404:
            raise PgOpsError(f'database "{datname}" does not exist')

    async def aclose(self) -> None:
        return None

    def close(self) -> None:
        return None


def database_of(url: str, default: str) -> tuple[str, str]:
    """The API's base URL and the database named in an activity URL
    (`http://host:port/databases/<datname>/activity`)."""
    base, sep, rest = url.rstrip("/").partition("/databases/")
    return base, unquote(rest.split("/", 1)[0]) if sep and rest else default


def _source(url: str, database: str, limit: AnswerLimit) -> SimPostgresSource:
    return SimPostgresSource(url, database, limit=limit)


def _ops(url: str, database: str, limit: AnswerLimit) -> tuple[SimPgOps, str]:
    base, datname = database_of(url, database)
    return SimPgOps(base, datname, limit=limit), datname


def register() -> None:
    """Serve databases configured by `api_url` with this twin (idempotent)."""
    pg_system.register_twin(pg_system.Twin(source=_source, ops=_ops))
