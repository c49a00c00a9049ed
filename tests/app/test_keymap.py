"""Keys remapped in the config's [keys] table, themes, and NO_COLOR."""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import replace
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Footer, Static

from luckytui.app import LuckyApp
from luckytui.cli import main
from luckytui.config import ConfigError, parse_config_text, parse_settings
from screens.help import HelpScreen
from screens.incident import DeclareScreen
from tests.app.test_actions_flow import until
from tests.app.test_snapshots import all_loaded, frozen_app
from tests.unit.test_import_graph import project_modules
from widgets.pods import PodsPane
from widgets.table import DiffTable
from widgets.tableview import FilterInput


def settings_from(text: str) -> dict[str, object]:
    parsed = parse_settings(parse_config_text(text.encode(), "luckytui.toml"), "luckytui.toml")
    return {"keys": parsed.keys, "theme": parsed.theme}


def with_settings(tmp_path: Path, **changes: object) -> LuckyApp:
    app = frozen_app(tmp_path)
    return LuckyApp(replace(app.settings, **changes),
                    sources=app._given_sources, clock=app.clock,
                    log_path=tmp_path / "log.sqlite3", actor="oncall@jump-1")


def test_keys_table_is_read_as_binding_ids_to_keys() -> None:
    read = settings_from('[keys]\ndeclare = "W"\ntable-filter = ["F", "ctrl+f"]\n')
    assert read["keys"] == {"declare": "W", "table-filter": "F,ctrl+f"}
    for bad in ('declare = 3', 'declare = ""', 'declare = ["a b"]', 'declare = []'):
        with pytest.raises(ConfigError, match=r"^luckytui.toml: keys\.declare: must be"):
            settings_from(f"[keys]\n{bad}\n")


@pytest.mark.parametrize(("keys", "message"), [
    ({"declare": "x"}, "keys.declare: 'x' is already Remedies (remedies) on the dashboard"),
    ({"table-filter": "n"}, "keys.table-filter: 'n' is already Declare (declare)"),
    ({"declare": "W", "acknowledge": "W"}, "keys.acknowledge: 'W' is already Declare"),
    ({"no-such-binding": "D"}, "keys.no-such-binding: no binding has this id"),
])
def test_a_clash_or_an_unknown_id_is_one_config_error(tmp_path: Path, keys: dict[str, str],
                                                      message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        with_settings(tmp_path, keys=keys, source_file="luckytui.toml")
    text = str(caught.value)
    assert "\n" not in text and text.startswith("luckytui.toml: ") and message in text


async def test_a_remapped_key_runs_its_action_and_the_old_one_does_not(tmp_path: Path) -> None:
    app = with_settings(tmp_path, keys={"declare": "W", "table-filter": "F"})
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        footer = app.dashboard.query_one(Footer)
        assert "W Declare" in " ".join(str(k.render()) for k in footer.query("FooterKey"))
        await pilot.press("n")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, DeclareScreen)
        await pilot.press("W")
        await until(pilot, lambda: isinstance(app.screen, DeclareScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard)
        await pilot.press("1", "slash")  # the table's filter moved to F
        await pilot.pause()
        pane = app.dashboard.query_one(PodsPane)
        assert not pane.query(FilterInput)
        await pilot.press("F")
        await until(pilot, lambda: isinstance(app.focused, FilterInput))
        await pilot.press("escape")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one(Static).render())
        assert re.search(r"\bW\s+Declare", text) and re.search(r"\bF\s+Filter", text)
        assert not re.search(r"\bn\s+Declare", text)


def test_every_binding_has_an_id() -> None:
    """Every binding the war room declares (so every one can be remapped), and every
    key of its tables."""
    missing: list[str] = []
    classes: list[type[DOMNode]] = [LuckyApp]
    for name in project_modules():
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)
        classes += [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                    if issubclass(cls, DOMNode) and cls.__module__ == name]
    assert len(classes) > 20
    for cls in classes:
        own = cls.__dict__.get("BINDINGS", [])
        missing += [f"{cls.__name__}: {b!r}" for b in own
                    if not (isinstance(b, Binding) and b.id)]
    for bindings in DiffTable._merge_bindings().key_to_bindings.values():
        missing += [f"DiffTable: {b.key}" for b in bindings if not b.id]
    assert missing == []


async def test_a_theme_from_the_config(tmp_path: Path) -> None:
    assert settings_from('theme = "nord"\n')["theme"] == "nord"
    with pytest.raises(ConfigError, match=r"^luckytui.toml: theme: 'neon' is not one of"):
        with_settings(tmp_path, theme="neon", source_file="luckytui.toml")
    app = with_settings(tmp_path, theme="nord")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "nord"


HEX = re.compile(r"#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})\b")


def colours(svg: str) -> set[tuple[int, int, int]]:
    """The colours of the terminal's text and backgrounds (not the window's buttons)."""
    screen = re.sub(r"<circle[^>]*>", "", svg)
    return {(int(r, 16), int(g, 16), int(b, 16)) for r, g, b in HEX.findall(screen)}


async def test_no_color_shows_every_state_by_its_mark_in_grey(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR (any value, even empty): no colour on screen; the states still read,
    by their marks."""
    monkeypatch.setenv("NO_COLOR", "")
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        svg = app.export_screenshot()
    chromatic = {c for c in colours(svg) if max(c) - min(c) > 8}
    assert chromatic == set()
    text = re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ")
    for mark in ("● 2 firing", "● firing", "✖ 500", "✓ 200", "✖ 1 of 7 down", "⚠ 8m 40s",
                 "!! 100 %", "! 84 %", "⊘ 4155", "⚠ 4 slow", "idle in transaction ⚠ 29",
                 "✖ 5,339", "⚠ 3,064"):
        assert mark in text


async def test_without_no_color_states_have_colour(tmp_path: Path) -> None:
    """The same screen in colour (so the test above can fail)."""
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        svg = app.export_screenshot()
    assert {c for c in colours(svg) if max(c) - min(c) > 8}


def test_config_check_reads_keys_against_the_bindings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "luckytui.toml"
    config.write_text('theme = "nord"\n[keys]\ndeclare = "W"\n')
    assert main(["--config", str(config), "config", "check"]) == 0
    config.write_text('[keys]\n"table-sort-reverse" = "r"\n')
    capsys.readouterr()
    assert main(["--config", str(config), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "keys.table-sort-reverse: 'r' is already Restart (restart) on the dashboard" in err
