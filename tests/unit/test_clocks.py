"""The plan's clocks under a controllable clock: response SLA and status page updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from luckytui.incident.clocks import (
    MET,
    MISSED,
    NEAR,
    OVERDUE,
    RESPONSE,
    RUNNING,
    STATUS_UPDATE,
    clock_text,
    clocks,
    open_clocks,
    results,
)
from luckytui.incident.model import Incident
from luckytui.incident.service import Incidents
from luckytui.store import EventLog

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def incident(severity: str = "P2", **kw: object) -> Incident:
    base: dict[str, object] = {
        "number": "INC-2026-11-26-001", "title": "Orders failing", "severity": severity,
        "status": "Investigating", "declared_at": T0 + 2 * M, "declared_by": "amy",
        "started_at": T0 - 5 * M, "detected_at": T0}
    base.update(kw)
    return Incident(**base)  # type: ignore[arg-type]


def by_name(inc: Incident, now: datetime, name: str) -> list[tuple[datetime, str]]:
    return [(c.due, c.state) for c in clocks(inc, now) if c.name == name]


def test_response_sla_by_severity_counts_from_detection() -> None:
    for severity, minutes in (("P1", 15), ("P2", 30), ("P3", 120), ("P4", 24 * 60)):
        inc = incident(severity)
        (due, state), = by_name(inc, T0 + M, RESPONSE)
        assert due == T0 + minutes * M, severity
        assert state == RUNNING


def test_response_clock_nears_then_passes_due_and_stops_at_the_ack() -> None:
    inc = incident("P1")  # 15 min: near in the last 3
    assert by_name(inc, T0 + 11 * M, RESPONSE)[0][1] == RUNNING
    assert by_name(inc, T0 + 12 * M, RESPONSE)[0][1] == NEAR
    assert by_name(inc, T0 + 15 * M + timedelta(seconds=1), RESPONSE)[0][1] == OVERDUE
    acked = incident("P1", acknowledged_at=T0 + 14 * M)
    assert by_name(acked, T0 + 60 * M, RESPONSE)[0][1] == MET
    late = incident("P1", acknowledged_at=T0 + 16 * M)
    assert by_name(late, T0 + 60 * M, RESPONSE)[0][1] == MISSED
    # the banner shows only what still runs
    assert [c.name for c in open_clocks(acked, T0 + 20 * M)] == [STATUS_UPDATE]


def test_status_page_first_within_15_min_then_every_30_after_the_last_sent() -> None:
    inc = incident("P2", updates_sent=(T0 + 10 * M, T0 + 50 * M))
    got = by_name(inc, T0 + 60 * M, STATUS_UPDATE)
    assert got == [
        (T0 + 15 * M, MET),  # first update at +10, due +15
        (T0 + 40 * M, MISSED),  # next due 30 min after +10; sent at +50: late
        (T0 + 80 * M, RUNNING),  # 30 min after the last one sent
    ]


def test_status_page_clock_only_for_p1_p2_and_stops_when_resolved() -> None:
    assert by_name(incident("P3"), T0 + 60 * M, STATUS_UPDATE) == []
    done = incident("P1", resolved_at=T0 + 10 * M, acknowledged_at=T0 + M)
    assert by_name(done, T0 + 99 * M, STATUS_UPDATE) == []
    assert open_clocks(done, T0 + 99 * M) == []
    late = incident("P1", resolved_at=T0 + 20 * M, acknowledged_at=T0 + M)
    assert by_name(late, T0 + 99 * M, STATUS_UPDATE) == [(T0 + 15 * M, MISSED)]


def test_results_lists_each_deadline_once_and_skips_recorded_ones() -> None:
    inc = incident("P1")
    assert results(inc, T0 + 5 * M) == []
    found = {(c.name, r) for c, r in results(inc, T0 + 16 * M)}
    assert found == {(RESPONSE, MISSED), (STATUS_UPDATE, MISSED)}
    keys = {c.key: r for c, r in results(inc, T0 + 16 * M)}
    recorded = incident("P1", clocks=keys)
    assert results(recorded, T0 + 16 * M) == []


def test_clock_text() -> None:
    inc = incident("P1")
    response = clocks(inc, T0 + 3 * M)[0]
    assert clock_text(response, T0 + 3 * M) == "ack in 12:00"
    near = clocks(inc, T0 + 13 * M)[0]  # the last fifth: marked, not only yellow
    assert clock_text(near, T0 + 13 * M) == "⚠ ack in 2:00"
    assert clock_text(response, T0 + 19 * M + timedelta(seconds=10)) == "ack OVERDUE 4:10"
    page = clocks(inc, T0 + 3 * M)[1]
    assert clock_text(page, T0 + 3 * M) == "status page in 12:00"


async def test_record_clocks_once_from_two_processes(tmp_path: Path) -> None:
    now = [T0]
    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path, clock=lambda: now[0]) as one, \
            await EventLog.open(path, clock=lambda: now[0]) as two:
        a, b = Incidents(one, "amy"), Incidents(two, "bob")
        inc = await a.declare("Site down", "P1")
        now[0] = T0 + 10 * M
        await b.acknowledge(inc.number)  # within 15 min: met, recorded by the step
        now[0] = T0 + 16 * M  # first status page update due at +15: missed
        assert await a.record_clocks() == [f"{inc.number}: Status page missed"]
        assert await b.record_clocks() == []  # the other war room: already recorded
        records = await one.records(kinds=("incident.clock",))
    assert [(r.data["clock"], r.data["result"]) for r in records] == [
        (RESPONSE, MET), (STATUS_UPDATE, MISSED)]


def test_a_downgrade_never_turns_a_missed_p1_ack_into_met() -> None:
    # P1 from detection; its 15 min passed; downgraded to P2 at +20, acked at +25 (< 30)
    inc = incident("P2", severities=((T0 + 2 * M, "P1"), (T0 + 20 * M, "P2")),
                   acknowledged_at=T0 + 25 * M)
    (response,) = [c for c in clocks(inc, T0 + 60 * M) if c.name == RESPONSE]
    assert (response.due, response.state, response.severity) == (T0 + 15 * M, MISSED, "P1")
    # still open at +20 after the downgrade: overdue, not back to running
    open_ = incident("P2", severities=((T0 + 2 * M, "P1"), (T0 + 20 * M, "P2")))
    assert by_name(open_, T0 + 21 * M, RESPONSE) == [(T0 + 15 * M, OVERDUE)]


def test_a_downgrade_in_time_is_judged_by_the_new_severity() -> None:
    # P1 for 10 minutes (its deadline not reached), then P2: the ack at +25 meets P2's 30
    inc = incident("P2", severities=((T0 + 2 * M, "P1"), (T0 + 10 * M, "P2")),
                   acknowledged_at=T0 + 25 * M)
    (response,) = [c for c in clocks(inc, T0 + 60 * M) if c.name == RESPONSE]
    assert (response.due, response.state, response.severity) == (T0 + 30 * M, MET, "P2")


def test_an_upgrade_past_the_shorter_sla_is_missed_at_once() -> None:
    inc = incident("P1", severities=((T0 + 2 * M, "P2"), (T0 + 20 * M, "P1")))
    assert by_name(inc, T0 + 19 * M, RESPONSE) == [(T0 + 30 * M, RUNNING)]  # P2 still
    assert by_name(inc, T0 + 20 * M, RESPONSE) == [(T0 + 15 * M, OVERDUE)]


def test_status_page_clock_starts_when_the_incident_becomes_p1_or_p2() -> None:
    inc = incident("P2", severities=((T0 + 2 * M, "P3"), (T0 + 60 * M, "P2")))
    assert by_name(inc, T0 + 59 * M, STATUS_UPDATE) == []
    assert by_name(inc, T0 + 61 * M, STATUS_UPDATE) == [(T0 + 75 * M, RUNNING)]
    # a deadline that passed under P2 stays missed after a downgrade to P3
    down = incident("P3", severities=((T0 + 2 * M, "P2"), (T0 + 20 * M, "P3")))
    assert by_name(down, T0 + 30 * M, STATUS_UPDATE) == [(T0 + 15 * M, MISSED)]
    # downgraded before the deadline: nothing owed
    early = incident("P3", severities=((T0 + 2 * M, "P2"), (T0 + 10 * M, "P3")))
    assert by_name(early, T0 + 30 * M, STATUS_UPDATE) == []


async def test_the_response_sla_is_recorded_once_through_severity_changes(
        tmp_path: Path) -> None:
    now = [T0]
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=lambda: now[0]) as log:
        svc = Incidents(log, "amy")
        inc = await svc.declare("Login failing", "P1", detected_at=T0)
        now[0] = T0 + 16 * M  # P1's 15 minutes are gone
        await svc.record_clocks()
        now[0] = T0 + 17 * M
        await svc.change_severity("P2", inc.number)
        await svc.acknowledge(inc.number)  # within P2's 30 minutes, too late for P1's 15
        now[0] = T0 + 18 * M
        await svc.change_severity("P1", inc.number)
        await svc.record_clocks()
        records = await log.records(kinds=("incident.clock",))
        final = (await svc.all())[inc.number]
    response = [r.data for r in records if r.data["clock"] == RESPONSE]
    assert [(d["result"], d["severity"], d["due"]) for d in response] == [
        (MISSED, "P1", (T0 + 15 * M).isoformat())]
    assert final.clocks[RESPONSE] == MISSED
    assert final.severities[1:] == ((T0 + 17 * M, "P2"), (T0 + 18 * M, "P1"))
