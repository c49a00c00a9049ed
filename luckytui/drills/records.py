"""What a drill writes to the event log, for the timeline and for scoring it.

The process that runs the simulation records, with actor "drill":

- `drill.started` when the drill's first fault starts: `drill_id` (a uuid4's
  hex), `scenario`, `title`, `expected_severity`, `speed`, and the `right` and
  `harmful` remedy rules as text;
- `drill.recovered` when every fault is over: `drill_id`, `scenario`;
- `drill.stopped` when the simulation stops before that: `drill_id`,
  `scenario`, `recovered` false.

The model calls `started()` and `recovered()` from its clock's step, which
cannot wait for the log; the records wait in `pending` until `flush()`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from luckytui.drills.scenario import Scenario
from luckytui.events import DRILL_RECOVERED, DRILL_STARTED, DRILL_STOPPED

if TYPE_CHECKING:
    from luckytui.store import EventLog

ACTOR = "drill"


class DrillRecorder:
    def __init__(self, scenario: Scenario, speed: float = 1.0) -> None:
        self.scenario = scenario
        self.speed = speed
        self.drill_id = uuid.uuid4().hex
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.is_started = self.is_recovered = self.is_stopped = False

    def started(self) -> None:
        if self.is_started:
            return
        self.is_started = True
        s = self.scenario
        self.pending.append((DRILL_STARTED, {
            "drill_id": self.drill_id, "scenario": s.name, "title": s.title,
            "expected_severity": s.expected_severity, "speed": self.speed,
            "right": [str(r) for r in s.right], "harmful": [str(r) for r in s.harmful]}))

    def recovered(self) -> None:
        if self.is_started and not self.is_recovered:
            self.is_recovered = True
            self.pending.append((DRILL_RECOVERED, {"drill_id": self.drill_id,
                                                   "scenario": self.scenario.name}))

    def stopped(self) -> None:
        if self.is_started and not self.is_recovered and not self.is_stopped:
            self.is_stopped = True
            self.pending.append((DRILL_STOPPED, {"drill_id": self.drill_id,
                                                 "scenario": self.scenario.name,
                                                 "recovered": False}))

    async def flush(self, log: EventLog) -> None:
        while self.pending:
            kind, data = self.pending[0]
            await log.append(kind, data, actor=ACTOR)
            self.pending.pop(0)
