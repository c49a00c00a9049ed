"""The war room's incident steps: declare, acknowledge, severity, status, roles,
notes, resolve. Each key opens a small form; each answer is one recorded event.

`IncidentRoom` is the part of the app that runs them; the composition root
(luckytui/app.py) inherits it and provides the log, the service and the data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App

from luckytui.incident import templates
from luckytui.incident.clocks import clock_text, open_clocks
from luckytui.incident.model import STATUSES, Incident, banner_text, latest_incident
from luckytui.incident.service import IncidentError, Incidents
from luckytui.incident.triage import Triage, triage
from luckytui.snapshots import AlertsSnapshot, EndpointsSnapshot
from screens.composer import ComposerScreen, clipboard_reachable, save_new
from screens.confirm import AskScreen
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


class IncidentRoom(App[int]):
    """Incident actions of the war room (keys on the dashboard, entries in the palette)."""

    # provided by the composition root
    incidents: Incidents | None
    active_incident: Incident | None
    clock: Callable[[], datetime]
    actor: str
    utc: bool

    async def _follow_log(self) -> None:
        raise NotImplementedError

    def _snapshots(self) -> tuple[EndpointsSnapshot | None, AlertsSnapshot | None]:
        raise NotImplementedError

    # --- shared -----------------------------------------------------------------

    def _incident_service(self) -> Incidents | None:
        if self.incidents is None:
            self.notify(getattr(self, "log_problem", None)
                        or "The local log is not open yet; try again in a moment.",
                        severity="warning")
        return self.incidents

    def _open_incident(self, what: str) -> tuple[Incidents, Incident] | None:
        service = self._incident_service()
        if service is None:
            return None
        if self.active_incident is None:
            self.notify(f"No active incident to {what} (n declares one).", timeout=4)
            return None
        return service, self.active_incident

    def _step(self, step: Any, done: Callable[[Incident], str]) -> None:
        """Run one recorded step in a worker; say what it did, or why it could not."""

        async def run() -> None:
            try:
                inc = await step
            except IncidentError as exc:
                self.notify(str(exc), severity="error", timeout=6)
                return
            message = done(inc)
            if message:
                self.notify(message, timeout=4)
            await self._follow_log()

        # an unexpected error fails the worker: reported in one line, the room goes on
        self.run_worker(run(), name="Incident step", group="incident", exit_on_error=False)

    def incident_banner(self, now: datetime) -> tuple[str | None, str | None,
                                                      list[tuple[str, str]]]:
        """Banner text, severity and the open clocks as (text, state) for the banner."""
        inc = self.active_incident
        if inc is None:
            return None, None, []
        return (banner_text(inc, now), inc.severity,
                [(clock_text(c, now), c.state) for c in open_clocks(inc, now)])

    def record_clocks_if_due(self, now: datetime) -> None:
        """A deadline passed or met that the log does not have yet: record it (once,
        even with several war rooms on the log)."""
        from luckytui.incident.clocks import results

        inc = self.active_incident
        if inc is None or self.incidents is None or not results(inc, now):
            return
        service = self.incidents

        async def record() -> None:
            for line in await service.record_clocks(now):
                if "missed" in line:
                    self.notify(line, severity="warning", timeout=8)
            await self._follow_log()

        self.run_worker(record(), group="clocks", exclusive=True, exit_on_error=False)

    # --- declare ------------------------------------------------------------------

    def current_triage(self) -> Triage:
        """The decision tree answered afresh from the latest snapshots, every time it is
        asked; detection from the log (the first alert fired or check failed, still in
        force since the last resolution), as `luckytui incident declare` takes it."""
        from luckytui.incident.detection import peek

        endpoints, alerts = self._snapshots()
        found = peek(self.incidents.log.path) if self.incidents is not None else None
        return triage(endpoints, alerts, detected_at=found.at if found else None)

    def action_declare(self) -> None:
        service = self._incident_service()
        if service is None:
            return
        if self.active_incident is not None:
            self.notify(f"{self.active_incident.number} is still active: resolve it first "
                        "(R), or change its severity (p).", severity="warning", timeout=6)
            return

        def declared(answer: Declaration | None) -> None:
            if answer is not None:
                self._step(service.declare(
                    answer.title, answer.severity, started_at=answer.started_at,
                    detected_at=answer.detected_at, components=answer.components,
                    drill=answer.drill),
                    lambda inc: f"Declared {inc.number} ({inc.severity}): {inc.title}")

        self.push_screen(DeclareScreen(self.current_triage(), now=self.clock(), utc=self.utc),
                         declared)

    def action_acknowledge(self) -> None:
        found = self._open_incident("acknowledge")
        if found is not None:
            service, inc = found
            self._step(service.acknowledge(inc.number), lambda i: f"Acknowledged {i.number}")

    # --- severity, status, roles, notes -----------------------------------------------

    def action_severity(self) -> None:
        found = self._open_incident("change")
        if found is None:
            return
        service, inc = found
        suggestion = self.current_triage()

        def chosen(severity: str | None) -> None:
            if severity:
                self._step(service.change_severity(severity, inc.number),
                           lambda i: f"{i.number} is now {i.severity}")

        self.push_screen(ChoiceScreen(
            f"Severity of {inc.number} (now {inc.severity})",
            [(s, SEVERITY_HELP[s]) for s in SEVERITY_HELP], inc.severity,
            hint=f"The decision tree suggests {suggestion.suggested}: {suggestion.reason}"),
            chosen)

    def action_status(self) -> None:
        found = self._open_incident("change")
        if found is None:
            return
        service, inc = found

        def chosen(status: str | None) -> None:
            if status:
                self._step(service.change_status(status, inc.number),
                           lambda i: f"{i.number} is now {i.status}")

        self.push_screen(ChoiceScreen(
            f"Status of {inc.number} (now {inc.status})",
            [(s, STATUS_HELP[s]) for s in STATUSES[:-1]], inc.status,
            hint="Resolved goes through the resolution checklist (R)."), chosen)

    def action_roles(self) -> None:
        found = self._open_incident("staff")
        if found is None:
            return
        service, inc = found

        def assigned(changes: dict[str, str] | None) -> None:
            if not changes:
                return

            async def assign_all() -> Incident:
                latest = inc
                for role, name in changes.items():
                    latest = await service.assign(role, name, inc.number)
                return latest

            self._step(assign_all(), lambda i: "Roles: " + ", ".join(
                f"{r} {n}" for r, n in i.roles.items()) if i.roles else "Roles freed")

        self.push_screen(RolesScreen(inc.number, inc.roles, self.actor), assigned)

    def action_note(self) -> None:
        found = self._open_incident("note")
        if found is None:
            return
        service, inc = found
        self.ask_note(service, inc)

    def ask_note(self, service: Incidents, inc: Incident) -> None:
        def noted(text: str | None) -> None:
            if text and text.strip():
                self._step(service.note(text, inc.number), lambda i: "")

        self.push_screen(AskScreen(f"Note on {inc.number}'s timeline", "",
                                   placeholder="what was seen, decided or tried"), noted)

    # --- communication ------------------------------------------------------------

    def action_status_update(self) -> None:
        """The plan's 🚨 INCIDENT UPDATE, filled in, edited, copied and recorded."""
        found = self._open_incident("update")
        if found is not None:
            self.run_worker(self._compose("status", *found), group="incident",
                            exclusive=True, exit_on_error=False)

    def action_customer_notice(self) -> None:
        """The plan's customer notification (P1 only), in its Chinese template."""
        found = self._open_incident("notify customers about")
        if found is None:
            return
        if not templates.notice_allowed(found[1]):
            self.notify(f"The plan sends the customer notice for P1 only; "
                        f"{found[1].number} is {found[1].severity}.", timeout=6)
            return
        self.run_worker(self._compose("customer", *found), group="incident", exclusive=True,
                        exit_on_error=False)

    async def _compose(self, channel: str, service: Incidents, inc: Incident) -> None:
        now = self.clock()
        tz = UTC if self.utc else None
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
            settings = getattr(self, "settings", None)
            names = settings.customer_names if settings is not None else {}
            text = templates.customer_notice(impact=templates.customer_impact(
                [*tri.components, *inc.components], names,
                slow=tri.said_yes("performance") is not None), eta="")
            screen = ComposerScreen.customer_notice(inc, text)
        final = await self.push_screen_wait(screen)
        if not final:
            self.notify("Not sent: nothing was recorded.", timeout=3)
            return
        not_copied = await clipboard_reachable()
        self.copy_to_clipboard(final)  # OSC 52: reaches the laptop's clipboard over SSH
        try:  # recorded as sent either way: the record is about sending
            await service.record_sent(channel, final, inc.number, next_update=next_update)
        except IncidentError as exc:
            self.notify(str(exc), severity="error", timeout=6)
            return
        what = "Status update" if channel == "status" else "Customer notice"
        await self._follow_log()
        if not_copied is None:
            self.notify(f"{what} copied to the clipboard and recorded as sent. Paste it "
                        "where it goes.", timeout=6)
            return
        stem = f"{inc.number}-{'status-update' if channel == 'status' else 'customer-notice'}"
        save = await self.push_screen_wait(ChoiceScreen(
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

    def timeline_items(self) -> tuple[list[Any], str]:
        raise NotImplementedError

    def action_timeline(self) -> None:
        if isinstance(self.screen, TimelineScreen):
            self.screen.dismiss()
            return
        items, title = self.timeline_items()

        def note(text: str) -> None:
            found = self._open_incident("note")
            if found is not None:
                self._step(found[0].note(text, found[1].number), lambda i: "")

        self.push_screen(TimelineScreen(items, title, utc=self.utc, on_note=note,
                                        on_export=self.action_postmortem))

    def show_timeline_screen(self) -> None:
        """Called after each log follow: the open full-screen timeline gets the new rows."""
        if isinstance(self.screen, TimelineScreen) and self.screen.live:
            self.screen.set_items(*self.timeline_items())

    def action_postmortem(self) -> None:
        """The plan's post-mortem of the active (or last) incident, written to a file in
        the current directory (never over an existing one)."""
        service = self._incident_service()
        if service is not None:
            self.run_worker(self._postmortem(service), group="incident", exit_on_error=False)

    async def _postmortem(self, service: Incidents, number: str | None = None) -> None:
        from pathlib import Path

        from luckytui.incident.postmortem import free_path, incident_records, render

        incidents = await service.all()
        inc = incidents.get(number) if number else (self.active_incident
                                                    or latest_incident(incidents))
        if inc is None:
            self.notify("No incident in the log yet: nothing to write up.", timeout=4)
            return
        text = render(inc, await incident_records(service.log, inc),
                      tz=UTC if self.utc else None, author=None)
        path = free_path(Path.cwd(), inc.number)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"Post-mortem not written: {path}: {exc.strerror or exc}",
                        severity="error", timeout=8)
            return
        self.notify(f"Post-mortem of {inc.number} written to {path}", timeout=8)

    # --- resolve ------------------------------------------------------------------

    def action_resolve(self) -> None:
        """The plan's checklist; first, while critical alerts still fire or endpoints
        still fail, a question that names them (No by default)."""
        found = self._open_incident("resolve")
        if found is None:
            return
        service, inc = found

        still = still_wrong(*self._snapshots())

        def answered(checklist: dict[str, bool] | None) -> None:
            if checklist is not None:
                self._step(service.resolve(checklist, inc.number, still_wrong=still),
                           lambda i: f"Resolved {i.number}")

        def checklist() -> None:
            self.push_screen(ResolveScreen(inc.number, inc.title), answered)

        if not still:
            checklist()
            return

        def anyway(yes: bool | None) -> None:
            if yes:
                checklist()
            else:
                self.notify(f"{inc.number} stays open.", timeout=3)

        self.push_screen(ResolveAnywayScreen(inc.number, still), anyway)

    # --- every incident, resolved ones too ----------------------------------------

    def _timeline_item(self, record: Any) -> Any:
        raise NotImplementedError

    def action_incidents(self) -> None:
        """The incident list: each incident's timeline and post-mortem, resolved or not."""
        if isinstance(self.screen, IncidentListScreen):
            self.screen.dismiss()
            return
        service = self._incident_service()
        if service is not None:
            self.run_worker(self._open_incidents(service), name="Incident list",
                            group="incident", exclusive=True, exit_on_error=False)

    async def _open_incidents(self, service: Incidents) -> None:
        incidents = await service.all()

        def open_timeline(number: str) -> None:
            self.run_worker(self._open_incident_timeline(service, number),
                            name=f"Timeline of {number}", group="incident",
                            exit_on_error=False)

        self.push_screen(IncidentListScreen(
            list(incidents.values()), utc=self.utc, on_open=open_timeline,
            on_postmortem=lambda number: self._postmortem_of(service, number)))

    def _postmortem_of(self, service: Incidents, number: str) -> None:
        self.run_worker(self._postmortem(service, number), name="Post-mortem",
                        group="incident", exit_on_error=False)

    async def _open_incident_timeline(self, service: Incidents, number: str) -> None:
        """One incident's records from the log (with the alerts that led to it), read-only."""
        from luckytui.incident.postmortem import incident_records

        inc = await service.get(number)
        items = [self._timeline_item(r) for r in await incident_records(service.log, inc)]
        self.push_screen(TimelineScreen(
            items, incident_title(inc), utc=self.utc, live=False,
            on_export=lambda: self._postmortem_of(service, number)))

