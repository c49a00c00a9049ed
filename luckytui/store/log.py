"""The local event log: append-only, hash-chained, one SQLite file in WAL mode.

Every record carries the hash of the record before it::

    hash = sha256(prev_hash + canonical_json(record)).hexdigest()

where ``record`` is ``{"actor", "data", "dedupe", "id", "incident", "kind", "ts"}``, canonical
JSON is ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` encoded
as UTF-8, ``ts`` is the stored ISO 8601 text and the first record's ``prev_hash`` is 64 zeros.
A separate one-row ``head`` table holds the id and hash of the newest record, so records
removed from the end of the chain are noticed too. What the chain proves, what it does not,
and the checkpoints that close the gap: see :mod:`luckytui.store.chain`.

Several luckytui processes may share one file (panes on one jump host): every append is a
single ``BEGIN IMMEDIATE`` transaction that reads the chain head, inserts and moves the head,
with a busy timeout and retries when another process holds the write lock. Triggers refuse
UPDATE and DELETE on the events, and :meth:`EventLog.verify` detects whatever got past them.

All database work runs on aiosqlite's thread, so the event loop is never blocked by I/O.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sqlite3
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO, TypeVar

import aiosqlite
import platformdirs

from luckytui.redact import REDACTED
from luckytui.redact import redact_data as redact
from luckytui.store.chain import (
    GENESIS_HASH,
    Checkpoint,
    VerifyResult,
    canonical,
    record_hash,
    verify_chain,
)
from luckytui.store.sqlitefile import (
    BUSY_TIMEOUT_MS,
    SCHEMA_VERSION,
    LogError,
    check_kind,
    damage,
    existing_file,
    inspect,
    one_line,
    prepare_file,
    rw_uri,
    setup,
)
from luckytui.timeparse import parse_iso

__all__ = [
    "GENESIS_HASH",
    "REDACTED",
    "SCHEMA_VERSION",
    "Checkpoint",
    "EventLog",
    "LogError",
    "LogRecord",
    "VerifyResult",
    "default_log_path",
    "redact",
]

_T = TypeVar("_T")

_BUSY_RETRIES = 8
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_MAX_DEPTH = 64
_EXPORT_BATCH = 500
_CORE_KEYS = frozenset(
    {"id", "ts", "kind", "actor", "incident", "hash", "prev_hash", "dedupe", "data"}
)
_COLUMNS = "id, ts, kind, actor, incident, data, prev_hash, hash, dedupe"

@dataclass(frozen=True, slots=True)
class LogRecord:
    """One record of the event log, as stored."""

    id: int
    ts: datetime
    kind: str
    actor: str
    incident: str | None
    data: Mapping[str, Any]
    prev_hash: str
    hash: str
    dedupe: str | None

    def to_json(self) -> dict[str, Any]:
        """A flat JSON object: the core keys, the data fields beside them, then the hashes.

        Data fields whose names clash with a core key are kept under ``"data"``.
        """
        out: dict[str, Any] = {
            "id": self.id,
            "ts": _format_ts(self.ts),
            "kind": self.kind,
            "actor": self.actor,
            "incident": self.incident,
        }
        clashing: dict[str, Any] = {}
        for key, value in self.data.items():
            if key in _CORE_KEYS:
                clashing[key] = value
            else:
                out[key] = value
        if clashing:
            out["data"] = clashing
        if self.dedupe is not None:
            out["dedupe"] = self.dedupe
        out["hash"] = self.hash
        out["prev_hash"] = self.prev_hash
        return out


def default_log_path() -> Path:
    """Where the event log lives unless configured otherwise."""
    return platformdirs.user_data_path("luckytui", appauthor=False) / "log.sqlite3"


# --------------------------------------------------------------------------- encoding


def _check_json(value: Any, where: str = "", depth: int = 0) -> None:
    """Raise ValueError, naming the key, unless ``value`` is plain JSON."""
    at = f"event data {where!r}" if where else "event data"
    if depth > _MAX_DEPTH:
        raise ValueError(f"{at} is nested too deeply")
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{at} is not valid UTF-8 text") from None
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{at} is {value!r}, which JSON cannot represent")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{at} has a non-string key {key!r}")
            _check_json(item, f"{where}.{key}" if where else key, depth + 1)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]", depth + 1)
        return
    raise ValueError(f"{at} is a {type(value).__name__}, which is not JSON-serialisable")


def _format_ts(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_ts(text: str) -> datetime:
    return parse_iso(text).astimezone(UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")


def _row_to_record(row: Any) -> LogRecord:
    rec_id, ts, kind, actor, incident, data, prev_hash, digest, dedupe = row
    try:
        parsed = json.loads(data)
        when = _parse_ts(ts)
    except (TypeError, ValueError) as exc:
        raise LogError(f"event log record {rec_id} cannot be read: {exc}") from None
    if not isinstance(parsed, dict):
        raise LogError(f"event log record {rec_id} cannot be read: data is not an object")
    return LogRecord(
        id=rec_id,
        ts=when,
        kind=kind,
        actor=actor,
        incident=incident,
        data=parsed,
        prev_hash=prev_hash,
        hash=digest,
        dedupe=dedupe,
    )


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    message = str(exc).lower()
    return "locked" in message or "busy" in message


# --------------------------------------------------------------------------- the log


class EventLog:
    """An open event log. Create with :meth:`open`; close with :meth:`close` or ``async with``."""

    def __init__(
        self, conn: aiosqlite.Connection, path: Path, clock: Callable[[], datetime]
    ) -> None:
        self._conn = conn
        self._path = path
        self._clock = clock
        self._lock = asyncio.Lock()
        self._closed = False
        self._inflight: set[asyncio.Task[Any]] = set()

    @classmethod
    async def open(
        cls, path: Path, *, clock: Callable[[], datetime] | None = None, create: bool = True
    ) -> EventLog:
        """Open the log at ``path``, creating it (and its folders) when missing.

        ``create=False`` (to read, verify or export) creates nothing: a missing, empty,
        truncated or foreign file is a :class:`LogError` saying which.
        """
        try:
            prepare = prepare_file if create else existing_file
            path = await asyncio.to_thread(prepare, Path(path))
        except OSError as exc:
            reason = exc.strerror or one_line(exc)
            raise LogError(f"{path}: cannot create the event log: {reason}") from None
        try:
            conn = await (aiosqlite.connect(path, isolation_level=None, iter_chunk_size=256)
                          if create else
                          aiosqlite.connect(rw_uri(path), isolation_level=None,
                                            iter_chunk_size=256, uri=True))
        except sqlite3.Error as exc:
            raise damage(path, exc, "open") from None
        try:
            if create:
                await setup(conn, path)
            else:
                await conn.execute_fetchall(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                if check_kind(path, *await inspect(conn)):
                    raise LogError(f"{path}: an empty SQLite database, not a luckytui event log")
        except sqlite3.Error as exc:
            await conn.close()
            raise damage(path, exc, "open") from None
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path, clock or _utc_now)

    @property
    def path(self) -> Path:
        return self._path

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Finish appends in flight and close the file. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        async with self._lock:
            await self._conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise LogError(f"{self._path}: the event log is closed")

    # -- writing -------------------------------------------------------------------

    async def append(
        self,
        kind: str,
        data: Mapping[str, Any],
        *,
        actor: str,
        incident: str | None = None,
        dedupe: str | None = None,
        fsync: bool = False,
    ) -> LogRecord | None:
        """Append one record and return it; ``None`` when ``dedupe`` was already recorded.

        ``data`` must be JSON-serialisable (``ValueError`` names the key otherwise) and is
        stored redacted. With ``fsync=True`` the commit reaches the disk before this returns.
        Once started, an append completes even if the awaiting task is cancelled.
        """
        self._check_open()
        _require_text("kind", kind)
        _require_text("actor", actor)
        if incident is not None:
            _require_text("incident", incident)
        if dedupe is not None:
            _require_text("dedupe", dedupe)
        if not isinstance(data, Mapping):
            raise ValueError(f"event data must be a mapping, not {type(data).__name__}")
        _check_json(data)
        data_json = canonical(redact(data))
        task = asyncio.ensure_future(
            self._append_locked(kind, data_json, actor, incident, dedupe, fsync)
        )
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return await asyncio.shield(task)

    async def _append_locked(
        self,
        kind: str,
        data_json: str,
        actor: str,
        incident: str | None,
        dedupe: str | None,
        fsync: bool,
    ) -> LogRecord | None:
        async with self._lock:
            return await self._retry(
                lambda: self._append_tx(kind, data_json, actor, incident, dedupe, fsync),
                "write",
            )

    async def _append_tx(
        self,
        kind: str,
        data_json: str,
        actor: str,
        incident: str | None,
        dedupe: str | None,
        fsync: bool,
    ) -> LogRecord | None:
        conn = self._conn
        if fsync:
            await conn.execute_fetchall("PRAGMA synchronous = FULL")
        try:
            await conn.execute_fetchall("BEGIN IMMEDIATE")
            try:
                if dedupe is not None:
                    seen = await conn.execute_fetchall(
                        "SELECT 1 FROM events WHERE dedupe = ?", (dedupe,)
                    )
                    if list(seen):
                        await conn.execute_fetchall("ROLLBACK")
                        return None
                head = list(
                    await conn.execute_fetchall(
                        "SELECT last_id, last_hash FROM head WHERE singleton = 1"
                    )
                )
                if not head:
                    raise LogError(f"{self._path}: damaged event log (the chain head is missing)")
                last_id, last_hash = int(head[0][0]), str(head[0][1])
                rec_id = last_id + 1
                ts = _format_ts(self._now())
                data = json.loads(data_json)
                digest = record_hash(last_hash, rec_id, ts, kind, actor, incident, dedupe, data)
                await conn.execute_fetchall(
                    f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (rec_id, ts, kind, actor, incident, data_json, last_hash, digest, dedupe),
                )
                await conn.execute_fetchall(
                    "UPDATE head SET last_id = ?, last_hash = ? WHERE singleton = 1",
                    (rec_id, digest),
                )
                await conn.execute_fetchall("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    await conn.execute_fetchall("ROLLBACK")
                raise
        finally:
            if fsync:
                await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
        return LogRecord(
            id=rec_id,
            ts=_parse_ts(ts),
            kind=kind,
            actor=actor,
            incident=incident,
            data=data,
            prev_hash=last_hash,
            hash=digest,
            dedupe=dedupe,
        )

    def signature(self) -> tuple[int, ...]:
        """Changes whenever any process commits to this log (the database file and its
        write-ahead log, by size and modification time): a cheap test before a read."""
        out: list[int] = []
        for suffix in ("", "-wal"):
            try:
                st = os.stat(f"{self._path}{suffix}")
            except OSError:
                out += [-1, -1]
                continue
            out += [st.st_size, st.st_mtime_ns]
        return tuple(out)

    def now(self) -> datetime:
        """The log's clock (tests set it): every record's timestamp comes from here."""
        return self._now()

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the event log clock returned a naive datetime; it must be aware")
        return now

    async def _retry(self, operation: Callable[[], Awaitable[_T]], what: str) -> _T:
        """Run ``operation``, again while another process holds the lock."""
        delay = 0.01
        for attempt in range(_BUSY_RETRIES + 1):
            try:
                return await operation()
            except sqlite3.Error as exc:
                if _is_busy(exc) and attempt < _BUSY_RETRIES:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.5)
                    continue
                raise LogError(
                    f"{self._path}: cannot {what} the event log: {one_line(exc)}"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reading -------------------------------------------------------------------

    async def records(
        self,
        *,
        after_id: int = 0,
        incident: str | None = None,
        kinds: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[LogRecord]:
        """Records with ``id > after_id``, oldest first, optionally filtered."""
        self._check_open()
        sql = f"SELECT {_COLUMNS} FROM events WHERE id > ?"
        params: list[Any] = [after_id]
        if incident is not None:
            sql += " AND incident = ?"
            params.append(incident)
        if kinds is not None:
            wanted = [kinds] if isinstance(kinds, str) else list(kinds)
            if not wanted:
                return []
            sql += f" AND kind IN ({', '.join('?' * len(wanted))})"
            params.extend(wanted)
        sql += " ORDER BY id"
        if limit is not None:
            if limit <= 0:
                return []
            sql += " LIMIT ?"
            params.append(limit)
        rows = await self._read(sql, params)
        return [_row_to_record(row) for row in rows]

    async def last_id(self) -> int:
        """The id of the newest record, 0 when the log is empty."""
        self._check_open()
        rows = list(await self._read("SELECT coalesce(max(id), 0) FROM events", ()))
        return int(rows[0][0])

    async def _read(self, sql: str, params: Iterable[Any]) -> Iterable[Any]:
        args = tuple(params)
        async with self._lock:
            return await self._retry(lambda: self._conn.execute_fetchall(sql, args), "read")

    async def verify(self, against: Checkpoint | None = None) -> VerifyResult:
        """Recompute the whole chain from one consistent snapshot of the file; with a
        checkpoint, also require its record, at its position, with its hash."""
        self._check_open()
        try:
            async with aiosqlite.connect(
                rw_uri(self._path), isolation_level=None, iter_chunk_size=512, uri=True
            ) as conn:
                await conn.execute_fetchall(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                await conn.execute_fetchall("BEGIN")
                try:
                    return await verify_chain(conn, against)
                finally:
                    await conn.execute_fetchall("ROLLBACK")
        except sqlite3.Error as exc:
            raise damage(self._path, exc, "verify") from None

    async def export_jsonl(self, out: TextIO, *, incident: str | None = None) -> int:
        """Write one JSON object per record (see :meth:`LogRecord.to_json`); return the count.

        Records appended while the export runs are not included.
        """
        end = await self.last_id()
        after = 0
        count = 0
        while after < end:
            batch = await self.records(after_id=after, incident=incident, limit=_EXPORT_BATCH)
            batch = [record for record in batch if record.id <= end]
            for record in batch:
                out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
            count += len(batch)
            if len(batch) < _EXPORT_BATCH:
                break
            after = batch[-1].id
        return count
