"""The plan's metrics: MTTA and MTTR per incident, and the monthly report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from luckytui.incident.metrics import (
    incident_metrics,
    month_report,
    monthly,
    render_text,
    to_json,
)
from luckytui.incident.model import RESOLUTION_CHECKLIST, fold

NOV = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
TICKED = {"checklist": {item: "ticked" for item in RESOLUTION_CHECKLIST}}


@dataclass
class Rec:
    ts: datetime
    kind: str
    incident: str | None
    data: dict[str, Any] = field(default_factory=dict)
    actor: str = "amy@jump"


def declared(n: str, at: datetime, severity: str = "P2", *, detected: datetime | None = None,
             drill: bool = False) -> Rec:
    data: dict[str, Any] = {"title": f"incident {n}", "severity": severity, "drill": drill}
    if detected is not None:
        data["detected_at"] = detected.isoformat()
        data["started_at"] = detected.isoformat()
    return Rec(at, "incident.declared", n, data)


def minutes(m: float) -> timedelta:
    return timedelta(minutes=m)


def test_mtta_and_mttr_run_from_detection_against_the_targets() -> None:
    n = "INC-2026-11-10-001"
    detected = NOV - minutes(3)  # the alert came 3 minutes before the declaration
    records = [declared(n, NOV, detected=detected),
               Rec(NOV + minutes(1), "incident.acknowledged", n),
               Rec(detected + minutes(31), "incident.resolved", n, TICKED)]
    m = incident_metrics(fold(records)[n])
    assert m.mtta_s == 4 * 60 and m.mtta_met is True
    assert m.mttr_s == 31 * 60 and m.mttr_met is False
    assert not m.open


def test_targets_are_strict_and_missing_milestones_have_no_value() -> None:
    n = "INC-2026-11-10-001"
    records = [declared(n, NOV), Rec(NOV + minutes(5), "incident.acknowledged", n)]
    m = incident_metrics(fold(records)[n])
    assert m.mtta_s == 300 and m.mtta_met is False  # the target is under 5 minutes
    assert m.mttr_s is None and m.mttr_met is None and m.open
    records.append(Rec(NOV + timedelta(seconds=1799), "incident.resolved", n, TICKED))
    assert incident_metrics(fold(records)[n]).mttr_met is True
    unacked = incident_metrics(fold([declared(n, NOV)])[n])
    assert unacked.mtta_s is None and unacked.mtta_met is None


def scripted() -> list[Rec]:
    """November: three production incidents and two drills; October: one, detected
    late on the 31st and declared in November; December: one drill alone."""
    a, b, c = "INC-2026-11-10-001", "INC-2026-11-12-001", "INC-2026-11-20-001"
    d1, d2 = "INC-2026-11-03-001", "INC-2026-11-04-001"
    octo = "INC-2026-11-01-001"
    dec = "INC-2026-12-07-001"
    oct_detected = datetime(2026, 10, 31, 23, 50, tzinfo=UTC)
    return [
        declared(octo, oct_detected + minutes(20), "P1", detected=oct_detected),
        Rec(oct_detected + minutes(22), "incident.acknowledged", octo),
        Rec(oct_detected + minutes(25), "incident.resolved", octo, TICKED),
        declared(d1, datetime(2026, 11, 3, 9, 0, tzinfo=UTC), "P1", drill=True),
        Rec(datetime(2026, 11, 3, 9, 1, tzinfo=UTC), "incident.acknowledged", d1),
        declared(d2, datetime(2026, 11, 4, 9, 0, tzinfo=UTC), "P3", drill=True),
        # a: P1, acked in 2 min, resolved in 20 min; its clocks recorded
        declared(a, NOV, "P1"),
        Rec(NOV + minutes(2), "incident.acknowledged", a),
        Rec(NOV + minutes(2), "incident.clock", a,
            {"clock": "response", "result": "met", "due": "2026-11-10T03:15:00+00:00"}),
        Rec(NOV + minutes(16), "incident.clock", a,
            {"clock": "status_update", "result": "missed", "due": "2026-11-10T03:15:00+00:00"}),
        Rec(NOV + minutes(20), "incident.resolved", a, TICKED),
        # b: P2, acked in 10 min (target missed), still open
        declared(b, datetime(2026, 11, 12, 8, 0, tzinfo=UTC), "P2"),
        Rec(datetime(2026, 11, 12, 8, 10, tzinfo=UTC), "incident.acknowledged", b),
        Rec(datetime(2026, 11, 12, 8, 10, tzinfo=UTC), "incident.clock", b,
            {"clock": "response", "result": "met", "due": "2026-11-12T08:30:00+00:00"}),
        Rec(datetime(2026, 11, 12, 8, 12, tzinfo=UTC), "incident.clock", b,
            {"clock": "status_update", "result": "met", "due": "2026-11-12T08:15:00+00:00"}),
        # c: P2, never acknowledged, resolved after 40 min
        declared(c, datetime(2026, 11, 20, 1, 0, tzinfo=UTC), "P2"),
        Rec(datetime(2026, 11, 20, 1, 31, tzinfo=UTC), "incident.clock", c,
            {"clock": "response", "result": "missed", "due": "2026-11-20T01:30:00+00:00"}),
        Rec(datetime(2026, 11, 20, 1, 40, tzinfo=UTC), "incident.resolved", c, TICKED),
        declared(dec, datetime(2026, 12, 7, 9, 0, tzinfo=UTC), "P4", drill=True),
    ]


def test_monthly_report_counts_production_only_and_splits_by_month_of_detection() -> None:
    reports = monthly(fold(scripted()).values())
    assert [r.month for r in reports] == ["2026-12", "2026-11", "2026-10"]  # newest first
    dec, nov, octo = reports

    assert nov.count == 3 and [i.number for i in nov.incidents] == [
        "INC-2026-11-10-001", "INC-2026-11-12-001", "INC-2026-11-20-001"]
    assert nov.drills == ("INC-2026-11-03-001", "INC-2026-11-04-001")
    assert dict(nov.by_severity) == {"P1": 1, "P2": 2, "P3": 0, "P4": 0}  # drills not in it
    assert (nov.mtta_n, nov.mtta_mean_s, nov.mtta_met) == (2, 6 * 60, 1)  # 2 and 10 min
    assert (nov.mttr_n, nov.mttr_mean_s, nov.mttr_met) == (2, 30 * 60, 1)  # 20 and 40 min
    assert nov.open == 1 and nov.rate_met is False  # 3 is not under 2
    assert (nov.response_met, nov.response_missed) == (2, 1)
    assert (nov.updates_met, nov.updates_missed) == (1, 1)

    # detected on 31 October (UTC), declared on 1 November: an October incident
    assert octo.count == 1 and octo.incidents[0].number == "INC-2026-11-01-001"
    assert octo.mtta_mean_s == 22 * 60 and octo.mttr_mean_s == 25 * 60 and octo.rate_met

    # a month of drills alone has no figures at all
    assert dec.count == 0 and dec.drills == ("INC-2026-12-07-001",)
    assert dec.mtta_mean_s is None and dec.mttr_mean_s is None and dec.mtta_n == 0
    assert dec.open == 0 and sum(dec.by_severity.values()) == 0


def test_an_empty_month_is_all_zeros() -> None:
    r = month_report(fold(scripted()).values(), "2026-09")
    assert (r.count, r.drills, r.mtta_mean_s, r.mttr_mean_s, r.open) == (0, (), None, None, 0)
    assert r.rate_met


def test_text_states_the_definitions_and_marks_the_targets() -> None:
    text = render_text(monthly(fold(scripted()).values()), tz=UTC)
    lines = text.splitlines()
    assert lines[0].startswith("MTTA = acknowledged − detected (target < 5 min), "
                               "MTTR = resolved − detected (target < 30 min)")
    how = " ".join(lines[:3])
    assert "detected: when the first alert fired or the first endpoint check failed" in how
    assert "MTTA is the mean over those acknowledged, MTTR over those resolved" in how
    assert "drills are listed, never counted" in how and "(of detection, UTC)" in how
    nov = text[text.index("2026-11:"):text.index("2026-10:")]
    assert nov.startswith("2026-11: 3 incidents (rate target < 2: missed) · P1 1 · P2 2 "
                          "· P3 0 · P4 0 · 1 open · 2 drills not counted")
    assert "MTTA mean 6m 00s over 2 of 3 acknowledged, 1 of 2 under 5 min" in nov
    assert "MTTR mean 30m 00s over 2 of 3 resolved, 1 of 2 under 30 min" in nov
    assert "Response SLA 2 met, 1 missed" in nov and "Status page updates 1 met, 1 missed" in nov
    row = next(line for line in nov.splitlines() if "INC-2026-11-10-001" in line)
    assert "P1" in row and "2026-11-10 03:00" in row and "2m 00s ✓" in row
    assert "20m 00s ✓" in row and row.endswith("incident INC-2026-11-10-001")
    late = next(line for line in nov.splitlines() if "INC-2026-11-12-001" in line)
    assert "10m 00s ✖" in late and "open" in late
    never = next(line for line in nov.splitlines() if "INC-2026-11-20-001" in line)
    assert "40m 00s ✖" in never and "—" in never
    assert not any("INC-2026-11-03-001" in line for line in nov.splitlines()[1:])  # no row
    dec = text[text.index("2026-12:"):text.index("2026-11:")]
    assert "0 incidents" in dec and "1 drill not counted" in dec


def test_json_carries_the_same_figures() -> None:
    doc = to_json(monthly(fold(scripted()).values()))
    assert doc["targets"] == {"mtta_s": 300, "mttr_s": 1800, "incidents_per_month": 2}
    nov = doc["months"][1]
    assert nov["month"] == "2026-11" and nov["count"] == 3 and nov["rate_met"] is False
    assert nov["mtta"] == {"mean_s": 360, "n": 2, "met": 1}
    assert nov["drills"] == ["INC-2026-11-03-001", "INC-2026-11-04-001"]
    first = nov["incidents"][0]
    assert first["detected_at"] == "2026-11-10T03:00:00Z" and first["mttr_s"] == 1200
    assert nov["incidents"][1]["mttr_s"] is None and nov["incidents"][1]["mttr_met"] is None
