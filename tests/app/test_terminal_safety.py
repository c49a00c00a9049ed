"""Outside text never reaches the terminal as something it would obey.

Every string the sources answer (pod and deployment names, alert labels and summaries,
query texts, user and application names, endpoint names and errors), a note, an
incident title and a failing source's error carry a screen wipe, an OSC 52 clipboard
write, a bidirectional override, a carriage return and a C1 CSI. The war room is then
drawn, on the dashboard and on every screen that quotes them, and every character the
compositor would send is checked: none is a control character.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from textual.app import App

from luckytui.app import LuckyApp
from tests.app.frozen import snapshots_after
from tests.app.test_snapshots import all_loaded, frozen_app

HOSTILE = "\x1b[2J\x1b]52;c;ZXZpbA==\x07\u202egpj\r\x9b31m"
FORBIDDEN = {chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]} | {
    "\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"}
KEEP = {"state", "phase", "method", "backend_type", "wait_event_type"}  # decide styling


def poison(value: Any, field: str = "") -> Any:
    """``value`` with HOSTILE added to every string in it (dataclasses, tuples, dicts)."""
    if isinstance(value, str):
        return value if field in KEEP else value + HOSTILE
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: poison(getattr(value, f.name), f.name)
            for f in dataclasses.fields(value) if f.init})
    if isinstance(value, tuple):
        return tuple(poison(v, field) for v in value)
    if isinstance(value, dict) and field == "labels":
        return {k: poison(v) for k, v in value.items()}
    return value


def sent_to_terminal(app: App[Any]) -> str:
    """Every character of the current screen's full update, escape sequences aside."""
    update = app.screen._compositor.render_full_update()
    return "".join(seg.text for line in update.strips for strip in line for seg in strip
                   if not seg.control)


def assert_clean(app: App[Any], where: str) -> None:
    text = sent_to_terminal(app)
    found = FORBIDDEN & set(text)
    assert not found, f"{where}: {sorted(map(hex, map(ord, found)))} reached the terminal"
    assert "␛[2J" in text, f"{where}: the hostile text is not even shown"


async def test_hostile_outside_text_is_shown_never_obeyed(tmp_path: Path) -> None:
    data = snapshots_after(100)
    hostile = {name: poison(data[name]) for name in ("kube", "db", "endpoints", "alerts")}
    app = frozen_app(tmp_path, **hostile)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        assert isinstance(app, LuckyApp) and app.incidents is not None
        inc = await app.incidents.declare(f"orders down {HOSTILE}", "P1")
        await app.incidents.note(f"deploy rolled back {HOSTILE}", inc.number)
        await app._follow_log()
        await pilot.pause(0.3)
        assert_clean(app, "dashboard")
        for key, where in (("t", "full-screen timeline"), ("I", "incident list"),
                           ("question_mark", "help")):
            await pilot.press(key)
            await pilot.pause(0.3)
            if where != "help":
                assert_clean(app, where)
            else:  # the help lists keys only: nothing from outside, nothing to show
                assert not FORBIDDEN & set(sent_to_terminal(app)), where
            await pilot.press("escape")
            await pilot.pause(0.1)
        app.notify(f"scale failed: {HOSTILE}")  # an error message quoting an answer
        await pilot.pause(0.2)
        assert_clean(app, "notification")


def test_outside_text_in_textual_markup_reads_exactly_as_written() -> None:
    """Textual takes any [WORD] for a tag, upper case too: a remedy's usage
    `PID [BACKEND_START]` lost its argument, and a confirmation's equivalent command
    could lose a bracketed part. Each bracket is escaped, a backslash stays one."""
    from textual.content import Content

    from widgets.safe import markup_safe

    for raw in ("PID [BACKEND_START]", "terminate-long [AGE]", "[b]x[/b] [AGE]",
                "a\\[x]", "ends with \\", "[[x]]", "[@click=app.quit]run[/]",
                "psql -c 'SELECT a[1] FROM t'"):
        shown = Content.from_markup(f"[b]{markup_safe(raw)}[/b] [dim]after[/dim]")
        assert shown.plain.replace("\u2060", "") == f"{raw} after", raw
    assert Content.from_markup(markup_safe("\x1b[2J")).plain == "␛[2J"
