"""Changes in what the sources see that belong on the timeline.

Alerts that start or stop firing are recorded to the log. Each record carries a
dedupe key built from the alert's own identity (name and activeAt), so several
luckytui processes watching the same Prometheus and sharing one log file record
each change once.

Endpoints going down and coming back are found by :class:`EndpointWatch` and
recorded by :func:`record_endpoint_changes`: each endpoint's records in the log are
numbered (``ordinal``), and the next one's dedupe key carries the next number, so
processes that see the same transition at the same time write it once.

A flapping endpoint (down ``FLAP_COUNT`` times within ``FLAP_WINDOW``) becomes one
``endpoint.flapping`` record instead of a flood: its further downs and ups are counted,
not recorded, until it has held one state for ``STABLE_AFTER``; then one
``endpoint.stable`` record says so, with the count ("stable after 7 flaps: up"). The log
stays append-only and true: what was not recorded one by one is counted in the record
that closes the episode. Processes sharing the log see the same probes and agree; one
that starts during a flap leaves it to those that saw it start.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from luckytui.durations import format_duration
from luckytui.events import (
    ACKNOWLEDGED,
    ALERT_FIRED,
    ALERT_RESOLVED,
    CLOCK,
    DECLARED,
    DRILL_RECOVERED,
    DRILL_STARTED,
    DRILL_STOPPED,
    ENDPOINT_DOWN,
    ENDPOINT_FLAPPING,
    ENDPOINT_STABLE,
    ENDPOINT_UP,
    INTENT,
    KINDS,
    NOTE,
    NOTICE_SENT,
    OUTCOME,
    REFUSED,
    RESOLVED,
    RESPONSE_CLOCK,
    ROLE,
    RUNBOOK_STEP,
    SEVERITY,
    STATUS,
    STATUS_UPDATE_CLOCK,
    UPDATE_SENT,
)
from luckytui.mitigations.runner import describe_intent, describe_outcome
from luckytui.redact import redact_url, redact_urls
from luckytui.snapshots import (
    NOT_CHECKED,
    Alert,
    AlertsSnapshot,
    EndpointResult,
    EndpointsSnapshot,
)
from luckytui.text import visible
from luckytui.timeparse import parse_time

if TYPE_CHECKING:
    from luckytui.store.log import EventLog, LogRecord

ENDPOINT_KINDS = (ENDPOINT_DOWN, ENDPOINT_UP, ENDPOINT_FLAPPING, ENDPOINT_STABLE)
FLAP_COUNT = 3  # downs within FLAP_WINDOW that make an endpoint flapping
FLAP_WINDOW = timedelta(minutes=10)
STABLE_AFTER = timedelta(minutes=5)  # one state held this long ends the flapping
CLOCK_PHRASES = {RESPONSE_CLOCK: "Ack SLA", STATUS_UPDATE_CLOCK: "Status page update"}


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str
    data: dict[str, Any]
    dedupe: str


def _key(alert: Alert) -> str:
    started = alert.active_at.isoformat() if alert.active_at else "?"
    return f"{alert.name}@{started}"


def alert_signals(before: AlertsSnapshot | None, after: AlertsSnapshot) -> list[Signal]:
    """alert.fired for alerts newly firing, alert.resolved for firing alerts now gone.

    alert.fired carries ``fired_at``, when the alert started *firing*, which is not
    Prometheus's ``activeAt``: a rule with ``for: 5m`` is pending from activeAt and fires
    five minutes later. The most truthful time is the pending → firing transition the
    war room observed: the alert was pending in ``before`` and is firing in ``after``,
    so it fired by ``after.taken_at``, at most one refresh late (``fired_seen:
    "transition"``). Seen already firing at the first look (the war room started late),
    Prometheus's alerts API does not say when it fired, only that it was pending from
    activeAt; ``fired_at`` is then the first look (``fired_seen: "first look"``), a time
    it was surely firing, never the pending start, so MTTA and MTTR are not stretched by
    the rule's ``for``.
    """
    was_firing = {_key(a) for a in (before.alerts if before else ()) if a.state == "firing"}
    was_pending = {_key(a) for a in (before.alerts if before else ()) if a.state == "pending"}
    was = {_key(a): a for a in (before.alerts if before else ()) if a.state == "firing"}
    now = {_key(a): a for a in after.alerts if a.state == "firing"}
    fired_at = after.taken_at.astimezone(UTC).isoformat()
    out = [
        Signal("alert.fired", {"alert": a.name, "severity": a.severity, "summary": a.summary,
                               "active_at": a.active_at.isoformat() if a.active_at else None,
                               "fired_at": fired_at,
                               "fired_seen": "transition" if k in was_pending
                               else "first look"},
               f"alert.fired:{k}")
        for k, a in now.items() if k not in was_firing
    ]
    out += [
        Signal("alert.resolved", {"alert": a.name, "severity": a.severity,
                                  "active_at": a.active_at.isoformat() if a.active_at
                                  else None},
               f"alert.resolved:{k}")
        for k, a in was.items() if k not in now
    ]
    return out


# --- endpoints ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EndpointChange:
    """An endpoint went down or came back, as one process's probes saw it.

    ``url`` and ``error`` are already redacted (no credentials, no query string).
    """

    kind: str  # ENDPOINT_DOWN or ENDPOINT_UP
    name: str
    group: str
    url: str
    status: int | None  # of the probe that decided
    error: str | None  # of the probe that decided (None when up)
    at: datetime  # when the probe that decided was made
    since: datetime | None  # first failed probe of the outage (of the flapping), or None
    flaps: int = 0  # flapping, stable: how many times it went down since flapping began
    still_down: bool = False  # stable: it settled down, not up

    @property
    def key(self) -> str:
        """The endpoint's identity: ``group/name``."""
        return f"{self.group}/{self.name}"

    @property
    def down(self) -> bool:
        return self.kind == ENDPOINT_DOWN

    @property
    def state(self) -> str:
        """What the change leaves the endpoint: down, up or flapping."""
        if self.kind == ENDPOINT_STABLE:
            return "down" if self.still_down else "up"
        return {ENDPOINT_DOWN: "down", ENDPOINT_UP: "up"}.get(self.kind, "flapping")

    @property
    def down_for_s(self) -> float | None:
        """How long the outage lasted (an ``up`` change with a known start), else None."""
        if self.down or self.since is None:
            return None
        return max(0.0, (self.at - self.since).total_seconds())


@dataclass(slots=True)
class _Track:
    fails: int = 0
    down: bool = False
    since: datetime | None = None  # first failure of the current run of failures
    last_checked: datetime | None = None
    downs: list[datetime] = field(default_factory=list)  # recent outages' first failures
    flapping: bool = False
    flaps: int = 0
    flap_since: datetime | None = None
    last_move: datetime | None = None  # the last transition while flapping


class EndpointWatch:
    """Turns successive endpoint snapshots into down and up transitions.

    - An endpoint is **down** after ``down_after`` (2) consecutive failed probes. One
      failed probe on its own is a blip (a dropped connection, a slow GC pause), not an
      event: it never reaches the timeline.
    - It is **up** again after one successful probe once it was down.
    - Start-up: the first snapshot only establishes the state. Nothing is reported for
      endpoints that answer; an endpoint already failing at start is reported down once
      it has failed twice (its first two probes), like any other. ``known_down`` (keys
      ``group/name``, values the outage's start when known) seeds endpoints another
      process recorded as down, so their recovery is reported and their outage is not
      reported a second time.
    - A probe that was never sent (``"not checked: ..."``, its login failed) says nothing
      about the endpoint and changes nothing; the login endpoint itself is reported.
    - The same probe fed twice (same ``checked_at``) counts once. Endpoints that leave
      the configuration are forgotten without an event.
    - Flapping: the ``flap_count``-th down within ``flap_window`` is reported as
      ``endpoint.flapping``; then nothing until the endpoint has held one state for
      ``stable_after``, reported as ``endpoint.stable`` with the number of downs.
    """

    def __init__(self, *, down_after: int = 2,
                 known_down: Mapping[str, datetime | None] | None = None,
                 flap_count: int = FLAP_COUNT, flap_window: timedelta = FLAP_WINDOW,
                 stable_after: timedelta = STABLE_AFTER) -> None:
        if down_after < 1:
            raise ValueError("down_after must be at least 1")
        self.down_after = down_after
        self.flap_count, self.flap_window = flap_count, flap_window
        self.stable_after = stable_after
        self._tracks: dict[str, _Track] = {
            key: _Track(fails=down_after, down=True, since=since)
            for key, since in (known_down or {}).items()
        }

    def is_down(self, key: str) -> bool:
        """Whether the endpoint ``group/name`` is down as far as this watch knows."""
        track = self._tracks.get(key)
        return track is not None and track.down

    @property
    def down(self) -> list[str]:
        """The endpoints (``group/name``) down now."""
        return sorted(key for key, track in self._tracks.items() if track.down)

    def feed(self, snapshot: EndpointsSnapshot) -> list[EndpointChange]:
        """The transitions this snapshot makes, in the snapshot's order."""
        changes: list[EndpointChange] = []
        seen: set[str] = set()
        for result in snapshot.endpoints:
            key = f"{result.group}/{result.name}"
            seen.add(key)
            change = self._feed_one(key, result)
            change = self._flap(self._tracks[key], change, result)
            if change is not None:
                changes.append(change)
        for key in [k for k in self._tracks if k not in seen]:
            # never seen in a snapshot yet (a seeded outage) or gone from the configuration
            if self._tracks[key].last_checked is not None:
                del self._tracks[key]
        return changes

    def _flap(self, track: _Track, change: EndpointChange | None,
              result: EndpointResult) -> EndpointChange | None:
        """The change as the timeline should have it, flapping taken into account."""
        if track.flapping:
            if change is not None:
                track.last_move = change.at
                track.flaps += 1 if change.down else 0
                return None
            if track.last_move is not None and \
                    result.checked_at - track.last_move >= self.stable_after:
                track.flapping, track.downs = False, []
                stable = _change(ENDPOINT_STABLE, result, track.flap_since)
                return replace(stable, flaps=track.flaps, still_down=track.down,
                               error=stable.error if track.down else None)
            return None
        if change is None or not change.down:
            return change
        track.downs = [t for t in track.downs if change.at - t < self.flap_window]
        track.downs.append(change.since or change.at)  # each outage's first failed probe
        if len(track.downs) < self.flap_count:
            return change
        track.flapping, track.flaps = True, len(track.downs)
        track.flap_since, track.last_move = track.downs[0], change.at
        return replace(change, kind=ENDPOINT_FLAPPING, since=track.flap_since,
                       flaps=track.flaps)

    def _feed_one(self, key: str, result: EndpointResult) -> EndpointChange | None:
        track = self._tracks.setdefault(key, _Track())
        if track.last_checked is not None and result.checked_at <= track.last_checked:
            return None
        track.last_checked = result.checked_at
        if not result.ok and (result.error or "").startswith(NOT_CHECKED):
            return None
        if result.ok:
            was_down, since = track.down, track.since
            track.fails, track.down, track.since = 0, False, None
            if was_down:
                return _change(ENDPOINT_UP, result, since)
            return None
        track.fails += 1
        if track.fails == 1:
            track.since = result.checked_at
        if not track.down and track.fails >= self.down_after:
            track.down = True
            return _change(ENDPOINT_DOWN, result, track.since)
        return None


def _change(kind: str, result: EndpointResult, since: datetime | None) -> EndpointChange:
    error = None if kind == ENDPOINT_UP or result.ok else redact_urls(
        result.error or (f"HTTP {result.status}" if result.status else "no answer"))
    return EndpointChange(kind, result.name, result.group, redact_url(result.url),
                          result.status, error, result.checked_at, since)


@dataclass(slots=True)
class _Latest:
    """Each endpoint's newest endpoint.* record and its ordinal, read up to ``after_id``."""

    after_id: int = 0
    records: dict[str, tuple[LogRecord, int]] = field(default_factory=dict)


# One view per open log: the log is append-only and its ids grow in commit order, so
# each look-up reads only the endpoint records added since the last one.
_LATEST: weakref.WeakKeyDictionary[EventLog, _Latest] = weakref.WeakKeyDictionary()


async def _latest_endpoint_records(log: EventLog) -> dict[str, tuple[LogRecord, int]]:
    view = _LATEST.setdefault(log, _Latest())
    for record in await log.records(after_id=view.after_id, kinds=ENDPOINT_KINDS):
        view.after_id = max(view.after_id, record.id)
        key = f"{record.data.get('group', '')}/{record.data.get('endpoint', '')}"
        previous = view.records.get(key)
        ordinal = record.data.get("ordinal")
        if not isinstance(ordinal, int) or isinstance(ordinal, bool):
            ordinal = (previous[1] if previous else 0) + 1
        view.records[key] = (record, ordinal)
    return view.records


async def logged_endpoints_down(log: EventLog) -> dict[str, datetime | None]:
    """The endpoints (``group/name``) whose newest record in the log says down, with the
    outage's start when recorded: the seed for :class:`EndpointWatch` at start-up."""
    out: dict[str, datetime | None] = {}
    for key, (record, _) in (await _latest_endpoint_records(log)).items():
        if _record_state(record) in ("down", "flapping"):
            out[key] = parse_time(record.data.get("since")) or record.ts
    return out


def _record_state(record: LogRecord) -> str:
    """What an endpoint.* record leaves the endpoint: down, up or flapping."""
    if record.kind == ENDPOINT_STABLE:
        return "down" if record.data.get("state") == "down" else "up"
    return {ENDPOINT_DOWN: "down", ENDPOINT_UP: "up"}.get(record.kind, "flapping")


async def record_endpoint_changes(log: EventLog, changes: Iterable[EndpointChange], *,
                                  actor: str, incident: str | None) -> int:
    """Write ``endpoint.down`` / ``endpoint.up`` records for ``changes``; return how many
    were written.

    Several processes share one log, so each change is checked against the log: when the
    endpoint's newest record already says the same state the change is skipped (another
    process was first), and an ``up`` with no ``down`` before it is not written. Otherwise
    the record is appended with ordinal = the newest record's ordinal + 1 and dedupe key
    ``endpoint:{group}/{name}:{ordinal}``: two processes racing compute the same ordinal,
    so the second append is a no-op. Ordinals alternate down, up, down, ... per endpoint.

    The URL is stored without credentials and query; ``down_for_s`` is measured from the
    first failed probe recorded with the ``down`` record (another process's when it was
    first), else this process's own.
    """
    pending = list(changes)
    if not pending:
        return 0
    latest = await _latest_endpoint_records(log)
    written = 0
    for change in pending:
        last = latest.get(change.key)
        state = _record_state(last[0]) if last is not None else "up"
        if change.kind == ENDPOINT_STABLE:
            if state != "flapping":
                continue  # another process closed the episode, or none was open
        elif state == "flapping":
            continue  # the episode is open: single changes are counted, not written
        elif change.state == state:
            continue  # another process was first (an up with nothing down: nothing)
        ordinal = last[1] + 1 if last is not None else 1
        data: dict[str, Any] = {"endpoint": change.name, "group": change.group,
                                "ordinal": ordinal}
        if change.kind in (ENDPOINT_DOWN, ENDPOINT_FLAPPING) or change.still_down:
            data.update(url=redact_url(change.url), status=change.status,
                        error=redact_urls(change.error) if change.error else None,
                        since=(change.since or change.at).astimezone(UTC).isoformat())
        else:
            since = parse_time(last[0].data.get("since")) if last is not None else None
            since = since or change.since
            if since is not None:
                data["down_for_s"] = round(max(0.0, (change.at - since).total_seconds()), 1)
            data["status"] = change.status
        if change.kind in (ENDPOINT_FLAPPING, ENDPOINT_STABLE):
            data["flaps"] = change.flaps
        if change.kind == ENDPOINT_STABLE:
            data["state"] = change.state
            if change.still_down:  # the outage goes on from the flapping's start
                data["since"] = (change.since or change.at).astimezone(UTC).isoformat()
        record = await log.append(change.kind, data, actor=actor, incident=incident,
                                  dedupe=f"endpoint:{change.key}:{ordinal}")
        if record is not None:
            written += 1
            latest[change.key] = (record, ordinal)
    return written


# --- one line per record ----------------------------------------------------------------


def _hhmm(value: object, tz: tzinfo | None) -> str | None:
    parsed = parse_time(value)
    return parsed.astimezone(tz).strftime("%H:%M") if parsed is not None else None


def _endpoint_name(data: Mapping[str, Any]) -> str:
    group, name = data.get("group"), data.get("endpoint")
    return f"{group}/{name}" if group else str(name)


def describe(kind: str, data: dict[str, Any], *, tz: tzinfo | None = UTC) -> str:
    """One line for the timeline. Times in it (HH:MM) are shown in ``tz``; None means
    the local zone. Whatever the record holds (a note, an alert's summary, an error), the
    line is one line and carries nothing a terminal would obey: line breaks and runs of
    whitespace are one space, other control characters are shown."""
    return visible(" ".join(_describe(kind, data, tz=tz).split()))


Describer = Callable[[dict[str, Any], tzinfo | None], str]


def _icon(kind: str) -> str:
    return KINDS[kind].icon


def _alert_fired(d: dict[str, Any], tz: tzinfo | None) -> str:
    return (f"{_icon(ALERT_FIRED)} {d.get('alert')} firing ({d.get('severity')}): "
            f"{d.get('summary', '')}")


def _alert_resolved(d: dict[str, Any], tz: tzinfo | None) -> str:
    return f"{_icon(ALERT_RESOLVED)} {d.get('alert')} resolved"


def _endpoint_down(d: dict[str, Any], tz: tzinfo | None) -> str:
    reason = d.get("error") or (f"HTTP {d['status']}" if d.get("status") else "no answer")
    return f"{_icon(ENDPOINT_DOWN)} {_endpoint_name(d)} DOWN: {redact_urls(str(reason))}"


def _endpoint_up(d: dict[str, Any], tz: tzinfo | None) -> str:
    took = d.get("down_for_s")
    after = (f" after {format_duration(float(took), 'span')}"
             if isinstance(took, int | float) and not isinstance(took, bool) else "")
    return f"{_icon(ENDPOINT_UP)} {_endpoint_name(d)} back up{after}"


def _endpoint_flapping(d: dict[str, Any], tz: tzinfo | None) -> str:
    since = _hhmm(d.get("since"), tz)
    return (f"{_icon(ENDPOINT_FLAPPING)} {_endpoint_name(d)} FLAPPING: down {d.get('flaps')} "
            "times" + (f" since {since}" if since else "") + "; one line until it is stable")


def _endpoint_stable(d: dict[str, Any], tz: tzinfo | None) -> str:
    down = d.get("state") == "down"
    end = f"DOWN: {redact_urls(str(d.get('error') or 'no answer'))}" if down else "up"
    icon = _icon(ENDPOINT_DOWN) if down else _icon(ENDPOINT_UP)
    return f"{icon} {_endpoint_name(d)} stable after {d.get('flaps')} flaps: {end}"


def _declared(d: dict[str, Any], tz: tzinfo | None) -> str:
    drill = " (drill)" if d.get("drill") else ""
    return f"Declared {d.get('severity')}{drill}: {d.get('title', '')}"


def _changed(kind: str) -> Describer:
    def line(d: dict[str, Any], tz: tzinfo | None) -> str:
        return f"{KINDS[kind].label} {d.get('old')} → {d.get('new')}"
    return line


def _role(d: dict[str, Any], tz: tzinfo | None) -> str:
    was = f" (was {d['previous']})" if d.get("previous") else ""
    return f"{d.get('role')}: {d.get('name') or 'nobody'}{was}"


def _update_sent(d: dict[str, Any], tz: tzinfo | None) -> str:
    due = _hhmm(d.get("next_update"), tz)
    label = KINDS[UPDATE_SENT].label
    return f"{label} (next by {due})" if due else label


def _clock(d: dict[str, Any], tz: tzinfo | None) -> str:
    what = CLOCK_PHRASES.get(str(d.get("clock")), d.get("label") or "Clock")
    if d.get("result") == "met":
        return f"{_icon(CLOCK)} {what} met"
    due = _hhmm(d.get("due"), tz)
    return f"{_icon(CLOCK)} {what} MISSED (due {due})" if due else f"{_icon(CLOCK)} {what} MISSED"


def _resolved(d: dict[str, Any], tz: tzinfo | None) -> str:
    answers = dict(d.get("checklist", {}))
    ticked = sum(1 for v in answers.values() if v == "ticked")
    anyway = d.get("resolved_anyway")
    return (f"Resolved ({ticked} of {len(answers)} checklist items ticked)"
            + (f", anyway: {anyway}" if anyway else ""))


def _runbook_step(d: dict[str, Any], tz: tzinfo | None) -> str:
    mark = "☑" if d.get("ticked") else "☐"
    return f"{mark} {d.get('title')}: step {int(d.get('step', 0)) + 1}, {d.get('text')}"


def _refused(d: dict[str, Any], tz: tzinfo | None) -> str:
    args = " ".join(map(str, d.get("args", [])))
    return f"{_icon(REFUSED)} {d.get('action')} {args} refused: {d.get('reason')}"


def _drill_started(d: dict[str, Any], tz: tzinfo | None) -> str:
    speed = d.get("speed")
    pace = f", {speed:g}x speed" if isinstance(speed, int | float) and speed != 1 else ""
    return (f"DRILL started: {d.get('title') or d.get('scenario')} "
            f"(expected {d.get('expected_severity')}{pace})")


# one describer per catalogued kind (a test holds the two to each other)
DESCRIBERS: dict[str, Describer] = {
    ALERT_FIRED: _alert_fired,
    ALERT_RESOLVED: _alert_resolved,
    ENDPOINT_DOWN: _endpoint_down,
    ENDPOINT_UP: _endpoint_up,
    ENDPOINT_FLAPPING: _endpoint_flapping,
    ENDPOINT_STABLE: _endpoint_stable,
    DECLARED: _declared,
    ACKNOWLEDGED: lambda d, tz: KINDS[ACKNOWLEDGED].label,
    SEVERITY: _changed(SEVERITY),
    STATUS: _changed(STATUS),
    ROLE: _role,
    NOTE: lambda d, tz: f"{KINDS[NOTE].label}: {d.get('text', '')}",
    UPDATE_SENT: _update_sent,
    NOTICE_SENT: lambda d, tz: KINDS[NOTICE_SENT].label,
    CLOCK: _clock,
    RESOLVED: _resolved,
    RUNBOOK_STEP: _runbook_step,
    INTENT: lambda d, tz: describe_intent(d),
    OUTCOME: lambda d, tz: describe_outcome(d),
    REFUSED: _refused,
    DRILL_STARTED: _drill_started,
    DRILL_RECOVERED: lambda d, tz: f"DRILL {d.get('scenario')}: production has recovered "
                                   "(every fault is over)",
    DRILL_STOPPED: lambda d, tz: f"DRILL {d.get('scenario')} stopped before production "
                                 "recovered",
}


def _describe(kind: str, data: dict[str, Any], *, tz: tzinfo | None = UTC) -> str:
    describer = DESCRIBERS.get(kind)
    if describer is not None:
        return describer(data, tz)
    text = data.get("text") or data.get("message") or ""
    return f"{kind} {text}".strip()
