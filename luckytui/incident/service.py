"""Recording incident events: the one place that writes them, for the UI and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from luckytui.drills.recording import record_score, running_drill
from luckytui.events import (
    ACKNOWLEDGED,
    CLOCK,
    DECLARED,
    NOTE,
    NOTICE_SENT,
    RESOLVED,
    ROLE,
    SEVERITY,
    STATUS,
    UPDATE_SENT,
)
from luckytui.incident import clocks as clock_rules
from luckytui.incident.detection import detect
from luckytui.incident.model import (
    INCIDENT_KINDS,
    RESOLUTION_CHECKLIST,
    ROLES,
    SEVERITIES,
    STATUSES,
    Incident,
    active_incident,
    fold,
    next_number,
)
from luckytui.store import EventLog


class IncidentError(Exception):
    """An incident step that cannot be taken; one line for the operator."""


class Incidents:
    def __init__(self, log: EventLog, actor: str) -> None:
        self.log = log
        self.actor = actor

    async def all(self) -> dict[str, Incident]:
        return fold(await self.log.records(kinds=INCIDENT_KINDS))

    async def active(self) -> Incident | None:
        return active_incident(await self.all())

    async def declare(self, title: str, severity: str, *, started_at: datetime | None = None,
                      detected_at: datetime | None = None,
                      components: tuple[str, ...] = (), drill: bool = False) -> Incident:
        """Record the declaration. Without `detected_at`, detection is what the log says
        (see luckytui.incident.detection: the first alert that fired or endpoint check
        that failed, still in force, since the previous incident was resolved), else now.
        A detection before a given impact start is not taken: the impact start wins.
        Declared while a drill runs (luckytui.drills), whoever declares it, it is that
        drill's incident: recorded as a drill, with the drill's id."""
        title = " ".join(title.split())
        if not title:
            raise IncidentError("an incident needs a title")
        if severity not in SEVERITIES:
            raise IncidentError(f"severity must be one of {', '.join(SEVERITIES)}, "
                                f"not {severity!r}")
        now = self.log.now()
        if started_at is not None and started_at > now:
            raise IncidentError("the impact cannot start in the future")
        if detected_at is not None and detected_at > now:
            raise IncidentError("the problem cannot be detected in the future")
        if detected_at is None:  # the first alert fired or endpoint check failed
            found = await detect(self.log)
            if found is not None and found.at <= now and (started_at is None
                                                          or found.at >= started_at):
                detected_at = found.at
        started = started_at or now
        detected = detected_at or now
        if detected < started:
            if started_at is not None and detected_at is not None:
                raise IncidentError("the problem cannot be detected before the impact started")
            started = min(started, detected)  # only one was given: the other follows it
        drill_id = await running_drill(self.log)
        data: dict[str, object] = {
            "title": title, "severity": severity, "components": list(components),
            "drill": drill or drill_id is not None,
            "started_at": started.astimezone(UTC).isoformat(),
            "detected_at": detected.astimezone(UTC).isoformat()}
        if drill_id is not None:
            data["drill_id"] = drill_id
        for _ in range(50):  # another process may take the same number: take the next
            number = next_number(await self.all(), now.astimezone(UTC).date())
            record = await self.log.append(DECLARED, data, actor=self.actor, incident=number,
                                           dedupe=f"{DECLARED}:{number}", fsync=True)
            if record is not None:
                return (await self.all())[number]
        raise IncidentError("could not allocate an incident number")

    async def get(self, number: str | None) -> Incident:
        """One incident by number, or the active one when number is None."""
        incidents = await self.all()
        if number is None:
            found = active_incident(incidents)
            if found is None:
                raise IncidentError("no active incident")
            return found
        if number not in incidents:
            raise IncidentError(f"no incident {number}")
        return incidents[number]

    async def acknowledge(self, number: str | None = None) -> Incident:
        inc = await self.get(number)
        if inc.acknowledged_at is None:
            await self.log.append(ACKNOWLEDGED, {}, actor=self.actor, incident=inc.number,
                                  dedupe=f"{ACKNOWLEDGED}:{inc.number}")
            await self.record_clocks()  # the response SLA: met or missed, now known
        return (await self.all())[inc.number]

    async def change_severity(self, severity: str, number: str | None = None) -> Incident:
        inc = await self._open(number)
        if severity not in SEVERITIES:
            raise IncidentError(f"severity must be one of {', '.join(SEVERITIES)}, "
                                f"not {severity!r}")
        if severity != inc.severity:
            await self.log.append(SEVERITY, {"old": inc.severity, "new": severity},
                                  actor=self.actor, incident=inc.number)
        return (await self.all())[inc.number]

    async def change_status(self, status: str, number: str | None = None) -> Incident:
        """Investigating, Identified, Monitoring; Resolved goes through resolve()."""
        inc = await self._open(number)
        choices = STATUSES[:-1]
        match = next((s for s in choices if s.lower() == status.lower()), None)
        if match is None:
            raise IncidentError(f"status must be one of {', '.join(choices)} "
                                "(resolve with its checklist to close)")
        if match != inc.status:
            await self.log.append(STATUS, {"old": inc.status, "new": match},
                                  actor=self.actor, incident=inc.number)
        return (await self.all())[inc.number]

    async def assign(self, role: str, name: str, number: str | None = None) -> Incident:
        """Give a role (IC, TL, COM, SCR) to someone; an empty name frees it."""
        inc = await self._open(number)
        role = role.upper()
        if role not in ROLES:
            raise IncidentError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        name = " ".join(name.split())
        previous = inc.roles.get(role)
        if name != (previous or ""):
            await self.log.append(ROLE, {"role": role, "name": name or None,
                                         "previous": previous},
                                  actor=self.actor, incident=inc.number)
        return (await self.all())[inc.number]

    async def note(self, text: str, number: str | None = None) -> Incident:
        inc = await self.get(number)
        text = text.strip()
        if not text:
            raise IncidentError("a note needs text")
        await self.log.append(NOTE, {"text": text}, actor=self.actor, incident=inc.number)
        return inc

    async def _open(self, number: str | None) -> Incident:
        inc = await self.get(number)
        if not inc.active:
            raise IncidentError(f"{inc.number} is resolved")
        return inc

    async def resolve(self, checklist: Mapping[str, bool],
                      number: str | None = None, *, still_wrong: str = "") -> Incident:
        """Resolve with the plan's checklist: every item ticked or explicitly skipped.
        ``still_wrong``: what production still said was wrong when the resolver chose to
        resolve anyway (kept on the record and in the post-mortem)."""
        inc = await self.get(number)
        if not inc.active:
            raise IncidentError(f"{inc.number} is already resolved")
        missing = [item for item in RESOLUTION_CHECKLIST if item not in checklist]
        if missing:
            raise IncidentError(f"checklist item not answered: {missing[0]}")
        answers = {item: "ticked" if checklist[item] else "skipped"
                   for item in RESOLUTION_CHECKLIST}
        data: dict[str, object] = {"checklist": answers}
        if still_wrong:
            data["resolved_anyway"] = still_wrong
        await self.log.append(RESOLVED, data, actor=self.actor,
                              incident=inc.number, dedupe=f"{RESOLVED}:{inc.number}",
                              fsync=True)
        await self.record_clocks()
        if inc.drill_id is not None:  # the drill is over: its score, recorded once
            await record_score(self.log, inc.drill_id)
        return (await self.all())[inc.number]

    async def record_sent(self, channel: str, text: str, number: str | None = None,
                          *, next_update: datetime | None = None) -> Incident:
        """A status update ("status") or the P1 customer notice ("customer") was sent;
        the text as sent is kept, so the timeline and the post-mortem can quote it."""
        inc = await self.get(number)
        if channel not in ("status", "customer"):
            raise IncidentError(f"channel must be status or customer, not {channel!r}")
        if not text.strip():
            raise IncidentError("nothing to send: the text is empty")
        data: dict[str, object] = {"text": text}
        if next_update is not None:
            data["next_update"] = next_update.astimezone(UTC).isoformat()
        await self.log.append(UPDATE_SENT if channel == "status" else NOTICE_SENT, data,
                              actor=self.actor, incident=inc.number, fsync=True)
        await self.record_clocks()
        return (await self.all())[inc.number]

    async def record_clocks(self, now: datetime | None = None) -> list[str]:
        """Record every clock result (met or missed) not yet in the log, for every
        incident; safe from several processes at once (one record per deadline: the
        response SLA once per incident, whatever severity changes came after)."""
        now = now or self.log.now()
        lines = []
        for inc in (await self.all()).values():
            for clock, result in clock_rules.results(inc, now):
                record = await self.log.append(
                    CLOCK, {"clock": clock.name, "label": clock.label,
                            "due": clock.due.isoformat(), "result": result,
                            "severity": clock.severity or inc.severity},
                    actor=self.actor, incident=inc.number,
                    dedupe=f"{CLOCK}:{inc.number}:{clock.key}")
                if record is not None:
                    lines.append(f"{inc.number}: {clock.label} {result}")
        return lines
