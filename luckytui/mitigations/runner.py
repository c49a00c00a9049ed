"""Running a confirmed plan with a two-phase record in the local log.

The intent is committed and fsynced before anything is sent; the outcome is
recorded after, whatever happened. An intent that never got an outcome (the
process was killed in between) is found by `unfinished()` and shown as
"outcome unknown".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from luckytui.mitigations.base import Action, ActionError, Outcome, Plan
from luckytui.sources.base import one_line
from luckytui.store import EventLog, LogRecord

INTENT = "mitigation.intent"
OUTCOME = "mitigation.outcome"


class ReadOnlyError(ActionError):
    """Refused because this luckytui runs read-only."""


def plan_record(plan: Plan) -> dict[str, Any]:
    return {
        "action": plan.action, "title": plan.title, "target": plan.target,
        "identity": dict(plan.identity), "args": dict(plan.args),
        "changes": [{"what": c.what, "before": c.before, "after": c.after}
                    for c in plan.changes],
        "command": plan.command, "dry_run": plan.dry_run,
        "undo": dict(plan.undo) if plan.undo else None, "touches": list(plan.touches),
    }


class Mitigator:
    def __init__(self, log: EventLog, actor: str, *, read_only: bool = False,
                 incident: Callable[[], str | None] = lambda: None) -> None:
        self.log = log
        self.actor = actor
        self.read_only = read_only
        self.incident = incident

    def check_allowed(self) -> None:
        if self.read_only:
            raise ReadOnlyError("luckytui runs read-only: no action changes production")

    async def run(self, action: Action, plan: Plan) -> Outcome:
        """Record the intent, execute, record the outcome; never raises for the action's
        own failure (that is the outcome), only when the intent cannot be recorded."""
        if getattr(action, "mutating", True):
            self.check_allowed()
        incident = self.incident()
        intent = await self.log.append(INTENT, plan_record(plan), actor=self.actor,
                                       incident=incident, fsync=True)
        assert intent is not None
        started = time.monotonic()
        try:
            outcome = await action.execute(plan)
        except ActionError as exc:
            outcome = Outcome("refused", one_line(exc))
        except Exception as exc:  # the outcome is recorded whatever went wrong
            outcome = Outcome("failed", one_line(exc))
        outcome = Outcome(outcome.status, outcome.detail,
                          round(time.monotonic() - started, 3), outcome.changed)
        await self.log.append(OUTCOME, {
            "intent": intent.id, "action": plan.action, "target": plan.target,
            "status": outcome.status, "detail": outcome.detail,
            "duration_s": outcome.duration_s, "changed": dict(outcome.changed),
            "command": plan.command, "undo": dict(plan.undo) if plan.undo else None,
        }, actor=self.actor, incident=incident, fsync=True)
        return outcome


def unfinished(records: Sequence[LogRecord]) -> list[LogRecord]:
    """Intents with no outcome: the action's effect is unknown."""
    done = {r.data.get("intent") for r in records if r.kind == OUTCOME}
    return [r for r in records if r.kind == INTENT and r.id not in done]


def describe_intent(data: Mapping[str, Any]) -> str:
    changes = ", ".join(f"{c['what']} {c['before']} → {c['after']}"
                        for c in data.get("changes", []))
    return f"▶ {data.get('title', data.get('action'))}" + (f" ({changes})" if changes else "")


def describe_outcome(data: Mapping[str, Any]) -> str:
    mark = {"ok": "✓", "refused": "⊘", "failed": "✖"}.get(str(data.get("status")), "?")
    return f"{mark} {data.get('action')} {data.get('target')}: {data.get('detail')}"
