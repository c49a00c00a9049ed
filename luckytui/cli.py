"""The `luckytui` command line.

    luckytui [--config PATH] [flags]     the war room on the configured production
    luckytui demo [--seed N] [--scale]   the war room on an embedded simulation
    luckytui sim --dir DIR               the simulation alone, for other terminals
    luckytui drill --list | NAME         the plan's drills, played on the simulation
    luckytui incident declare|ack|...    every incident step, on the same log
    luckytui report [--month YYYY-MM]    MTTA, MTTR and incident rate by month
    luckytui postmortem [INC] [-o FILE]  the plan's post-mortem, filled from the log
    luckytui replay INC [--at T]         the war room as it was during an incident
    luckytui drill score [DRILL_ID]      a drill's score, from the log
    luckytui log export                  the local log as JSON lines
    luckytui log verify [--checkpoint]   the log's hash chain, anchored by a checkpoint

Usage errors print one line and exit 2; nothing here imports Textual until
the dashboard is about to start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from luckytui.config import (
    ConfigError,
    Settings,
    apply_overrides,
    default_config_path,
    describe_settings,
    load_settings,
    parse_panes,
)
from luckytui.text import say_error, visible

if TYPE_CHECKING:
    from luckytui.drills.scenario import Scenario

EXIT_USAGE = 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


_DECIMAL = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,6})?$", re.ASCII)
_INTEGER = re.compile(r"^-?[0-9]{1,18}$", re.ASCII)


def _positive(value: str) -> float:
    """Seconds, written as plain ASCII decimals (no nan, inf, exponents or other scripts'
    digits), between 0.2 and 3600."""
    if not _DECIMAL.match(value):
        raise argparse.ArgumentTypeError(f"not a number: {value!r} (seconds, e.g. 2 or 0.5)")
    number = float(value)
    if not 0.2 <= number <= 3600:
        raise argparse.ArgumentTypeError("must be between 0.2 and 3600 seconds")
    return number


def speed(value: str) -> float:
    """How many times faster than the wall clock simulated time runs: 0.5 to 20."""
    if not _DECIMAL.match(value):
        raise argparse.ArgumentTypeError(f"not a number: {value!r} (e.g. 2 or 0.5)")
    number = float(value)
    if not 0.5 <= number <= 20:
        raise argparse.ArgumentTypeError("must be between 0.5 and 20")
    return number


def whole(value: str) -> int:
    """A whole number written in ASCII digits."""
    if not _INTEGER.match(value):
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}")
    return int(value)


def _dashboard_flags(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    # a subcommand's copy of a flag must not reset one given before the subcommand
    d = argparse.SUPPRESS if sub else None
    p.add_argument("--refresh", type=_positive, metavar="SECONDS", default=d,
                   help="seconds between polls of each source (default 2)")
    p.add_argument("--panes", metavar="LIST", default=d,
                   help="only these panes, comma-separated: pods,db,slow,endpoints,alerts,timeline")
    p.add_argument("--log", metavar="PATH", default=d, help="the local event log (SQLite)")
    p.add_argument("--read-only", action="store_true", default=d,
                   help="offer no action that changes production")
    p.add_argument("--utc", action="store_true", default=d, help="show times in UTC")
    p.add_argument("--debug-log", metavar="PATH", default=d,
                   help="write debug details to this file")


def _connection_flags(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    d = argparse.SUPPRESS if sub else None
    p.add_argument("--config", metavar="PATH", default=d,
                   help="config file (default: $LUCKYTUI_CONFIG or "
                   "~/.config/luckytui/config.toml)")
    p.add_argument("--context", metavar="NAME", default=d,
                   help="kubeconfig context (kubectl's meaning; $KUBECONFIG honoured)")
    p.add_argument("--namespace", metavar="NAME", default=d, help="Kubernetes namespace")
    p.add_argument("--prometheus", metavar="URL", default=d, help="Prometheus base URL")
    p.add_argument("--dsn", metavar="DSN", action="append", default=d,
                   help="PostgreSQL DSN without a password (repeatable; PG* variables, "
                   "~/.pgpass and service files work as in psql)")
    p.add_argument("--endpoint", metavar="URL", action="append", default=d,
                   help="an HTTP endpoint to probe with GET (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="luckytui", description="A terminal war room for incident response.")
    _connection_flags(parser)
    _dashboard_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    demo = sub.add_parser("demo", help="the war room on an embedded simulated production")
    demo.add_argument("--seed", type=whole, default=7, help="simulation seed (default 7)")
    demo.add_argument("--scale", choices=("small", "large"), default="small")
    demo.add_argument("--frozen", action="store_true",
                      help="the simulated production stands still (for benchmarks)")
    demo.add_argument("--no-postgres", action="store_true",
                      help="simulate the database too (no embedded PostgreSQL server)")
    _dashboard_flags(demo, sub=True)
    sim = sub.add_parser("sim", help="run the simulated production alone")
    sim.add_argument("--dir", required=True, type=Path,
                     help="folder for kubeconfig and config.toml")
    sim.add_argument("--seed", type=whole, default=7)
    sim.add_argument("--scale", choices=("small", "large"), default="small")
    sim.add_argument("--host", default="127.0.0.1", help="loopback address to serve on")
    sim.add_argument("--frozen", action="store_true",
                     help="time stands still: the same data on every request")
    sim.add_argument("--no-postgres", action="store_true",
                     help="simulate the database too (no embedded PostgreSQL server)")
    sim.add_argument("--drill", metavar="NAME", help="play this drill (a name from "
                     "`luckytui drill --list`, or a scenario file) instead of the demo's story")
    sim.add_argument("--speed", type=speed, default=1.0, metavar="X",
                     help="simulated time runs X times faster (0.5 to 20, default 1)")
    sim.add_argument("--exit-with-stdin", action="store_true", help=argparse.SUPPRESS)
    sim.add_argument("--log", type=Path, help=argparse.SUPPRESS)  # a drill's records
    drill = sub.add_parser("drill", help="the plan's monthly drills, played on the simulation")
    drill.add_argument("name", nargs="?", metavar="NAME",
                       help="a drill from --list, or a scenario file's path")
    drill.add_argument("--list", action="store_true", help="list the drills")
    drill.add_argument("--speed", type=speed, default=1.0, metavar="X",
                       help="simulated time runs X times faster (0.5 to 20, default 1)")
    drill.add_argument("--seed", type=whole, default=7, help="simulation seed (default 7)")
    drill.add_argument("--no-postgres", action="store_true",
                       help="simulate the database too (no embedded PostgreSQL server)")
    _dashboard_flags(drill, sub=True)
    check = sub.add_parser("check", help="one health snapshot of every configured source")
    check.add_argument("--json", action="store_true", help="one JSON document on stdout")
    check.add_argument("--timeout", type=_positive, default=15.0, metavar="SECONDS",
                       help="longest wait for each source (default 15)")
    _connection_flags(check, sub=True)
    act = sub.add_parser("act", help="run one of the plan's remedies: shown, confirmed, "
                         "dry-run first, recorded before and after")
    act.add_argument("action", nargs="?", metavar="ACTION", help="see --list")
    act.add_argument("args", nargs="*", metavar="ARG")
    act.add_argument("--list", action="store_true", help="list the actions")
    act.add_argument("--yes", action="store_true", help="confirm without asking")
    act.add_argument("--dry-run", action="store_true",
                     help="show the plan and the server's dry run; change nothing")
    act.add_argument("--json", action="store_true", help="the plan and outcome as JSON")
    act.add_argument("--force", action="store_true", help="go beyond the local bounds")
    act.add_argument("--as", dest="actor", metavar="NAME",
                     help="who acts, for the log (default user@host)")
    act.add_argument("--log", metavar="PATH", default=argparse.SUPPRESS, help="the log file")
    act.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS,
                     help=argparse.SUPPRESS)
    _connection_flags(act, sub=True)
    from luckytui.incident.commands import add_parser as add_incident_parser

    add_incident_parser(sub, _Parser)
    from luckytui.incident.report_commands import add_parsers as add_report_parsers

    add_report_parsers(sub)
    from luckytui.replay_commands import add_parser as add_replay_parser

    add_replay_parser(sub)
    from luckytui.drills.commands import add_drill_score_parser

    add_drill_score_parser(sub)
    config = sub.add_parser("config", help="the configuration")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION",
                                       parser_class=_Parser, required=True)
    config_check = config_sub.add_parser(
        "check", help="validate the configuration and show what it connects to")
    _connection_flags(config_check, sub=True)
    log = sub.add_parser("log", help="the local event log")
    log_sub = log.add_subparsers(dest="log_command", metavar="ACTION", parser_class=_Parser,
                                 required=True)
    export = log_sub.add_parser("export", help="print the log, one JSON object a line")
    export.add_argument("--format", choices=("jsonl",), default="jsonl")
    export.add_argument("--incident", metavar="ID", help="only this incident's records")
    export.add_argument("-o", "--output", metavar="FILE", type=Path,
                        help="write to FILE (its folder must exist) instead of stdout")
    export.add_argument("--force", action="store_true", help="replace an existing FILE")
    export.add_argument("--log", metavar="PATH", default=argparse.SUPPRESS, help="the log file")
    verify = log_sub.add_parser("verify", help="check the log's hash chain (creates nothing)")
    verify.add_argument("--log", metavar="PATH", default=argparse.SUPPRESS, help="the log file")
    anchor = verify.add_mutually_exclusive_group()
    anchor.add_argument("--checkpoint", action="store_true",
                        help="print the head's count and hash, one line to keep elsewhere")
    anchor.add_argument("--against", metavar="CHECKPOINT",
                        help="also require this checkpoint (the line, or a file holding it): "
                        "detects a cut tail, a rewound or a recomputed chain")
    return parser


def resolve_settings(args: argparse.Namespace, *, secrets: bool = True) -> Settings:
    """The config file (flag, environment, default place), then the flags over it."""
    path = getattr(args, "config", None) or os.environ.get("LUCKYTUI_CONFIG")
    if path:
        settings = load_settings(path)
    elif default_config_path().exists():
        settings = load_settings(default_config_path())
    elif any(getattr(args, f, None) for f in ("context", "namespace", "prometheus", "dsn",
                                              "endpoint")):
        settings = Settings()  # flags alone describe what to watch
    else:
        raise UsageError(
            f"no configuration: pass --config PATH, set LUCKYTUI_CONFIG, or write "
            f"{default_config_path()} (or try `luckytui demo`)")
    settings = apply_flags(settings, args)
    if any(db.api_url for db in settings.databases):
        from luckytui.sim.pgtwin import register  # the demo's database, served over HTTP

        register()
    if secrets and settings.login is not None:
        settings.login.password()  # a missing secret is a usage error now, not a failing pane
    return settings


def apply_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    settings = apply_overrides(
        settings, context=getattr(args, "context", None),
        namespace=getattr(args, "namespace", None),
        prometheus=getattr(args, "prometheus", None), dsns=getattr(args, "dsn", None),
        endpoints=getattr(args, "endpoint", None))
    panes = parse_panes(args.panes) if getattr(args, "panes", None) else None
    return settings.with_overrides(
        refresh=getattr(args, "refresh", None), panes=panes, log=getattr(args, "log", None),
        read_only=getattr(args, "read_only", None), utc=getattr(args, "utc", None))


def _setup_debug_log(path: str | None) -> None:
    """The --debug-log file: created 0600 (an existing one is made 0600), our own debug
    lines and the libraries' warnings, every line through the secret redaction."""
    if not path:
        logging.getLogger().addHandler(logging.NullHandler())
        return
    from luckytui.redact import QUIET_LOGGERS, RedactingFormatter

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise UsageError(f"--debug-log: {path}: {exc.strerror or exc}") from None
    with contextlib.suppress(OSError):  # not ours to change: still ours to append to
        os.fchmod(fd, 0o600)
    handler = logging.StreamHandler(os.fdopen(fd, "a", encoding="utf-8"))
    handler.setFormatter(RedactingFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _run_dashboard(settings: Settings, demo: tuple[int, str, bool, bool] | None,
                   drill: tuple[str, str, float] | None = None) -> int:
    """The war room; with `demo` (seed, scale, frozen, postgres) on a simulation, and
    with `drill` (scenario, title, speed) that simulation plays the drill."""
    sim = None
    if demo is not None:
        from luckytui.sim.launcher import SimProcess

        sim = SimProcess(seed=demo[0], scale=demo[1], frozen=demo[2], postgres=demo[3])
        if drill is not None:  # its records go to the war room's log
            sim.drill, sim.drill_title, sim.speed = drill
            sim.log = log_path(settings.log)
        sim.spawn()  # boots on the other core while Textual loads and draws
    try:
        from luckytui.app import run_app  # Textual is imported here, not before

        # the terminal is Textual's now: the app makes outside text safe itself
        from luckytui.text import unwrapped

        sys.stdout, sys.stderr = unwrapped(sys.stdout), unwrapped(sys.stderr)
        return run_app(settings, sim=sim)
    finally:
        if sim is not None:
            sim.stop_now()
            if sim.note:  # the war room has given the terminal back: say it there too
                print(f"luckytui {'drill' if drill else 'demo'}: {sim.note}",
                      file=sys.stderr)


async def _export_lines(path: Path, incident: str | None) -> list[str]:
    from luckytui.mitigations.runner import INTENT, OUTCOME, unfinished
    from luckytui.store import EventLog

    async with await EventLog.open(path, create=False) as log:
        unknown = {r.id for r in unfinished(await log.records(kinds=(INTENT, OUTCOME)))}
        lines = []
        for record in await log.records(incident=incident):
            doc = record.to_json()
            if record.id in unknown:
                doc["outcome"] = "unknown"  # an intent whose result was never recorded
            lines.append(json.dumps(doc) + "\n")  # ASCII: a terminal shows it as it is
    return lines


def _export(path: Path, incident: str | None, output: Path | None, force: bool) -> int:
    """The log as JSON lines; a folder that does not exist is a usage error, and
    nothing is created but the output file."""
    for flag, where in (("--log", path), ("--output", output)):
        folder = where.expanduser().parent if where is not None else None
        if folder is not None and not folder.is_dir():
            raise UsageError(f"{flag} {where}: no such directory: {folder}")
    lines = asyncio.run(_export_lines(path, incident))
    if output is None:
        sys.stdout.writelines(lines)
        return 0
    try:
        with open(output.expanduser(), "w" if force else "x", encoding="utf-8") as out:
            out.writelines(lines)
    except FileExistsError:
        raise UsageError(f"--output {output}: exists (--force to replace it)") from None
    except OSError as exc:
        raise UsageError(f"--output {output}: {exc.strerror}") from None
    return 0


async def _verify(path: Path, checkpoint: bool = False, against: str | None = None) -> int:
    from luckytui.store import Checkpoint, EventLog

    anchor = None
    if against is not None:
        try:
            anchor = Checkpoint.parse(against)
        except ValueError as exc:
            raise UsageError(f"--against: {exc}") from None
    async with await EventLog.open(path, create=False) as log:
        result = await log.verify(anchor)
    print(result.checkpoint().line() if checkpoint and result.ok else result.describe())
    return 0 if result.ok else 1


def _check(settings: Settings, *, as_json: bool, timeout: float) -> int:
    from luckytui.check import print_json, print_table, run_check

    report = asyncio.run(run_check(settings, timeout=timeout))
    if as_json:
        print_json(report, sys.stdout)
    else:
        print_table(report, sys.stdout)
    return 0 if report.ok else 1


def _scenario(name: str) -> Scenario:
    """A drill by name or file; checked here, so a bad one is one line and exit 2."""
    from luckytui.drills.scenario import find_scenario
    from luckytui.sim.drill import parse_faults

    scenario = find_scenario(name)
    parse_faults(scenario.faults, scenario.source)
    return scenario


def _list_drills(asked: bool) -> int:
    from luckytui.drills.scenario import built_in

    if not asked:
        raise UsageError("name a drill, or --list to see them (see `luckytui drill --help`)")
    for s in built_in().values():
        print(f"{s.name:<20} {s.expected_severity}  {visible(s.summary)}")
    return 0


def log_path(value: str | None) -> Path:
    from luckytui.store import default_log_path

    return Path(value) if value else default_log_path()


@contextlib.contextmanager
def _terminal_safe_output() -> Iterator[None]:
    """Everything the command line prints passes through luckytui.text.visible: a record,
    a config value or an error message cannot carry a terminal escape to the screen.
    (JSON is printed as ASCII, so it passes unchanged.)"""
    from luckytui.text import SafeStream

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(out), SafeStream(err)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = out, err


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: a usage error is one line and exit 2, a log that cannot be read
    or written one line and exit 1, and nothing unforeseen ever prints a traceback (it
    goes to --debug-log, when one is given)."""
    with _terminal_safe_output():
        try:
            return _main(argv)
        except Exception as exc:
            if type(exc).__name__ == "LogError":  # luckytui.store, not imported up front
                say_error(exc)
                return 1
            logging.getLogger(__name__).debug("unexpected error", exc_info=True)
            say_error(f"unexpected error: {type(exc).__name__}: {exc}")
            return 1


def _main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_list)
        if args.command == "sim":
            from luckytui.sim.runner import run_forever

            scenario = _scenario(args.drill) if args.drill else None
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(run_forever(args.dir, seed=args.seed, scale=args.scale,
                                        host=args.host, exit_on_stdin_eof=args.exit_with_stdin,
                                        frozen=args.frozen,
                                        postgres=not args.no_postgres, scenario=scenario,
                                        speed=args.speed, log=args.log))
            return 0
        if args.command == "drill" and (args.list or not args.name):
            return _list_drills(args.list)
        if args.command == "log":
            from luckytui.store import LogError

            try:
                if args.log_command == "export":
                    return _export(log_path(args.log), args.incident, args.output,
                                   args.force)
                return asyncio.run(_verify(log_path(args.log), args.checkpoint,
                                           args.against))
            except LogError as exc:
                say_error(exc)
                return 1
        if args.command == "incident":
            from luckytui.act import default_actor
            from luckytui.incident.commands import run as run_incident
            from luckytui.store import LogError

            try:
                return asyncio.run(run_incident(args, log_path(getattr(args, "log", None)),
                                                default_actor()))
            except LogError as exc:
                say_error(exc)
                return 1
        from luckytui.drills.commands import run_drill_score, wants_score

        if wants_score(args):
            return run_drill_score(args, log_path(getattr(args, "log", None)))
        if args.command in ("report", "postmortem"):
            from luckytui.incident.report_commands import run as run_report

            return run_report(args, log_path(getattr(args, "log", None)))
        if args.command == "replay":
            from luckytui.replay_commands import run as run_replay

            return run_replay(args, log_path(getattr(args, "log", None)))
        if args.command == "act":
            from luckytui.act import run_act

            return run_act(args, resolve_settings(args), log_path)
        if args.command == "check":
            return _check(resolve_settings(args), as_json=args.json, timeout=args.timeout)
        if args.command == "config":
            settings = resolve_settings(args, secrets=False)
            if settings.keys or settings.theme:  # checked against the app's bindings
                from luckytui.app import check_look_settings

                check_look_settings(settings)
            print(describe_settings(settings))
            return 0
        _setup_debug_log(args.debug_log)
        if args.command == "drill":
            scenario = _scenario(args.name)
            settings = apply_flags(Settings(refresh=2.0), args)
            # its database faults run on a real PostgreSQL server when one can start
            return _run_dashboard(settings, demo=(args.seed, "small", False,
                                                  not args.no_postgres),
                                  drill=(scenario.source, scenario.title, args.speed))
        if args.command == "demo":
            base = Settings(refresh=2.0)
            settings = apply_flags(base, args)
            return _run_dashboard(settings, demo=(args.seed, args.scale, args.frozen,
                                                  not args.no_postgres))
        return _run_dashboard(resolve_settings(args), demo=None)
    except (UsageError, ConfigError) as exc:
        say_error(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
