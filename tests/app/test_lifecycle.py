"""An incident from start to post-mortem, from the keyboard, on the simulated production.

The financial analytics endpoint breaks; the war room sees it go down and the alert
fire; the operator declares (the decision tree suggests P2), acknowledges, hands out
roles, marks the cause identified, runs the plan's remedy from the runbook, sends a
status update (clipboard over OSC 52, recorded), resolves with the checklist and
writes the post-mortem from the full-screen timeline.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, RadioSet

from luckytui.app import LuckyApp
from luckytui.config import load_settings
from luckytui.sim.runner import Simulation
from luckytui.store import EventLog
from screens.composer import ComposerScreen
from screens.confirm import ConfirmScreen
from screens.incident import DeclareScreen, ResolveScreen
from screens.incidents import ResolveAnywayScreen
from screens.runbook import RunbookScreen
from screens.steps import ChoiceScreen, RolesScreen
from screens.timeline import TimelineScreen
from tests.app.test_actions_flow import until
from widgets.alerts import AlertsPane
from widgets.banner import Banner


async def test_incident_from_declaration_to_post_mortem(
        sim: Simulation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the post-mortem is written to the current directory
    monkeypatch.delenv("TMUX", raising=False)  # the terminal takes the copy (see test_clipboard)
    sim.model.alert_rules[1].for_s = 0  # AnalyticsEndpointDown fires as soon as it is true
    sim.model.begin("analytics")
    settings = load_settings(sim.config_path).with_overrides(refresh=0.5)
    app = LuckyApp(settings, log_path=tmp_path / "log.sqlite3", actor="amy@jump")
    async with app.run_test(size=(160, 48)) as pilot:
        alerts = app.dashboard.query_one(AlertsPane)
        await until(pilot, lambda: alerts.snapshot is not None and any(
            a.state == "firing" for a in alerts.snapshot.alerts) and bool(app.actions))
        # two failed probes in a row: the endpoint is down, on the timeline
        await until(pilot, lambda: any(i.kind == "endpoint.down" for _, i in app._timeline))
        assert any("▼ analytics/financial DOWN" in i.text for _, i in app._timeline)

        # declare: the decision tree, answered from the signals, suggests P2
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, DeclareScreen))
        declare = app.screen
        assert isinstance(declare, DeclareScreen) and declare.triage is not None
        assert declare.triage.suggested == "P2"
        # one analytics endpoint down: the plan's P2 example, not orders failing
        analytics = next(a for a in declare.triage.answers if a.key == "analytics")
        assert analytics.answer is True and "analytics/financial" in analytics.why
        assert next(a for a in declare.triage.answers if a.key == "orders").answer is False
        pressed = declare.query_one("#severity", RadioSet).pressed_button
        assert pressed is not None and pressed.id == "sev-P2"  # pre-selected, not imposed
        assert "analytics/financial" in declare.query_one("#components", Input).value
        title = declare.query_one("#title", Input)
        title.value = "Financial analytics answers 500"
        await pilot.press("enter")
        await until(pilot, lambda: app.active_incident is not None)
        inc = app.active_incident
        assert inc is not None and inc.severity == "P2"
        assert "analytics/financial" in inc.components
        # MTTA counts from the first failed check or the alert's firing, as the form said
        async with await EventLog.open(tmp_path / "log.sqlite3") as events:
            signals = await events.records(kinds=("alert.fired", "endpoint.down"))
        starts = [datetime.fromisoformat(r.data["fired_at"] if r.kind == "alert.fired"
                                         else r.data["since"]) for r in signals]
        assert inc.detected == declare.triage.detected_at and inc.detected in starts
        # its timeline starts with the signals that led to it
        items, _ = app.timeline_items()
        assert any(i.kind == "endpoint.down" for i in items)

        # the response clock runs in the banner until acknowledged
        await pilot.pause(0.1)
        banner = app.dashboard.query_one(Banner).render().plain
        assert "ack in " in banner and "status page in " in banner
        await pilot.press("a")
        await until(pilot, lambda: app.active_incident is not None
                    and app.active_incident.acknowledged_at is not None)

        # roles, then the cause is identified
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, RolesScreen))
        app.screen.query_one("#role-IC", Input).value = "amy"
        app.screen.query_one("#role-TL", Input).value = "bob"
        await pilot.click("#assign")
        await until(pilot, lambda: app.active_incident is not None
                    and dict(app.active_incident.roles) == {"IC": "amy", "TL": "bob"})
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("down", "enter")  # Investigating → Identified
        await until(pilot, lambda: app.active_incident is not None
                    and app.active_incident.status == "Identified")

        # the plan's remedy, from the firing alert's runbook
        await pilot.press("4", "enter")
        await until(pilot, lambda: isinstance(app.screen, RunbookScreen))
        await pilot.press("down", "down", "enter")  # step 3: run the aggregation now
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        await until(pilot, lambda: any(i.kind == "mitigation.outcome"
                                       for n, i in app._timeline if n == inc.number))

        # the status update: the plan's template, filled in, copied and recorded
        assert app._driver is not None
        written: list[str] = []
        original = app._driver.write
        app._driver.write = lambda data: (written.append(data), original(data))[1]  # type: ignore[method-assign]
        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, ComposerScreen))
        await pilot.pause(0.1)
        text = app.screen.query_one("TextArea").text  # type: ignore[attr-defined]
        lines = text.splitlines()
        assert lines[0] == "🚨 INCIDENT UPDATE [P2]"
        assert lines[1] == "Status: Identified"
        assert lines[2] == "Impact: Some analytics dashboards unavailable"
        assert lines[3].startswith("Current Action: ") and "analytics-aggregation" in lines[3]
        assert lines[4].startswith("Next Update: ")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.active_incident is not None
                    and len(app.active_incident.updates_sent) == 1)
        assert app.clipboard == text
        osc52 = f"\x1b]52;c;{base64.b64encode(text.encode()).decode()}\a"
        assert osc52 in written

        # resolve with the checklist (asked first if production still says otherwise)
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ResolveScreen | ResolveAnywayScreen))
        if isinstance(app.screen, ResolveAnywayScreen):
            assert app.screen.question.startswith("Still ")
            assert app.screen.question.endswith(" Resolve anyway?")
            await pilot.click("#yes")
            await until(pilot, lambda: isinstance(app.screen, ResolveScreen))
        for box in app.screen.query(Checkbox):
            box.value = True
        await pilot.click("#resolve")
        await until(pilot, lambda: app.active_incident is None)

        # the full-screen timeline, and the post-mortem from it
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        await pilot.press("P")
        path = tmp_path / f"{inc.number}-postmortem.md"
        await until(pilot, path.exists)

    post = path.read_text()
    assert post.startswith("# Incident Post-Mortem: Financial analytics answers 500")
    assert f"**Incident Number**: {inc.number}" in post
    assert "**Severity**: P2" in post
    first = "Alert triggered" if "Alert triggered" in post else "Endpoint check failed"
    for step in (first, "Engineer acknowledged", "Root cause identified",
                 "Fix deployed", "Incident resolved"):
        line = next(ln for ln in post.splitlines() if step in ln)
        assert "not recorded" not in line, line
    assert "run-job" in post or "analytics-aggregation" in post
    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        kinds = [r.kind for r in await log.records(incident=inc.number)]
        assert (await log.verify()).ok
    for kind in ("incident.declared", "incident.acknowledged", "incident.role",
                 "incident.status", "mitigation.intent", "mitigation.outcome",
                 "incident.update_sent", "incident.resolved", "incident.clock"):
        assert kind in kinds, kind
