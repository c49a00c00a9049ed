"""`luckytui act`: the plan's remedies from the shell, with the dashboard's checks and log."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from luckytui.config import ConfigError, Settings
from luckytui.controller import REFUSED as REFUSED  # what a refusal is recorded as
from luckytui.controller import Controller
from luckytui.mitigations.base import BadArgument, Plan
from luckytui.mitigations.registry import build_actions, close_actions
from luckytui.mitigations.runner import plan_record

EXIT_USAGE = 2


def default_actor() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _print_list(actions: dict[str, Any], settings: Settings) -> None:
    if not actions:
        print("no actions: configure [kubernetes] and [[databases]] to get the remedies")
        return
    width = max(len(f"{a.name} {a.usage}") for a in actions.values())
    for a in actions.values():
        print(f"{f'{a.name} {a.usage}':<{width}}  {a.summary}")


async def _act(args: argparse.Namespace, settings: Settings, log_file: Path) -> int:
    from luckytui.store import EventLog

    actions = build_actions(settings, force=args.force)
    try:
        if args.list:
            _print_list(actions, settings)
            return 0
        if not args.action:
            raise ConfigError("name an action (luckytui act --list)")
        action = actions.get(args.action)
        if action is None:
            raise ConfigError(f"unknown action {args.action!r} (luckytui act --list)")
        actor = args.actor or default_actor()
        async with await EventLog.open(log_file) as log:
            controller = Controller(actor, actions=actions, read_only=settings.read_only,
                                    log=log)
            await controller.refresh()  # the records go to the active incident

            async def confirm(plan: Plan) -> bool:
                if args.json and (args.dry_run or not args.yes):
                    print(json.dumps({"plan": plan_record(plan)}, indent=2))
                elif not args.json:
                    print(plan.describe())
                if args.dry_run:
                    return False
                return bool(args.yes) or await asyncio.to_thread(_confirm, plan)

            result = await controller.act(action, list(args.args), confirm)
            if result.status == "refused" and not result.ran:
                exc = result.error
                if isinstance(exc, BadArgument) and not args.json:
                    # malformed or out of bounds: a usage error, and nothing was sent
                    print(f"luckytui: refused: {exc}", file=sys.stderr)
                    return EXIT_USAGE
                _say(args, {"status": "refused", "reason": result.detail},
                     f"refused: {result.detail}")
                return EXIT_USAGE if isinstance(exc, BadArgument) else 1
            if result.status == "cancelled":
                if args.dry_run:
                    return 0
                print("cancelled: nothing was changed", file=sys.stderr)
                return 1
            outcome, plan = result.outcome, result.plan
            assert outcome is not None and plan is not None
            _say(args, {"plan": plan_record(plan), "status": outcome.status,
                        "detail": outcome.detail, "duration_s": outcome.duration_s,
                        "changed": dict(outcome.changed)},
                 f"{'✓' if outcome.ok else '✖'} {outcome.status}: {outcome.detail}")
            return 0 if outcome.ok else 1
    finally:
        close_actions(actions)


def _say(args: argparse.Namespace, doc: dict[str, Any], line: str) -> None:
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(line)


def _confirm(plan: Plan, ask: Callable[[str], str] = input) -> bool:
    if not sys.stdin.isatty():
        raise ConfigError("not on a terminal: pass --yes to confirm (or --dry-run to look)")
    if plan.typed_confirmation:
        answer = ask(f"Type {plan.typed_confirmation!r} to proceed: ")
        return answer.strip() == plan.typed_confirmation
    return ask("Proceed? [y/N] ").strip().lower() in ("y", "yes")


def run_act(args: argparse.Namespace, settings: Settings,
            log_path: Callable[[str | None], Path]) -> int:
    if settings.read_only and not args.list and args.action not in build_actions(settings):
        raise ConfigError("read-only: this luckytui may not change production "
                          "(--read-only or read_only = true in the config)")
    return asyncio.run(_act(args, settings, log_path(getattr(args, "log", None)
                                                     or settings.log)))
