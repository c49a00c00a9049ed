"""`luckytui drill score [DRILL_ID]`: a drill's score, from the log, in the terminal.

The score recorded when the drill incident was resolved (``drill.scored``); a drill not
scored yet gets its provisional score, worked out from the log as it is now.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

from luckytui.drills.score import DRILL_KINDS, DrillScore, from_json
from luckytui.events import DRILL_SCORED, DRILL_STARTED
from luckytui.text import say_error

SCORE = "score"


def add_drill_score_parser(sub: Any) -> None:
    """`drill score [DRILL_ID] [--json]`, on the `drill` command (made here when the
    command line has none yet): the word ``score`` in place of a scenario's name."""
    drill = sub.choices.get("drill")
    if drill is None:
        drill = sub.add_parser("drill", help="the plan's drills: `drill score` shows a "
                               "drill's score")
        drill.add_argument("name", metavar="NAME", choices=(SCORE,),
                           help=f"{SCORE}: a drill's score")
    drill.add_argument("drill_id", nargs="?", metavar="DRILL_ID",
                       help=f"with {SCORE}: the drill (default: the latest)")
    for flag, kwargs in (("--json", {"action": "store_true",
                                     "help": "one JSON document on stdout"}),
                         ("--log", {"metavar": "PATH", "default": argparse.SUPPRESS,
                                    "help": "the log file"}),
                         ("--utc", {"action": "store_true", "default": argparse.SUPPRESS,
                                    "help": "show times in UTC"})):
        with contextlib.suppress(argparse.ArgumentError):  # the drill command has it
            drill.add_argument(flag, **kwargs)


def wants_score(args: argparse.Namespace) -> bool:
    return getattr(args, "command", None) == "drill" and getattr(args, "name", None) == SCORE


async def drill_scores(log_file: Path) -> list[DrillScore]:
    """Every drill in the log, oldest first: its recorded score, else the provisional one."""
    from luckytui.drills.recording import compute
    from luckytui.store import EventLog

    async with await EventLog.open(log_file, create=False) as log:  # reading only
        records = await log.records(kinds=DRILL_KINDS)
        scored: dict[str, DrillScore] = {}
        for r in records:
            if r.kind == DRILL_SCORED and str(r.data.get("drill_id")) not in scored:
                try:
                    scored[str(r.data.get("drill_id"))] = from_json(r.data)
                except ValueError:
                    continue  # an unreadable record: worked out again below
        out = []
        for r in records:
            if r.kind != DRILL_STARTED or not r.data.get("drill_id"):
                continue
            drill_id = str(r.data["drill_id"])
            score = scored.get(drill_id) or await compute(log, drill_id)
            if score is not None:
                out.append(score)
        return out


def run_drill_score(args: argparse.Namespace, log_file: Path) -> int:
    from luckytui.drills.report import render_score
    from luckytui.drills.score import to_json
    from luckytui.store import LogError

    try:
        scores = asyncio.run(drill_scores(log_file)) if log_file.exists() else []
    except LogError as exc:
        say_error(exc)
        return 1
    wanted = args.drill_id
    found = ([s for s in scores if s.drill_id == wanted] if wanted
             else scores[-1:])
    if not found:
        say_error(f"no drill {wanted} in the log ({log_file})" if wanted
                  else f"no drills in the log ({log_file})")
        return 1
    if args.json:
        print(json.dumps(to_json(found[0]), indent=2))
    else:
        tz = UTC if getattr(args, "utc", None) else None
        sys.stdout.write("\n".join(render_score(found[0], tz=tz)) + "\n")
    return 0
