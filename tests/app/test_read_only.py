"""--read-only: nothing that changes production is offered, anywhere a user looks.

Not only refused: the footer, the `?` help and the command palette do not list the
remedies (scale, restart, cordon, emergency scale-up, undo, the remedies by name,
and the DB pane's cancel and terminate). Without --read-only they are all there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from luckytui.app import LuckyApp
from screens.help import HelpScreen
from tests.app.test_snapshots import all_loaded, frozen_app
from widgets.database import DatabasePane

# what the dashboard's and the DB pane's mutating keys are called
MUTATING = ("Scale", "Restart", "Cordon", "Remedies", "Undo", "Emergency scale-up")
DB_MUTATING = ("Cancel query", "Terminate")
HARMLESS = ("Declare", "Runbooks", "Keys")  # offered either way


def footer_labels(app: LuckyApp) -> set[str]:
    footer = app.screen.query_one(Footer)
    return {key.description for key in footer.query(FooterKey)}


async def help_text(app: LuckyApp, pilot: object) -> str:
    await pilot.press("question_mark")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    assert isinstance(app.screen, HelpScreen)
    text = str(app.screen.query_one(Static).render())
    await pilot.press("escape")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    return text


async def palette_entries(app: LuckyApp, pilot: object, query: str) -> list[str]:
    await pilot.press("ctrl+p")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)  # type: ignore[attr-defined]
    await pilot.pause(0.6)  # type: ignore[attr-defined]
    results = app.screen.query_one(CommandList)
    entries = [str(results.get_option_at_index(i).prompt)
               for i in range(results.option_count)]
    await pilot.press("escape")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    return entries


@pytest.mark.parametrize("read_only", [True, False])
async def test_read_only_lists_no_change_to_production(tmp_path: Path, read_only: bool) -> None:
    app = frozen_app(tmp_path, read_only=read_only)
    async with app.run_test(size=(240, 48)) as pilot:  # wide: every footer key fits
        await all_loaded(pilot)
        labels = footer_labels(app)
        assert set(HARMLESS) <= labels
        shown = {"Scale", "Restart", "Cordon", "Remedies"}  # the footer's, others in help
        assert (shown & labels == set()) if read_only else shown <= labels

        text = await help_text(app, pilot)
        for word in HARMLESS:
            assert word in text
        for word in MUTATING:
            assert (word not in text) if read_only else (word in text), word

        for query, needle in (("scale", "Scale the selected pod"), ("restart", "restart"),
                              ("cordon", "Cordon"), ("undo", "Undo the last remedy"),
                              ("remed", "Every remedy by name"),
                              ("outage", "complete-outage step")):
            entries = await palette_entries(app, pilot, query)
            found = [e for e in entries if needle.lower() in e.lower()]
            assert (found == []) if read_only else found, (query, entries)
        declare = await palette_entries(app, pilot, "declare")
        assert any("Declare an incident" in e for e in declare)

        # the DB pane's own keys: cancel and terminate a backend
        await pilot.press("2")
        await pilot.pause()
        assert app.focused is app.dashboard.query_one(DatabasePane).table
        labels = footer_labels(app)
        text = await help_text(app, pilot)
        for word in DB_MUTATING:
            assert (word not in labels) if read_only else (word in labels), word
            assert (word not in text) if read_only else (word in text), word


async def test_read_only_runbook_offers_its_remedy_steps_as_notes(tmp_path: Path) -> None:
    from textual.widgets import OptionList

    from screens.runbook import RunbookScreen

    app = frozen_app(tmp_path, read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        book = next(b for b in app.runbooks if b.id == "analytics-endpoint-down")
        remedy = next(i for i, s in enumerate(book.steps) if s.action)
        app.run_worker(app.remedy_flow.open_runbook(book))
        for _ in range(40):
            if isinstance(app.screen, RunbookScreen):
                break
            await pilot.pause(0.05)
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        steps = screen.query_one("#steps", OptionList)
        assert "read-only: remedies are not offered" in str(
            steps.get_option_at_index(remedy).prompt)
        steps.highlighted = remedy
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen is screen  # nothing planned, the runbook stays open


async def test_read_only_keeps_the_commands_that_change_nothing(tmp_path: Path) -> None:
    """A configured command declared to change nothing stays offered (key, footer,
    picker) and runs through the same confirm and records; the others are not listed."""
    import sys
    from dataclasses import replace

    from textual.widgets import OptionList

    from luckytui.mitigations.custom import CustomCommand
    from luckytui.mitigations.runner import INTENT, OUTCOME
    from luckytui.store import EventLog
    from screens.confirm import ConfirmScreen
    from screens.runbook import ActionPicker
    from tests.app.test_actions_flow import until

    app = frozen_app(tmp_path, read_only=True)
    app.settings = replace(app.settings, commands=(
        CustomCommand("queue-depth", "how deep the order queue is",
                      (sys.executable, "-c", "print('depth 3')"), mutating=False),
        CustomCommand("flush-queue", "drop the order queue",
                      (sys.executable, "-c", "print('flushed')"))))
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        assert "Remedies" in footer_labels(app)
        assert not {"Scale", "Undo"} & footer_labels(app)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ActionPicker))
        options = app.screen.query_one(OptionList)
        assert [o.id for o in options._options] == ["queue-depth"]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        await until(pilot, lambda: any("depth 3" in i.text for _, i in app._timeline))
    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        records = [r for r in await log.records() if r.kind.startswith("mitigation.")]
    assert [r.kind for r in records] == [INTENT, OUTCOME]
    assert records[1].data["status"] == "ok" and records[1].data["action"] == "queue-depth"
