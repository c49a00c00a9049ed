"""Typed, immutable snapshots that sources publish and panes render.

Every source produces one snapshot type. Snapshots are frozen so a pane can
keep the last good one while its source is failing, and compare the next one
against it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints


class SourceStatus(StrEnum):
    """How much a pane can trust the data it shows."""

    CONNECTING = "connecting"  # no answer yet
    OK = "ok"  # the last poll succeeded
    STALE = "stale"  # no fresh data for longer than expected, no error yet
    FAILING = "failing"  # the last poll failed; data (if any) is the last good one
    OFF = "off"  # not configured


@dataclass(frozen=True, slots=True)
class SourceState:
    """The health of one source at one moment."""

    name: str
    status: SourceStatus
    last_ok: datetime | None = None  # when the shown data was fetched (UTC)
    error: str | None = None  # one line, never a traceback, never a secret
    failures: int = 0  # consecutive failed polls

    def age_s(self, now: datetime) -> float | None:
        """Seconds since the shown data was fetched, or None without data."""
        if self.last_ok is None:
            return None
        return max(0.0, (now - self.last_ok).total_seconds())


# --- Kubernetes ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodInfo:
    name: str
    uid: str
    deployment: str  # owning deployment ("" when none)
    node: str
    phase: str  # Running, Pending, Failed, ... or a container waiting reason
    ready: bool
    restarts: int
    started_at: datetime | None
    cpu_m: float | None  # millicores, None when metrics are missing
    cpu_limit_m: float | None
    cpu_history: tuple[float, ...] = ()
    last_exit: str = ""  # the last termination: "Error (1)", "OOMKilled (137)"; "" if none

    @property
    def cpu_pct_of_limit(self) -> float | None:
        if self.cpu_m is None or not self.cpu_limit_m:
            return None
        return 100.0 * self.cpu_m / self.cpu_limit_m


@dataclass(frozen=True, slots=True)
class DeploymentInfo:
    name: str
    desired: int
    ready: int
    updated: int
    available: int
    resource_version: str = ""


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    ready: bool
    unschedulable: bool  # cordoned
    cpu_m: float | None = None
    cpu_capacity_m: float | None = None


@dataclass(frozen=True, slots=True)
class KubeWarning:
    """A recent Warning event in the namespace (BackOff, FailedScheduling, ...)."""

    reason: str
    object: str  # kind/name
    message: str
    last_seen: datetime | None
    count: int = 1


@dataclass(frozen=True, slots=True)
class PodsSnapshot:
    taken_at: datetime
    namespace: str
    pods: tuple[PodInfo, ...]
    deployments: tuple[DeploymentInfo, ...]
    nodes: tuple[NodeInfo, ...]
    metrics_available: bool = True
    warnings: tuple[KubeWarning, ...] = ()  # recent Warning events, newest first


# --- PostgreSQL ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backend:
    """One row of pg_stat_activity that matters to the operator."""

    pid: int
    datname: str
    usename: str
    application_name: str
    state: str  # active, idle, idle in transaction, ...
    wait_event_type: str | None
    wait_event: str | None
    backend_start: datetime | None
    query_start: datetime | None
    duration_s: float  # now - query_start (active) or now - state_change
    query: str
    blocked_by: tuple[int, ...] = ()
    client_addr: str = ""  # "" for a unix socket (or not known)
    xact_start: datetime | None = None  # the open transaction's start, if any
    lock_mode: str = ""  # the lock it waits for (pg_locks), e.g. ShareLock
    lock_on: str = ""  # what that lock is on: a relation, else the lock's type


@dataclass(frozen=True, slots=True)
class Statement:
    queryid: str
    query: str
    calls: int
    mean_ms: float
    total_ms: float
    rows: int


CONNECTION_STATES = ("active", "idle", "idle in transaction", "waiting")


@dataclass(frozen=True, slots=True)
class DbSnapshot:
    taken_at: datetime
    database: str  # the name the config gives this server
    max_connections: int
    counts: dict[str, int]  # keys from CONNECTION_STATES, plus "other"
    total: int
    long_running: tuple[Backend, ...]  # longest first
    statements: tuple[Statement, ...]  # slowest mean first
    statements_available: bool = True
    statements_hint: str | None = None  # why not, and how to enable
    # the activity view: every non-idle client session (idle ones too when asked
    # for), longest first, at most a bound; `sessions_total` is how many there were
    sessions: tuple[Backend, ...] = ()
    sessions_total: int = 0
    idle_included: bool = False

    @property
    def usage_ratio(self) -> float:
        return self.total / self.max_connections if self.max_connections else 0.0


# --- HTTP endpoints -----------------------------------------------------------


# what a probe that was never sent says (its login failed): no news about the endpoint
NOT_CHECKED = "not checked"


@dataclass(frozen=True, slots=True)
class EndpointResult:
    name: str
    group: str
    method: str
    url: str
    status: int | None
    latency_ms: float | None
    p95_ms: float | None
    ok: bool
    error: str | None
    checked_at: datetime
    history: tuple[float, ...] = ()  # recent latencies in ms


@dataclass(frozen=True, slots=True)
class EndpointsSnapshot:
    taken_at: datetime
    endpoints: tuple[EndpointResult, ...]


# --- Alerts -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    state: str  # firing, pending
    severity: str
    active_at: datetime | None
    summary: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertsSnapshot:
    taken_at: datetime
    alerts: tuple[Alert, ...]



# --- a compact dict form, for the replay store ----------------------------------

SNAPSHOT_TYPES: dict[str, type] = {cls.__name__: cls for cls in (
    PodsSnapshot, DbSnapshot, EndpointsSnapshot, AlertsSnapshot)}


def to_dict(value: Any) -> Any:
    """A snapshot (or any part of one) as JSON-ready data: dataclasses as dicts, tuples as
    lists, times as ISO 8601 text. `from_dict` with the same type reads it back."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_dict(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_dict(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_dict(v) for k, v in value.items()}
    return value


def from_dict(kind: Any, data: Any) -> Any:
    """`data` read back as `kind` (a snapshot class, or a type inside one)."""
    origin, args = get_origin(kind), get_args(kind)
    if origin in (Union, UnionType):
        if data is None:
            return None
        return from_dict(next(a for a in args if a is not type(None)), data)
    if origin is tuple:
        return tuple(from_dict(args[0], v) for v in data)
    if origin is dict:
        return {str(k): from_dict(args[1], v) for k, v in data.items()}
    if isinstance(kind, type) and is_dataclass(kind):
        hints = _hints(kind)
        return kind(**{f.name: from_dict(hints[f.name], data[f.name])
                       for f in fields(kind) if f.name in data})
    if kind is datetime:
        return datetime.fromisoformat(data)
    if kind is float and isinstance(data, int):
        return float(data)
    if kind in (str, int, float, bool):
        if not isinstance(data, kind):
            raise ValueError(f"expected {kind.__name__}, got {type(data).__name__}")
        return data
    return data


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)
