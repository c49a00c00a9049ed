"""The composer: the plan's text, edited, then sent back (or cancelled)."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult
from textual.widgets import Static, TextArea

from luckytui.incident.model import fold
from luckytui.incident.templates import customer_notice, status_update
from screens.composer import EMPTY_HINT, ComposerScreen, final_text

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
N = "INC-2026-11-26-001"


class Rec:
    def __init__(self, severity: str) -> None:
        self.ts, self.kind, self.actor, self.incident = T0, "incident.declared", "amy", N
        self.data = {"title": "Orders failing", "severity": severity}


UPDATE = status_update(fold([Rec("P2")])[N], impact="Orders cannot be placed",
                       action="Scaling the backend", next_update=T0, tz=UTC)


class ComposerApp(App[None]):
    def __init__(self, screen: ComposerScreen) -> None:
        super().__init__()
        self.composer = screen
        self.results: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield Static("war room")

    def on_mount(self) -> None:
        self.push_screen(self.composer, self.results.append)


async def test_edit_and_send() -> None:
    screen = ComposerScreen.status_update(fold([Rec("P2")])[N], UPDATE)
    app = ComposerApp(screen)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert app.screen is screen
        title = screen.query_one(".title", expect_type=Static).render()
        assert f"Status update — {N} P2" in str(title)
        assert "OSC 52" in str(screen.query_one(".hint", expect_type=Static).render())
        area = screen.query_one("#text", TextArea)
        assert app.focused is area  # editing starts at once, the cursor at the end
        await pilot.press(*" (scaled to 10)  ", "enter")  # trailing space and line dropped
        await pilot.click("#send")
        await pilot.pause()
        assert app.screen is not screen
    assert app.results == [UPDATE + " (scaled to 10)"]


async def test_ctrl_s_sends_the_notice() -> None:
    text = customer_notice(impact="線上訂購", eta="12:30")
    screen = ComposerScreen.customer_notice(fold([Rec("P1")])[N], text)
    app = ComposerApp(screen)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert "Customer notice (P1)" in str(screen.query_one(".title", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [text]


async def test_escape_and_cancel_return_none() -> None:
    for how in ("escape", "cancel"):
        screen = ComposerScreen(UPDATE, title="Status update")
        app = ComposerApp(screen)
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            await pilot.press("x")
            if how == "escape":
                await pilot.press("escape")
            else:
                await pilot.click("#cancel")
            await pilot.pause()
            assert app.screen is not screen
        assert app.results == [None], how


async def test_empty_text_is_refused_with_a_hint() -> None:
    screen = ComposerScreen(UPDATE, title="Status update")
    app = ComposerApp(screen)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen.query_one("#text", TextArea).text = "  \n \n"
        await pilot.click("#send")
        await pilot.pause()
        assert app.screen is screen and app.results == []
        assert EMPTY_HINT in str(screen.query_one("#problem", Static).render())
        assert app.focused is screen.query_one("#text", TextArea)
        await pilot.press(*"hello")
        await pilot.pause()
        assert str(screen.query_one("#problem", Static).render()) == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == ["hello"]


def test_final_text_strips_trailing_spaces() -> None:
    assert final_text("\n a  \nb\t\n\n") == " a\nb"
