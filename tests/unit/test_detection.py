"""Detection: when the first alert fired or the first endpoint check failed, from the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from luckytui.incident.detection import detect, peek
from luckytui.incident.model import RESOLUTION_CHECKLIST
from luckytui.incident.service import Incidents
from luckytui.signals import (
    EndpointWatch,
    alert_signals,
    record_endpoint_changes,
)
from luckytui.snapshots import Alert, AlertsSnapshot, EndpointResult, EndpointsSnapshot
from luckytui.store import EventLog

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
M = timedelta(minutes=1)
TICKED = {item: True for item in RESOLUTION_CHECKLIST}


def alerts(at: datetime, *states: tuple[str, str], active_at: datetime = T0) -> AlertsSnapshot:
    return AlertsSnapshot(at, tuple(Alert(name, state, "critical", active_at, f"{name}!")
                                    for name, state in states))


def probe(ok: bool, at: datetime, name: str = "financial") -> EndpointsSnapshot:
    return EndpointsSnapshot(at, (EndpointResult(
        name, "analytics", "GET", f"https://api/{name}", 200 if ok else 500, 10.0, 10.0, ok,
        None if ok else "HTTP 500", at),))


def test_fired_at_is_the_observed_transition_not_the_pending_start() -> None:
    # a rule with for: 5m: pending from activeAt T0, seen firing at T0+5m10s
    pending = alerts(T0 + 5 * M, ("NoOrdersProcessed", "pending"))
    firing = alerts(T0 + 5 * M + timedelta(seconds=10), ("NoOrdersProcessed", "firing"))
    (signal,) = alert_signals(pending, firing)
    assert signal.kind == "alert.fired"
    assert signal.data["fired_at"] == (T0 + 5 * M + timedelta(seconds=10)).isoformat()
    assert signal.data["fired_seen"] == "transition"
    assert signal.data["active_at"] == T0.isoformat()
    # already firing at the first look: the first look, never the pending start
    (first,) = alert_signals(None, firing)
    assert first.data["fired_at"] == firing.taken_at.isoformat()
    assert first.data["fired_seen"] == "first look"
    # its resolution names the same alert (name and activeAt), so it can be matched
    (gone,) = alert_signals(firing, alerts(T0 + 9 * M))
    assert (gone.kind, gone.data["active_at"]) == ("alert.resolved", T0.isoformat())


async def _record(log: EventLog, signals: list, incident: str | None = None) -> None:  # type: ignore[type-arg]
    for s in signals:
        await log.append(s.kind, s.data, actor="room", incident=incident, dedupe=s.dedupe)


async def test_declare_takes_the_first_of_alert_fired_and_failed_check(tmp_path: Path) -> None:
    now = [T0]
    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path, clock=lambda: now[0]) as log:
        watch = EndpointWatch()
        # the analytics check fails first at T0+2, twice in a row: down, since T0+2
        for minute, ok in ((1, True), (2, False), (3, False)):
            now[0] = T0 + minute * M
            await record_endpoint_changes(log, watch.feed(probe(ok, now[0])), actor="room",
                                          incident=None)
        # the alert, pending since T0 (for: 5m), fires at T0+5
        now[0] = T0 + 5 * M
        await _record(log, alert_signals(alerts(T0 + 4 * M, ("AnalyticsEndpointDown",
                                                             "pending")),
                                         alerts(now[0], ("AnalyticsEndpointDown", "firing"))))
        assert (await detect(log)).at == T0 + 2 * M  # type: ignore[union-attr]
        assert peek(path).at == T0 + 2 * M  # type: ignore[union-attr]
        now[0] = T0 + 9 * M
        inc = await Incidents(log, "amy").declare("Analytics down", "P2")
    assert inc.detected == T0 + 2 * M  # the first failed probe, not the alert's activeAt T0


async def test_without_a_failed_check_the_alert_firing_time_counts(tmp_path: Path) -> None:
    now = [T0 + 5 * M]
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=lambda: now[0]) as log:
        await _record(log, alert_signals(alerts(T0 + 4 * M, ("NoOrdersProcessed", "pending")),
                                         alerts(now[0], ("NoOrdersProcessed", "firing"))))
        now[0] = T0 + 8 * M
        inc = await Incidents(log, "amy").declare("Orders failing", "P2")
    assert inc.detected == T0 + 5 * M and inc.mtta_s is None


async def test_signals_of_an_earlier_incident_never_count(tmp_path: Path) -> None:
    now = [T0]
    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path, clock=lambda: now[0]) as log:
        svc = Incidents(log, "amy")
        # an alert that fired before the first incident and is still firing after it
        await _record(log, alert_signals(alerts(T0, ("HighAPIResponseTime", "pending")),
                                         alerts(T0, ("HighAPIResponseTime", "firing"))))
        now[0] = T0 + 5 * M
        first = await svc.declare("Slow API", "P3")
        assert first.detected == T0
        now[0] = T0 + 30 * M
        await svc.resolve(TICKED, first.number)
        assert peek(path) is None  # nothing since the resolution
        now[0] = T0 + 40 * M
        second = await svc.declare("Slow again", "P3")
        assert second.detected == T0 + 40 * M  # the declaration, not T0
        await svc.resolve(TICKED, second.number)
        # an alert that fired and cleared is not the start of the next problem
        now[0] = T0 + 50 * M
        firing = alerts(now[0], ("NoOrdersProcessed", "firing"), active_at=T0 + 49 * M)
        await _record(log, alert_signals(None, firing))
        now[0] = T0 + 52 * M
        await _record(log, alert_signals(firing, alerts(now[0])))
        assert (await detect(log)) is None and peek(path) is None
        now[0] = T0 + 60 * M
        third = await svc.declare("Orders again", "P2")
    assert third.detected == T0 + 60 * M


async def test_an_impact_start_after_the_signal_wins(tmp_path: Path) -> None:
    now = [T0 + 5 * M]
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=lambda: now[0]) as log:
        await _record(log, alert_signals(None, alerts(now[0], ("NoOrdersProcessed", "firing"))))
        now[0] = T0 + 20 * M
        inc = await Incidents(log, "amy").declare("Orders", "P2", started_at=T0 + 10 * M)
    assert inc.started_at == T0 + 10 * M and inc.detected == T0 + 20 * M
