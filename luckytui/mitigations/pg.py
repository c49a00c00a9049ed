"""The plan's PostgreSQL remedies: cancel or terminate a backend, kill long queries,
kill idle connections, put a database in emergency read-only mode.

Each plan freezes its targets as (pid, backend_start) pairs: a pid that the
server gave to a new session since the plan is never signalled (the server
is asked `WHERE pid = ... AND backend_start = ...`). Cancel (interrupt the
query, keep the session) and terminate (close the connection) are separate
actions. Bulk actions list every session they will touch and need the
database's name typed. luckytui's own sessions (this process's connections,
known by backend pid, never by application_name, which any client can set) are
always left alone, and the server's own processes (autovacuum, WAL senders,
background workers) unless forced.

The actions reach a database through `systems.postgres.PgOps`: `RealPgOps`
for a server; another implementation of the Protocol can be handed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from luckytui.mitigations.base import (
    ActionError,
    BadArgument,
    Change,
    Outcome,
    Plan,
    whole_number,
)
from luckytui.systems.postgres import CLIENT_BACKEND, PgOps, PgOpsError

if TYPE_CHECKING:
    pass

T = TypeVar("T")
PROTECTED_DATABASES = ("postgres", "template0", "template1")
DEFAULT_AGE_S = 300.0  # the plan's "5 minutes"
MIN_AGE_S = 1.0  # below this, a bulk action needs --force
MAX_AGE_S = 30 * 86400.0  # a session older than 30 days is no incident's doing
MAX_PID = 2**31 - 1  # PostgreSQL's pids are int4
QUERY_CHARS = 80
_AGE = re.compile(r"([0-9]{1,9}(?:\.[0-9]{1,6})?) ?(ms|s|m|min|h)?", re.ASCII)


def parse_time(value: object) -> datetime | None:
    """A timestamptz from a driver (datetime) or JSON (ISO 8601 text), as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ActionError(f"{value!r} is not a timestamp") from None
    else:
        raise ActionError(f"{value!r} is not a timestamp")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso(ts: datetime) -> str:
    """A backend_start as the plan keeps it: ISO 8601 UTC, to the microsecond."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_age(text: str) -> float:
    """"5m", "90s", "1h", "300" (seconds) → seconds."""
    m = _AGE.fullmatch(text.lower()) if isinstance(text, str) else None
    if not m:
        raise BadArgument(f"{text!r} is not an age: write e.g. 5m, 90s or 1h")
    scale = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0}
    seconds = float(m.group(1)) * scale[m.group(2)]
    if seconds > MAX_AGE_S:
        raise BadArgument(f"{text!r} is longer than {MAX_AGE_S / 86400:g} days")
    return seconds


def fmt_age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _short(query: str, limit: int = QUERY_CHARS) -> str:
    text = " ".join(query.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def busy_s(row: dict[str, Any]) -> float | None:
    """How long the session has been doing what it does (its query, or being idle)."""
    if row.get("state") == "active":
        return row.get("query_s") if row.get("query_s") is not None else row.get("state_s")
    return row.get("state_s") if row.get("state_s") is not None else row.get("query_s")


def describe_backend(row: dict[str, Any]) -> str:
    """`4242 (app_user, order-worker, idle 7m00s, UPDATE orders …)`"""
    state = row.get("state") or row.get("backend_type") or "?"
    who = ", ".join(str(row.get(k) or "-") for k in ("usename", "application_name"))
    query = _short(str(row.get("query") or ""), 60)
    return f"{row['pid']} ({who}, {state} {fmt_age(busy_s(row))}" + \
        (f", {query})" if query else ")")


# --- the actions ------------------------------------------------------------------------


@dataclass
class PgContext:
    """What the PostgreSQL actions share: the database, its name, whether forced."""

    ops: PgOps
    database: str
    force: bool = False

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await fn(*args)
        except PgOpsError as exc:
            raise ActionError(str(exc)) from None

    async def activity(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.call(self.ops.activity)
        return rows


def _pid(value: str) -> int:
    return whole_number(value, "PID", 1, MAX_PID)


def _mine(row: dict[str, Any]) -> bool:
    """luckytui's own session, by pid (see pgown); application_name proves nothing."""
    return bool(row.get("own"))


def _frozen(plan: Plan) -> list[tuple[int, datetime]]:
    pairs = []
    for pid, start in plan.args["backends"]:
        when = parse_time(start)
        assert when is not None
        pairs.append((int(pid), when))
    return pairs


class SignalBackend:
    """`cancel PID` or `terminate PID`, optionally `PID BACKEND_START` to freeze a
    session seen earlier (the database pane's selected backend)."""

    usage = "PID [BACKEND_START]"

    def __init__(self, ctx: PgContext, *, terminate: bool) -> None:
        self.ctx = ctx
        self.terminate = terminate
        self.name = "terminate" if terminate else "cancel"
        self.summary = ("Terminate a backend: close its connection (pg_terminate_backend)"
                        if terminate else
                        "Cancel a backend's query; the session stays (pg_cancel_backend)")

    async def plan(self, *args: str) -> Plan:
        if len(args) not in (1, 2):
            raise BadArgument(f"usage: {self.name} {self.usage}")
        pid = _pid(args[0])
        seen = parse_time(args[1]) if len(args) == 2 else None
        row = next((r for r in await self.ctx.activity() if r["pid"] == pid), None)
        if row is None:
            raise ActionError(f"no backend with pid {pid}: it has gone")
        start: datetime = row["backend_start"]
        if seen is not None and seen != start:
            raise ActionError(f"pid {pid} is now another session (started {iso(start)}, "
                              f"not {iso(seen)}): look again before acting")
        if row.get("own"):
            raise ActionError(f"pid {pid} is luckytui's own session")
        kind = row.get("backend_type") or CLIENT_BACKEND
        if kind != CLIENT_BACKEND and not self.ctx.force:
            raise ActionError(f"pid {pid} is the server's {kind}, not a client session; "
                              "--force to signal it anyway")
        fn = "pg_terminate_backend" if self.terminate else "pg_cancel_backend"
        state = row.get("state") or kind
        query = _short(str(row.get("query") or ""))
        before = f"{state} for {fmt_age(busy_s(row))}" + (f": {query}" if query else "")
        after = ("terminated: connection closed, its transaction rolled back"
                 if self.terminate else "query cancelled: the session stays connected")
        who = ", ".join(str(row.get(k) or "-") for k in ("usename", "application_name",
                                                          "datname"))
        return Plan(
            action=self.name,
            title=f"{self.name.capitalize()} backend {pid} ({who})",
            target=f"backend/{pid}", identity={"pid": str(pid), "backend_start": iso(start)},
            changes=(Change(f"backend {pid}", before, after),),
            command=f"SELECT {fn}(pid) FROM pg_stat_activity WHERE pid = {pid} "
                    f"AND backend_start = '{iso(start)}';",
            args={"pid": pid, "backend_start": iso(start)})

    async def execute(self, plan: Plan) -> Outcome:
        pid = int(plan.args["pid"])
        start = parse_time(plan.args["backend_start"])
        assert start is not None
        signal = self.ctx.ops.terminate if self.terminate else self.ctx.ops.cancel
        if not await self.ctx.call(signal, pid, start):
            raise ActionError(f"backend {pid} (started {iso(start)}) has gone since the "
                              "plan: nothing was signalled")
        done = "terminated" if self.terminate else "cancelled its query"
        return Outcome("ok", f"backend {pid} {done}", changed={self.name: [pid]})


def _idle(state: object) -> bool:
    """idle, idle in transaction, idle in transaction (aborted)"""
    return isinstance(state, str) and state.startswith("idle")


class TerminateMany:
    """`terminate-long [AGE]` (the plan's "kill long queries") and `terminate-idle [AGE]`
    (the pool runbook's "kill idle connections"), AGE 5m by default.

    terminate-idle takes the sessions idle in a transaction too (`idle in transaction`,
    and `(aborted)`): in a pool exhaustion they are the ones holding the slots (and
    their row locks), doing nothing, and ending the session is the only way to free
    them; their open transactions roll back, which is what "kill" means here."""

    usage = "[AGE]"

    def __init__(self, ctx: PgContext, *, idle: bool) -> None:
        self.ctx = ctx
        self.idle = idle
        self.name = "terminate-idle" if idle else "terminate-long"
        self.summary = ("Terminate sessions idle for longer than AGE (default 5m)" if idle
                        else "Terminate sessions whose query started more than AGE ago "
                             "(default 5m)")

    def _selects(self, row: dict[str, Any], age: float) -> bool:
        if row.get("backend_type") != CLIENT_BACKEND or _mine(row):
            return False
        if row.get("datname") != self.ctx.database:
            return False
        if self.idle:
            return _idle(row.get("state")) and (row.get("state_s") or 0.0) > age
        return (row.get("state") is not None and not _idle(row.get("state"))
                and (row.get("query_s") or 0.0) > age)

    async def plan(self, *args: str) -> Plan:
        if len(args) > 1:
            raise BadArgument(f"usage: {self.name} {self.usage}")
        age = parse_age(args[0]) if args else DEFAULT_AGE_S
        if age < MIN_AGE_S and not self.ctx.force:
            raise ActionError(f"AGE must be at least {MIN_AGE_S:g}s; --force to go below")
        rows = sorted((r for r in await self.ctx.activity() if self._selects(r, age)),
                      key=lambda r: (-(busy_s(r) or 0.0), r["pid"]))
        db = self.ctx.database
        what = "idle sessions" if self.idle else "sessions with a query running"
        if not rows:
            raise ActionError(f"no {what} for longer than {fmt_age(age)} in {db}: "
                              "nothing to terminate")
        since = "state_change" if self.idle else "query_start"
        where = "state LIKE 'idle%'" if self.idle else "state NOT LIKE 'idle%'"
        pids = ", ".join(str(r["pid"]) for r in rows)
        return Plan(
            action=self.name,
            title=f"Terminate {len(rows)} {what} for longer than {fmt_age(age)} in {db}",
            target=f"database/{db}",
            identity={str(r["pid"]): iso(r["backend_start"]) for r in rows},
            changes=(Change("sessions", f"{len(rows)} {what.split(' ', 1)[0]} "
                            f"(> {fmt_age(age)})", "terminated"),),
            command=(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     f"WHERE datname = '{db}' AND {where} "
                     f"AND {since} < now() - interval '{int(age)} seconds' "
                     f"AND pid IN ({pids});"),
            args={"older_than_s": age,
                  "backends": [[r["pid"], iso(r["backend_start"])] for r in rows]},
            typed_confirmation=db,
            touches=tuple(describe_backend(r) for r in rows))

    async def execute(self, plan: Plan) -> Outcome:
        done: list[int] = []
        gone: list[int] = []
        for pid, start in _frozen(plan):
            ok = await self.ctx.call(self.ctx.ops.terminate, pid, start)
            (done if ok else gone).append(pid)
        detail = f"terminated {len(done)} of {len(done) + len(gone)} sessions"
        if gone:
            detail += f"; already gone: {', '.join(map(str, gone))}"
        return Outcome("ok", detail, changed={"terminated": done, "gone": gone})


class ReadOnly:
    name = "read-only"
    summary = "Emergency read-only mode for a database's new sessions (on|off)"
    usage = "DATABASE on|off [terminate]"

    def __init__(self, ctx: PgContext) -> None:
        self.ctx = ctx

    async def plan(self, *args: str) -> Plan:
        if not 2 <= len(args) <= 3 or args[1].lower() not in ("on", "off") or (
                len(args) == 3 and (args[2] != "terminate" or args[1].lower() != "on")):
            raise BadArgument(f"usage: read-only {self.usage} (terminate: also end the open "
                              "sessions, so they reconnect read-only)")
        db, on = args[0], args[1].lower() == "on"
        terminate = len(args) == 3
        if not db or "\x00" in db:
            raise ActionError(f"{db!r} is not a database name")
        if db in PROTECTED_DATABASES and not self.ctx.force:
            raise ActionError(f"{db} is a system database; --force to change it anyway")
        before = await self.ctx.call(self.ctx.ops.read_only, db)
        if before == on:
            raise ActionError(f"database {db} is already "
                              f"{'read-only' if on else 'read-write'} for new sessions")
        label = {True: "on (read-only)", False: "off (read-write)"}
        sessions = [r for r in await self.ctx.activity()
                    if r.get("datname") == db
                    and r.get("backend_type") == CLIENT_BACKEND and not _mine(r)]
        open_sessions = len(sessions)
        value = "on" if on else "off"
        if terminate:
            touches = (f"every new session to {db}, and these {open_sessions} open sessions, "
                       "ended now so that they reconnect read-only:",
                       *(describe_backend(r) for r in sessions))
            frozen = [[int(r["pid"]), iso(r["backend_start"])] for r in sessions
                      if r.get("backend_start") is not None]
        else:
            touches = (f"every new session to {db}; the {open_sessions} open sessions keep "
                       "their setting until they reconnect",)
            frozen = []
        return Plan(
            action=self.name,
            title=f"{'Put' if on else 'Take'} database {db} "
                  f"{'in' if on else 'out of'} read-only mode",
            target=f"database/{db}", identity={"read_only": "on" if before else "off"},
            changes=(Change("default_transaction_read_only (new sessions)", label[before],
                            label[on]),),
            command=f'ALTER DATABASE "{db.replace(chr(34), chr(34) * 2)}" '
                    f"SET default_transaction_read_only = {value};",
            args={"database": db, "read_only": on, "terminate": frozen},
            typed_confirmation=db,
            touches=touches,
            undo={"action": self.name, "args": [db, "off" if on else "on"]})

    async def execute(self, plan: Plan) -> Outcome:
        db, on = plan.args["database"], bool(plan.args["read_only"])
        now = await self.ctx.call(self.ctx.ops.read_only, db)
        if ("on" if now else "off") != plan.identity["read_only"]:
            raise ActionError(f"database {db}'s read-only setting was changed by someone "
                              "else since the plan: look again before acting")
        await self.ctx.call(self.ctx.ops.set_read_only, db, on)
        ended: list[int] = []
        gone: list[int] = []
        for pid, started in plan.args.get("terminate") or []:
            ok = await self.ctx.call(self.ctx.ops.terminate, int(pid), parse_time(started))
            (ended if ok else gone).append(int(pid))
        extra = f"; ended {len(ended)} open sessions" if ended or gone else ""
        return Outcome("ok", f"database {db}: default_transaction_read_only = "
                       f"{'on' if on else 'off'} for new sessions{extra}",
                       changed={"read_only": on, "terminated": ended, "gone": gone})


def pg_actions(ctx: PgContext) -> list[Any]:
    return [SignalBackend(ctx, terminate=False), SignalBackend(ctx, terminate=True),
            TerminateMany(ctx, idle=False), TerminateMany(ctx, idle=True), ReadOnly(ctx)]
