"""The plan's messages: the status update template and the P1 customer notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from luckytui.config import CUSTOMER_NAMES, ConfigError, parse_settings
from luckytui.incident import clocks
from luckytui.incident.model import Incident, fold
from luckytui.incident.service import Incidents
from luckytui.incident.templates import (
    DEFAULT_ACTION,
    current_action,
    customer_impact,
    customer_notice,
    default_impact,
    default_next_update,
    format_time,
    impact,
    notice_allowed,
    status_update,
)
from luckytui.incident.triage import triage
from luckytui.snapshots import Alert, AlertsSnapshot, EndpointResult, EndpointsSnapshot
from luckytui.store import EventLog

ANALYTICS = ("executive", "operations", "financial", "performance")

# The plan, "4. Communication", copied verbatim: the reference the output is held to.
PLAN_UPDATE_TEMPLATE = """\
🚨 INCIDENT UPDATE [P<severity>]
Status: <Investigating|Identified|Monitoring|Resolved>
Impact: <customer impact description>
Current Action: <what we're doing>
Next Update: <time>"""
PLAN_CUSTOMER_NOTIFICATION = """\
Subject: LuckyGas 服務異常通知

親愛的客戶您好，

我們目前遇到技術問題，可能影響您的服務使用。我們的團隊正在積極處理中。

影響範圍：[具體說明]
預計修復時間：[時間]

造成您的不便，我們深感抱歉。最新狀態請參考：status.luckygas.com.tw

LuckyGas 技術團隊"""

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
TAIPEI = timezone(timedelta(hours=8), "CST")
N = "INC-2026-11-26-001"


@dataclass
class Rec:
    ts: datetime
    kind: str
    incident: str | None
    data: dict[str, Any] = field(default_factory=dict)
    actor: str = "amy@jump"
    id: int = 0


def incident(severity: str = "P2", *, at: datetime = T0, extra: list[Rec] | None = None,
             components: tuple[str, ...] = ("luckygas-backend",)) -> Incident:
    records = [Rec(at, "incident.declared", N,
                   {"title": "Orders failing", "severity": severity,
                    "components": list(components)}), *(extra or [])]
    return fold(records)[N]


def expected_update(severity: str, status: str, impact: str, action: str, time: str) -> str:
    """The plan's template with its placeholders filled, field by field."""
    text = PLAN_UPDATE_TEMPLATE
    for placeholder, value in (("<severity>", severity.removeprefix("P")),
                               ("<Investigating|Identified|Monitoring|Resolved>", status),
                               ("<customer impact description>", impact),
                               ("<what we're doing>", action), ("<time>", time)):
        assert placeholder in text
        text = text.replace(placeholder, value)
    return text


# -- the status update -------------------------------------------------------------------

def test_status_update_is_the_plans_template_line_by_line() -> None:
    inc = incident("P2")
    text = status_update(inc, impact="Orders cannot be placed", action="Scaling the backend",
                         next_update=T0 + timedelta(minutes=45), tz=UTC)
    assert text == expected_update("P2", "Investigating", "Orders cannot be placed",
                                   "Scaling the backend", "03:45 UTC")
    lines = text.split("\n")
    assert lines == [
        "🚨 INCIDENT UPDATE [P2]",
        "Status: Investigating",
        "Impact: Orders cannot be placed",
        "Current Action: Scaling the backend",
        "Next Update: 03:45 UTC",
    ]
    assert "PP2" not in text and not text.endswith("\n")
    # each line starts as the plan's does
    for got, ref in zip(lines, PLAN_UPDATE_TEMPLATE.split("\n"), strict=True):
        assert got.startswith(ref.split("<")[0])


@pytest.mark.parametrize("severity", ["P1", "P2", "P3", "P4"])
def test_every_severity_reads_p_once(severity: str) -> None:
    text = status_update(incident(severity), impact="x", action="y", next_update=T0, tz=UTC)
    assert text.split("\n")[0] == f"🚨 INCIDENT UPDATE [{severity}]"


@pytest.mark.parametrize("status", ["Identified", "Monitoring"])
def test_status_line_follows_the_incident(status: str) -> None:
    inc = incident(extra=[Rec(T0 + timedelta(minutes=5), "incident.status", N,
                              {"old": "Investigating", "new": status})])
    text = status_update(inc, impact="x", action="y", next_update=T0, tz=UTC)
    assert text.split("\n")[1] == f"Status: {status}"


def test_resolved_has_no_next_update() -> None:
    inc = incident(extra=[Rec(T0 + timedelta(minutes=50), "incident.resolved", N,
                              {"checklist": {}})])
    text = status_update(inc, impact="Orders were failing", action="Fixed",
                         next_update=T0 + timedelta(hours=1), tz=UTC)
    assert text == expected_update("P2", "Resolved", "Orders were failing", "Fixed",
                                   "none (resolved)")


def test_next_update_in_the_given_zone_with_its_abbreviation() -> None:
    when = datetime(2026, 11, 26, 19, 45, tzinfo=UTC)
    text = status_update(incident(), impact="x", action="y", next_update=when, tz=TAIPEI)
    assert text.split("\n")[4] == "Next Update: 03:45 CST"
    assert format_time(when, UTC) == "19:45 UTC"


def test_fields_stay_on_their_line_and_empty_fields_get_defaults() -> None:
    inc = incident()
    text = status_update(inc, impact="Orders\nfailing  for\tsome", action="  ",
                         next_update=None, tz=UTC)
    assert text.split("\n") == [
        "🚨 INCIDENT UPDATE [P2]",
        "Status: Investigating",
        "Impact: Orders failing for some",
        f"Current Action: {DEFAULT_ACTION}",
        "Next Update: not scheduled",
    ]
    blank = status_update(inc, impact="", action="", next_update=None, tz=UTC)
    assert blank.split("\n")[2] == f"Impact: {default_impact(inc)}"


def test_default_impact_names_no_internal_component() -> None:
    assert default_impact(incident()) == "Under assessment"
    assert "luckygas-backend" not in status_update(incident(), impact="", action="",
                                                   next_update=None, tz=UTC)


def probe(group: str, name: str, *, ok: bool = True, p95: float = 120.0) -> EndpointResult:
    return EndpointResult(name, group, "GET", f"https://api/{name}", 200 if ok else 500,
                          p95, p95, ok, None if ok else "HTTP 500", T0)


def production(*changed: EndpointResult) -> EndpointsSnapshot:
    probes = {(e.group, e.name): e for e in (
        probe("site", "health"), probe("login", "login"), probe("orders", "orders"),
        *(probe("analytics", n) for n in ANALYTICS))}
    probes |= {(e.group, e.name): e for e in changed}
    return EndpointsSnapshot(T0, tuple(probes.values()))


def test_impact_is_what_customers_cannot_do() -> None:
    assert impact(triage(production(), None)) == "Under assessment"
    assert impact(triage(production(probe("login", "login", ok=False)), None)) == (
        "Customers cannot log in")
    both = triage(production(probe("orders", "orders", ok=False)),
                  AlertsSnapshot(T0, (Alert("NoOrdersProcessed", "firing", "critical", T0,
                                            "no orders"),)))
    assert impact(both) == "Orders are not being processed"
    every = triage(production(*(probe("analytics", n, ok=False) for n in ANALYTICS)), None)
    assert impact(every) == "Analytics dashboards unavailable"
    slow = triage(production(probe("analytics", "executive", p95=3200.0)), None)
    assert impact(slow) == "Slow responses (p95 3.2 s)"
    text = status_update(incident(), impact=impact(slow), action="", next_update=None,
                         tz=UTC)
    assert text.split("\n")[2] == "Impact: Slow responses (p95 3.2 s)"


# -- the next update, from the status page clock -----------------------------------------

def test_next_update_is_the_deadline_sending_now_opens() -> None:
    # P2 detected 03:00; at 03:10:25 the first update (due 03:15) is being sent: the next
    # one is due 30 minutes after it, shown to the minute and never later than the clock
    now = T0 + timedelta(minutes=10, seconds=25)
    inc = incident("P2")
    assert clocks.update_clocks(inc, now)[-1].due == T0 + timedelta(minutes=15)
    nxt = default_next_update(inc, now)
    assert nxt == T0 + timedelta(minutes=40)
    sent = incident("P2", extra=[Rec(now, "incident.update_sent", N, {"text": "x"})])
    due = clocks.update_clocks(sent, now)[-1]
    assert due.open and nxt <= due.due < nxt + timedelta(minutes=1)


def test_next_update_p1_after_an_earlier_update_and_overdue() -> None:
    first = T0 + timedelta(minutes=12)
    inc = incident("P1", extra=[Rec(first, "incident.update_sent", N, {"text": "x"})])
    now = first + timedelta(minutes=41)  # the 03:42 deadline has passed
    assert clocks.update_clocks(inc, now)[-1].state == clocks.OVERDUE
    assert default_next_update(inc, now) == now + timedelta(minutes=30)


def test_next_update_other_severities_and_resolved() -> None:
    now = T0 + timedelta(minutes=7, seconds=59, microseconds=3)
    assert default_next_update(incident("P3"), now) == T0 + timedelta(minutes=37)
    assert default_next_update(incident("P4"), now) == T0 + timedelta(minutes=37)
    resolved = incident(extra=[Rec(T0 + timedelta(minutes=5), "incident.resolved", N,
                                   {"checklist": {}})])
    assert default_next_update(resolved, now) is None


async def test_the_recorded_update_meets_the_promised_time(tmp_path: Path) -> None:
    now = [T0]
    async with await EventLog.open(tmp_path / "log.sqlite3", clock=lambda: now[0]) as log:
        svc = Incidents(log, "amy@jump")
        inc = await svc.declare("Orders failing", "P1")
        now[0] = T0 + timedelta(minutes=9, seconds=30)
        nxt = default_next_update(inc, now[0])
        assert nxt is not None
        text = status_update(inc, impact="Orders", action=current_action([]),
                             next_update=nxt, tz=UTC)
        inc = await svc.record_sent("status", text, next_update=nxt)
        first, second = clocks.update_clocks(inc, now[0])
        assert first.state == clocks.MET
        assert second.open and nxt <= second.due
        assert text.split("\n")[4] == "Next Update: 03:39 UTC"


# -- the current action, from the mitigations --------------------------------------------

def intent(rid: int, title: str, action: str = "scale",
           target: str = "deployment/luckygas-backend") -> Rec:
    return Rec(T0, "mitigation.intent", N,
               {"action": action, "title": title, "target": target}, id=rid)


def outcome(rid: int, intent_id: int, status: str, detail: str, action: str = "scale",
            target: str = "deployment/luckygas-backend") -> Rec:
    return Rec(T0, "mitigation.outcome", N,
               {"intent": intent_id, "action": action, "target": target,
                "status": status, "detail": detail}, id=rid)


def test_current_action_without_mitigations() -> None:
    assert current_action([]) == "Investigating the cause"
    assert current_action([Rec(T0, "incident.note", N, {"text": "x"}, id=1)]) == (
        "Investigating the cause")


def test_current_action_is_the_last_remedy_that_worked() -> None:
    records = [
        intent(1, "Scale deployment luckygas-backend"),
        outcome(2, 1, "ok", "deployment.apps/luckygas-backend scaled to 10"),
    ]
    worked = ("Scale deployment luckygas-backend: done, deployment.apps/luckygas-backend "
              "scaled to 10")
    assert current_action(records) == worked
    # failed, refused and unfinished attempts are never what we are doing
    records += [intent(3, "Rollout restart deployment luckygas-backend", "restart"),
                outcome(4, 3, "failed", "the API answered 503:\n  try again"),
                intent(5, "Put database luckygas_prod in read-only mode", "read-only",
                       "database/luckygas_prod"),
                outcome(6, 5, "refused", "luckytui runs read-only", "read-only",
                        "database/luckygas_prod"),
                intent(7, "Rollout restart deployment luckygas-backend", "restart")]
    assert current_action(records) == worked


def test_an_undone_remedy_is_no_longer_the_current_action() -> None:
    records = [
        intent(1, "Set CACHE_TTL=300 on deployment luckygas-backend", "set-env"),
        outcome(2, 1, "ok", "CACHE_TTL set to 300", "set-env"),
        intent(3, "Scale deployment luckygas-backend"),
        outcome(4, 3, "ok", "scaled to 10"),
    ]
    assert current_action(records).startswith("Scale deployment luckygas-backend: done")
    undo = {"outcome": 4, "intent": 3, "summary": "scale luckygas-backend 3→10"}
    records += [Rec(T0, "mitigation.intent", N, {"action": "scale", "title": "undo of x",
                                                 "undo_of": undo}, id=5),
                Rec(T0, "mitigation.outcome", N, {"intent": 5, "action": "scale",
                                                  "status": "ok", "detail": "scaled to 3",
                                                  "undo_of": undo}, id=6)]
    # the undo is not the action, and what it undid is gone: the one before it
    assert current_action(records) == (
        "Set CACHE_TTL=300 on deployment luckygas-backend: done, CACHE_TTL set to 300")
    undo_first = {"outcome": 2, "intent": 1, "summary": "set-env"}
    records += [Rec(T0, "mitigation.outcome", N, {"intent": 7, "action": "set-env",
                                                  "status": "ok", "detail": "unset",
                                                  "undo_of": undo_first}, id=8)]
    assert current_action(records) == DEFAULT_ACTION


def test_current_action_outcome_whose_intent_is_not_given() -> None:
    records = [outcome(7, 99, "ok", "deployment.apps/luckygas-backend scaled to 10")]
    assert current_action(records) == (
        "scale deployment/luckygas-backend: done, deployment.apps/luckygas-backend "
        "scaled to 10")


# -- the customer notice (P1 only) -------------------------------------------------------

def test_customer_notice_is_the_plans_text_with_the_blanks_filled() -> None:
    text = customer_notice(impact="線上訂購及訂單查詢", eta="2026-11-26 12:30（台灣時間）")
    assert text == (PLAN_CUSTOMER_NOTIFICATION
                    .replace("[具體說明]", "線上訂購及訂單查詢")
                    .replace("[時間]", "2026-11-26 12:30（台灣時間）"))
    lines = text.split("\n")
    assert lines == [
        "Subject: LuckyGas 服務異常通知",
        "",
        "親愛的客戶您好，",
        "",
        "我們目前遇到技術問題，可能影響您的服務使用。我們的團隊正在積極處理中。",
        "",
        "影響範圍：線上訂購及訂單查詢",
        "預計修復時間：2026-11-26 12:30（台灣時間）",
        "",
        "造成您的不便，我們深感抱歉。最新狀態請參考：status.luckygas.com.tw",
        "",
        "LuckyGas 技術團隊",
    ]
    # every line the plan fixes is there byte for byte, in order, with the same blank lines
    ref = PLAN_CUSTOMER_NOTIFICATION.split("\n")
    assert len(lines) == len(ref)
    for got, want in zip(lines, ref, strict=True):
        if "[" in want:
            assert got.encode().startswith(want.split("[")[0].encode())
        else:
            assert got.encode() == want.encode()


def test_customer_notice_blanks_stay_on_their_lines() -> None:
    lines = customer_notice(impact="訂單\n處理", eta="").split("\n")
    assert lines[6] == "影響範圍：訂單 處理"
    assert lines[7].startswith("預計修復時間：") and len(lines[7]) > len("預計修復時間：")
    assert customer_notice(impact="", eta="x").split("\n")[6] != "影響範圍："


@pytest.mark.parametrize(("severity", "allowed"),
                         [("P1", True), ("P2", False), ("P3", False), ("P4", False)])
def test_notice_is_for_p1_only(severity: str, allowed: bool) -> None:
    assert notice_allowed(incident(severity)) is allowed


def test_the_customer_notice_names_components_as_customers_know_them() -> None:
    import re

    from luckytui.sim.model import EXTRA_RESOURCES, PLAN_ENDPOINTS

    internal = [f"{group}/{name}" for name, group, *_ in PLAN_ENDPOINTS]
    internal += [f"api/{name}" for name in EXTRA_RESOURCES]
    internal += ["NoOrdersProcessed", "AnalyticsEndpointDown", "HighAPIResponseTime",
                 "DatabaseConnectionPoolExhausted", "luckygas-backend", "order-worker",
                 "some-new-deployment", "kafka/ingest"]
    text = customer_notice(impact=customer_impact(internal, CUSTOMER_NAMES), eta="")
    scope = next(line for line in text.split("\n") if line.startswith("影響範圍："))
    assert not re.search(r"[A-Za-z]", scope), scope  # no internal id, in any form
    for name in internal:
        assert name not in text and name.rpartition("/")[2] not in scope
    assert scope.startswith("影響範圍：網站、會員登入、經營數據報表、")
    assert "部分服務" in scope  # what has no configured name reads generically
    # the plan's own words around it are untouched
    assert text.split("\n")[0] == "Subject: LuckyGas 服務異常通知"


def test_customer_names_from_the_config() -> None:
    settings = parse_settings(
        {"customer_names": {"orders": "瓦斯訂購", "kafka/ingest": "訂單同步"}}, "config.toml")
    scope = customer_impact(["orders/orders", "kafka/ingest", "login/login"],
                            settings.customer_names, slow=True)
    assert scope == "瓦斯訂購、訂單同步、會員登入（服務回應緩慢）"
    assert customer_impact([], settings.customer_names) == "部分服務"
    for bad, problem in (({"orders": ""}, "must be a name customers know"),
                         ({"orders": 3}, "must be a name customers know"),
                         ({"orders": "訂\n購"}, "must be one line")):
        with pytest.raises(ConfigError, match=f"customer_names.orders: {problem}"):
            parse_settings({"customer_names": bad}, "config.toml")
