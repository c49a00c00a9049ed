"""The plan's runbooks as data: checklists of checks, remedies and notes."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from luckytui.config import PANES, ConfigError, parse_config_text, read_config_bytes
from luckytui.text import visible

RUNBOOK_STEP = "runbook.step"
MAX_TEXT = 2000  # a step's text, a title, a note


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


def _text(value: Any, at: str, *, required: bool = False) -> str | None:
    """An optional one-line string of a runbook, shown on screen."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{at}: must be {'a non-empty' if required else 'a'} string")
    if len(value) > MAX_TEXT or any(not c.isprintable() and c != " " for c in value):
        raise ConfigError(f"{at}: must be printable text of at most {MAX_TEXT} characters")
    return value


def _list(value: Any, at: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{at}: must be an array of tables")
    return value


def _parse(data: dict[str, Any], where: str) -> tuple[Runbook, ...]:
    books = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(data.get("runbook"), f"{where}: runbook")):
        at = f"{where}: runbook[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not isinstance(
                raw.get("title"), str):
            raise ConfigError(f"{at}: needs an id and a title")
        book_id = str(_text(raw["id"], f"{at}.id", required=True))
        title = str(_text(raw["title"], f"{at}.title", required=True))
        if book_id in seen:
            raise ConfigError(f"{at}.id: {book_id!r} is used twice")
        seen.add(book_id)
        steps = []
        for j, s in enumerate(_list(raw.get("steps"), f"{at}.steps")):
            if not isinstance(s, dict) or not isinstance(s.get("text"), str):
                raise ConfigError(f"{at}.steps[{j}]: needs a text")
            pane = s.get("pane")
            if pane is not None and pane not in PANES:
                raise ConfigError(f"{at}.steps[{j}].pane: unknown pane {visible(pane)!r}")
            args = s.get("args", [])
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise ConfigError(f"{at}.steps[{j}].args: must be a list of strings")
            for k, arg in enumerate(args):
                _text(arg, f"{at}.steps[{j}].args[{k}]")
            steps.append(Step(str(_text(s["text"], f"{at}.steps[{j}].text", required=True)),
                              pane, _text(s.get("action"), f"{at}.steps[{j}].action"),
                              tuple(args), _text(s.get("note"), f"{at}.steps[{j}].note")))
        if not steps:
            raise ConfigError(f"{at}.steps: a runbook needs steps")
        books.append(Runbook(book_id, title, tuple(steps), _text(raw.get("alert"),
                                                                 f"{at}.alert")))
    return tuple(books)


def load_runbooks(path: str | Path | None = None) -> tuple[Runbook, ...]:
    """The shipped runbooks, or the ones in `path` (the config's `runbooks`)."""
    if path is None:
        text = resources.files("luckytui").joinpath("runbooks.toml").read_bytes()
        where = "runbooks.toml"
    else:
        where = str(path)
        text = read_config_bytes(path)
    return _parse(parse_config_text(text, where), where)


def for_alert(runbooks: tuple[Runbook, ...], alert: str) -> Runbook | None:
    return next((r for r in runbooks if r.alert == alert), None)
