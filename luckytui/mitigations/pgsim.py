"""The simulated database's remedies, through the simulation's HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from luckytui.mitigations.pg import iso, parse_time
from luckytui.systems.http import AnswerLimit, AnswerTooLarge, AnswerTooSlow
from luckytui.systems.postgres import CLIENT_BACKEND, PgOpsError


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
        import json

        import aiohttp

        from luckytui.systems.http import describe_error, read_async

        try:
            async with aiohttp.ClientSession(headers={"User-Agent": "luckytui/0.1"},
                                             cookie_jar=aiohttp.DummyCookieJar()) as client:
                status, payload = await read_async(client, method, url, self.limit,
                                                   self.timeout, json=body,
                                                   allow_redirects=False)
        except (AnswerTooLarge, AnswerTooSlow) as exc:
            raise PgOpsError(f"database simulation: {exc}") from None
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            raise PgOpsError(
                f"database simulation: {describe_error(exc, self.timeout)}") from None
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
