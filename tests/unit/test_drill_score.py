"""Drills scored from the log: incidents declared during a drill are drills, the score's
times, severity, remedies and status updates, recorded once, and kept out of production."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from luckytui.controller import Controller
from luckytui.drills.recording import record_score, running_drill
from luckytui.drills.report import render_list, render_score
from luckytui.drills.scenario import built_in
from luckytui.drills.score import from_json, score_drill, to_json
from luckytui.events import DRILL_SCORED
from luckytui.incident.metrics import month_report
from luckytui.incident.model import RESOLUTION_CHECKLIST
from luckytui.incident.service import IncidentError, Incidents
from luckytui.mitigations.base import Outcome, Plan
from luckytui.store import EventLog

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # the first Monday: the database drill
TICKED = {item: True for item in RESOLUTION_CHECKLIST}


class Clock:
    """The log's clock: seconds from T0, moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = T0 + timedelta(seconds=seconds)


class Remedy:
    """A remedy that plans and answers like the real ones and touches no system: the
    controller records its intent and outcome on the log as for any remedy."""

    mutating = True
    summary = usage = ""

    def __init__(self, name: str, status: str = "ok") -> None:
        self.name = name
        self.status = status

    async def plan(self, *args: str) -> Plan:
        target = f"deployment/{args[0]}" if args else "luckygas_prod"
        return Plan(action=self.name, title=f"{self.name} {' '.join(args)}", target=target,
                    identity={}, changes=(), command=f"kubectl {self.name}", args={})

    async def execute(self, plan: Plan) -> Outcome:
        return Outcome(self.status, f"{self.name}: {self.status}")


async def confirm(plan: Plan) -> bool:
    return True


async def start(log: EventLog, scenario: str, *, drill_id: str = "d1",
                speed: float = 1.0) -> None:
    """What the drill engine records when the faults start."""
    sc = built_in()[scenario]
    await log.append("drill.started", {
        "drill_id": drill_id, "scenario": sc.name, "title": sc.title,
        "expected_severity": sc.expected_severity, "speed": speed,
        "right": [str(r) for r in sc.right], "harmful": [str(r) for r in sc.harmful]},
        actor="drill")


async def act(room: Controller, name: str, *args: str, status: str = "ok") -> None:
    result = await room.act(Remedy(name, status), list(args), confirm)
    assert result.ran


async def scored(log: EventLog) -> list[Any]:
    return await log.records(kinds=(DRILL_SCORED,))


async def test_wrong_then_right_remedy_scored_at_resolution(tmp_path: Path) -> None:
    clock = Clock()
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=clock) as log:
        await start(log, "database-failure")
        room = Controller("amy@jump", log=log)
        clock.at(120)
        declared = await room.declare("Orders failing, pool exhausted", "P2")
        inc = declared.incident
        assert inc is not None and inc.drill and inc.drill_id == "d1"  # not asked: a drill
        clock.at(200)
        await act(room, "restart", "luckygas-backend")  # neither right nor harmful
        clock.at(300)
        await act(room, "terminate-long", "300", status="failed")  # right, but failed
        clock.at(360)
        await act(room, "terminate-long", "300")
        clock.at(600)
        await room.record_sent("status", "🚨 INCIDENT UPDATE [P2] ...")
        clock.at(700)
        await log.append("drill.recovered", {"drill_id": "d1",
                                             "scenario": "database-failure"}, actor="drill")
        assert await running_drill(log) == "d1"  # recovered, the incident still open
        assert await scored(log) == []
        clock.at(800)
        await room.resolve(TICKED)
        records = await scored(log)
        assert len(records) == 1 and records[0].incident == inc.number
        everything = await log.records()
        assert await running_drill(log) is None  # scored: the drill is over
    score = from_json(records[0].data)
    assert score == score_drill(everything, "d1", now=clock.now)
    assert (score.declared_s, score.first_right_s, score.recovered_s, score.resolved_s) == (
        120, 360, 700, 800)
    assert score.first_right == "terminate-long 300"
    assert [(a.at_s, a.remedy, a.kind, a.status) for a in score.actions] == [
        (200, "restart luckygas-backend", "wrong", "ok"),
        (300, "terminate-long 300", "right", "failed"),
        (360, "terminate-long 300", "right", "ok")]
    assert (score.first_severity, score.final_severity) == ("P2", "P2")
    # the P2 status page: first due 15 min after detection (the declaration), sent at 600 s
    assert [(u.due_s, u.on_time) for u in score.updates_due] == [(120 + 900, True)]
    assert {line.key: line.points for line in score.lines()} == {
        "declared": 15, "severity": 15, "first_right": 20, "recovered": 20, "updates": 15,
        "actions": 10}
    assert (score.points, score.verdict) == (95, "pass")
    assert records[0].data["points"] == 95 and records[0].data["wrong"] == 1
    text = "\n".join(render_score(score, tz=UTC))
    assert "✓ Declared" in text and "2m 00s after the start, on time (target 5 min)" in text
    assert "terminate-long 300, 6m 00s after the start, on time (target 30 min)" in text
    assert "WRONG    restart luckygas-backend (ok)" in text
    assert "Score 95/100: PASS" in text


async def test_harmful_remedy_late_updates_and_a_downgrade_at_speed(tmp_path: Path) -> None:
    clock = Clock()
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=clock) as log:
        await start(log, "api-degradation", speed=10)  # expected P2
        svc = Incidents(log, "bob@jump")
        room = Controller("amy@jump", log=log)
        clock.at(20)  # 200 s of drill time
        inc = await svc.declare("API slow", "P1")
        await room.refresh()
        clock.at(30)
        await act(room, "restart", "luckygas-backend")  # harmful in this scenario
        clock.at(40)
        await svc.change_severity("P2")  # downgraded to the expected one
        clock.at(50)
        await act(room, "scale", "luckygas-backend", "10")
        clock.at(150)  # first update was due 15 drill-minutes (90 s) after detection: late
        await svc.record_sent("status", "🚨 INCIDENT UPDATE [P2] ...")
        clock.at(200)
        await log.append("drill.recovered", {"drill_id": "d1",
                                             "scenario": "api-degradation"}, actor="drill")
        clock.at(400)  # the next update (due 150 s + 180 s) never sent
        await svc.resolve(TICKED)
        score = from_json((await scored(log))[0].data)
    assert score.incident == inc.number and score.speed == 10
    assert [s for _, s in score.severities] == ["P1", "P2"]
    assert [(u.due_s, u.on_time) for u in score.updates_due] == [(110, False), (330, False)]
    assert [a.remedy for a in score.harmful] == ["restart luckygas-backend"]
    assert score.first_right == "scale luckygas-backend 10" and score.first_right_s == 50
    lines = {line.key: line for line in score.lines()}
    assert lines["severity"].text == ("P1 → P2 (expected P2): downgraded to the expected one")
    assert lines["severity"].points == 5
    assert lines["recovered"].points == 10  # 2000 s of drill time: over the 30 minutes
    assert lines["updates"].points == 0 and lines["actions"].points == 0
    assert (score.points, score.verdict) == (15 + 5 + 20 + 10 + 0 + 0, "needs practice")
    text = "\n".join(render_score(score, tz=UTC))
    assert "speed 10x" in text
    assert "3m 20s (0m 20s wall) after the start, on time" in text
    assert "HARMFUL  restart luckygas-backend (ok)" in text
    assert "0 of 2 on time" in text and "sent at 25m 00s (2m 30s wall)" in text


async def test_stopped_before_recovery_says_not_recovered(tmp_path: Path) -> None:
    clock = Clock()
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=clock) as log:
        await start(log, "security-incident")
        svc = Incidents(log, "amy@jump")
        clock.at(60)
        inc = await svc.declare("Failed logins burst", "P2")
        clock.at(300)
        await log.append("drill.stopped", {"drill_id": "d1", "scenario": "security-incident",
                                           "recovered": False}, actor="drill")
        assert await running_drill(log) is None
        clock.at(320)  # declared after the stop: production, not the drill
        other = await svc.declare("Unrelated: cache slow", "P3")
        assert not other.drill and other.drill_id is None
        clock.at(400)
        await svc.resolve(TICKED, inc.number)
        score = from_json((await scored(log))[0].data)
        incidents = list((await svc.all()).values())
    lines = {line.key: line for line in score.lines()}
    assert score.stopped and score.recovered_s is None
    assert lines["recovered"].text == "NOT RECOVERED: the drill was stopped first"
    assert lines["severity"].text == "P2 (expected P1): never the expected one"
    assert lines["first_right"].text == "none succeeded"
    assert score.verdict == "needs practice"
    # production's metrics leave the drill out, and count the other one
    month = month_report(incidents, "2026-12")
    assert month.drills == (inc.number,)
    assert [i.number for i in month.incidents] == [other.number]
    assert "not recovered" in render_list([score], tz=UTC)


async def test_two_terminals_resolving_record_one_score(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path, clock=clock) as log_a, \
            await EventLog.open(path, clock=clock) as log_b:
        await start(log_a, "complete-outage")
        clock.at(30)
        inc = await Incidents(log_b, "bob@wall").declare("Site down", "P1")  # the other room
        assert inc.drill_id == "d1"
        clock.at(90)
        results: Sequence[Any] = await asyncio.gather(
            Incidents(log_a, "amy@jump").resolve(TICKED, inc.number),
            Incidents(log_b, "bob@wall").resolve(TICKED, inc.number),
            return_exceptions=True)
        assert any(not isinstance(r, BaseException) for r in results)
        assert all(isinstance(r, IncidentError) for r in results if isinstance(r,
                                                                              BaseException))
        # and scoring again from both, at once, records nothing more
        again = await asyncio.gather(record_score(log_a, "d1"), record_score(log_b, "d1"))
        assert all(s is not None and s.incident == inc.number for s in again)
        records = await scored(log_a)
    assert len(records) == 1
    assert records[0].dedupe == f"{DRILL_SCORED}:d1" and records[0].actor == "drill"


def test_the_record_round_trips_and_the_verdict_is_worked_out_again() -> None:
    """A score read back judges from its facts: a record claiming 100 points does not."""
    from luckytui.drills.score import Act, DrillScore

    score = DrillScore(drill_id="d9", scenario="api-degradation", title="API degradation",
                       started_at=T0, speed=2.0, expected_severity="P2", incident="INC-1",
                       severities=((60.0, "P3"),), declared_s=60.0,
                       actions=(Act(90.0, "cordon node-1", "harmful", "ok"),),
                       resolved_s=100.0)
    data = to_json(score) | {"points": 100, "verdict": "pass"}
    back = from_json(data)
    assert back == score
    assert back.points == to_json(score)["points"] < 100 and back.verdict == "needs practice"


def test_outside_text_in_a_score_is_shown_never_sent_to_the_terminal() -> None:
    from luckytui.drills.score import Act, DrillScore

    score = DrillScore(drill_id="d\x1b]52;c;evil\x07", scenario="x", title="t\x1b[2J",
                       started_at=T0, speed=1.0, expected_severity="P3",
                       incident_title="wipe\x1b[2J\rme",
                       actions=(Act(5.0, "restart \x1b[31mred", "wrong", "ok"),))
    text = "\n".join(render_score(score, tz=UTC)) + render_list([score], tz=UTC)
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "restart ␛[31mred" in text and "t␛[2J" in text
