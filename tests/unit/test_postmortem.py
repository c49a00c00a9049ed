"""The plan's post-mortem template, filled from a scripted incident on a real log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from luckytui.incident.model import RESOLUTION_CHECKLIST
from luckytui.incident.postmortem import render
from luckytui.incident.service import Incidents
from luckytui.mitigations.base import Change, Outcome, Plan
from luckytui.mitigations.runner import Mitigator
from luckytui.store import EventLog
from tests.conftest import ManualClock

TAIPEI = ZoneInfo("Asia/Taipei")
T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 11:00 in Taipei

# the plan's template headers, in its order
HEADERS = ["# Incident Post-Mortem: ", "## Summary", "## Timeline", "## Impact",
           "## Root Cause", "## Resolution", "## Lessons Learned", "### What Went Well",
           "### What Went Poorly", "## Action Items", "## Supporting Information"]


class Scale:
    name = "scale"
    summary = "scale a deployment"
    usage = "DEPLOYMENT REPLICAS"

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome

    async def plan(self, *args: str) -> Plan:
        raise NotImplementedError

    async def execute(self, plan: Plan) -> Outcome:
        return self.outcome


def scale_plan() -> Plan:
    return Plan(action="scale", title="Scale deployment luckygas-backend",
                target="deployment/luckygas-backend", identity={},
                changes=(Change("replicas", "3", "10"),),
                command="kubectl scale deployment luckygas-backend --replicas=10",
                args={"replicas": 10})


def at(clock: ManualClock, minutes: float) -> None:
    clock.t = (T0 + timedelta(minutes=minutes)).timestamp()


async def scripted(path: Path) -> str:
    """Alert 11:00, declared 11:02 (impact from 10:55), ack 11:04, identified 11:10, a
    failed and a good mitigation, Monitoring 11:20, resolved 11:33 (Taipei)."""
    clock = ManualClock(T0.timestamp())
    async with await EventLog.open(path, clock=clock.now) as log:
        svc = Incidents(log, "amy@jump")
        await log.append("alert.fired", {"alert": "NoOrdersProcessed", "severity": "critical",
                                         "summary": "no orders in 10 minutes"},
                         actor="luckytui")
        at(clock, 2)
        inc = await svc.declare("Orders failing", "P2", started_at=T0 - timedelta(minutes=5),
                                detected_at=T0, components=("order-worker", "orders-queue"))
        at(clock, 4)
        await svc.acknowledge()
        await svc.assign("IC", "Amy Chen")
        await svc.assign("TL", "Bob Lin")
        at(clock, 10)
        await svc.change_status("Identified")
        at(clock, 11)
        await svc.change_severity("P1")
        bob = Mitigator(log, "bob@jump", incident=lambda: inc.number)
        at(clock, 12)
        await bob.run(Scale(Outcome("failed", "exceeded quota")), scale_plan())
        at(clock, 15)
        await bob.run(Scale(Outcome("ok", "replicas 3 → 10")), scale_plan())
        at(clock, 16)
        await svc.record_sent("status", "🚨 INCIDENT UPDATE [P1]\nStatus: Identified")
        at(clock, 20)
        await svc.change_status("Monitoring")
        await svc.assign("IC", "Carol Wu")
        at(clock, 21)
        await svc.note("order-worker caught up\nqueue drained")
        at(clock, 33)
        await svc.resolve({item: item != RESOLUTION_CHECKLIST[4]
                           for item in RESOLUTION_CHECKLIST})
        await svc.record_clocks()
        inc = await svc.get(inc.number)
        return render(inc, await log.records(), tz=TAIPEI)


def section(text: str, header: str) -> str:
    start = text.index(f"\n{header}\n") + len(header) + 2
    nxt = re.search(r"^#{1,2} ", text[start:], re.M)
    return text[start:start + nxt.start()] if nxt else text[start:]


async def test_every_field_of_the_template_is_filled(tmp_path: Path) -> None:
    text = await scripted(tmp_path / "log.sqlite3")
    lines = text.splitlines()
    headers = [line for line in lines if line.startswith("#")]
    positions = [next(i for i, h in enumerate(headers) if h.startswith(want))
                 for want in HEADERS]
    assert positions == sorted(positions), headers  # the plan's order

    assert lines[0] == "# Incident Post-Mortem: Orders failing"
    assert "**Incident Number**: INC-2026-11-26-001" in lines
    assert "**Date**: 2026-11-26" in lines
    # 10:55 impact start to 11:33 resolution; 33 minutes from the detection at 11:00
    assert ("**Duration**: 38 minutes, from impact start to resolution "
            "(33 from detection)") in lines
    assert "**Severity**: P1 (declared P2)" in lines
    assert "**Author**: [Name]" in lines
    assert "Orders failing: P2 declared by amy@jump at 11:02, P1 from 11:11; affected " \
           "components: order-worker, orders-queue." in section(text, "## Summary")

    timeline = section(text, "## Timeline").splitlines()
    assert timeline[:5] == [
        "- 11:00 - Alert triggered (NoOrdersProcessed)",
        "- 11:04 - Engineer acknowledged (amy@jump)",
        "- 11:10 - Root cause identified (status Identified, amy@jump)",
        "- 11:20 - Fix deployed (status Monitoring, amy@jump)",
        "- 11:33 - Incident resolved (amy@jump)",
    ]
    assert "Times in CST (UTC+08:00)." in timeline
    full = section(text, "### Full timeline").splitlines()
    assert full[0] == "- 11:00:00 · luckytui · ▲ NoOrdersProcessed firing (critical): " \
                      "no orders in 10 minutes"
    assert full[1] == "- 11:02:00 · amy@jump · Declared P2: Orders failing"
    assert "- 11:21:00 · amy@jump · Note: order-worker caught up queue drained" in full
    assert any(line.startswith("- 11:12:00 · bob@jump · ✖ scale") for line in full)
    assert any(line.startswith("- 11:16:00 · amy@jump · Status update sent") for line in full)
    # what was sent, quoted under its line
    sent = full.index(next(line for line in full if "Status update sent" in line))
    assert full[sent + 1:sent + 3] == ["  > 🚨 INCIDENT UPDATE [P1]", "  > Status: Identified"]

    impact = section(text, "## Impact")
    for prompt in ("- **Customer Impact**: X customers affected",
                   "- **Data Loss**: None/Description", "- **Financial Impact**: $X",
                   "- **SLA Impact**: X% uptime"):
        assert prompt in impact
    assert "impact started 10:55, detected 11:00, declared 11:02" in impact
    assert "Detailed explanation of why this happened." in section(text, "## Root Cause")

    resolution = section(text, "## Resolution")
    assert resolution.startswith("How the incident was resolved.")
    assert ("- 11:12 · bob@jump · scale deployment/luckygas-backend: **failed** — "
            "exceeded quota") in resolution
    assert ("- 11:15 · bob@jump · scale deployment/luckygas-backend: **ok** — "
            "replicas 3 → 10") in resolution
    assert "- [x] Root cause identified" in resolution
    assert "- [ ] Data integrity verified (skipped)" in resolution
    assert "- MTTA (acknowledged − detected): 4m 00s — target < 5 min: met" in resolution
    assert "- MTTR (resolved − detected): 33m 00s — target < 30 min: missed" in resolution
    # acknowledged at 11:04 while P2 (P1 from 11:11): judged by P2's 30 minutes
    assert "- Response SLA (P2: acknowledge within 30 min): met" in resolution
    assert "- Status updates sent: 1 (11:16)" in resolution
    assert "- Customer notifications sent: 0" in resolution
    assert "- **IC** (Incident Commander): Amy Chen from 11:04, Carol Wu from 11:20" \
        in resolution
    assert "- **TL** (Technical Lead): Bob Lin from 11:04" in resolution
    assert "- **SCR** (Scribe): not assigned" in resolution

    # what only people know keeps the plan's prompts
    assert "### What Went Well\n- Item 1\n- Item 2" in text
    assert "| Add monitoring for X | @person | YYYY-MM-DD | Open |" in text
    assert text.rstrip().endswith("- [Link to code changes]")


async def test_an_open_incident_without_alert_or_status_changes(tmp_path: Path) -> None:
    """No alert: the detection stands in; no Monitoring: the first good mitigation is
    the fix; not resolved: ongoing, and the missing steps say so."""
    clock = ManualClock(T0.timestamp())
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=clock.now) as log:
        svc = Incidents(log, "amy@jump")
        # an alert attached to no incident, but long before this one's impact
        await log.append("alert.fired", {"alert": "Old"}, actor="luckytui")
        at(clock, 60)
        inc = await svc.declare("Login slow", "P3", detected_at=T0 + timedelta(minutes=58),
                                drill=True)
        bob = Mitigator(log, "bob@jump", incident=lambda: inc.number)
        at(clock, 62)
        await bob.run(Scale(Outcome("refused", "outside the bounds")), scale_plan())
        at(clock, 64)
        await bob.run(Scale(Outcome("ok", "replicas 3 → 10")), scale_plan())
        text = render(await svc.get(inc.number), await log.records(), tz=UTC,
                      author="Dana Lee")
    lines = text.splitlines()
    assert "**Date**: 2026-11-26" in lines and "**Author**: Dana Lee" in lines
    assert "**Duration**: ongoing (impact started 03:58)" in lines
    assert "**Severity**: P3" in lines and any(line.startswith("**Drill**: yes") for line in lines)
    assert section(text, "## Timeline").splitlines()[:5] == [
        "- 03:58 - Detected (no alert or failed check recorded; the declaration's detection "
        "time)",
        "- --:-- - Engineer acknowledged (not recorded)",
        "- --:-- - Root cause identified (not recorded)",
        "- 04:04 - Fix deployed (scale deployment/luckygas-backend, bob@jump)",
        "- --:-- - Incident resolved (not recorded)",
    ]
    assert "Times in UTC." in text
    assert "Old" not in text
    resolution = section(text, "## Resolution")
    assert "**refused** — outside the bounds" in resolution
    assert "- Not answered: the incident is not resolved." in resolution
    assert "MTTA (acknowledged − detected): not acknowledged" in resolution
    assert "MTTR (resolved − detected): ongoing" in resolution


async def test_the_date_is_the_day_of_detection_in_the_zone(tmp_path: Path) -> None:
    late = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # 04:00 on the 27th in Taipei
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=lambda: late) as log:
        svc = Incidents(log, "amy@jump")
        inc = await svc.declare("Cosmetic", "P4")
        records = await log.records()
    assert "**Date**: 2026-11-26" in render(inc, records, tz=UTC).splitlines()
    assert "**Date**: 2026-11-27" in render(inc, records, tz=TAIPEI).splitlines()


async def test_the_full_timeline_is_in_time_order_with_each_kind_true(tmp_path: Path) -> None:
    """A failed check started it (before the alert fired); a P1 drill; each step's line
    is the timeline's own; an undo names what it undid."""
    from luckytui.mitigations.runner import Undo, undo_of
    from luckytui.signals import describe

    clock = ManualClock(T0.timestamp())
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=clock.now) as log:
        svc = Incidents(log, "amy@jump")
        # recorded at 03:01, the check first failed at 03:00:30
        at(clock, 1)
        await log.append("endpoint.down", {"endpoint": "financial", "group": "analytics",
                                           "ordinal": 1, "status": 500, "error": "HTTP 500",
                                           "since": (T0 + timedelta(seconds=30)).isoformat()},
                         actor="room")
        # recorded at 03:03 (a late poll), it fired at 03:02 (pending from 02:57)
        at(clock, 3)
        await log.append("alert.fired", {"alert": "AnalyticsEndpointDown",
                                         "severity": "critical", "summary": "financial 500",
                                         "active_at": (T0 - 3 * timedelta(minutes=1))
                                         .isoformat(),
                                         "fired_at": (T0 + timedelta(minutes=2)).isoformat()},
                         actor="room")
        at(clock, 4)
        inc = await svc.declare("Analytics down", "P1", drill=True)
        at(clock, 5)
        await svc.acknowledge()
        await svc.assign("IC", "Amy Chen")
        mit = Mitigator(log, "bob@jump", incident=lambda: inc.number)
        at(clock, 6)
        await mit.run(Scale(Outcome("ok", "replicas 3 → 10")), scale_plan())
        first = (await log.records(kinds=("mitigation.intent", "mitigation.outcome")))
        at(clock, 7)
        back = Plan(action="scale", title="Scale deployment luckygas-backend",
                    target="deployment/luckygas-backend", identity={},
                    changes=(Change("replicas", "10", "3"),), command="kubectl scale",
                    args={"replicas": 3})
        undo = Undo(Back(Outcome("ok", "replicas 10 → 3"), back), undo_of(first[1], first[0]))
        await mit.run(undo, await undo.plan("luckygas-backend", "3"))
        at(clock, 8)
        await svc.change_severity("P2")
        await svc.record_sent("customer", "親愛的客戶您好，\n影響範圍：數據分析")
        at(clock, 9)
        await svc.resolve({item: True for item in RESOLUTION_CHECKLIST})
        inc = await svc.get(inc.number)
        records = await log.records()
        text = render(inc, records, tz=UTC)
    assert section(text, "## Timeline").splitlines()[0] == \
        "- 03:00 - Endpoint check failed (analytics/financial)"
    assert "Analytics down: P1 declared (drill) by amy@jump at 03:04, P2 from 03:08" in text
    full = section(text, "### Full timeline").splitlines()
    entries = [line for line in full if line.startswith("- ")]
    assert [e[2:10] for e in entries] == sorted(e[2:10] for e in entries)  # time order
    assert entries[0].startswith("- 03:00:30 · room · ▼ analytics/financial DOWN: HTTP 500")
    assert entries[1].startswith("- 03:02:00 · room · ▲ AnalyticsEndpointDown firing")
    assert entries[2] == "- 03:04:00 · amy@jump · Declared P1 (drill): Analytics down"
    assert "- 03:05:00 · amy@jump · Acknowledged" in entries
    assert "- 03:05:00 · amy@jump · IC: Amy Chen" in entries
    assert ("- 03:07:00 · bob@jump · ▶ undo of scale luckygas-backend 3→10: Scale deployment "
            "luckygas-backend (replicas 10 → 3)") in entries
    assert "- 03:08:00 · amy@jump · Severity P1 → P2" in entries
    assert "  > 影響範圍：數據分析" in full
    # one vocabulary: every entry is the timeline's line for its record
    by_time = {r.id: r for r in records}
    for r in by_time.values():
        if r.incident == inc.number:
            assert any(e.endswith(describe(r.kind, dict(r.data), tz=UTC).split("\n")[0])
                       for e in entries), r.kind
    assert "undo of scale luckygas-backend 3→10: scale deployment/luckygas-backend: **ok**" \
        in section(text, "## Resolution")



class Back(Scale):
    def __init__(self, outcome: Outcome, plan: Plan) -> None:
        super().__init__(outcome)
        self.back = plan

    async def plan(self, *args: str) -> Plan:
        return self.back
