"""The config's [keys] table checked against the war room's bindings.

Every binding has an id; ``[keys]`` maps ids to other keys (Textual's keymap). A
remapped key must not be one that another binding already answers where both are
active at once (a screen, the focused table, the app): the first such clash is one
``ConfigError`` line naming the key, the binding and where.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import _normalize_key_list, format_key
from textual.theme import BUILTIN_THEMES

from luckytui.config import Settings
from luckytui.configread import ConfigError
from luckytui.text import visible
from screens.composer import ComposerScreen
from screens.confirm import AskScreen, ConfirmScreen
from screens.dashboard import DashboardScreen
from screens.drill_score import DrillScoreScreen
from screens.help import HelpScreen
from screens.incident import DeclareScreen, ResolveScreen
from screens.incidents import IncidentListScreen, ResolveAnywayScreen
from screens.replay import EventsScreen, ReplayScreen
from screens.runbook import ActionPicker, RunbookPicker, RunbookScreen
from screens.steps import ChoiceScreen, RolesScreen
from screens.timeline import TimelineScreen
from widgets.database import DatabasePane
from widgets.table import DiffTable
from widgets.tableview import FilterInput

Scope = tuple[str, tuple[type[DOMNode], ...]]

DIALOGS: tuple[tuple[str, type[DOMNode]], ...] = (
    ("the keys", HelpScreen), ("the confirmation", ConfirmScreen), ("the question", AskScreen),
    ("the composer", ComposerScreen), ("the declaration", DeclareScreen),
    ("the resolution", ResolveScreen), ("resolve anyway", ResolveAnywayScreen),
    ("the choice", ChoiceScreen), ("the roles", RolesScreen), ("the runbook", RunbookScreen),
    ("the runbooks", RunbookPicker), ("the remedies", ActionPicker),
    ("the replay's events", EventsScreen), ("the drill score", DrillScoreScreen),
)


def scopes(app: type[DOMNode]) -> list[Scope]:
    """Where bindings are active together: each screen with what can be focused on it."""
    tables: list[Scope] = [
        ("the dashboard", (app, DashboardScreen, DatabasePane, DiffTable)),
        ("the replay", (app, ReplayScreen, DatabasePane, DiffTable)),
        ("the timeline", (app, TimelineScreen, DiffTable)),
        ("the incident list", (app, IncidentListScreen, DiffTable)),
        ("the table filter", (app, DashboardScreen, FilterInput)),
        ("the incident list's filter", (app, IncidentListScreen, FilterInput)),
    ]
    return tables + [(f"{name} dialog", (app, cls)) for name, cls in DIALOGS]


def bindings(cls: type[DOMNode]) -> Iterator[Binding]:
    for found in cls._merge_bindings().key_to_bindings.values():
        yield from found


def binding_ids(app: type[DOMNode]) -> dict[str, Binding]:
    """Every binding id of the war room, with its binding."""
    return {b.id: b for _, classes in scopes(app) for cls in classes
            for b in bindings(cls) if b.id}


def check_look(settings: Settings, app: type[DOMNode]) -> dict[str, str]:
    """The config's [keys] (as a keymap) and theme, or a ConfigError."""
    where = settings.source_file or "config"
    if settings.theme is not None and settings.theme not in BUILTIN_THEMES:
        raise ConfigError(f"{where}: theme: {visible(settings.theme)!r} is not one of "
                          f"{', '.join(sorted(BUILTIN_THEMES))}")
    return check_keymap(settings.keys, app, where)


def check_keymap(keys: Mapping[str, str], app: type[DOMNode],
                 where: str = "config") -> dict[str, str]:
    """``keys`` (binding id -> "key,key") as a Textual keymap, or a ConfigError."""
    known = binding_ids(app)
    keymap: dict[str, str] = {}
    for binding_id, given in keys.items():
        if binding_id not in known:
            raise ConfigError(f"{where}: keys.{visible(binding_id)}: no binding has this id "
                              f"(ids: {', '.join(sorted(known))})")
        keymap[binding_id] = _normalize_key_list(given)
    for scope, classes in scopes(app):
        _check_scope(keymap, scope, [b for cls in classes for b in bindings(cls)], where)
    return keymap


def _check_scope(keymap: Mapping[str, str], scope: str, found: Sequence[Binding],
                 where: str) -> None:
    taken: dict[str, Binding] = {}
    # the bindings left as they are first, so a clash names the remapped one
    for binding in sorted(found, key=lambda b: b.id in keymap):
        remapped = keymap.get(binding.id or "")
        for key in (remapped or binding.key).split(","):
            other = taken.get(key)
            if other is not None and remapped is not None and other.id != binding.id:
                what = other.description or other.action
                raise ConfigError(
                    f"{where}: keys.{binding.id}: {visible(format_key(key))!r} is already "
                    f"{what} ({other.id or other.action}) on {scope}")
            taken.setdefault(key, binding)
