"""When the problem was detected: the first alert that fired or the first failed endpoint
check, whichever came first, from what the log recorded.

The log is the most truthful source, and the only one every process shares:

- ``alert.fired`` carries ``fired_at``, the observed pending → firing transition (see
  :func:`luckytui.signals.alert_signals`): when the alert fired, not Prometheus's
  ``activeAt`` (the start of pending, a rule's ``for`` earlier). Records written before
  ``fired_at`` existed give their own time, when the war room saw the alert firing.
- ``endpoint.down`` carries ``since``, the outage's first failed probe (the record is
  written at the second one).

Only signals still in force count (the alert still firing, the endpoint still down, as
far as the log says): an alert that fired and cleared hours before is not the start of
this problem. Signals recorded before the previous incident was resolved never count,
nor signals attached to another incident: they belonged to it.

The same fold serves the shell (``luckytui incident declare`` without ``--detected-at``
reads the log) and the war room's declare form, which needs the answer at once when a key
is pressed: :func:`peek` reads the log file directly, read-only and incrementally (only the
records added since its last look).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from luckytui.events import (
    ALERT_FIRED,
    ALERT_RESOLVED,
    ENDPOINT_DOWN,
    ENDPOINT_FLAPPING,
    ENDPOINT_STABLE,
    ENDPOINT_UP,
    RESOLVED,
)
from luckytui.timeparse import parse_time

KINDS = (ALERT_FIRED, ALERT_RESOLVED, ENDPOINT_DOWN, ENDPOINT_UP, ENDPOINT_FLAPPING,
         ENDPOINT_STABLE, RESOLVED)


class SignalRecord(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def incident(self) -> str | None: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def dedupe(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Detection:
    at: datetime  # when it fired, or the first failed probe
    source: str  # "alert" or "endpoint"
    name: str  # the alert's name, or the endpoint's group/name
    record_id: int

    @property
    def text(self) -> str:
        """What detected it, for a form or a post-mortem line."""
        if self.source == "alert":
            return f"{self.name} fired"
        return f"endpoint check {self.name} failed"


def _alert_key(r: SignalRecord) -> str:
    if r.dedupe and ":" in r.dedupe:
        return r.dedupe.split(":", 1)[1]  # name@activeAt, as alert_signals keys them
    return f"{r.data.get('alert')}@{r.data.get('active_at')}"


def fired_at(r: SignalRecord) -> datetime:
    """When an alert.fired record's alert fired (its own time for older records)."""
    return parse_time(r.data.get("fired_at")) or r.ts


def failed_since(r: SignalRecord) -> datetime:
    """An endpoint.down (or .flapping) record's first failed probe."""
    return parse_time(r.data.get("since")) or r.ts


@dataclass(slots=True)
class DetectionFold:
    """Signals in force since the last resolution, fed records in log order."""

    after_id: int = 0
    alerts: dict[str, Detection] = field(default_factory=dict)
    endpoints: dict[str, Detection] = field(default_factory=dict)

    def feed(self, records: Iterable[SignalRecord]) -> DetectionFold:
        for r in records:
            if r.id <= self.after_id:
                continue
            self.after_id = r.id
            if r.kind == RESOLVED:  # what came before belonged to that incident
                self.alerts.clear()
                self.endpoints.clear()
            elif r.kind == ALERT_FIRED and r.incident is None:
                self.alerts.setdefault(_alert_key(r), Detection(
                    fired_at(r), "alert", str(r.data.get("alert")), r.id))
            elif r.kind == ALERT_RESOLVED:
                self.alerts.pop(_alert_key(r), None)
            elif r.kind in (ENDPOINT_DOWN, ENDPOINT_FLAPPING, ENDPOINT_UP, ENDPOINT_STABLE):
                key = f"{r.data.get('group', '')}/{r.data.get('endpoint', '')}"
                if r.kind == ENDPOINT_UP or (r.kind == ENDPOINT_STABLE
                                             and r.data.get("state") != "down"):
                    self.endpoints.pop(key, None)
                elif r.incident is None:
                    self.endpoints.setdefault(key, Detection(
                        failed_since(r), "endpoint", key.lstrip("/"), r.id))
        return self

    def first(self) -> Detection | None:
        """The earliest signal still in force, or None."""
        found = [*self.alerts.values(), *self.endpoints.values()]
        return min(found, key=lambda d: (d.at, d.record_id)) if found else None


def detection(records: Iterable[SignalRecord]) -> Detection | None:
    """The detection the records (in log order) give; None when nothing is in force."""
    return DetectionFold().feed(records).first()


async def detect(log: Any) -> Detection | None:
    """The detection from an open EventLog."""
    return detection(await log.records(kinds=KINDS))


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    ts: datetime
    kind: str
    incident: str | None
    data: Mapping[str, Any]
    dedupe: str | None


_PEEKS: dict[Path, DetectionFold] = {}


def peek(path: Path) -> Detection | None:
    """The detection from the log file, read without waiting on the event loop: a
    read-only look at the records added since the last look (the first one reads the
    signal records of the whole file once). None when the file cannot be read."""
    key = path.resolve()
    fold = _PEEKS.setdefault(key, DetectionFold())
    marks = ",".join("?" * len(KINDS))
    try:
        conn = sqlite3.connect(f"{key.as_uri()}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.Error:
        return fold.first()
    try:
        rows = conn.execute(
            f"SELECT id, ts, kind, incident, data, dedupe FROM events "
            f"WHERE id > ? AND kind IN ({marks}) ORDER BY id", (fold.after_id, *KINDS))
        fold.feed(_Row(int(i), parse_time(ts) or datetime.min.replace(tzinfo=UTC), str(kind),
                       incident, _json(data), dedupe) for i, ts, kind, incident, data, dedupe
                  in rows)
    except sqlite3.Error:
        pass
    finally:
        conn.close()
    return fold.first()


def _json(text: object) -> Mapping[str, Any]:
    try:
        value = json.loads(str(text))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def still_wrong(log: Any) -> str:
    """What the log says production still gets wrong, whichever incident the signals are
    attached to: critical alerts that fired and have not resolved, endpoints down and not
    back ("" when nothing), e.g. "Still firing: NoOrdersProcessed (critical). Still
    failing: api/orders." — the shell's question before resolving."""
    firing: dict[str, str] = {}
    failing: dict[str, bool] = {}
    for r in await log.records(kinds=KINDS):
        if r.kind == ALERT_FIRED and r.data.get("severity") == "critical":
            firing[_alert_key(r)] = str(r.data.get("alert"))
        elif r.kind == ALERT_RESOLVED:
            firing.pop(_alert_key(r), None)
        elif r.kind in (ENDPOINT_DOWN, ENDPOINT_FLAPPING, ENDPOINT_UP, ENDPOINT_STABLE):
            key = f"{r.data.get('group', '')}/{r.data.get('endpoint', '')}".lstrip("/")
            failing[key] = r.kind in (ENDPOINT_DOWN, ENDPOINT_FLAPPING) or (
                r.kind == ENDPOINT_STABLE and r.data.get("state") == "down")
    parts = []
    if firing:
        parts.append("Still firing: " + ", ".join(
            f"{name} (critical)" for name in sorted(set(firing.values()))) + ".")
    down = sorted(k for k, is_down in failing.items() if is_down)
    if down:
        parts.append("Still failing: " + ", ".join(down) + ".")
    return " ".join(parts)
