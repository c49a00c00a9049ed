"""The plan's runbooks as data: checklists of checks, remedies and notes."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from luckytui.config import PANES, ConfigError

RUNBOOK_STEP = "runbook.step"


@dataclass(frozen=True, slots=True)
class Step:
    text: str
    pane: str | None = None  # a check: the pane that answers it
    action: str | None = None  # a remedy: `luckytui act` name and args
    args: tuple[str, ...] = ()
    note: str | None = None  # done outside luckytui: what to run

    @property
    def kind(self) -> str:
        return "action" if self.action else "check" if self.pane else "note"


@dataclass(frozen=True, slots=True)
class Runbook:
    id: str
    title: str
    steps: tuple[Step, ...]
    alert: str | None = None  # the alert that offers it


def _parse(data: dict[str, Any], where: str) -> tuple[Runbook, ...]:
    books = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("runbook", [])):
        at = f"{where}: runbook[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(
                raw.get("title"), str):
            raise ConfigError(f"{at}: needs an id and a title")
        if raw["id"] in seen:
            raise ConfigError(f"{at}.id: {raw['id']!r} is used twice")
        seen.add(raw["id"])
        steps = []
        for j, s in enumerate(raw.get("steps", [])):
            if not isinstance(s, dict) or not isinstance(s.get("text"), str):
                raise ConfigError(f"{at}.steps[{j}]: needs a text")
            pane = s.get("pane")
            if pane is not None and pane not in PANES:
                raise ConfigError(f"{at}.steps[{j}].pane: unknown pane {pane!r}")
            args = s.get("args", [])
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise ConfigError(f"{at}.steps[{j}].args: must be a list of strings")
            steps.append(Step(s["text"], pane, s.get("action"), tuple(args), s.get("note")))
        if not steps:
            raise ConfigError(f"{at}.steps: a runbook needs steps")
        books.append(Runbook(raw["id"], raw["title"], tuple(steps), raw.get("alert")))
    return tuple(books)


def load_runbooks(path: str | Path | None = None) -> tuple[Runbook, ...]:
    """The shipped runbooks, or the ones in `path` (the config's `runbooks`)."""
    if path is None:
        text = resources.files("luckytui").joinpath("runbooks.toml").read_text()
        where = "runbooks.toml"
    else:
        where = str(path)
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    return _parse(data, where)


def for_alert(runbooks: tuple[Runbook, ...], alert: str) -> Runbook | None:
    return next((r for r in runbooks if r.alert == alert), None)
