"""`luckytui replay INC-…`: the war room as it was during an incident, read-only, with a
time scrubber; with `--at HH:MM:SS --screenshot FILE.svg`, one frame written without a
terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from luckytui.text import say_error

if TYPE_CHECKING:
    from luckytui.app import LuckyApp
    from luckytui.replay import ReplayClock

EXIT_USAGE = 2
SCREENSHOT_SIZE = (160, 48)
LOAD_WAIT_S = 10.0


def add_parser(sub: Any) -> None:
    replay = sub.add_parser("replay", help="the war room as it was during an incident: "
                            "read-only, with a time scrubber")
    replay.add_argument("number", metavar="INC-…", help="the incident to replay")
    replay.add_argument("--at", metavar="HH:MM:SS",
                        help="start at this time (in the display zone; --utc for UTC)")
    replay.add_argument("--screenshot", metavar="FILE.svg", type=Path,
                        help="write the war room as of --at to FILE.svg, without a terminal")
    replay.add_argument("--log", metavar="PATH", default=argparse.SUPPRESS,
                        help="the log file (its replay file sits beside it)")
    replay.add_argument("--utc", action="store_true", default=argparse.SUPPRESS,
                        help="show times in UTC (default: the local zone)")


def run(args: argparse.Namespace, log_file: Path) -> int:
    from luckytui.replay import ReplayClock, ReplayRefused, at_time, load
    from luckytui.store import LogError

    utc = bool(getattr(args, "utc", False))
    if args.screenshot is not None:
        folder = args.screenshot.expanduser().parent
        if not folder.is_dir():
            say_error(f"--screenshot {args.screenshot}: no such directory: {folder}")
            return EXIT_USAGE
    try:
        data = asyncio.run(load(log_file, args.number))
    except (LogError, ReplayRefused) as exc:
        say_error(exc)
        return 1
    clock = ReplayClock(data)
    try:
        if args.at is not None:
            try:
                clock.seek(at_time(args.at, clock.start, clock.end, UTC if utc else None))
            except ValueError as exc:  # not a time, or outside the recording
                say_error(exc)
                return EXIT_USAGE
        app = _app(clock, log_file, utc)
        if args.screenshot is not None:
            return _write(args.screenshot, asyncio.run(_screenshot(app, clock)), clock, utc)
        app.run()
        return app.return_code or 0
    finally:
        data.replay.store.close()


def _app(clock: ReplayClock, log_file: Path, utc: bool) -> LuckyApp:
    from luckytui.app import LuckyApp
    from luckytui.config import Settings
    from luckytui.replay import sources

    return LuckyApp(Settings(utc=utc, log=str(log_file)), sources=sources(clock),
                    clock=clock, log_path=log_file, replay=clock)


async def _screenshot(app: LuckyApp, clock: ReplayClock) -> str:
    """The replay as of the clock's time, drawn headless, as SVG."""
    from luckytui.snapshots import SourceStatus

    panes = set(clock.data.replay.panes)
    async with app.run_test(size=SCREENSHOT_SIZE) as pilot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LOAD_WAIT_S
        while loop.time() < deadline and not (panes <= set(app.pollers) and all(
                app.states[p].status is not SourceStatus.CONNECTING for p in panes)):
            await pilot.pause(0.05)
        await pilot.pause(0.3)  # the last updates drawn
        return app.export_screenshot(title=f"{clock.data.incident.number} as of "
                                     f"{clock.now.isoformat(timespec='seconds')}")


def _write(path: Path, svg: str, clock: ReplayClock, utc: bool) -> int:
    try:
        path.expanduser().write_text(svg, encoding="utf-8")
    except OSError as exc:
        say_error(f"--screenshot {path}: cannot write: {exc.strerror or exc}")
        return 1
    shown = clock.now.astimezone(UTC if utc else None)
    print(f"{clock.data.incident.number} as of {shown:%H:%M:%S} written to {path}",
          file=sys.stdout)
    return 0
