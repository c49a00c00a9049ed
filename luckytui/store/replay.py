"""What the war room saw during an incident: the panes' snapshots, kept to be replayed.

A file of its own beside the event log (``<log>.replay.sqlite3``), never the hash-chained
log itself. Each frame is one source's snapshot at one time, for one incident: the
snapshot's compact JSON (secrets redacted, its ``taken_at`` left out: the frame's time
says it), compressed with zlib and stored once by content; a frame whose content was
seen before only points at it. The frames held are kept under a size bound: when over,
the oldest frames of the oldest incident go first.

Everything here is synchronous sqlite3, called in a thread (the recorder batches the
app's updates and writes them in a worker), so the screen never waits for the disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from luckytui.redact import redact_data
from luckytui.snapshots import SNAPSHOT_TYPES, from_dict, to_dict
from luckytui.store.sqlitefile import BUSY_TIMEOUT_MS, one_line, prepare_file

log = logging.getLogger(__name__)

SUFFIX = ".replay.sqlite3"
FRAME_BYTES = 40  # what one frame's row costs besides its content (time, pane, ids)
PRUNE_STEP = 16  # frames dropped at a time when over the bound

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    id     INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    kind   TEXT NOT NULL,
    data   BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS frames (
    id       INTEGER PRIMARY KEY,
    incident TEXT NOT NULL,
    pane     TEXT NOT NULL,
    ts       REAL NOT NULL,
    blob     INTEGER NOT NULL REFERENCES blobs (id)
);
CREATE INDEX IF NOT EXISTS frames_incident ON frames (incident, ts);
CREATE INDEX IF NOT EXISTS frames_blob ON frames (blob);
"""


def replay_path(log_path: Path) -> Path:
    """The replay store that goes with an event log."""
    return log_path.with_name(log_path.name + SUFFIX)


def encode(snapshot: Any) -> tuple[str, bytes]:
    """(kind, compact JSON) of a snapshot, secrets redacted and ``taken_at`` left out."""
    kind = type(snapshot).__name__
    if kind not in SNAPSHOT_TYPES:
        raise ValueError(f"not a snapshot: {kind}")
    data = redact_data(to_dict(snapshot))
    data.pop("taken_at", None)
    return kind, json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def decode(kind: str, blob: bytes, taken_at: datetime) -> Any:
    data = json.loads(zlib.decompress(blob))
    data["taken_at"] = taken_at.isoformat()
    return from_dict(SNAPSHOT_TYPES[kind], data)


@dataclass(frozen=True, slots=True)
class Frame:
    """One pane's snapshot as recorded: when, and which stored content."""

    pane: str  # the source's name: kube, db, endpoints, alerts
    ts: datetime
    blob: int


class ReplayStore:
    """The replay file: write frames, read an incident's, keep under the bound."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if create:
            prepare_file(path)
        elif not path.exists():
            raise FileNotFoundError(f"{path}: no replay recorded (no such file)")
        self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()  # one thread at a time on the connection
        with self._lock:
            self._db.execute("PRAGMA journal_mode = WAL")
            if create:
                self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- writing ----------------------------------------------------------------

    def write(self, frames: Iterable[tuple[str, str, datetime, str, bytes]]) -> None:
        """(incident, pane, time, kind, JSON) frames, in one transaction; content seen
        before is stored once."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for incident, pane, ts, kind, text in frames:
                    digest = hashlib.sha256(kind.encode() + b"\0" + text).digest()
                    row = db.execute("SELECT id FROM blobs WHERE digest = ?",
                                     (digest,)).fetchone()
                    if row is None:
                        blob = db.execute(
                            "INSERT INTO blobs (digest, kind, data) VALUES (?, ?, ?)",
                            (digest, kind, zlib.compress(text, 6))).lastrowid
                    else:
                        blob = row[0]
                    db.execute("INSERT INTO frames (incident, pane, ts, blob) "
                               "VALUES (?, ?, ?, ?)", (incident, pane, ts.timestamp(), blob))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def size(self) -> int:
        """Bytes the frames hold: their compressed content and a row each."""
        with self._lock:
            row = self._db.execute(
                "SELECT (SELECT coalesce(sum(length(data)), 0) FROM blobs),"
                " (SELECT count(*) FROM frames)").fetchone()
        return int(row[0]) + FRAME_BYTES * int(row[1])

    def prune(self, max_bytes: int) -> int:
        """Drop the oldest frames of the oldest incident until within ``max_bytes``;
        the number of frames dropped."""
        dropped = 0
        while self.size() > max_bytes:
            with self._lock:
                db = self._db
                db.execute("BEGIN IMMEDIATE")
                try:
                    oldest = db.execute("SELECT incident FROM frames GROUP BY incident "
                                        "ORDER BY min(ts), incident LIMIT 1").fetchone()
                    if oldest is None:
                        db.execute("COMMIT")
                        break
                    cur = db.execute(
                        "DELETE FROM frames WHERE id IN (SELECT id FROM frames WHERE "
                        "incident = ? ORDER BY ts, id LIMIT ?)", (oldest[0], PRUNE_STEP))
                    dropped += cur.rowcount
                    db.execute("DELETE FROM blobs WHERE id NOT IN "
                               "(SELECT DISTINCT blob FROM frames)")
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        return dropped

    # --- reading ----------------------------------------------------------------

    def incidents(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute(
                "SELECT DISTINCT incident FROM frames ORDER BY incident")]

    def frames(self, incident: str) -> list[Frame]:
        """The incident's frames, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT pane, ts, blob FROM frames WHERE incident = ? "
                                    "ORDER BY ts, id", (incident,)).fetchall()
        return [Frame(p, datetime.fromtimestamp(ts, UTC), b) for p, ts, b in rows]

    def snapshot(self, frame: Frame) -> Any:
        with self._lock:
            row = self._db.execute("SELECT kind, data FROM blobs WHERE id = ?",
                                   (frame.blob,)).fetchone()
        if row is None:
            raise LookupError(f"frame content {frame.blob} is gone (pruned)")
        return decode(row[0], row[1], frame.ts)


class ReplayRecorder:
    """Collects the panes' snapshots while an incident is active (`add`, cheap, on the
    UI thread) and writes them in batches (`flush`, in a worker thread). A failure stops
    the recording, with one line in the debug log and `problem` set: the room goes on."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.problem: str | None = None
        self._pending: list[tuple[str, str, datetime, Any]] = []
        self._lock = threading.Lock()  # the pending list
        self._writing = threading.Lock()  # one batch written at a time, in order
        self._store: ReplayStore | None = None

    @property
    def pending(self) -> bool:
        return bool(self._pending) and self.problem is None

    def add(self, incident: str, pane: str, ts: datetime, snapshot: Any) -> None:
        if self.problem is None:
            with self._lock:
                self._pending.append((incident, pane, ts, snapshot))

    def flush(self) -> None:
        """Write what was added since the last flush (call it in a thread)."""
        with self._writing:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch or self.problem is not None:
            return
        try:
            if self._store is None:
                self._store = ReplayStore(self.path)
            frames = []
            for incident, pane, ts, snapshot in batch:
                kind, text = encode(snapshot)
                frames.append((incident, pane, ts, kind, text))
            self._store.write(frames)
            self._store.prune(self.max_bytes)
        except Exception as exc:
            self.problem = one_line(exc)
            log.debug("replay not recorded (%s): recording stopped", self.problem)

    def close(self) -> None:
        self.flush()
        if self._store is not None:
            self._store.close()
            self._store = None


class Replay:
    """One incident's recorded frames, read back: each pane as of any time."""

    def __init__(self, store: ReplayStore, incident: str) -> None:
        self.store = store
        self.incident = incident
        frames = store.frames(incident)
        self.times: list[datetime] = sorted({f.ts for f in frames})
        self._by_pane: dict[str, list[Frame]] = {}
        for f in frames:
            self._by_pane.setdefault(f.pane, []).append(f)
        self._times = {pane: [f.ts for f in fs] for pane, fs in self._by_pane.items()}
        self._cache: dict[int, Any] = {}

    @property
    def panes(self) -> Sequence[str]:
        return tuple(self._by_pane)

    @property
    def span(self) -> tuple[datetime, datetime]:
        return self.times[0], self.times[-1]

    def frame_at(self, pane: str, at: datetime) -> Frame | None:
        """The pane's last frame at or before ``at``."""
        i = bisect_right(self._times.get(pane, []), at)
        return self._by_pane[pane][i - 1] if i else None

    def snapshot_at(self, pane: str, at: datetime) -> Any:
        frame = self.frame_at(pane, at)
        if frame is None:
            return None
        if frame.blob not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[frame.blob] = self.store.snapshot(frame)
        snapshot = self._cache[frame.blob]
        return _retimed(snapshot, frame.ts)


def _retimed(snapshot: Any, ts: datetime) -> Any:
    """The same content with the frame's time (a content shared by frames is read once)."""
    return snapshot if snapshot.taken_at == ts else replace(snapshot, taken_at=ts)
