"""Dialogs say what they mean: the way back is always "Back", the change is named by
what it does, a typed confirmation takes the typing, ticks read without colour."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Button

from luckytui.incident.model import RESOLUTION_CHECKLIST
from luckytui.mitigations.base import Change, Plan
from screens.composer import ComposerScreen
from screens.confirm import GO_LABELS, ConfirmScreen
from screens.incident import DeclareScreen, ResolveScreen
from screens.steps import RolesScreen
from tests.app.test_widgets import screen_text


class Host(App[Any]):
    def __init__(self) -> None:
        super().__init__()
        self.answers: list[Any] = []

    def open(self, screen: Screen[Any]) -> None:
        self.push_screen(screen, self.answers.append)


def plan(action: str, title: str, typed: str | None = None) -> Plan:
    return Plan(action=action, title=title, target="backend/4242",
                identity={"pid": "4242"}, changes=(Change("backend 4242", "active", "idle"),),
                command="SELECT pg_cancel_backend(4242);", args={"pid": 4242},
                typed_confirmation=typed)


def labels(screen: Screen[Any]) -> list[str]:
    return [str(b.label) for b in screen.query(Button)]


async def test_cancelling_a_query_is_not_worded_like_going_back() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open(ConfirmScreen(plan("cancel", "Cancel backend 4242 (app, report, prod)")))
        await pilot.pause()
        text = screen_text(app)
        assert "Stop the running query of backend 4242 (app, report, prod)?" in text
        assert "Cancel" not in text
        assert labels(app.screen) == ["Back", "Stop query 4242"]
        assert app.focused is not None and app.focused.id == "cancel"  # Back by default
        await pilot.press("enter")
        assert app.answers == [False]


@pytest.mark.parametrize("action", [*sorted(GO_LABELS), "my-script"])
async def test_every_confirmation_names_its_change(action: str) -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        title = "Cancel backend 4242 (x)" if action == "cancel" else f"Do {action}"
        app.open(ConfirmScreen(plan(action, title)))
        await pilot.pause()
        back, go = labels(app.screen)
        assert back == "Back"
        assert go not in ("Back", "Cancel", "Confirm", "OK") and "Cancel" not in go
        assert app.focused is not None and app.focused.id == "cancel"


async def test_typed_confirmation_takes_the_typing_at_once() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open(ConfirmScreen(plan("terminate-long", "Terminate 3 sessions", "luckygas_prod")))
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "typed"
        go = app.screen.query_one("#confirm", Button)
        await pilot.press(*"luckygas_pro", "enter")  # not the name yet: nothing happens
        await pilot.pause()
        assert go.disabled and app.answers == []
        await pilot.press("d")
        await pilot.pause()
        assert not go.disabled
        await pilot.press("enter")
        await pilot.pause()
        assert app.answers == [True]


async def test_escape_goes_back_from_a_typed_confirmation() -> None:
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        app.open(ConfirmScreen(plan("emergency-scale", "Emergency scale-up", "luckygas")))
        await pilot.pause()
        await pilot.press(*"luckygas", "escape")
        await pilot.pause()
        assert app.answers == [False]


@pytest.mark.parametrize("make", [
    lambda: DeclareScreen(),
    lambda: ResolveScreen("INC-1", "Orders failing"),
    lambda: RolesScreen("INC-1", {}, "amy"),
    lambda: ComposerScreen("text", title="Status update"),
])
async def test_every_form_goes_back_the_same_way(make: Any) -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open(make())
        await pilot.pause()
        back, go = labels(app.screen)
        assert back == "Back" and go not in ("Back", "Cancel")
        await pilot.click("#cancel")
        await pilot.pause()
        assert app.answers == [None]


async def test_resolution_checklist_ticks_read_without_colour() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open(ResolveScreen("INC-1", "Orders failing"))
        await pilot.pause()
        text = screen_text(app)
        for item in RESOLUTION_CHECKLIST:
            assert f"☐ {item}" in text
        app.screen.query_one("#item-1").focus()
        await pilot.press("space")
        await pilot.pause()
        text = screen_text(app)
        assert f"☑ {RESOLUTION_CHECKLIST[1]}" in text
        assert f"☐ {RESOLUTION_CHECKLIST[0]}" in text
        await pilot.click("#resolve")
        await pilot.pause()
        assert app.answers == [{item: i == 1 for i, item in enumerate(RESOLUTION_CHECKLIST)}]


async def test_the_suggested_severity_reads_without_colour() -> None:
    from luckytui.incident.triage import triage

    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open(DeclareScreen(triage(None, None)))
        await pilot.pause()
        suggested = app.screen.triage.suggested  # type: ignore[attr-defined]
        marks = {sev: mark for ln in screen_text(app).splitlines()
                 for mark in "◉○" for sev in ("P1", "P2", "P3", "P4")
                 if f"{mark} {sev}  " in ln}
        assert marks == {sev: "◉" if sev == suggested else "○"
                         for sev in ("P1", "P2", "P3", "P4")}
        assert "☐ Drill" in screen_text(app)
