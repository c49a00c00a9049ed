"""Drills on the shared log: which drill an incident declared now belongs to, and its
score recorded once when the drill incident is resolved (whichever terminal resolves it)."""

from __future__ import annotations

from luckytui.configread import ConfigError
from luckytui.drills.scenario import Scenario, find_scenario
from luckytui.drills.score import (
    DRILL_KINDS,
    DrillScore,
    open_drill,
    score_drill,
    to_json,
)
from luckytui.events import DRILL_SCORED, DRILL_STARTED
from luckytui.store import EventLog, LogRecord

ACTOR = "drill"


async def running_drill(log: EventLog) -> str | None:
    """The id of the drill running now (started, neither scored nor stopped), if any."""
    found = open_drill(await log.records(kinds=DRILL_KINDS))
    return str(found.data["drill_id"]) if found is not None else None


def _scenario(name: object) -> Scenario | None:
    """The built-in scenario of that name, for a record that carries no remedy rules."""
    try:
        return find_scenario(str(name)) if name and "/" not in str(name) else None
    except ConfigError:
        return None


async def drill_records(log: EventLog, drill_id: str) -> list[LogRecord]:
    """Every record from the drill's start on ([] when there is no such drill)."""
    started = next((r for r in await log.records(kinds=(DRILL_STARTED,))
                    if r.data.get("drill_id") == drill_id), None)
    return [] if started is None else await log.records(after_id=started.id - 1)


async def compute(log: EventLog, drill_id: str) -> DrillScore | None:
    """The drill's score as the log has it now (provisional while its incident is open)."""
    records = await drill_records(log, drill_id)
    if not records:
        return None
    return score_drill(records, drill_id, now=log.now(),
                       scenario=_scenario(records[0].data.get("scenario")))


async def record_score(log: EventLog, drill_id: str) -> DrillScore | None:
    """Score a drill whose incident is resolved and record ``drill.scored`` once: several
    terminals resolving at the same moment record it once (the log's dedupe key)."""
    score = await compute(log, drill_id)
    if score is None or not score.final:
        return None
    await log.append(DRILL_SCORED, {**to_json(score), "text": summary(score)},
                     actor=ACTOR, incident=score.incident,
                     dedupe=f"{DRILL_SCORED}:{drill_id}", fsync=True)
    return score


def summary(score: DrillScore) -> str:
    """One line: ``Drill database-failure scored 85/100: pass``."""
    return f"Drill {score.scenario} scored {score.points}/100: {score.verdict}"
