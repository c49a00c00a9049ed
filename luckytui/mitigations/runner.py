"""Running a confirmed plan with a two-phase record in the local log.

The intent is committed and fsynced before anything is sent; the outcome is
recorded after, whatever happened. An intent that never got an outcome (the
process was killed in between) is found by `unfinished()` and shown as
"outcome unknown".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from luckytui.mitigations.base import Action, ActionError, Outcome, Plan
from luckytui.store import EventLog, LogRecord
from luckytui.systems.errors import one_line

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

    async def run(self, action: Action, plan: Plan, argv: Sequence[str] | None = None
                  ) -> Outcome:
        """Record the intent, execute, record the outcome; never raises for the action's
        own failure (that is the outcome), only when the intent cannot be recorded.
        ``argv``: the arguments as given (``luckygas-backend 10``), kept on both records
        so a drill's score can tell which remedy ran."""
        if getattr(action, "mutating", True):
            self.check_allowed()
        incident = self.incident()
        undo_of = getattr(action, "undo_of", None)  # an Undo: what it undoes
        extra: dict[str, Any] = {"undo_of": dict(undo_of)} if undo_of else {}
        if argv is not None:
            extra["argv"] = [str(a) for a in argv]
        intent = await self.log.append(INTENT, {**plan_record(plan), **extra},
                                       actor=self.actor, incident=incident, fsync=True)
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
            **extra,
        }, actor=self.actor, incident=incident, fsync=True)
        return outcome


def unfinished(records: Sequence[LogRecord]) -> list[LogRecord]:
    """Intents with no outcome: the action's effect is unknown."""
    done = {r.data.get("intent") for r in records if r.kind == OUTCOME}
    return [r for r in records if r.kind == INTENT and r.id not in done]


def remedy_summary(action: object, target: object,
                   changes: Sequence[Mapping[str, Any]] = ()) -> str:
    """``scale luckygas-backend 3→10``: the action, the target's name, and its changes
    (``what before→after``; the replica count says no more than its numbers)."""
    name = str(target or "").rpartition("/")[2]
    moves = [f"{c.get('before')}→{c.get('after')}" if c.get("what") == "replicas"
             else f"{c.get('what')} {c.get('before')}→{c.get('after')}" for c in changes]
    return " ".join(p for p in (str(action or "?"), name, ", ".join(moves)) if p)


def undo_of(outcome: LogRecord, intent: LogRecord | None) -> dict[str, Any]:
    """What an undo records about the remedy it undoes: its outcome and intent ids and
    its summary (``scale luckygas-backend 3→10``)."""
    changes = (intent.data.get("changes") if intent is not None else None) or []
    return {"outcome": outcome.id, "intent": outcome.data.get("intent"),
            "action": outcome.data.get("action"), "target": outcome.data.get("target"),
            "summary": remedy_summary(outcome.data.get("action"), outcome.data.get("target"),
                                      changes)}


class Undo:
    """An action run as the undo of an earlier remedy: the same action, whose plan title
    and records name what it undoes (``undo of scale luckygas-backend 3→10: ...``)."""

    def __init__(self, action: Action, undone: Mapping[str, Any]) -> None:
        self.action = action
        self.undo_of = dict(undone)
        self.name = action.name
        self.summary = action.summary
        self.usage = action.usage
        self.mutating = getattr(action, "mutating", True)

    async def plan(self, *args: str) -> Plan:
        plan = await self.action.plan(*args)
        return replace(plan, title=f"undo of {self.undo_of.get('summary')}: {plan.title}")

    async def execute(self, plan: Plan) -> Outcome:
        return await self.action.execute(plan)


def undo_prefix(data: Mapping[str, Any]) -> str:
    """``undo of scale luckygas-backend 3→10: `` for an undo's record, else empty."""
    undone = data.get("undo_of")
    if not isinstance(undone, Mapping):
        return ""
    return f"undo of {undone.get('summary') or undone.get('action')}: "


def describe_intent(data: Mapping[str, Any]) -> str:
    changes = ", ".join(f"{c['what']} {c['before']} → {c['after']}"
                        for c in data.get("changes", []))
    title = str(data.get("title", data.get("action")))
    prefix = undo_prefix(data)
    title = title if title.startswith(prefix) else prefix + title
    return f"▶ {title}" + (f" ({changes})" if changes else "")


def describe_outcome(data: Mapping[str, Any]) -> str:
    mark = {"ok": "✓", "refused": "⊘", "failed": "✖"}.get(str(data.get("status")), "?")
    return (f"{mark} {undo_prefix(data)}{data.get('action')} {data.get('target')}: "
            f"{data.get('detail')}")
