"""The war room's flows, without a terminal: remedies and incident steps.

One place orchestrates an action, for the dashboard and for `luckytui act` alike:
read-only check → plan → confirm → intent recorded → run → outcome recorded
(the two records by `Mitigator`). A refusal (read-only, a bad argument, a target
that cannot be planned) is recorded too; a cancelled confirmation records and
sends nothing. Confirmation is a callback, so the war room passes a modal and
the shell passes its prompt (or `--yes`).

Incident steps (declare, acknowledge, severity, status, roles, note, the status
update and customer notice, resolve) go through `luckytui.incident.service`, each
refused with one line when there is no log or no active incident.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from luckytui.incident.model import Incident
from luckytui.incident.service import IncidentError, Incidents
from luckytui.mitigations.base import ActionError, Outcome, Plan
from luckytui.mitigations.runner import OUTCOME, Mitigator, Undo, undo_of
from luckytui.signals import EndpointChange, Signal, record_endpoint_changes
from luckytui.store import EventLog

REFUSED = "mitigation.refused"
NO_LOG = "The local log is not open yet; nothing can be recorded."
READ_ONLY = "luckytui runs read-only: no action changes production"
NOTHING_TO_UNDO = "Nothing to undo: no remedy with an undo has been applied."

Confirm = Callable[[Plan], Awaitable[bool]]


@dataclass(frozen=True)
class ActionResult:
    """What became of one action: ``ok``/``failed``/``refused`` (after the plan or by the
    run), ``cancelled`` (not confirmed: nothing recorded or sent), ``unavailable`` (no
    log, or no such action here: nothing recorded) or ``nothing`` (no remedy to undo)."""

    status: str
    detail: str
    action: str = ""
    plan: Plan | None = None
    outcome: Outcome | None = None
    error: ActionError | None = None  # why the plan was refused, when it was
    undoes: str | None = None  # an undo: the summary of the remedy it undoes

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def ran(self) -> bool:
        """Whether the action was run (its intent and outcome are on the log)."""
        return self.outcome is not None


@dataclass(frozen=True)
class StepResult:
    """One incident step: the incident after it, or why it was not taken."""

    incident: Incident | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.incident is not None


class Controller:
    """The incident and the remedies of one war room (or one `luckytui act`)."""

    def __init__(self, actor: str, *, actions: Mapping[str, Any] | None = None,
                 read_only: bool = False, log: EventLog | None = None) -> None:
        self.actor = actor
        self.actions: dict[str, Any] = dict(actions or {})
        self.read_only = read_only
        self.log: EventLog | None = None
        self.incidents: Incidents | None = None
        self.mitigator: Mitigator | None = None
        self.active: Incident | None = None
        self.problem: str | None = None  # why the log cannot be used, if so
        if log is not None:
            self.attach(log)

    # --- the log ------------------------------------------------------------------------

    def attach(self, log: EventLog) -> None:
        self.log, self.problem = log, None
        self.incidents = Incidents(log, self.actor)
        self.mitigator = Mitigator(log, self.actor, read_only=self.read_only,
                                   incident=lambda: self.incident_number)

    def detach(self, problem: str) -> None:
        """No usable log: every remedy and incident step is refused with ``problem``."""
        self.log = self.incidents = self.mitigator = None
        self.problem = problem

    @property
    def incident_number(self) -> str | None:
        return self.active.number if self.active is not None else None

    async def refresh(self) -> Incident | None:
        """The active incident, read again from the log."""
        if self.incidents is not None:
            self.active = await self.incidents.active()
        return self.active

    # --- signals ----------------------------------------------------------------------

    async def record_signals(self, signals: Sequence[Signal]) -> None:
        """Alerts that fired or resolved: on the log, under the active incident (once, even
        with several war rooms on the log: each signal has its dedupe key)."""
        if self.log is None:
            return
        for sig in signals:
            await self.log.append(sig.kind, sig.data, actor=self.actor,
                                  incident=self.incident_number, dedupe=sig.dedupe)

    async def record_endpoint_changes(self, changes: Sequence[EndpointChange]) -> int:
        """Endpoints that went down or came back: on the log, under the active incident."""
        if self.log is None:
            return 0
        return await record_endpoint_changes(self.log, changes, actor=self.actor,
                                             incident=self.incident_number)

    # --- remedies -----------------------------------------------------------------------

    async def act(self, action: str | Any, args: Sequence[str], confirm: Confirm
                  ) -> ActionResult:
        """Plan, confirm, run with its two records; every refusal recorded."""
        if self.log is None or self.mitigator is None:  # every remedy is recorded first
            return ActionResult("unavailable", self.problem or NO_LOG, str(action))
        if isinstance(action, str):
            name, action = action, self.actions.get(action)
            if action is None:
                return ActionResult("unavailable", f"{name}: not available here (configure "
                                    "[kubernetes] and [[databases]])", name)
        args = list(args)
        try:
            if self.read_only and getattr(action, "mutating", True):
                raise ActionError(READ_ONLY)
            plan = await action.plan(*args)
        except ActionError as exc:
            await self.log.append(REFUSED, {"action": action.name, "args": args,
                                            "reason": str(exc)},
                                  actor=self.actor, incident=self.incident_number)
            return ActionResult("refused", str(exc), action.name, error=exc,
                                undoes=_undoes(action))
        if not await confirm(plan):
            return ActionResult("cancelled", "nothing was changed", action.name, plan,
                                undoes=_undoes(action))
        outcome = await self.mitigator.run(action, plan, args)
        return ActionResult(outcome.status, outcome.detail, action.name, plan, outcome,
                            undoes=_undoes(action))

    async def last_undoable(self) -> tuple[Undo | str, list[str]] | None:
        """The undo of the newest successful remedy that has one: the `Undo` (or the
        name of its action when that is not available here) and its arguments."""
        if self.log is None:
            return None
        outcomes = await self.log.records(kinds=(OUTCOME,))
        last = next((r for r in reversed(outcomes)
                     if r.data.get("status") == "ok" and r.data.get("undo")), None)
        if last is None:
            return None
        undo = dict(last.data["undo"])
        intent_id = last.data.get("intent")
        intent = next(iter(await self.log.records(after_id=intent_id - 1, limit=1)),
                      None) if isinstance(intent_id, int) else None
        undone = undo_of(last, intent if intent is not None and intent.id == intent_id
                         else None)
        args = [str(a) for a in undo.get("args", [])]
        action = self.actions.get(str(undo["action"]))
        return (Undo(action, undone) if action is not None else str(undo["action"])), args

    async def undo(self, confirm: Confirm, announce: Callable[[str], None] = lambda _: None
                   ) -> ActionResult:
        """Undo the newest successful remedy that has an undo, confirmed like any other;
        its plan and records name what it undoes (``undo of scale … 3→10``), and
        ``announce`` is told that summary before it is planned."""
        if self.log is None:
            return ActionResult("unavailable", self.problem or NO_LOG, "undo")
        found = await self.last_undoable()
        if found is None:
            return ActionResult("nothing", NOTHING_TO_UNDO, "undo")
        undo, args = found
        if isinstance(undo, Undo):
            announce(str(undo.undo_of.get("summary")))
        return await self.act(undo, args, confirm)

    # --- incident steps -----------------------------------------------------------------

    def _service(self, what: str | None) -> tuple[Incidents | None, str | None]:
        if self.incidents is None:
            return None, self.problem or "The local log is not open yet; try again in a moment."
        if what is not None and self.active is None:
            return None, f"No active incident to {what} (n declares one)."
        return self.incidents, None

    def can(self, what: str | None = None) -> str | None:
        """Why a step cannot be taken now (no log; ``what`` needs an active incident and
        there is none), or None."""
        return self._service(what)[1]

    async def _step(self, what: str | None,
                    run: Callable[[Incidents, str | None], Awaitable[Incident]]) -> StepResult:
        service, problem = self._service(what)
        if service is None:
            return StepResult(None, problem)
        try:
            inc = await run(service, self.incident_number)
        except IncidentError as exc:
            return StepResult(None, str(exc))
        await self.refresh()
        return StepResult(inc)

    async def declare(self, title: str, severity: str, *, started_at: datetime | None = None,
                      detected_at: datetime | None = None, components: tuple[str, ...] = (),
                      drill: bool = False) -> StepResult:
        if self.active is not None:
            return StepResult(None, f"{self.active.number} is still active: resolve it first "
                              "(R), or change its severity (p).")
        return await self._step(None, lambda s, _: s.declare(
            title, severity, started_at=started_at, detected_at=detected_at,
            components=components, drill=drill))

    async def acknowledge(self) -> StepResult:
        return await self._step("acknowledge", lambda s, n: s.acknowledge(n))

    async def change_severity(self, severity: str) -> StepResult:
        return await self._step("change", lambda s, n: s.change_severity(severity, n))

    async def change_status(self, status: str) -> StepResult:
        return await self._step("change", lambda s, n: s.change_status(status, n))

    async def assign(self, changes: Mapping[str, str]) -> StepResult:
        async def assign_all(service: Incidents, number: str | None) -> Incident:
            latest = await service.get(number)
            for role, name in changes.items():
                latest = await service.assign(role, name, number)
            return latest

        return await self._step("staff", assign_all)

    async def note(self, text: str) -> StepResult:
        return await self._step("note", lambda s, n: s.note(text, n))

    async def record_sent(self, channel: str, text: str, *,
                          next_update: datetime | None = None) -> StepResult:
        return await self._step("update", lambda s, n: s.record_sent(
            channel, text, n, next_update=next_update))

    async def resolve(self, checklist: Mapping[str, bool],
                      still_wrong: str = "") -> StepResult:
        """The plan's checklist; what still failed (critical alerts, endpoints) is
        recorded with the resolution."""
        return await self._step("resolve", lambda s, n: s.resolve(
            checklist, n, still_wrong=still_wrong))


def _undoes(action: Any) -> str | None:
    undone = getattr(action, "undo_of", None)
    return str(undone.get("summary")) if isinstance(undone, Mapping) else None
