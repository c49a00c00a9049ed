"""Incidents derived from their events; numbering; the recording service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from luckytui.incident.model import (
    RESOLUTION_CHECKLIST,
    active_incident,
    banner_text,
    fold,
    next_number,
)
from luckytui.incident.service import IncidentError, Incidents
from luckytui.store import EventLog

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@dataclass
class Rec:
    ts: datetime
    kind: str
    incident: str | None
    data: dict[str, Any] = field(default_factory=dict)
    actor: str = "amy@jump"


def test_fold_derives_state_from_events() -> None:
    n = "INC-2026-11-26-001"
    records = [
        Rec(T0, "incident.declared", n, {"title": "Orders failing", "severity": "P2",
                                         "started_at": (T0 - timedelta(minutes=7)).isoformat()}),
        Rec(T0 + timedelta(minutes=2), "incident.acknowledged", n),
        Rec(T0 + timedelta(minutes=3), "alert.fired", n, {"alert": "NoOrdersProcessed"}),
        Rec(T0 + timedelta(minutes=4), "incident.acknowledged", n),  # a second ack changes nothing
    ]
    inc = fold(records)[n]
    assert (inc.title, inc.severity, inc.status) == ("Orders failing", "P2", "Investigating")
    assert inc.started_at == T0 - timedelta(minutes=7) and inc.declared_at == T0
    assert inc.acknowledged_at == T0 + timedelta(minutes=2)
    assert active_incident(fold(records)) == inc
    assert banner_text(inc, T0 + timedelta(minutes=5)) == (
        "INC-2026-11-26-001 · P2 · Investigating · 00:12:00")
    records.append(Rec(T0 + timedelta(minutes=30), "incident.resolved", n,
                       {"checklist": {i: "ticked" for i in RESOLUTION_CHECKLIST}}))
    done = fold(records)[n]
    assert done.status == "Resolved" and done.resolved_at == T0 + timedelta(minutes=30)
    assert active_incident(fold(records)) is None
    assert done.elapsed_s(T0 + timedelta(hours=5)) == 37 * 60  # the clock stops at resolution


def test_impact_start_cannot_follow_the_declaration() -> None:
    n = "INC-2026-11-26-001"
    later = (T0 + timedelta(minutes=5)).isoformat()
    inc = fold([Rec(T0, "incident.declared", n, {"title": "x", "severity": "P3",
                                                 "started_at": later})])[n]
    assert inc.started_at == T0


def test_numbers_count_per_day() -> None:
    day = date(2026, 11, 26)
    assert next_number([], day) == "INC-2026-11-26-001"
    assert next_number(["INC-2026-11-26-001", "INC-2026-11-26-002",
                        "INC-2026-11-25-009"], day) == "INC-2026-11-26-003"


async def test_service_declares_acknowledges_and_resolves(tmp_path: Path) -> None:
    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        svc = Incidents(log, "amy@jump")
        with pytest.raises(IncidentError, match="needs a title"):
            await svc.declare("   ", "P2")
        with pytest.raises(IncidentError, match="severity must be one of"):
            await svc.declare("x", "P9")
        inc = await svc.declare("Analytics financial 500", "P2", drill=True)
        assert inc.number.startswith("INC-") and inc.number.endswith("-001") and inc.drill
        second = await svc.declare("Login slow", "P3")
        assert second.number.endswith("-002")
        assert (await svc.acknowledge(inc.number)).acknowledged_at is not None
        with pytest.raises(IncidentError, match="checklist item not answered"):
            await svc.resolve({RESOLUTION_CHECKLIST[0]: True}, inc.number)
        answers = {item: i % 2 == 0 for i, item in enumerate(RESOLUTION_CHECKLIST)}
        done = await svc.resolve(answers, inc.number)
        assert done.checklist[RESOLUTION_CHECKLIST[1]] == "skipped"
        with pytest.raises(IncidentError, match="already resolved"):
            await svc.resolve(answers, inc.number)
        assert (await svc.active()) == (await svc.all())[second.number]


async def test_two_writers_never_share_a_number(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path) as a, await EventLog.open(path) as b:
        first, second = await asyncio.gather(Incidents(a, "a").declare("one", "P3"),
                                             Incidents(b, "b").declare("two", "P3"))
    assert first.number != second.number


async def test_severity_status_roles_and_notes(tmp_path: Path) -> None:
    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        svc = Incidents(log, "amy@jump")
        inc = await svc.declare("Orders failing", "P3")
        assert (await svc.change_severity("P2")).severity == "P2"
        identified = await svc.change_status("identified")
        assert identified.status == "Identified" and identified.identified_at is not None
        assert (await svc.change_status("Monitoring")).mitigated_at is not None
        with pytest.raises(IncidentError, match="resolve with its checklist"):
            await svc.change_status("Resolved")
        await svc.assign("ic", "Amy Chen")
        handed = await svc.assign("IC", "Bob Lin")
        assert handed.roles == {"IC": "Bob Lin"}
        freed = await svc.assign("IC", "")
        assert freed.roles == {}
        with pytest.raises(IncidentError, match="role must be one of"):
            await svc.assign("CEO", "x")
        await svc.note("order-worker restarted")
        records = await log.records(incident=inc.number)
        kinds = [r.kind for r in records]
        assert kinds.count("incident.role") == 3 and "incident.note" in kinds
        handover = [r for r in records if r.kind == "incident.role"][1]
        assert handover.data["previous"] == "Amy Chen" and handover.data["name"] == "Bob Lin"
        sev = next(r for r in records if r.kind == "incident.severity")
        assert (sev.data["old"], sev.data["new"]) == ("P3", "P2")
        await svc.resolve({item: True for item in RESOLUTION_CHECKLIST})
        with pytest.raises(IncidentError, match="is resolved"):
            await svc.change_severity("P1", inc.number)
