"""The plan's messages ("4. Communication"), filled from an incident.

- The status update: exactly the plan's five template lines, nothing added::

      🚨 INCIDENT UPDATE [P<severity>]
      Status: <Investigating|Identified|Monitoring|Resolved>
      Impact: <customer impact description>
      Current Action: <what we're doing>
      Next Update: <time>

  The plan writes the level as ``P<severity>`` and severities are stored as "P1".."P4",
  so a P2 incident reads ``[P2]``.
- The customer notification (P1 only): the plan's Chinese text, byte for byte, with
  影響範圍 and 預計修復時間 filled in.

Everything here is a pure function of its arguments: the caller reads the log and the
clock, a human edits the text before it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any, Protocol

from luckytui.incident.clocks import UPDATE_EVERY, update_clocks
from luckytui.incident.model import Incident

INTENT = "mitigation.intent"  # the kinds luckytui.mitigations.runner writes
OUTCOME = "mitigation.outcome"

STATUS_TEMPLATE = (
    "🚨 INCIDENT UPDATE [P{severity}]\n"
    "Status: {status}\n"
    "Impact: {impact}\n"
    "Current Action: {action}\n"
    "Next Update: {next_update}"
)
NOTICE_TEMPLATE = (
    "Subject: LuckyGas 服務異常通知\n"
    "\n"
    "親愛的客戶您好，\n"
    "\n"
    "我們目前遇到技術問題，可能影響您的服務使用。我們的團隊正在積極處理中。\n"
    "\n"
    "影響範圍：{impact}\n"
    "預計修復時間：{eta}\n"
    "\n"
    "造成您的不便，我們深感抱歉。最新狀態請參考：status.luckygas.com.tw\n"
    "\n"
    "LuckyGas 技術團隊"
)
NOTICE_SEVERITIES = ("P1",)  # the plan: "Customer Notification (P1 only)"

DEFAULT_ACTION = "Investigating the cause"
NEXT_UPDATE_RESOLVED = "none (resolved)"
NEXT_UPDATE_NONE = "not scheduled"
NOTICE_ETA_UNKNOWN = "評估中，請參考狀態頁"  # being assessed: see the status page
NOTICE_IMPACT_UNKNOWN = "部分服務"  # some services


class MitigationRecord(Protocol):
    """What `current_action` needs of a log record."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


def one_line(text: str) -> str:
    """Whitespace and line breaks collapsed: a template field stays on its line."""
    return " ".join(text.split())


def format_time(when: datetime, tz: tzinfo | None) -> str:
    """03:45 UTC, in the given zone (None: the local zone) with its abbreviation."""
    local = when.astimezone(tz)
    zone = local.tzname() or ""
    return f"{local:%H:%M} {zone}".strip()


def status_update(inc: Incident, *, impact: str, action: str,
                  next_update: datetime | None, tz: tzinfo | None) -> str:
    """The plan's update template, five lines, filled from the incident.

    Empty impact or action fall back to `default_impact` and `DEFAULT_ACTION`; a resolved
    incident has no next update.
    """
    if inc.resolved_at is not None or inc.status == "Resolved":
        when = NEXT_UPDATE_RESOLVED
    elif next_update is None:
        when = NEXT_UPDATE_NONE
    else:
        when = format_time(next_update, tz)
    return STATUS_TEMPLATE.format(
        severity=inc.severity.removeprefix("P"),
        status=inc.status,
        impact=one_line(impact) or default_impact(inc),
        action=one_line(action) or DEFAULT_ACTION,
        next_update=when,
    )


def default_next_update(inc: Incident, now: datetime) -> datetime | None:
    """When the update being sent now promises the next one (None once resolved).

    P1/P2: the status page deadline that sending an update at `now` opens (the plan:
    every 30 minutes until resolved), from the same clocks the banner shows. Other
    severities: now + 30 minutes. Rounded down to the minute, so the promise is never
    later than the deadline it answers to.
    """
    if inc.resolved_at is not None:
        return None
    due = now + UPDATE_EVERY
    after = update_clocks(replace(inc, updates_sent=(*inc.updates_sent, now)), now)
    if after and after[-1].open:
        due = after[-1].due
    return due.replace(second=0, microsecond=0)


def current_action(records: Iterable[MitigationRecord]) -> str:
    """One line on what is being done, from the latest mitigation in the records.

    The latest action started decides: its outcome when it has one ("Scale deployment
    x: done, deployment.apps/x scaled to 10"), "running: <title>" while the intent has
    no outcome yet, and `DEFAULT_ACTION` when no mitigation was run. Pass the
    incident's records in log order; other kinds are ignored.
    """
    intents: dict[int, Mapping[str, Any]] = {}
    outcomes: dict[int, Mapping[str, Any]] = {}
    order: list[tuple[str, int]] = []  # ("intent", id) or ("orphan", outcome record id)
    orphans: dict[int, Mapping[str, Any]] = {}
    for r in records:
        if r.kind == INTENT:
            intents[r.id] = r.data
            order.append(("intent", r.id))
        elif r.kind == OUTCOME:
            intent_id = r.data.get("intent")
            if isinstance(intent_id, int) and intent_id in intents:
                outcomes[intent_id] = r.data
            else:  # its intent is not among the records: the outcome alone
                orphans[r.id] = r.data
                order.append(("orphan", r.id))
    if not order:
        return DEFAULT_ACTION
    which, key = order[-1]
    if which == "orphan":
        return _outcome_line(orphans[key], None)
    intent = intents[key]
    if key in outcomes:
        return _outcome_line(outcomes[key], intent)
    return one_line(f"running: {_what(intent)}")


def _what(data: Mapping[str, Any], intent: Mapping[str, Any] | None = None) -> str:
    title = (intent or {}).get("title") or data.get("title")
    if title:
        return str(title)
    return " ".join(str(p) for p in (data.get("action"), data.get("target")) if p)


def _outcome_line(outcome: Mapping[str, Any], intent: Mapping[str, Any] | None) -> str:
    status = str(outcome.get("status", ""))
    word = {"ok": "done", "failed": "failed", "refused": "refused"}.get(status,
                                                                       "outcome unknown")
    detail = str(outcome.get("detail") or "")
    return one_line(f"{_what(outcome, intent)}: {word}" + (f", {detail}" if detail else ""))


def default_impact(inc: Incident) -> str:
    """A first draft of the impact line, from the title and the affected components."""
    title = one_line(inc.title)
    components = ", ".join(c for c in (one_line(c) for c in inc.components) if c)
    if title and components:
        return f"{title} (affected: {components})"
    if components:
        return f"Affected: {components}"
    return title or "Under assessment"


def customer_notice(*, impact: str, eta: str) -> str:
    """The plan's P1 customer notification, Subject line first, with the two blanks
    (影響範圍, 預計修復時間) filled; empty values read as being assessed."""
    return NOTICE_TEMPLATE.format(impact=one_line(impact) or NOTICE_IMPACT_UNKNOWN,
                                  eta=one_line(eta) or NOTICE_ETA_UNKNOWN)


def notice_allowed(inc: Incident) -> bool:
    """The plan sends the customer notification for P1 incidents only."""
    return inc.severity in NOTICE_SEVERITIES

