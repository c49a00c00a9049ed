"""The plan's decision tree, pre-answered from endpoint probes and firing alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from luckytui.incident.triage import triage
from luckytui.snapshots import Alert, AlertsSnapshot, EndpointResult, EndpointsSnapshot

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
ANALYTICS = ("executive", "operations", "financial", "performance")


def probe(group: str, name: str, *, ok: bool = True, p95: float = 120.0,
          status: int | None = 200) -> EndpointResult:
    return EndpointResult(name, group, "GET", f"https://api/{name}", status if ok else 500,
                          p95, p95, ok, None if ok else "HTTP 500", T0)


def production(**changes: EndpointResult) -> EndpointsSnapshot:
    probes = {"health": probe("site", "health"), "login": probe("login", "login"),
              "orders": probe("orders", "orders")}
    probes |= {n: probe("analytics", n) for n in ANALYTICS}
    probes |= changes
    return EndpointsSnapshot(T0, tuple(probes.values()))


def alerts(*names: str, severity: str = "critical",
           since: datetime = T0 - timedelta(minutes=4)) -> AlertsSnapshot:
    return AlertsSnapshot(T0, tuple(Alert(n, "firing", severity, since, f"{n} summary")
                                    for n in names))


def answers(result: object) -> dict[str, bool | None]:
    return {a.key: a.answer for a in result.answers}  # type: ignore[attr-defined]


def test_all_well_is_p4_with_every_question_answered_no() -> None:
    result = triage(production(), alerts())
    assert result.suggested == "P4"
    assert set(answers(result).values()) == {False}
    assert result.components == () and result.detected_at is None


def test_site_down_is_p1() -> None:
    result = triage(production(health=probe("site", "health", ok=False)), alerts())
    assert result.suggested == "P1"
    assert answers(result)["site"] is True
    assert "site/health" in result.components
    assert "every site probe down" in result.reason


def test_every_analytics_endpoint_down_is_p1_one_is_p2() -> None:
    every = triage(production(**{n: probe("analytics", n, ok=False) for n in ANALYTICS}), None)
    assert every.suggested == "P1"
    assert every.decided is not None and every.decided.key == "analytics"
    assert "all 4 analytics endpoints down (a P1 example in the plan)" in every.reason
    assert answers(every)["site"] is False and answers(every)["orders"] is False
    one = triage(production(financial=probe("analytics", "financial", ok=False)), None)
    assert one.suggested == "P2"
    assert "1 of 4 analytics endpoints down (P2 in the plan): analytics/financial HTTP 500" \
        in one.reason
    # an analytics endpoint down is not orders failing, nor the site down
    assert answers(one)["orders"] is False and answers(one)["site"] is False


def test_site_down_by_its_health_probe_or_when_nothing_answers() -> None:
    health = triage(production(health=probe("health", "health", ok=False)), None)
    assert health.suggested == "P1" and "every site probe down: health/health" in health.reason
    nothing = production(**{n: probe(g, n, ok=False) for g, n in (
        ("site", "health"), ("login", "login"), ("orders", "orders"),
        *(("analytics", a) for a in ANALYTICS))})
    assert triage(nothing, None).decided.key == "site"  # type: ignore[union-attr]


def test_login_failing_is_p1_when_nobody_can_log_in_p2_otherwise() -> None:
    # the only login probe answers 500: no user can log in; the analytics probes behind
    # the login were not sent, and count as nothing (not as "all analytics down")
    not_checked = {n: EndpointResult(n, "analytics", "GET", f"https://api/{n}", None, None,
                                     None, False, "not checked: login failed", T0)
                   for n in ANALYTICS}
    result = triage(production(login=probe("login", "login", ok=False), **not_checked),
                    None)
    assert result.suggested == "P1"
    assert result.reason == ("Are users unable to login? yes: no user can log in: every "
                             "login probe failing (login/login HTTP 500)")
    assert answers(result)["analytics"] is None  # none of them was checked: unknown
    assert not any(c.startswith("analytics/") for c in result.components)
    # the probe's credentials refused: login failing, P2, and the reason says so
    denied = EndpointResult("login", "login", "POST", "https://api/login", 401, 80.0, 80.0,
                            False, "HTTP 401", T0)
    refused = triage(production(login=denied), None)
    login = next(a for a in refused.answers if a.key == "login")
    assert refused.suggested == "P2" and login.implies == "P1/P2"
    assert login.why.startswith("login failing: login/login HTTP 401")
    assert "credentials refused" in login.why and "P1 if no user can log in" in login.why


def test_orders_failing_by_probe_or_alert_is_p2() -> None:
    assert triage(production(orders=probe("orders", "orders", ok=False)), None).suggested == "P2"
    by_alert = triage(production(), alerts("NoOrdersProcessed"))
    assert by_alert.suggested == "P2" and answers(by_alert)["orders"] is True
    assert by_alert.reason == "Are orders failing? yes: NoOrdersProcessed firing"
    # detection is not the alert's pending start: it comes from the log, passed through
    assert by_alert.detected_at is None
    fired = T0 - timedelta(minutes=1)
    assert triage(production(), alerts("NoOrdersProcessed"),
                  detected_at=fired).detected_at == fired


def test_orders_not_failing_because_another_endpoint_is_down() -> None:
    result = triage(production(health=probe("site", "health", ok=False),
                               executive=probe("analytics", "executive", ok=False)),
                    alerts("HighAPIResponseTime", severity="warning"))
    orders = next(a for a in result.answers if a.key == "orders")
    assert orders.answer is False and orders.why == "orders answering"


def test_slow_2_to_5_s_is_p3_beyond_is_p2() -> None:
    slow = triage(production(executive=probe("analytics", "executive", p95=3200.0)), None)
    assert slow.suggested == "P3"
    assert "p95 3.2 s at analytics/executive" in slow.reason
    very = triage(production(executive=probe("analytics", "executive", p95=7000.0)), None)
    assert very.suggested == "P2"


def test_pool_exhausted_alert_counts_as_degradation() -> None:
    result = triage(production(), alerts("DatabaseConnectionPoolExhausted"))
    assert result.suggested == "P2"
    assert answers(result)["performance"] is True


def test_no_data_leaves_the_questions_unknown() -> None:
    result = triage(None, None)
    assert set(answers(result).values()) == {None}
    assert result.suggested == "P4" and "decide by hand" in result.reason


def test_the_gravest_answer_wins_over_the_tree_order() -> None:
    # login failing (P2) and the whole site down (P1): P1
    result = triage(production(login=probe("login", "login", ok=False),
                               health=probe("site", "health", ok=False)), None)
    assert result.suggested == "P1"


def test_impact_start_as_typed_under_stress() -> None:
    from luckytui.incident.model import parse_when

    now = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)
    assert parse_when("", now) is None
    assert parse_when("15m ago", now) == now - timedelta(minutes=15)
    assert parse_when("2h", now) == now - timedelta(hours=2)
    assert parse_when("03:10", now, utc=True) == datetime(2026, 11, 26, 3, 10, tzinfo=UTC)
    # a time still ahead today means yesterday
    assert parse_when("23:50", now, utc=True) == datetime(2026, 11, 25, 23, 50, tzinfo=UTC)
    for bad in ("soon", "25:00", "-5m"):
        try:
            parse_when(bad, now)
        except ValueError as exc:
            assert "HH:MM" in str(exc)
        else:
            raise AssertionError(bad)


def test_a_first_title_from_the_deciding_answer() -> None:
    assert triage(production(health=probe("site", "health", ok=False)), None).title_hint \
        == "Site down"
    one = triage(production(financial=probe("analytics", "financial", ok=False)), None)
    assert one.title_hint == "analytics/financial down"
    assert triage(production(), alerts("NoOrdersProcessed")).title_hint == "Orders failing"
    slow = triage(production(executive=probe("analytics", "executive", p95=3200.0)), None)
    assert slow.title_hint == "Slow responses: p95 3.2 s"
    assert triage(production(), None).title_hint == ""
