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
  影響範圍 and 預計修復時間 filled in; components by the names customers know
  ([customer_names] in the config), never an internal id.

Drafts come from the current state: the impact from a fresh triage of the latest
snapshots in the plan's words (what customers cannot do), the current action from the
remedies that worked and are still in force, the next update from the status page clock.

Everything here is a pure function of its arguments: the caller reads the log and the
clock, a human edits the text before it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any, Protocol

from luckytui.events import INTENT, OUTCOME
from luckytui.incident.clocks import UPDATE_EVERY, update_clocks
from luckytui.incident.model import Incident
from luckytui.incident.triage import Triage

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
NOTICE_SLOW = "服務回應緩慢"  # slow responses
IMPACT_UNKNOWN = "Under assessment"


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
    """What we are doing: the last remedy that worked (outcome ok) and is still in force.

    An undo is not itself the current action, and the remedy it undid no longer is (the
    one before it then is); failed, refused and unfinished attempts never are. With none,
    `DEFAULT_ACTION`. Pass the incident's records in log order; other kinds are ignored.
    """
    intents: dict[int, Mapping[str, Any]] = {}
    in_force: list[tuple[int, Mapping[str, Any], Mapping[str, Any] | None]] = []
    for r in records:
        if r.kind == INTENT:
            intents[r.id] = r.data
        elif r.kind == OUTCOME and r.data.get("status") == "ok":
            undone = r.data.get("undo_of")
            if isinstance(undone, Mapping):
                in_force = [e for e in in_force if e[0] != undone.get("outcome")]
                continue
            intent_id = r.data.get("intent")
            in_force.append((r.id, r.data, intents.get(intent_id)
                             if isinstance(intent_id, int) else None))
    if not in_force:
        return DEFAULT_ACTION
    _, outcome, intent = in_force[-1]
    return _outcome_line(outcome, intent)


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
    """The impact line when nothing better is known: never a component's internal name."""
    del inc
    return IMPACT_UNKNOWN


def impact(tri: Triage | None) -> str:
    """What customers cannot do, in the plan's words, from a triage of the latest
    snapshots: "Customers cannot log in; Orders are not being processed"."""
    if tri is None:
        return IMPACT_UNKNOWN
    out = []
    if tri.said_yes("site"):
        out.append("Customers cannot reach the site")
    if tri.said_yes("login"):
        out.append("Customers cannot log in")
    if tri.said_yes("orders"):
        out.append("Orders are not being processed")
    analytics = tri.said_yes("analytics")
    if analytics:
        out.append("Analytics dashboards unavailable" if analytics.severity == "P1"
                   else "Some analytics dashboards unavailable")
    if tri.said_yes("performance"):
        out.append(f"Slow responses (p95 {tri.slowest_p95_ms / 1000:.1f} s)"
                   if tri.slowest_p95_ms else "Slow responses")
    if not out and tri.said_yes("customer"):
        out.append("Some customer-facing features failing")
    return "; ".join(out) or IMPACT_UNKNOWN


def customer_name(component: str, names: Mapping[str, str]) -> str | None:
    """What customers call `component` ("group/name", a name, an alert, a deployment):
    the whole, then the name, then the group; None when nothing is configured."""
    group, _, name = component.rpartition("/")
    for key in (component, name, group):
        if key and key in names:
            return names[key]
    return None


def customer_impact(components: Iterable[str], names: Mapping[str, str], *,
                    slow: bool = False) -> str:
    """影響範圍 for the customer notice: the affected components by the names customers
    know (see `customer_name`), 部分服務 for any without one; never an internal id."""
    found = [customer_name(one_line(c), names) or NOTICE_IMPACT_UNKNOWN
             for c in components if one_line(c)]
    text = "、".join(dict.fromkeys(found))
    if slow:
        text = f"{text}（{NOTICE_SLOW}）" if text else NOTICE_SLOW
    return text or NOTICE_IMPACT_UNKNOWN


def customer_notice(*, impact: str, eta: str) -> str:
    """The plan's P1 customer notification, Subject line first, with the two blanks
    (影響範圍, 預計修復時間) filled; empty values read as being assessed."""
    return NOTICE_TEMPLATE.format(impact=one_line(impact) or NOTICE_IMPACT_UNKNOWN,
                                  eta=one_line(eta) or NOTICE_ETA_UNKNOWN)


def notice_allowed(inc: Incident) -> bool:
    """The plan sends the customer notification for P1 incidents only."""
    return inc.severity in NOTICE_SEVERITIES

