"""Resolved incidents stay reachable: the incident list, each incident's timeline from
the log, its post-mortem; and the question before resolving what still fails."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.widgets import Checkbox, Label

from luckytui.app import LuckyApp
from luckytui.store import EventLog
from screens.help import HelpScreen
from screens.incident import ResolveScreen
from screens.incidents import IncidentListScreen, ResolveAnywayScreen
from screens.timeline import TimelineScreen
from tests.app.frozen import snapshots_after
from tests.app.test_actions_flow import until
from tests.app.test_snapshots import all_loaded, frozen_app

QUESTION = ("Still firing: AnalyticsEndpointDown (critical). Still failing: "
            "analytics/financial. Resolve anyway?")


async def declare(app: LuckyApp, title: str, severity: str = "P2") -> str:
    assert app.incidents is not None
    inc = await app.incidents.declare(title, severity)
    await app._follow_log()
    assert app.active_incident is not None and app.active_incident.number == inc.number
    return inc.number


def row(screen: IncidentListScreen, number: str) -> list[str]:
    return [str(c) for c in screen.table.get_row(number)]


async def resolve_with_keys(app: LuckyApp, pilot: Any, *, anyway: bool) -> None:
    await pilot.press("R")
    if anyway:
        await until(pilot, lambda: isinstance(app.screen, ResolveAnywayScreen))
        await pilot.click("#yes")
    await until(pilot, lambda: isinstance(app.screen, ResolveScreen))
    app.screen.query_one("#item-0", Checkbox).value = True
    await pilot.click("#resolve")
    await until(pilot, lambda: app.active_incident is None)


async def test_resolve_while_production_still_fails_asks_first(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        number = await declare(app, "Financial analytics answers 500")
        for no in ("enter", "escape"):  # No is focused, Esc is No too
            await pilot.press("R")
            await until(pilot, lambda: isinstance(app.screen, ResolveAnywayScreen))
            question = app.screen.query_one("#question", Label)
            assert str(question.render()) == QUESTION
            assert app.focused is not None and app.focused.id == "no"
            await pilot.press(no)
            await until(pilot, lambda: app.screen is app.dashboard)
            assert app.active_incident is not None and app.active_incident.number == number
        await resolve_with_keys(app, pilot, anyway=True)
        assert app.event_log is not None
        kinds = [r.kind for r in await app.event_log.records(incident=number)]
        assert kinds.count("incident.resolved") == 1


async def test_resolve_when_production_is_healthy_goes_to_the_checklist(
        tmp_path: Path) -> None:
    data = snapshots_after(100)
    endpoints = data["endpoints"]
    healthy = replace(endpoints, endpoints=tuple(
        replace(e, ok=True, status=200, error=None) for e in endpoints.endpoints))
    alerts = data["alerts"]
    warning_only = replace(alerts, alerts=tuple(a for a in alerts.alerts
                                                if a.severity != "critical"))
    app = frozen_app(tmp_path, endpoints=healthy, alerts=warning_only)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await declare(app, "Slow API")
        await resolve_with_keys(app, pilot, anyway=False)


async def test_resolved_incident_reachable_from_the_list(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # post-mortems are written to the current directory
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        first = await declare(app, "Financial analytics answers 500")
        assert app.incidents is not None
        await app.incidents.acknowledge(first)
        await app.incidents.note("aggregation job rerun", first)
        await app._follow_log()
        await resolve_with_keys(app, pilot, anyway=True)
        second = await declare(app, "Orders stuck in pending", "P1")

        await pilot.press("I")
        await until(pilot, lambda: isinstance(app.screen, IncidentListScreen))
        listing = app.screen
        assert isinstance(listing, IncidentListScreen)
        assert listing.table.row_keys() == [second, first]  # newest first
        assert row(listing, first)[:4] == [first, "P2", "Resolved",
                                           "Financial analytics answers 500"]
        assert row(listing, first)[5:] == ["0m 00s", "0m 00s"]  # MTTA, MTTR (frozen clock)
        assert row(listing, second)[1:3] == ["P1", "Investigating"]
        assert row(listing, second)[5:] == ["—", "—"]

        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen) and not timeline.live
        assert f"{first} · P2 · Resolved" in timeline.header.text.plain
        assert app.event_log is not None
        own = [r for r in await app.event_log.records() if r.incident == first]
        shown = timeline.shown_ids
        assert [r.id for r in own] == [i for i in shown if i in {r.id for r in own}]
        texts = [str(timeline.table.get_row(str(i))[3]) for i in shown]
        assert any("aggregation job rerun" in t for t in texts)
        assert {r.kind for r in own} >= {"incident.declared", "incident.acknowledged",
                                         "incident.note", "incident.resolved"}
        # the alerts that led to it are there; the next incident's records are not
        assert any("AnalyticsEndpointDown" in t for t in texts)
        assert not {r.id for r in await app.event_log.records(incident=second)} & set(shown)
        # read-only: no note key; the live timeline's new records do not replace it
        assert timeline.check_action("note", ()) is False
        await app.incidents.note("still on it", second)
        await app._follow_log()
        await pilot.pause()
        assert timeline.shown_ids == shown

        await pilot.press("P")
        path = tmp_path / f"{first}-postmortem.md"
        await until(pilot, path.exists)
        assert path.read_text().startswith(
            "# Incident Post-Mortem: Financial analytics answers 500")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is listing)
        await pilot.press("P")  # from the list: the selected one, never over the first file
        again = tmp_path / f"{first}-postmortem-2.md"
        await until(pilot, again.exists)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard)

    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        assert (await log.verify()).ok


async def test_incident_list_in_help_and_palette(tmp_path: Path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "Incidents" in str(app.screen.query_one("Static").render())
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Every incident")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, IncidentListScreen))
        listing = app.screen
        assert isinstance(listing, IncidentListScreen)
        assert "none in the log yet" in listing.header.text.plain
        assert listing.table.row_count == 0
