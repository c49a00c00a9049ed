"""The plan's escalation decision tree, pre-answered from what the sources see.

    Is the site completely down?      → P1
    Are users unable to login?        → P1/P2
    Are orders failing?               → P2
    Is performance degraded?          → P2/P3
    Is it customer-facing?            → P3
    Otherwise                         → P4

Each question gets yes, no or unknown (no data) with the evidence that decided
it, and the tree's first yes gives the suggestion. The suggestion is only that:
the person declaring chooses the severity, and sees why it was suggested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from luckytui.snapshots import AlertsSnapshot, EndpointResult, EndpointsSnapshot

SLOW_MS = 2000.0  # the plan: slow responses 2-5 s are P3
VERY_SLOW_MS = 5000.0  # beyond the P3 band: treated as degradation > 50 % (P2)
ORDER_ALERTS = ("NoOrdersProcessed",)
SLOW_ALERTS = ("HighAPIResponseTime",)
DEGRADED_ALERTS = ("DatabaseConnectionPoolExhausted",)
ANALYTICS_ALERTS = ("AnalyticsEndpointDown",)


@dataclass(frozen=True, slots=True)
class Answer:
    key: str  # site, login, orders, performance, customer
    question: str  # the plan's words
    implies: str  # what the plan says a yes means: P1, P1/P2, ...
    answer: bool | None  # None: the sources cannot tell
    severity: str | None  # the severity this answer suggests (yes only)
    why: str  # the evidence, one line
    headline: str = ""  # a first title for the declaration, when this answer decides


@dataclass(frozen=True, slots=True)
class Triage:
    answers: tuple[Answer, ...]
    suggested: str
    reason: str
    components: tuple[str, ...]  # what looks affected: group/endpoint, alert names
    detected_at: datetime | None  # the earliest firing alert's start, if any
    decided: Answer | None = None  # the answer that gave the suggestion

    @property
    def title_hint(self) -> str:
        """A first title for the declaration: the deciding answer's headline."""
        return self.decided.headline if self.decided else ""


def _label(e: EndpointResult) -> str:
    return f"{e.group}/{e.name}"


def _failure(e: EndpointResult) -> str:
    return e.error or (f"HTTP {e.status}" if e.status else "no answer")


def _list(items: list[str], limit: int = 3) -> str:
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


def triage(endpoints: EndpointsSnapshot | None, alerts: AlertsSnapshot | None) -> Triage:
    probes = list(endpoints.endpoints) if endpoints else []
    firing = [a for a in (alerts.alerts if alerts else ()) if a.state == "firing"]
    firing_names = {a.name for a in firing}
    known = bool(probes)

    def group(name: str) -> list[EndpointResult]:
        return [e for e in probes if e.group == name]

    down = [e for e in probes if not e.ok]
    answers: list[Answer] = []

    # 1. the site: every site probe down, or every analytics endpoint down (a P1 example)
    site, analytics = group("site"), group("analytics")
    site_down = bool(site) and all(not e.ok for e in site)
    all_analytics = bool(analytics) and all(not e.ok for e in analytics)
    if site_down:
        why = f"every site probe down: {_list([_label(e) + ' ' + _failure(e) for e in site])}"
    elif all_analytics:
        why = f"all {len(analytics)} analytics endpoints down (a P1 example in the plan)"
    elif site:
        why = f"{_list([_label(e) for e in site])} answering"
    else:
        why = "no site probe configured"
    answers.append(Answer("site", "Is the site completely down?", "P1",
                          True if site_down or all_analytics else (False if site or analytics
                                                                   else None),
                          "P1" if site_down or all_analytics else None, why,
                          "Site down" if site_down else "All analytics endpoints down"))

    # 2. login
    login = group("login")
    login_down = [e for e in login if not e.ok]
    if login_down:
        why = f"login failing: {_failure(login_down[0])} (P1 if no user at all can log in)"
    else:
        why = "login answering" if login else "no login probe configured"
    answers.append(Answer("login", "Are users unable to login?", "P1/P2",
                          bool(login_down) if login else None,
                          "P2" if login_down else None, why, "Login failing"))

    # 3. orders (and one analytics endpoint down, which the plan lists as P2 too)
    orders = group("orders")
    orders_down = [e for e in orders if not e.ok]
    some_analytics = [e for e in analytics if not e.ok] if not all_analytics else []
    order_alerts = sorted(firing_names & set(ORDER_ALERTS))
    evidence = ([f"orders failing: {_list([_label(e) + ' ' + _failure(e) for e in orders_down])}"]
                if orders_down else [])
    evidence += [f"{name} firing" for name in order_alerts]
    if some_analytics:
        evidence.append(f"one analytics endpoint down (P2 in the plan): "
                        f"{_list([_label(e) + ' ' + _failure(e) for e in some_analytics])}")
    yes = bool(evidence)
    headline = ("Orders failing" if orders_down or order_alerts else
                f"{_list([_label(e) for e in some_analytics], 2)} down")
    if not yes:
        evidence = ["orders answering" if orders else
                    ("no orders probe; no order alert firing" if alerts else "no orders probe")]
    answers.append(Answer("orders", "Are orders failing?", "P2",
                          True if yes else (False if orders or alerts or analytics else None),
                          "P2" if yes else None, "; ".join(evidence), headline))

    # 4. performance: p95 over 2 s (P3 up to 5 s, P2 beyond), or the plan's slow/DB alerts
    slow = [e for e in probes if e.ok and e.p95_ms is not None and e.p95_ms > SLOW_MS]
    worst = max((e.p95_ms or 0.0 for e in slow), default=0.0)
    slow_alerts = sorted(firing_names & set(SLOW_ALERTS))
    degraded_alerts = sorted(firing_names & set(DEGRADED_ALERTS))
    evidence = []
    if slow:
        slowest = max(slow, key=lambda e: e.p95_ms or 0.0)
        evidence.append(f"p95 {worst / 1000:.1f} s at {_label(slowest)}"
                        + (f" (+{len(slow) - 1} more over 2 s)" if len(slow) > 1 else ""))
    evidence += [f"{name} firing" for name in slow_alerts + degraded_alerts]
    severity = None
    if evidence:
        severity = "P2" if worst > VERY_SLOW_MS or degraded_alerts else "P3"
    answers.append(Answer("performance", "Is performance degraded?", "P2/P3",
                          bool(evidence) if known or alerts else None, severity,
                          "; ".join(evidence) if evidence else
                          ("every p95 under 2 s" if known else "no probe data"),
                          f"Slow responses: p95 {worst / 1000:.1f} s" if slow else
                          "Performance degraded: " + ", ".join(slow_alerts + degraded_alerts)))

    # 5. customer-facing: anything down or slow that customers reach, or a critical alert
    critical = sorted({a.name for a in firing if a.severity == "critical"})
    evidence = []
    if down:
        evidence.append(f"{len(down)} endpoint{'s' if len(down) > 1 else ''} down: "
                        f"{_list([_label(e) for e in down])}")
    if slow:
        evidence.append(f"{len(slow)} slow: {_list([_label(e) for e in slow])}")
    evidence += [f"{name} firing" for name in critical if name not in " ".join(evidence)]
    answers.append(Answer("customer", "Is it customer-facing?", "P3",
                          bool(evidence) if known or alerts else None,
                          "P3" if evidence else None,
                          "; ".join(evidence) if evidence else "nothing customer-facing failing"
                          if known or alerts else "no probe data",
                          f"{_list([_label(e) for e in down], 2)} down" if down else
                          ", ".join(critical) + " firing"))

    # the tree's order decides among equals; a later, graver answer still wins
    said_yes = [a for a in answers if a.answer and a.severity]
    decided = min(said_yes, key=lambda a: a.severity or "P4") if said_yes else None
    suggested = decided.severity if decided and decided.severity else "P4"
    reason = (f"{decided.question} yes: {decided.why}" if decided else
              "no question answered yes" if known or alerts else
              "no data from the sources: decide by hand")
    components = [_label(e) for e in down] + [_label(e) for e in slow]
    components += sorted(a.name for a in firing)
    starts = [a.active_at for a in firing if a.active_at is not None]
    return Triage(tuple(answers), suggested, reason, tuple(dict.fromkeys(components)),
                  min(starts) if starts else None, decided)
