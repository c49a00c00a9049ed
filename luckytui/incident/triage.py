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

The plan's severity examples that the tree does not ask about are answered beside it:
all analytics endpoints down is P1, one of them down is P2. A probe that was never sent
(its login failed: "not checked") says nothing about its endpoint and counts nowhere.
It is a pure function of the snapshots: ask it again for a fresh answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from luckytui.snapshots import NOT_CHECKED, AlertsSnapshot, EndpointResult, EndpointsSnapshot

SLOW_MS = 2000.0  # the plan: slow responses 2-5 s are P3
VERY_SLOW_MS = 5000.0  # beyond the P3 band: treated as degradation > 50 % (P2)
ORDER_ALERTS = ("NoOrdersProcessed",)
SLOW_ALERTS = ("HighAPIResponseTime",)
DEGRADED_ALERTS = ("DatabaseConnectionPoolExhausted",)
ANALYTICS_ALERTS = ("AnalyticsEndpointDown",)
SITE_GROUPS = ("site", "health")


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
    detected_at: datetime | None  # see luckytui.incident.detection; None: the declaration
    decided: Answer | None = None  # the answer that gave the suggestion
    slowest_p95_ms: float | None = None  # the worst p95 over 2 s among answering probes

    def said_yes(self, key: str) -> Answer | None:
        """The answer to question `key` when it is yes."""
        return next((a for a in self.answers if a.key == key and a.answer), None)

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


def triage(endpoints: EndpointsSnapshot | None, alerts: AlertsSnapshot | None, *,
           detected_at: datetime | None = None) -> Triage:
    """The tree answered from these snapshots. `detected_at` is passed through: it comes
    from the log (luckytui.incident.detection), not from the snapshots."""
    probes = [e for e in (endpoints.endpoints if endpoints else ())
              if e.ok or not (e.error or "").startswith(NOT_CHECKED)]
    firing = [a for a in (alerts.alerts if alerts else ()) if a.state == "firing"]
    firing_names = {a.name for a in firing}
    known = bool(probes)

    def group(*names: str) -> list[EndpointResult]:
        return [e for e in probes if e.group in names]

    down = [e for e in probes if not e.ok]
    answers: list[Answer] = []

    # 1. the site: every site/health probe down (or every probe of every kind)
    site = group(*SITE_GROUPS)
    site_down = (bool(site) and all(not e.ok for e in site)) or (known and not
                                                                   any(e.ok for e in probes))
    shown = site or probes
    if site_down:
        why = f"every site probe down: {_list([_label(e) + ' ' + _failure(e) for e in shown])}"
    elif site:
        why = f"{_list([_label(e) for e in site if e.ok])} answering"
    else:
        why = "no site probe configured"
    answers.append(Answer("site", "Is the site completely down?", "P1",
                          True if site_down else (False if site else None),
                          "P1" if site_down else None, why, "Site down"))

    # 2. login: every login probe failing with a server error or no answer: nobody can
    # log in (P1); refused credentials or some probes of several: failing (P2)
    login = group("login")
    login_down = [e for e in login if not e.ok]
    everyone = bool(login_down) and len(login_down) == len(login) and all(
        e.status is None or e.status >= 500 for e in login_down)
    failures = _list([_label(e) + " " + _failure(e) for e in login_down])
    if everyone:
        why = f"no user can log in: every login probe failing ({failures})"
    elif login_down:
        refused = any(e.status in (401, 403) for e in login_down)
        why = (f"login failing: {failures}"
               + (" (the probe's credentials refused: check them)" if refused else "")
               + f", {len(login_down)} of {len(login)} login probes; P1 if no user can log in")
    else:
        why = "login answering" if login else "no login probe configured"
    answers.append(Answer("login", "Are users unable to login?", "P1/P2",
                          bool(login_down) if login else None,
                          ("P1" if everyone else "P2") if login_down else None, why,
                          "Login failing"))

    # 3. orders: the orders probe fails, or NoOrdersProcessed fires; nothing else
    orders = group("orders")
    orders_down = [e for e in orders if not e.ok]
    order_alerts = sorted(firing_names & set(ORDER_ALERTS))
    evidence = ([f"orders failing: {_list([_label(e) + ' ' + _failure(e) for e in orders_down])}"]
                if orders_down else [])
    evidence += [f"{name} firing" for name in order_alerts]
    yes = bool(evidence)
    if not yes:
        evidence = ["orders answering" if orders else
                    ("no orders probe; no order alert firing" if alerts else "no orders probe")]
    answers.append(Answer("orders", "Are orders failing?", "P2",
                          True if yes else (False if orders or alerts else None),
                          "P2" if yes else None, "; ".join(evidence), "Orders failing"))

    # the plan's examples: all analytics endpoints down is P1, one of them is P2
    analytics = group("analytics")
    analytics_down = [e for e in analytics if not e.ok]
    all_analytics = bool(analytics) and len(analytics_down) == len(analytics)
    analytics_alerts = sorted(firing_names & set(ANALYTICS_ALERTS))
    listed = _list([_label(e) + " " + _failure(e) for e in analytics_down])
    if all_analytics:
        why = f"all {len(analytics)} analytics endpoints down (a P1 example in the plan): {listed}"
    elif analytics_down:
        why = f"{len(analytics_down)} of {len(analytics)} analytics endpoints down (P2 in the " \
              f"plan): {listed}"
    elif analytics_alerts:
        why = ", ".join(analytics_alerts) + " firing (P2 in the plan)"
    else:
        why = "every analytics endpoint answering" if analytics else "no analytics probe"
    some = bool(analytics_down) or bool(analytics_alerts)
    answers.append(Answer("analytics", "Are analytics endpoints down?", "P1/P2",
                          some if analytics or alerts else None,
                          ("P1" if all_analytics else "P2") if some else None, why,
                          "All analytics endpoints down" if all_analytics else
                          f"{_list([_label(e) for e in analytics_down], 2)} down"
                          if analytics_down else "Analytics endpoint down"))

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
    return Triage(tuple(answers), suggested, reason, tuple(dict.fromkeys(components)),
                  detected_at, decided, worst if slow else None)
