"""The war room's flows without a terminal: remedies (plan → confirm → intent → run →
outcome, refusals, undo) and incident steps, against a real log, real commands and the
simulated cluster."""

from __future__ import annotations

import sys
from pathlib import Path

from luckytui.config import load_settings
from luckytui.controller import NOTHING_TO_UNDO, READ_ONLY, REFUSED, Controller
from luckytui.incident.model import RESOLUTION_CHECKLIST
from luckytui.mitigations.base import Plan
from luckytui.mitigations.custom import CustomAction, CustomCommand
from luckytui.mitigations.registry import build_actions, close_actions
from luckytui.mitigations.runner import INTENT, OUTCOME
from luckytui.signals import Signal
from luckytui.sim.runner import Simulation
from luckytui.store import EventLog

# prints the kinds the log holds when it runs: what was recorded before the run
SHOW_LOG = ("import sqlite3, sys; print('log:', sqlite3.connect(sys.argv[1]).execute("
            "'select group_concat(kind) from events').fetchone()[0])")


def command(name: str, *argv: str, mutating: bool = True) -> CustomAction:
    return CustomAction(CustomCommand(name, f"{name} for the test", (sys.executable, *argv),
                                      mutating=mutating, timeout_s=20))


class Answer:
    """A confirmation that answers ``yes`` and remembers the plans it was shown."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes
        self.plans: list[Plan] = []

    async def __call__(self, plan: Plan) -> bool:
        self.plans.append(plan)
        return self.yes


async def kinds(log: EventLog) -> list[str]:
    return [r.kind for r in await log.records()]


async def test_intent_is_recorded_before_the_run_and_the_outcome_after(tmp_path: Path
                                                                       ) -> None:
    path = tmp_path / "log"
    action = command("show-log", "-c", SHOW_LOG, str(path))
    async with await EventLog.open(path) as log:
        ctl = Controller("amy", actions={"show-log": action}, log=log)
        yes = Answer(True)
        result = await ctl.act("show-log", [], yes)
        assert result.ok and result.ran, result
        # the command saw the intent committed, and no outcome yet
        assert result.detail.endswith("log: mitigation.intent"), result.detail
        assert [p.action for p in yes.plans] == ["show-log"]
        intent, outcome = await log.records()
        assert (intent.kind, outcome.kind) == (INTENT, OUTCOME)
        assert outcome.data["intent"] == intent.id and outcome.data["status"] == "ok"
        assert intent.actor == outcome.actor == "amy"


async def test_a_cancelled_confirmation_records_nothing_and_runs_nothing(tmp_path: Path
                                                                        ) -> None:
    marker = tmp_path / "ran"
    action = command("touch", "-c", "import sys; open(sys.argv[1], 'w').close()", str(marker))
    async with await EventLog.open(tmp_path / "log") as log:
        ctl = Controller("amy", actions={"touch": action}, log=log)
        no = Answer(False)
        result = await ctl.act("touch", [], no)
        assert result.status == "cancelled" and not result.ran
        assert len(no.plans) == 1 and no.plans[0].action == "touch"
        assert await kinds(log) == []
    assert not marker.exists()


async def test_read_only_refuses_with_a_record_and_asks_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    action = command("touch", "-c", "import sys; open(sys.argv[1], 'w').close()", str(marker))
    async with await EventLog.open(tmp_path / "log") as log:
        ctl = Controller("amy", actions={"touch": action}, read_only=True, log=log)
        asked = Answer(True)
        result = await ctl.act("touch", ["--now"], asked)
        assert result.status == "refused" and result.detail == READ_ONLY
        assert asked.plans == []
        (record,) = await log.records()
        assert record.kind == REFUSED
        assert record.data == {"action": "touch", "args": ["--now"], "reason": READ_ONLY}
    assert not marker.exists()


async def test_read_only_still_runs_a_command_that_changes_nothing(tmp_path: Path) -> None:
    action = command("status", "-c", "print('queue depth 3')", mutating=False)
    async with await EventLog.open(tmp_path / "log") as log:
        ctl = Controller("amy", actions={"status": action}, read_only=True, log=log)
        result = await ctl.act("status", [], Answer(True))
        assert result.ok and result.detail == "status finished (exit status 0): queue depth 3"
        assert await kinds(log) == [INTENT, OUTCOME]


async def test_a_failing_run_records_the_failed_outcome(tmp_path: Path) -> None:
    action = command("fail", "-c", "print('disk full'); raise SystemExit(3)")
    async with await EventLog.open(tmp_path / "log") as log:
        ctl = Controller("amy", actions={"fail": action}, log=log)
        result = await ctl.act("fail", [], Answer(True))
        assert result.status == "failed" and result.ran
        assert result.detail == "exit status 3: disk full"
        intent, outcome = await log.records()
        assert (intent.kind, outcome.kind) == (INTENT, OUTCOME)
        assert outcome.data["status"] == "failed"
        assert outcome.data["detail"] == "exit status 3: disk full"


async def test_a_plan_that_cannot_be_made_is_refused_and_recorded(tmp_path: Path) -> None:
    async with await EventLog.open(tmp_path / "log") as log:
        ctl = Controller("amy", actions={"show-log": command("show-log", "-c", SHOW_LOG)},
                         log=log)
        asked = Answer(True)
        result = await ctl.act("show-log", ["unexpected"], asked)  # takes no argument
        assert result.status == "refused" and result.error is not None
        assert asked.plans == []
        (record,) = await log.records()
        assert record.kind == REFUSED and record.data["args"] == ["unexpected"]
        # an action this luckytui does not have: said, nothing recorded
        missing = await ctl.act("scale", ["x", "2"], asked)
        assert missing.status == "unavailable" and "scale: not available" in missing.detail
        assert await kinds(log) == [REFUSED]


async def test_without_a_log_nothing_is_planned_or_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    action = command("touch", "-c", "import sys; open(sys.argv[1], 'w').close()", str(marker))
    ctl = Controller("amy", actions={"touch": action})
    ctl.detach("LOCAL LOG UNAVAILABLE (disk full)")
    asked = Answer(True)
    result = await ctl.act("touch", [], asked)
    assert result.status == "unavailable" and result.detail.startswith("LOCAL LOG")
    assert asked.plans == [] and not marker.exists()
    assert (await ctl.declare("Orders failing", "P2")).problem == \
        "LOCAL LOG UNAVAILABLE (disk full)"


async def test_undo_names_the_remedy_it_undoes(sim: Simulation, tmp_path: Path) -> None:
    actions = build_actions(load_settings(sim.config_path))
    try:
        async with await EventLog.open(tmp_path / "log") as log:
            ctl = Controller("amy", actions=actions, log=log)
            assert (await ctl.undo(Answer(True))).status == "nothing"
            assert (await ctl.undo(Answer(True))).detail == NOTHING_TO_UNDO
            assert (await ctl.act("scale", ["luckygas-backend", "8"], Answer(True))).ok
            assert sim.model.deployments["luckygas-backend"].replicas == 8
            asked = Answer(True)
            result = await ctl.undo(asked)
            assert result.ok, result
            assert result.undoes == "scale luckygas-backend 3→8"
            assert asked.plans[0].title.startswith("undo of scale luckygas-backend 3→8: ")
            assert sim.model.deployments["luckygas-backend"].replicas == 3
            records = await log.records()
            assert [r.kind for r in records] == [INTENT, OUTCOME, INTENT, OUTCOME]
            assert records[2].data["undo_of"]["outcome"] == records[1].id
            assert records[3].data["undo_of"]["summary"] == "scale luckygas-backend 3→8"
            # the undo's own undo goes back to 8: the newest successful remedy
            again = Answer(False)
            assert (await ctl.undo(again)).status == "cancelled"
            assert again.plans[0].title.startswith("undo of scale luckygas-backend 8→3: ")
            assert len(await log.records()) == 4
    finally:
        close_actions(actions)


async def test_incident_steps_through_the_controller(tmp_path: Path) -> None:
    async with await EventLog.open(tmp_path / "log") as log:
        ctl = Controller("amy", log=log)
        assert (await ctl.acknowledge()).problem == \
            "No active incident to acknowledge (n declares one)."
        declared = await ctl.declare("Orders failing", "P2", components=("api",))
        assert declared.ok and declared.incident is not None
        number = declared.incident.number
        assert ctl.active is not None and ctl.active.number == number
        second = await ctl.declare("Another", "P3")
        assert second.problem == f"{number} is still active: resolve it first (R), or " \
            "change its severity (p)."
        assert (await ctl.acknowledge()).ok
        assert (await ctl.change_severity("P1")).incident.severity == "P1"  # type: ignore[union-attr]
        bad = await ctl.change_severity("P9")
        assert bad.problem is not None and "P9" not in (ctl.active.severity if ctl.active
                                                       else "")
        roles = await ctl.assign({"IC": "amy", "TL": "bo"})
        assert roles.incident is not None and roles.incident.roles == {"IC": "amy", "TL": "bo"}
        assert (await ctl.note("rolled back the cache change")).ok
        unanswered = await ctl.resolve({})
        assert unanswered.problem == f"checklist item not answered: {RESOLUTION_CHECKLIST[0]}"
        done = await ctl.resolve(dict.fromkeys(RESOLUTION_CHECKLIST, True),
                                 still_wrong="alert HighErrorRate still firing")
        assert done.ok and ctl.active is None
        records = [r for r in await log.records() if r.incident == number]
        resolved = [r for r in records if r.kind == "incident.resolved"]
        assert resolved[0].data["resolved_anyway"] == "alert HighErrorRate still firing"
        assert any(r.kind == "incident.note" and
                   r.data.get("text") == "rolled back the cache change" for r in records)
        assert {r.actor for r in records} == {"amy"}


async def test_signals_are_recorded_once_under_the_active_incident(tmp_path: Path) -> None:
    fired = Signal("alert.fired", {"alert": "HighErrorRate", "severity": "critical"},
                   "alert.fired:HighErrorRate@03:00")
    async with await EventLog.open(tmp_path / "log") as log:
        ctl = Controller("amy", log=log)
        await ctl.record_signals([fired])  # before any incident: on no incident
        declared = await ctl.declare("Orders failing", "P1")
        assert declared.incident is not None
        again = Signal("alert.fired", {"alert": "HighErrorRate"},
                       "alert.fired:HighErrorRate@03:10")
        await ctl.record_signals([fired, again])  # the first is on the log already
        alerts = [r for r in await log.records() if r.kind == "alert.fired"]
        assert [(r.dedupe, r.incident, r.actor) for r in alerts] == [
            ("alert.fired:HighErrorRate@03:00", None, "amy"),
            ("alert.fired:HighErrorRate@03:10", declared.incident.number, "amy")]
