"""`luckytui report` and `luckytui postmortem`: the plan's metrics and post-mortem
from the log."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from luckytui.incident.model import INCIDENT_KINDS, Incident, fold, latest_incident
from luckytui.text import say_error

if TYPE_CHECKING:
    from luckytui.store import LogRecord

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _month(value: str) -> str:
    if not _MONTH.match(value):
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {value!r}")
    return value


def add_parsers(sub: Any) -> None:
    report = sub.add_parser(
        "report", help="the plan's metrics by month: MTTA, MTTR, incident rate, clocks")
    report.add_argument("--month", type=_month, metavar="YYYY-MM",
                        help="only this month (of detection, UTC); default: every month "
                        "with an incident, newest first")
    report.add_argument("--json", action="store_true", help="one JSON document on stdout")
    report.add_argument("--drills", action="store_true",
                        help="past drills instead: scenario, incident, severity chosen and "
                        "expected, the times, wrong and harmful remedies, verdict")
    post = sub.add_parser("postmortem",
                          help="the plan's post-mortem template, filled from the log")
    post.add_argument("number", nargs="?", metavar="INC-…",
                      help="default: the most recently declared incident")
    post.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    post.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    post.add_argument("--author", metavar="NAME", help="the Author field (default: [Name])")
    for p in (report, post):
        p.add_argument("--log", metavar="PATH", default=argparse.SUPPRESS, help="the log file")
        p.add_argument("--utc", action="store_true", default=argparse.SUPPRESS,
                       help="show times in UTC (default: the local zone)")


class _Refused(Exception):
    """One line for the operator; exit 1."""


def run(args: argparse.Namespace, log_file: Path) -> int:
    from luckytui.store import LogError

    tz = UTC if getattr(args, "utc", None) else None
    try:
        if args.command == "report" and args.drills:
            return _drills(log_file, args.month, as_json=args.json, tz=tz)
        if args.command == "report":
            return _report(log_file, args.month, as_json=args.json, tz=tz)
        return _postmortem(args, log_file, tz)
    except (LogError, _Refused) as exc:
        say_error(exc)
        return 1


async def _incidents(log_file: Path) -> dict[str, Incident]:
    from luckytui.store import EventLog

    async with await EventLog.open(log_file, create=False) as log:  # reading only
        return fold(await log.records(kinds=INCIDENT_KINDS))


async def _incident(log_file: Path, number: str | None) -> tuple[Incident, list[LogRecord]]:
    """The incident (default: the most recently declared) and its records, with the
    alerts fired, attached to no incident, between its impact start and declaration."""
    from luckytui.store import EventLog

    async with await EventLog.open(log_file, create=False) as log:  # reading only
        incidents = fold(await log.records(kinds=INCIDENT_KINDS))
        if number is not None and number not in incidents:
            raise _Refused(f"no incident {number} in the log ({log_file})")
        if not incidents:
            raise _Refused(f"no incidents in the log ({log_file})")
        inc = incidents[number] if number else latest_incident(incidents)
        assert inc is not None
        from luckytui.incident.postmortem import incident_records

        return inc, await incident_records(log, inc)


def _report(log_file: Path, month: str | None, *, as_json: bool, tz: tzinfo | None) -> int:
    from luckytui.incident.metrics import month_report, monthly, render_text, to_json

    # reading creates nothing: a missing log has no incidents
    incidents = list(asyncio.run(_incidents(log_file)).values()) if log_file.exists() else []
    if not incidents and not as_json:
        print(f"no incidents in the log ({log_file})")
        return 0
    reports = [month_report(incidents, month)] if month else monthly(incidents)
    if as_json:
        print(json.dumps(to_json(reports), indent=2))
    else:
        sys.stdout.write(render_text(reports, tz=tz))
    return 0


def _drills(log_file: Path, month: str | None, *, as_json: bool, tz: tzinfo | None) -> int:
    from luckytui.drills.commands import drill_scores
    from luckytui.drills.report import list_json, render_list

    scores = asyncio.run(drill_scores(log_file)) if log_file.exists() else []
    if month:  # the month the drill started in, UTC
        scores = [s for s in scores if s.started_at.astimezone(UTC).strftime("%Y-%m") == month]
    if as_json:
        print(json.dumps(list_json(scores), indent=2))
    elif not scores:
        print(f"no drills in the log ({log_file})")
    else:
        sys.stdout.write(render_list(scores, tz=tz))
    return 0


def _postmortem(args: argparse.Namespace, log_file: Path, tz: tzinfo | None) -> int:
    from luckytui.incident.postmortem import render

    output = Path(args.output) if args.output else None
    if output is not None and output.exists() and not args.force:
        raise _Refused(f"{output} exists (--force to overwrite)")
    if not log_file.exists():  # reading creates nothing
        raise _Refused(f"no incident {args.number} in the log ({log_file})" if args.number
                       else f"no incidents in the log ({log_file})")
    inc, records = asyncio.run(_incident(log_file, args.number))
    text = render(inc, records, tz=tz, author=args.author)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        with output.open("w" if args.force else "x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise _Refused(f"{output} exists (--force to overwrite)") from None
    except OSError as exc:
        raise _Refused(f"{output}: cannot write: {exc.strerror or exc}") from None
    print(f"{inc.number}: post-mortem written to {output}")
    return 0
