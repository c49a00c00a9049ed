"""The catalogue of event kinds, and what reads it: the signals' one-line descriptions,
the timeline's colours and filters, the post-mortem's incident starters."""

from __future__ import annotations

from datetime import UTC

from luckytui import events
from luckytui.events import (
    ACTIONS,
    COMMS,
    INCIDENT,
    KINDS,
    NOTES,
    SIGNALS,
    STATUS_UPDATE_CLOCK,
    feeding,
    group_of,
    lookup,
    style_of,
)
from luckytui.incident.postmortem import STARTERS
from luckytui.signals import DESCRIBERS, describe
from screens.timeline import KIND_FILTERS, kind_matches

SAMPLE: dict[str, dict[str, object]] = {
    "alert.fired": {"alert": "ApiDown", "severity": "critical", "summary": "5xx"},
    "alert.resolved": {"alert": "ApiDown"},
    "endpoint.down": {"endpoint": "health", "group": "api", "status": 503},
    "endpoint.up": {"endpoint": "health", "down_for_s": 190},
    "endpoint.flapping": {"endpoint": "health", "flaps": 3},
    "endpoint.stable": {"endpoint": "health", "flaps": 4, "state": "down", "error": "timeout"},
    "incident.declared": {"severity": "P2", "title": "API down", "drill": True},
    "incident.acknowledged": {},
    "incident.severity": {"old": "P3", "new": "P1"},
    "incident.status": {"old": "Investigating", "new": "Identified"},
    "incident.role": {"role": "IC", "name": "ana", "previous": "bo"},
    "incident.note": {"text": "rolled back"},
    "incident.update_sent": {"next_update": "2026-11-26T03:30:00Z"},
    "incident.notice_sent": {},
    "incident.clock": {"clock": "response", "result": "missed", "due": "2026-11-26T03:15:00Z"},
    "incident.resolved": {"checklist": {"a": "ticked", "b": "skipped"}},
    "runbook.step": {"title": "DB pool", "step": 0, "text": "check pool", "ticked": True},
    "mitigation.intent": {"action": "scale", "target": "luckygas-backend"},
    "mitigation.outcome": {"action": "scale", "target": "luckygas-backend", "status": "ok"},
    "mitigation.refused": {"action": "scale", "args": ["x", "99"], "reason": "over the bound"},
    "drill.started": {"drill_id": "ab12", "scenario": "database-failure",
                      "title": "Database failure", "expected_severity": "P1", "speed": 10.0,
                      "right": ["terminate-long"], "harmful": ["scale order-worker"]},
    "drill.recovered": {"drill_id": "ab12", "scenario": "database-failure"},
    "drill.stopped": {"drill_id": "ab12", "scenario": "database-failure", "recovered": False},
}
WANT = {
    "alert.fired": "▲ ApiDown firing (critical): 5xx",
    "alert.resolved": "✓ ApiDown resolved",
    "endpoint.down": "▼ api/health DOWN: HTTP 503",
    "endpoint.up": "▲ health back up after 3m 10s",
    "endpoint.flapping": "↯ health FLAPPING: down 3 times; one line until it is stable",
    "endpoint.stable": "▼ health stable after 4 flaps: DOWN: timeout",
    "incident.declared": "Declared P2 (drill): API down",
    "incident.acknowledged": "Acknowledged",
    "incident.severity": "Severity P3 → P1",
    "incident.status": "Status Investigating → Identified",
    "incident.role": "IC: ana (was bo)",
    "incident.note": "Note: rolled back",
    "incident.update_sent": "Status update sent (next by 03:30)",
    "incident.notice_sent": "Customer notice sent",
    "incident.clock": "⏱ Ack SLA MISSED (due 03:15)",
    "incident.resolved": "Resolved (1 of 2 checklist items ticked)",
    "runbook.step": "☑ DB pool: step 1, check pool",
    "mitigation.refused": "⊘ scale x 99 refused: over the bound",
    "drill.started": "DRILL started: Database failure (expected P1, 10x speed)",
    "drill.recovered": "DRILL database-failure: production has recovered (every fault is over)",
    "drill.stopped": "DRILL database-failure stopped before production recovered",
}


def test_every_catalogued_kind_has_its_own_line() -> None:
    assert set(DESCRIBERS) == set(KINDS) == set(SAMPLE)
    for kind, data in SAMPLE.items():
        line = describe(kind, dict(data), tz=UTC)
        assert not line.startswith(kind), f"{kind} fell through to the generic line"
        if kind in WANT:
            assert line == WANT[kind]
        if KINDS[kind].icon:
            assert KINDS[kind].icon in line
    assert describe("something.else", {"text": "as is"}) == "something.else as is"


def test_groups_filters_and_short_names() -> None:
    assert group_of("incident.note") == NOTES
    assert group_of("incident.update_sent") == COMMS
    assert group_of("endpoint.flapping") == SIGNALS
    assert group_of("runbook.step") == ACTIONS
    assert group_of("incident.something_new") == INCIDENT  # by its family
    assert group_of("weather.report") is None
    assert lookup("note") is KINDS["incident.note"]
    assert lookup("mitigation") is KINDS["mitigation.intent"]
    filters = dict(KIND_FILTERS)
    assert kind_matches("incident.note", filters["Incident"])
    assert kind_matches("incident.note", filters["Notes"])
    assert not kind_matches("incident.note", filters["Comms"])
    assert kind_matches("weather.report", filters["All"])
    assert not any(kind_matches("weather.report", g) for n, g in KIND_FILTERS if n != "All")


def test_timeline_colours() -> None:
    assert style_of("incident.declared") == style_of("declared") == "bold magenta"
    assert style_of("incident.resolved") == "bold green"
    assert style_of("mitigation") == style_of("mitigation.outcome") == "magenta"
    assert style_of("alert.fired") == "red"
    assert style_of("incident.note") == style_of("weather.report") == ""


def test_what_feeds_the_clocks_and_metrics() -> None:
    assert STARTERS == events.DETECTION_KINDS == (
        "alert.fired", "endpoint.down", "endpoint.flapping")
    assert "incident.update_sent" in feeding(clock=STATUS_UPDATE_CLOCK)
    assert "incident.acknowledged" in feeding(metric=events.MTTA)
    assert "incident.acknowledged" not in feeding(metric=events.MTTR)
    assert "incident.resolved" in feeding(metric=events.MTTR)
