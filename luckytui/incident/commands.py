"""`luckytui incident ...`: every incident step from the shell, on the same log."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from luckytui.config import ConfigError
from luckytui.incident.clocks import clock_text, open_clocks
from luckytui.incident.model import RESOLUTION_CHECKLIST, SEVERITIES, Incident, banner_text
from luckytui.incident.service import IncidentError, Incidents
from luckytui.text import say_error
from luckytui.timeparse import parse_iso

MAX_PAST = timedelta(days=366)  # --started-at / --detected-at: a year back at most


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    inc = sub.add_parser("incident", help="declare, acknowledge, resolve and list incidents")
    steps = inc.add_subparsers(dest="incident_command", metavar="STEP", required=True,
                               parser_class=parser_class)
    declare = steps.add_parser("declare", help="declare an incident; prints its number")
    declare.add_argument("--title", required=True)
    declare.add_argument("--severity", required=True, choices=SEVERITIES)
    declare.add_argument("--started-at", metavar="ISO8601",
                         help="when the impact started, if before now")
    declare.add_argument("--detected-at", metavar="ISO8601",
                         help="when the problem was first seen (an alert, a report), if "
                         "before now; MTTA and MTTR run from here")
    declare.add_argument("--component", action="append", default=[], metavar="NAME",
                         help="an affected component (repeatable)")
    declare.add_argument("--drill", action="store_true", help="a drill, not production")
    lst = steps.add_parser("list", help="every incident in the log")
    lst.add_argument("--json", action="store_true")
    show = steps.add_parser("show", help="one incident")
    show.add_argument("number", nargs="?", help="default: the active incident")
    show.add_argument("--json", action="store_true")
    ack = steps.add_parser("ack", help="acknowledge (stops the response SLA clock)")
    ack.add_argument("number", nargs="?", help="default: the active incident")
    resolve = steps.add_parser("resolve", help="resolve with the plan's checklist")
    resolve.add_argument("number", nargs="?", help="default: the active incident")
    resolve.add_argument("--tick", type=int, action="append", default=[], metavar="N",
                         help="checklist item N (1-5) is done; the others are recorded "
                         "as skipped: " + "; ".join(f"{i + 1} {t}"
                                                    for i, t in enumerate(RESOLUTION_CHECKLIST)))
    resolve.add_argument("--anyway", action="store_true",
                         help="resolve although the log says critical alerts still fire "
                         "or endpoints still fail (recorded with the resolution)")
    severity = steps.add_parser("severity", help="change the severity")
    severity.add_argument("severity", choices=SEVERITIES)
    severity.add_argument("number", nargs="?", help="default: the active incident")
    status = steps.add_parser("status", help="Investigating, Identified or Monitoring")
    status.add_argument("status")
    status.add_argument("number", nargs="?", help="default: the active incident")
    role = steps.add_parser("role", help="give a role (IC, TL, COM, SCR) to someone; "
                            "an empty name frees it")
    role.add_argument("role")
    role.add_argument("name")
    role.add_argument("number", nargs="?", help="default: the active incident")
    note = steps.add_parser("note", help="a free-text note on the timeline")
    note.add_argument("text")
    note.add_argument("number", nargs="?", help="default: the active incident")
    for p in (declare, lst, show, ack, resolve, severity, status, role, note):
        p.add_argument("--log", metavar="PATH", default=argparse.SUPPRESS)
        p.add_argument("--as", dest="actor", metavar="NAME")


def _to_json(i: Incident, now: datetime) -> dict[str, Any]:
    def ts(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None

    return {"number": i.number, "title": i.title, "severity": i.severity, "status": i.status,
            "drill": i.drill, "components": list(i.components), "declared_by": i.declared_by,
            "started_at": ts(i.started_at), "declared_at": ts(i.declared_at),
            "acknowledged_at": ts(i.acknowledged_at), "resolved_at": ts(i.resolved_at),
            "elapsed_s": round(i.elapsed_s(now)), "checklist": dict(i.checklist),
            "roles": dict(i.roles), "identified_at": ts(i.identified_at),
            "mitigated_at": ts(i.mitigated_at), "detected_at": ts(i.detected),
            "mtta_s": None if i.mtta_s is None else round(i.mtta_s),
            "mttr_s": None if i.mttr_s is None else round(i.mttr_s),
            "updates_sent": [ts(t) for t in i.updates_sent],
            "notices_sent": [ts(t) for t in i.notices_sent], "clocks": dict(i.clocks),
            "severity_history": [{"since": ts(since), "severity": severity}
                                 for since, severity in i.severities]}


def parse_time(flag: str, value: str | None) -> datetime | None:
    """An ISO 8601 time from the command line; without a zone, local time as typed."""
    if not value:
        return None
    try:
        ts = parse_iso(value)
        ts = ts if ts.tzinfo is not None else ts.astimezone()
        ts.astimezone(UTC)  # a time near year 1 or 9999 may not exist in UTC
    except (ValueError, OverflowError):
        raise ConfigError(f"{flag}: not an ISO 8601 time: {value!r}") from None
    if ts < datetime.now(UTC) - MAX_PAST:
        raise ConfigError(f"{flag}: {value!r} is more than {MAX_PAST.days} days ago; "
                          "an incident's times are recent")
    return ts


async def run(args: argparse.Namespace, log_file: Path, actor: str) -> int:
    from luckytui.store import EventLog

    step = args.incident_command
    now = datetime.now(UTC)
    # only declaring starts a log; every other step needs one that exists
    async with await EventLog.open(log_file, create=step == "declare") as log:
        svc = Incidents(log, args.actor or actor)
        try:
            if step == "declare":
                inc = await svc.declare(args.title, args.severity,
                                        started_at=parse_time("--started-at", args.started_at),
                                        detected_at=parse_time("--detected-at",
                                                               args.detected_at),
                                        components=tuple(args.component), drill=args.drill)
                print(inc.number)
            elif step == "list":
                incidents = list((await svc.all()).values())
                if args.json:
                    print(json.dumps([_to_json(i, now) for i in incidents], indent=2))
                for i in incidents if not args.json else []:
                    print(f"{i.number}  {i.severity}  {i.status:<13} {i.title}"
                          + ("  (drill)" if i.drill else ""))
            elif step == "show":
                inc = await svc.get(args.number)
                print(json.dumps(_to_json(inc, now), indent=2) if args.json
                      else banner_text(inc, now) + f"\n{inc.title}" + "".join(
                          f"\n{clock_text(c, now)}" for c in open_clocks(inc, now)))
            elif step == "severity":
                inc = await svc.change_severity(args.severity, args.number)
                print(f"{inc.number} is {inc.severity}")
            elif step == "status":
                inc = await svc.change_status(args.status, args.number)
                print(f"{inc.number} is {inc.status}")
            elif step == "role":
                inc = await svc.assign(args.role, args.name, args.number)
                holder = inc.roles.get(args.role.upper(), "nobody")
                print(f"{inc.number}: {args.role.upper()} is {holder}")
            elif step == "note":
                inc = await svc.note(args.text, args.number)
                print(f"{inc.number}: noted")
            elif step == "ack":
                inc = await svc.acknowledge(args.number)
                print(f"{inc.number} acknowledged")
            elif step == "resolve":
                bad = [n for n in args.tick if not 1 <= n <= len(RESOLUTION_CHECKLIST)]
                if bad:
                    raise ConfigError(f"--tick: no checklist item {bad[0]} (1-5)")
                answers = {item: i + 1 in args.tick
                           for i, item in enumerate(RESOLUTION_CHECKLIST)}
                from luckytui.incident.detection import still_wrong

                still = await still_wrong(log) if (await svc.get(args.number)).active else ""
                if still and not args.anyway:
                    raise IncidentError(f"{still} Resolve anyway with --anyway (recorded).")
                inc = await svc.resolve(answers, args.number, still_wrong=still)
                print(f"{inc.number} resolved")
                if inc.drill_id is not None:  # the drill's score was recorded with it
                    from luckytui.drills.recording import compute, summary

                    score = await compute(log, inc.drill_id)
                    if score is not None:
                        print(f"{summary(score)} (luckytui drill score {inc.drill_id})")
        except IncidentError as exc:
            say_error(exc)
            return 1
    return 0
