"""The war room's incident steps: declare, acknowledge, severity, status, roles,
notes, the status update and customer notice, resolve, the timeline and the
post-mortem. Each key opens a small form; each answer is one step of the
controller (luckytui/controller.py), recorded in the log.

`IncidentFlow` holds the forms; the dashboard binds the keys and calls it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from textual.app import App

from luckytui.controller import Controller, StepResult
from luckytui.drills.score import from_json
from luckytui.events import DRILL_SCORED
from luckytui.incident import templates
from luckytui.incident.clocks import clock_text, open_clocks
from luckytui.incident.model import STATUSES, Incident, banner_text, latest_incident
from luckytui.incident.service import Incidents
from luckytui.incident.triage import Triage, triage
from luckytui.snapshots import AlertsSnapshot, EndpointsSnapshot
from screens.composer import ComposerScreen, clipboard_reachable, save_new
from screens.confirm import AskScreen
from screens.drill_score import DrillScoreScreen
from screens.incident import SEVERITY_HELP, Declaration, DeclareScreen, ResolveScreen
from screens.incidents import (
    IncidentListScreen,
    ResolveAnywayScreen,
    incident_title,
    still_wrong,
)
from screens.steps import ChoiceScreen, RolesScreen
from screens.timeline import TimelineScreen

STATUS_HELP = {
    "Investigating": "looking for the cause",
    "Identified": "the cause is known (root cause identified)",
    "Monitoring": "a fix is in; watching that it holds (mitigated)",
}


class Room(Protocol):
    """What the incident steps read from the war room."""

    controller: Controller
    clock: Callable[[], datetime]
    utc: bool
    drill_running: str | None  # the title of the drill running on the log, if any

    @property
    def customer_names(self) -> Mapping[str, str]: ...

    async def follow_log(self) -> None: ...

    def snapshots(self) -> tuple[EndpointsSnapshot | None, AlertsSnapshot | None]: ...

    def timeline_items(self) -> tuple[list[Any], str]: ...

    def timeline_item(self, record: Any) -> Any: ...


class IncidentFlow:
    """The forms of the incident steps, on the war room's app, over its controller."""

    def __init__(self, app: App[Any], room: Room) -> None:
        self.app = app
        self.room = room
        # the newest record the war room had when it started: drill scores recorded
        # before are not shown again
        self.scores_after = 0

    @property
    def controller(self) -> Controller:
        return self.room.controller

    @property
    def active(self) -> Incident | None:
        return self.room.controller.active

    def notify(self, message: str, **kwargs: Any) -> None:
        self.app.notify(message, **kwargs)

    # --- shared -----------------------------------------------------------------

    def _ready(self, what: str | None) -> Incident | bool | None:
        """The active incident (``what`` needs one), True when none is needed and the log
        is there; False, said in one line, when the step cannot be taken."""
        problem = self.controller.can(what)
        if problem is not None:
            self.notify(problem, severity="warning" if self.controller.incidents is None
                        else "information", timeout=None if self.controller.incidents is None
                        else 4)
            return False
        return self.active if what is not None else True

    def _step(self, step: Awaitable[StepResult], done: Callable[[Incident], str]) -> None:
        """Run one recorded step in a worker; say what it did, or why it could not."""

        async def run() -> None:
            result = await step
            if result.incident is None:
                self.notify(result.problem or "not done", severity="error", timeout=6)
                return
            message = done(result.incident)
            if message:
                self.notify(message, timeout=4)
            await self.room.follow_log()

        # an unexpected error fails the worker: reported in one line, the room goes on
        self.app.run_worker(run(), name="Incident step", group="incident",
                            exit_on_error=False)

    def banner(self, now: datetime, incident: Incident | None = None
               ) -> tuple[str | None, str | None, list[tuple[str, str]]]:
        """Banner text, severity and the open clocks as (text, state) for the banner: of
        the active incident, or of ``incident`` (as a replay saw it)."""
        inc = incident or self.active
        if inc is None:
            return None, None, []
        return (banner_text(inc, now), inc.severity,
                [(clock_text(c, now), c.state) for c in open_clocks(inc, now)])

    def record_clocks_if_due(self, now: datetime) -> None:
        """A deadline passed or met that the log does not have yet: record it (once,
        even with several war rooms on the log)."""
        from luckytui.incident.clocks import results

        inc = self.active
        service = self.controller.incidents
        if inc is None or service is None or not results(inc, now):
            return

        async def record() -> None:
            for line in await service.record_clocks(now):
                if "missed" in line:
                    self.notify(line, severity="warning", timeout=8)
            await self.room.follow_log()

        self.app.run_worker(record(), group="clocks", exclusive=True, exit_on_error=False)

    # --- declare ------------------------------------------------------------------

    def current_triage(self) -> Triage:
        """The decision tree answered afresh from the latest snapshots, every time it is
        asked; detection from the log (the first alert fired or check failed, still in
        force since the last resolution), as `luckytui incident declare` takes it."""
        from luckytui.incident.detection import peek

        endpoints, alerts = self.room.snapshots()
        service = self.controller.incidents
        found = peek(service.log.path) if service is not None else None
        return triage(endpoints, alerts, detected_at=found.at if found else None)

    def declare(self) -> None:
        if self._ready(None) is False:
            return
        if self.active is not None:
            self.notify(f"{self.active.number} is still active: resolve it first "
                        "(R), or change its severity (p).", severity="warning", timeout=6)
            return

        def declared(answer: Declaration | None) -> None:
            if answer is not None:
                self._step(self.controller.declare(
                    answer.title, answer.severity, started_at=answer.started_at,
                    detected_at=answer.detected_at, components=answer.components,
                    drill=answer.drill),
                    lambda inc: f"Declared {inc.number} ({inc.severity})"
                    + (" as a drill" if inc.drill else "") + f": {inc.title}")

        self.app.push_screen(DeclareScreen(self.current_triage(), now=self.room.clock(),
                                           utc=self.room.utc, drill=self.room.drill_running),
                             declared)

    def acknowledge(self) -> None:
        if isinstance(self._ready("acknowledge"), Incident):
            self._step(self.controller.acknowledge(), lambda i: f"Acknowledged {i.number}")

    # --- severity, status, roles, notes -----------------------------------------------

    def severity(self) -> None:
        inc = self._ready("change")
        if not isinstance(inc, Incident):
            return
        suggestion = self.current_triage()

        def chosen(severity: str | None) -> None:
            if severity:
                self._step(self.controller.change_severity(severity),
                           lambda i: f"{i.number} is now {i.severity}")

        self.app.push_screen(ChoiceScreen(
            f"Severity of {inc.number} (now {inc.severity})",
            [(s, SEVERITY_HELP[s]) for s in SEVERITY_HELP], inc.severity,
            hint=f"The decision tree suggests {suggestion.suggested}: {suggestion.reason}"),
            chosen)

    def status(self) -> None:
        inc = self._ready("change")
        if not isinstance(inc, Incident):
            return

        def chosen(status: str | None) -> None:
            if status:
                self._step(self.controller.change_status(status),
                           lambda i: f"{i.number} is now {i.status}")

        self.app.push_screen(ChoiceScreen(
            f"Status of {inc.number} (now {inc.status})",
            [(s, STATUS_HELP[s]) for s in STATUSES[:-1]], inc.status,
            hint="Resolved goes through the resolution checklist (R)."), chosen)

    def roles(self) -> None:
        inc = self._ready("staff")
        if not isinstance(inc, Incident):
            return

        def assigned(changes: dict[str, str] | None) -> None:
            if changes:
                self._step(self.controller.assign(changes), lambda i: "Roles: " + ", ".join(
                    f"{r} {n}" for r, n in i.roles.items()) if i.roles else "Roles freed")

        self.app.push_screen(RolesScreen(inc.number, inc.roles, self.controller.actor),
                             assigned)

    def note(self, text: str | None = None) -> None:
        """A note on the active incident's timeline: ``text``, or asked for."""
        inc = self._ready("note")
        if not isinstance(inc, Incident):
            return
        if text is not None:
            self._step(self.controller.note(text), lambda i: "")
            return

        def noted(answer: str | None) -> None:
            if answer and answer.strip():
                self._step(self.controller.note(answer), lambda i: "")

        self.app.push_screen(AskScreen(f"Note on {inc.number}'s timeline", "",
                                       placeholder="what was seen, decided or tried"), noted)

    # --- communication ------------------------------------------------------------

    def status_update(self) -> None:
        """The plan's 🚨 INCIDENT UPDATE, filled in, edited, copied and recorded."""
        inc = self._ready("update")
        if isinstance(inc, Incident) and self.controller.incidents is not None:
            self.app.run_worker(self._compose("status", self.controller.incidents, inc),
                                group="incident", exclusive=True, exit_on_error=False)

    def customer_notice(self) -> None:
        """The plan's customer notification (P1 only), in its Chinese template."""
        inc = self._ready("notify customers about")
        if not isinstance(inc, Incident) or self.controller.incidents is None:
            return
        if not templates.notice_allowed(inc):
            self.notify(f"The plan sends the customer notice for P1 only; "
                        f"{inc.number} is {inc.severity}.", timeout=6)
            return
        self.app.run_worker(self._compose("customer", self.controller.incidents, inc),
                            group="incident", exclusive=True, exit_on_error=False)

    async def _compose(self, channel: str, service: Incidents, inc: Incident) -> None:
        now = self.room.clock()
        tz = UTC if self.room.utc else None
        next_update = None
        tri = self.current_triage()  # the state now, not at the declaration
        if channel == "status":
            records = await service.log.records(incident=inc.number)
            next_update = templates.default_next_update(inc, now)
            text = templates.status_update(
                inc, impact=templates.impact(tri),
                action=templates.current_action(records), next_update=next_update, tz=tz)
            screen = ComposerScreen.status_update(inc, text)
        else:
            text = templates.customer_notice(impact=templates.customer_impact(
                [*tri.components, *inc.components], self.room.customer_names,
                slow=tri.said_yes("performance") is not None), eta="")
            screen = ComposerScreen.customer_notice(inc, text)
        final = await self.app.push_screen_wait(screen)
        if not final:
            self.notify("Not sent: nothing was recorded.", timeout=3)
            return
        not_copied = await clipboard_reachable()
        self.app.copy_to_clipboard(final)  # OSC 52: reaches the laptop's clipboard over SSH
        # recorded as sent either way: the record is about sending
        sent = await self.controller.record_sent(channel, final, next_update=next_update)
        if sent.problem is not None:
            self.notify(sent.problem, severity="error", timeout=6)
            return
        what = "Status update" if channel == "status" else "Customer notice"
        await self.room.follow_log()
        if not_copied is None:
            self.notify(f"{what} copied to the clipboard and recorded as sent. Paste it "
                        "where it goes.", timeout=6)
            return
        stem = f"{inc.number}-{'status-update' if channel == 'status' else 'customer-notice'}"
        save = await self.app.push_screen_wait(ChoiceScreen(
            f"{what} recorded as sent, but NOT copied to your clipboard: {not_copied}.",
            [("save", f"write it to {stem}.txt in {Path.cwd()} (readable by you only)"),
             ("leave", "do not save it")], "",
            hint="Nothing is written over an existing file."))
        if save != "save":
            self.notify(f"{what} not copied and not saved (it is on the timeline).",
                        timeout=6)
            return
        try:
            path = save_new(Path.cwd(), stem, final)
        except OSError as exc:
            self.notify(f"{what} not saved: {exc.strerror or exc}", severity="error",
                        timeout=8)
            return
        self.notify(f"{what} saved to {path}: paste it from there.", timeout=8)

    # --- the full-screen timeline and the post-mortem ------------------------------

    def timeline(self) -> None:
        if isinstance(self.app.screen, TimelineScreen):
            self.app.screen.dismiss()
            return
        items, title = self.room.timeline_items()
        self.app.push_screen(TimelineScreen(items, title, utc=self.room.utc, on_note=self.note,
                                            on_export=self.postmortem))

    def show_timeline_screen(self) -> None:
        """Called after each log follow: the open full-screen timeline gets the new rows."""
        screen = self.app.screen
        if isinstance(screen, TimelineScreen) and screen.live:
            screen.set_items(*self.room.timeline_items())

    def postmortem(self) -> None:
        """The plan's post-mortem of the active (or last) incident, written to a file in
        the current directory (never over an existing one)."""
        if self._ready(None) is not False and self.controller.incidents is not None:
            self.app.run_worker(self._postmortem(self.controller.incidents),
                                group="incident", exit_on_error=False)

    async def _postmortem(self, service: Incidents, number: str | None = None) -> None:
        from luckytui.incident.postmortem import free_path, incident_records, render

        incidents = await service.all()
        inc = incidents.get(number) if number else (self.active
                                                    or latest_incident(incidents))
        if inc is None:
            self.notify("No incident in the log yet: nothing to write up.", timeout=4)
            return
        text = render(inc, await incident_records(service.log, inc),
                      tz=UTC if self.room.utc else None, author=None)
        path = free_path(Path.cwd(), inc.number)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"Post-mortem not written: {path}: {exc.strerror or exc}",
                        severity="error", timeout=8)
            return
        self.notify(f"Post-mortem of {inc.number} written to {path}", timeout=8)

    # --- resolve ------------------------------------------------------------------

    def resolve(self) -> None:
        """The plan's checklist; first, while critical alerts still fire or endpoints
        still fail, a question that names them (No by default)."""
        inc = self._ready("resolve")
        if not isinstance(inc, Incident):
            return
        still = still_wrong(*self.room.snapshots())

        def answered(checklist: dict[str, bool] | None) -> None:
            if checklist is not None:
                self._step(self.controller.resolve(checklist, still_wrong=still),
                           lambda i: f"Resolved {i.number}")

        def checklist() -> None:
            self.app.push_screen(ResolveScreen(inc.number, inc.title), answered)

        if not still:
            checklist()
            return

        def anyway(yes: bool | None) -> None:
            if yes:
                checklist()
            else:
                self.notify(f"{inc.number} stays open.", timeout=3)

        self.app.push_screen(ResolveAnywayScreen(inc.number, still), anyway)

    # --- drills -------------------------------------------------------------------

    def show_drill_scores(self, records: Sequence[Any]) -> None:
        """A drill scored (its incident resolved, here or in another terminal): its score,
        in a modal, once."""
        for r in records:
            if r.kind != DRILL_SCORED or r.id <= self.scores_after:
                continue
            self.scores_after = r.id
            try:
                score = from_json(r.data)
            except ValueError as exc:
                self.notify(f"A drill was scored, but its record cannot be read: {exc}",
                            severity="warning", timeout=8)
                continue
            self.app.push_screen(DrillScoreScreen(score, tz=UTC if self.room.utc else None))

    # --- every incident, resolved ones too ----------------------------------------

    def incidents(self) -> None:
        """The incident list: each incident's timeline and post-mortem, resolved or not."""
        if isinstance(self.app.screen, IncidentListScreen):
            self.app.screen.dismiss()
            return
        if self._ready(None) is not False and self.controller.incidents is not None:
            self.app.run_worker(self._open_incidents(self.controller.incidents),
                                name="Incident list", group="incident", exclusive=True,
                                exit_on_error=False)

    async def _open_incidents(self, service: Incidents) -> None:
        incidents = await service.all()

        def open_timeline(number: str) -> None:
            self.app.run_worker(self._open_incident_timeline(service, number),
                                name=f"Timeline of {number}", group="incident",
                                exit_on_error=False)

        self.app.push_screen(IncidentListScreen(
            list(incidents.values()), utc=self.room.utc, on_open=open_timeline,
            on_postmortem=lambda number: self._postmortem_of(service, number)))

    def _postmortem_of(self, service: Incidents, number: str) -> None:
        self.app.run_worker(self._postmortem(service, number), name="Post-mortem",
                            group="incident", exit_on_error=False)

    async def _open_incident_timeline(self, service: Incidents, number: str) -> None:
        """One incident's records from the log (with the alerts that led to it), read-only."""
        from luckytui.incident.postmortem import incident_records

        inc = await service.get(number)
        items = [self.room.timeline_item(r) for r in await incident_records(service.log, inc)]
        self.app.push_screen(TimelineScreen(
            items, incident_title(inc), utc=self.room.utc, live=False,
            on_export=lambda: self._postmortem_of(service, number)))
