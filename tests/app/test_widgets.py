"""The panes, the diffing table, the banner and the timeline, driven with Pilot."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.widget import Widget

from luckytui.snapshots import (
    Alert,
    AlertsSnapshot,
    Backend,
    DbSnapshot,
    DeploymentInfo,
    EndpointResult,
    EndpointsSnapshot,
    NodeInfo,
    PodInfo,
    PodsSnapshot,
    SourceState,
    SourceStatus,
    Statement,
)
from tests.app.widgetkit import (
    NOW,
    SIZE,
    Host,
    column,
    ok,
    plain,
    record_refreshes,
    record_repaints,
    row_text,
    screen_text,
    style,
)
from widgets import (
    AlertsPane,
    Banner,
    DatabasePane,
    DiffTable,
    EndpointsPane,
    PodsPane,
    SlowQueriesPane,
    TimelineItem,
    TimelinePane,
    spark_text,
)
from widgets.pane import Pane, TextLine

# --- sample snapshots ---------------------------------------------------------


def pod(name: str, cpu: float | None, *, phase: str = "Running", ready: bool = True,
        node: str = "node-1", restarts: int = 0, deployment: str = "luckygas-backend",
        limit: float = 1000.0) -> PodInfo:
    return PodInfo(
        name=name, uid=f"uid-{name}", deployment=deployment, node=node, phase=phase,
        ready=ready, restarts=restarts, started_at=NOW - timedelta(hours=5, minutes=3),
        cpu_m=cpu, cpu_limit_m=limit, cpu_history=(100.0, 300.0, 500.0, 800.0),
    )


def pods_snapshot(*, metrics: bool = True) -> PodsSnapshot:
    return PodsSnapshot(
        taken_at=NOW,
        namespace="luckygas",
        pods=(
            pod("frontend-c3", 120.0, deployment="luckygas-frontend"),
            pod("backend-a1", 950.0),
            pod("order-worker-d4", None, phase="CrashLoopBackOff", ready=False, restarts=7,
                deployment="order-worker"),
            pod("backend-b2", 720.0, node="node-2"),
        ),
        deployments=(
            DeploymentInfo("luckygas-backend", 3, 3, 3, 3),
            DeploymentInfo("luckygas-frontend", 2, 2, 2, 2),
            DeploymentInfo("order-worker", 2, 1, 2, 1),
        ),
        nodes=(NodeInfo("node-1", True, False), NodeInfo("node-2", True, True)),
        metrics_available=metrics,
    )


def backend(pid: int, seconds: float, *, state: str = "active", blocked_by: tuple[int, ...] = (),
            query: str = "SELECT 1") -> Backend:
    return Backend(
        pid=pid, datname="luckygas_prod", usename="app", application_name="luckygas-backend",
        state=state, wait_event_type="Lock" if blocked_by else None,
        wait_event="transactionid" if blocked_by else None,
        backend_start=NOW - timedelta(hours=1), query_start=NOW - timedelta(seconds=seconds),
        duration_s=seconds, query=query, blocked_by=blocked_by,
    )


def db_snapshot(*, statements: bool = True) -> DbSnapshot:
    return DbSnapshot(
        taken_at=NOW, database="luckygas_prod", max_connections=200,
        counts={"active": 40, "idle": 120, "idle in transaction": 12, "waiting": 10},
        total=182,
        long_running=(
            backend(4242, 432.0, query="SELECT *\n  FROM orders\n WHERE status = 'pending'"),
            backend(5151, 45.0, state="idle in transaction", blocked_by=(4242,),
                    query="UPDATE orders SET tags = ARRAY[1,2] WHERE [bold]id = 1"),
        ),
        statements=(
            Statement("q1", "SELECT * FROM analytics_daily WHERE day > $1", 120, 1532.4,
                      183_888.0, 1200),
            Statement("q2", "SELECT id FROM users WHERE email = $1", 10_368_112, 0.8, 72_168.0,
                      31_104_438),
        ) if statements else (),
        statements_available=statements,
        statements_hint=None if statements else "enable pg_stat_statements in postgresql.conf",
    )


def endpoint(group: str, name: str, *, ok: bool = True, status: int | None = 200,
             ms: float | None = 120.0, p95: float | None = 180.0,
             error: str | None = None) -> EndpointResult:
    return EndpointResult(
        name=name, group=group, method="GET", url=f"http://luckygas.test/{name}",
        status=status, latency_ms=ms, p95_ms=p95, ok=ok, error=error, checked_at=NOW,
        history=(100.0, 120.0, 90.0, 2400.0),
    )


def endpoints_snapshot(*, executive_down: bool = True) -> EndpointsSnapshot:
    executive = (
        endpoint("analytics", "executive", ok=False, status=503, error="HTTP 503")
        if executive_down else endpoint("analytics", "executive")
    )
    return EndpointsSnapshot(NOW, (
        endpoint("api", "health"),
        executive,
        endpoint("analytics", "operations", p95=6200.0),
        endpoint("site", "home"),
        endpoint("login", "login", p95=2500.0),
        endpoint("orders", "create", ok=False, status=None, ms=None,
                 error="ReadTimeout: no answer within 5 s"),
    ))


def alerts_snapshot() -> AlertsSnapshot:
    return AlertsSnapshot(NOW, (
        Alert("HighAPIResponseTime", "pending", "warning", NOW - timedelta(seconds=45),
              "p95 over 2 s on login"),
        Alert("AnalyticsEndpointDown", "firing", "critical",
              NOW - timedelta(minutes=3, seconds=10), "executive returns 503",
              {"endpoint": "executive"}),
    ))


# --- pure functions -----------------------------------------------------------


def test_spark_text_shapes() -> None:
    assert spark_text([0, 1, 2, 3, 4, 5, 6, 7], 8, lo=0, hi=7) == "▁▂▃▄▅▆▇█"
    assert spark_text([7, 6, 5, 4, 3, 2, 1, 0], 8, lo=0, hi=7) == "█▇▆▅▄▃▂▁"
    assert spark_text([0.0, 10.0], 5) == "   ▁█"  # padded on the left, newest on the right
    assert spark_text(list(range(20)), 4, lo=16, hi=19) == "▁▃▆█"  # only the newest fit
    assert spark_text([], 3) == "   "
    assert spark_text([0.0, 0.0, 0.0], 3) == "▁▁▁"
    assert spark_text([5.0, 50.0, -1.0], 3, lo=0, hi=10) == "▅█▁"  # clamped
    assert spark_text([1.0, math.nan, 1.0], 3) == "█ █"
    assert spark_text([1.0], 0) == ""
    assert all(len(spark_text([1.0, 2.0], w)) == w for w in range(1, 12))


# --- Pane status line ---------------------------------------------------------


async def test_pane_status_line_for_each_state() -> None:
    pane = AlertsPane(key="5")
    async with Host(pane).run_test(size=SIZE) as pilot:
        assert pane.border_title == "5 Alerts"
        pane.update_source(None, SourceState("alerts", SourceStatus.CONNECTING), NOW)
        assert "connecting…" in str(pane.border_subtitle)

        pane.update_source(alerts_snapshot(), ok("alerts"), NOW)
        assert not pane.border_subtitle

        stale = SourceState("alerts", SourceStatus.STALE, NOW - timedelta(seconds=12))
        pane.update_source(None, stale, NOW)
        assert "⚠ stale · data 12s old" in str(pane.border_subtitle)
        assert "yellow" in str(pane.border_subtitle) and pane.has_class("-stale")

        failing = SourceState("alerts", SourceStatus.FAILING, NOW - timedelta(seconds=125),
                              error="connection refused", failures=3)
        pane.update_source(None, failing, NOW)
        subtitle = str(pane.border_subtitle)
        assert "✖ failing: connection refused · data 2m 05s old" in subtitle
        assert "red" in subtitle and pane.has_class("-failing") and not pane.has_class("-stale")
        # the last good data stays on screen while the source fails
        assert pane.snapshot is not None
        assert pane.query_one(DiffTable).row_count == 2

        pane.update_source(None, SourceState("alerts", SourceStatus.OFF), NOW)
        assert "not configured" in str(pane.border_subtitle)
        await pilot.pause()
        assert "not configured" in screen_text(pane.app)


async def test_pane_age_ticks_once_a_second_repainting_only_the_bottom_border() -> None:
    times = [NOW]
    stale_pane = AlertsPane(clock=lambda: times[0], id="stale")
    fresh_pane = AlertsPane(clock=lambda: times[0], id="fresh")
    calm = Banner(clock=lambda: times[0], id="calm")
    worried = Banner(clock=lambda: times[0], id="worried")
    async with Host(calm, worried, stale_pane, fresh_pane).run_test(size=SIZE) as pilot:
        calm.set_sources([ok("kube"), ok("db")])
        worried.set_sources([ok("kube"), SourceState("db", SourceStatus.STALE,
                                                     NOW - timedelta(seconds=12))])
        stale_pane.update_source(alerts_snapshot(), SourceState(
            "alerts", SourceStatus.STALE, NOW - timedelta(seconds=12)), NOW)
        fresh_pane.update_source(alerts_snapshot(), ok("alerts"), NOW)
        await pilot.pause()
        assert "12s old" in str(stale_pane.border_subtitle)
        stale_table = stale_pane.query_one(DiffTable)
        drawn: list[int] = []
        original = stale_table.render_line

        def counting_render_line(y: int) -> Any:
            drawn.append(y)
            return original(y)

        stale_table.render_line = counting_render_line  # type: ignore[method-assign]
        times[0] = NOW + timedelta(seconds=20)
        with record_repaints(stale_pane) as stale_dirty, \
                record_refreshes(fresh_pane) as fresh_calls, \
                record_refreshes(calm) as calm_calls:
            for _ in range(50):  # the ticker runs once a second
                await pilot.pause(0.1)
                if "32s old" in str(stale_pane.border_subtitle):
                    break
            await pilot.pause()
        assert "32s old" in str(stale_pane.border_subtitle)
        assert fresh_calls == []  # fresh data: no ticking, no repaint
        assert calm_calls == []  # a healthy banner waits for the next minute
        assert "▲ db stale 32s" in screen_text(worried.app).splitlines()[1]
        assert stale_dirty and () not in stale_dirty
        bottom = stale_pane.outer_size.height - 1 - stale_pane.content_offset.y
        assert {(r.y, r.height) for regions in stale_dirty for r in regions} == {(bottom, 1)}
        assert drawn == []  # the table inside was not redrawn
        assert "⚠ stale · data 32s old" in screen_text(stale_pane.app)


async def test_pane_renders_snapshot_given_before_mount() -> None:
    pane = PodsPane()
    pane.update_source(pods_snapshot(), ok("kube"), NOW)
    async with Host(pane).run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert pane.query_one(DiffTable).row_count == 4


# --- the panes ----------------------------------------------------------------


async def test_pods_pane() -> None:
    pane = PodsPane(top=3)
    everything = PodsPane(id="everything")
    async with Host(pane, everything).run_test(size=SIZE) as pilot:
        pane.update_source(pods_snapshot(), ok("kube"), NOW)
        everything.update_source(pods_snapshot(), ok("kube"), NOW)
        await pilot.pause()
        table = pane.query_one(DiffTable)
        assert table.row_keys() == ["uid-backend-a1", "uid-backend-b2", "uid-frontend-c3"]
        a1 = table.get_row("uid-backend-a1")
        labels = [c.label.plain for c in table.columns.values()]
        assert labels[:4] == ["POD", "STATUS", "CPU m", "% LIMIT"]
        assert "DEPLOYMENT" in labels and "NODE" in labels
        assert plain(a1[0]) == "backend-a1"
        assert plain(a1[2]) == "950"
        assert plain(a1[3]) == "!! 95 %" and "red" in style(a1[3])
        b2 = row_text(table, "uid-backend-b2")
        assert b2[3] == "! 72 %" and "yellow" in style(table.get_row("uid-backend-b2")[3])
        assert b2[7] == "node-2 ⊘ cordoned"
        assert plain(a1[4]) == "      ▁▃▅▇"  # 100..800 m against a 1,000 m limit
        assert plain(a1[6]) == "5h03m"
        assert plain(a1[8]) == "luckygas-backend"
        summary = pane.query_one("#pods-summary", TextLine).text.plain
        assert "order-worker 1/2 ✖" in summary and "luckygas-backend 3/3" in summary
        assert "⊘ node-2 cordoned" in summary and "top 3 of 4 pods" in summary
        table.move_cursor(row=1)
        selected = pane.selected_pod()
        assert selected is not None and selected.name == "backend-b2"

        crash = row_text(everything.query_one(DiffTable), "uid-order-worker-d4")
        assert crash[1] == "✖ CrashLoopBackOff" and crash[2] == "–" and crash[5] == "7"
        assert everything.query_one(DiffTable).row_keys()[-1] == "uid-order-worker-d4"
        text = screen_text(pane.app)
        assert "✖ CrashLoopBackOff" in text and "node-2 ⊘ cordoned" in text

        pane.update_source(pods_snapshot(metrics=False), ok("kube"), NOW)
        summary = pane.query_one("#pods-summary", TextLine).text.plain
        assert "metrics unavailable" in summary


async def test_database_pane() -> None:
    pane = DatabasePane()
    async with Host(pane).run_test(size=SIZE) as pilot:
        pane.update_source(db_snapshot(), ok("db"), NOW)
        await pilot.pause()
        usage = pane.query_one("#db-usage", TextLine).text
        assert "182 of 200 connections (91 %)" in usage.plain and "✖ near max" in usage.plain
        assert any("red" in str(span.style) for span in usage.spans)
        states = pane.query_one("#db-states", TextLine).text.plain
        assert states == "active 40 · idle 120 · idle in transaction ⚠ 12 · waiting ⚠ 10"
        long_line = pane.query_one("#db-long", TextLine).text.plain
        assert "⚠ 1 over 5 min" in long_line

        table = pane.query_one(DiffTable)
        labels = [c.label.plain for c in table.columns.values()]
        assert set(labels) == {"PID", "STATE", "DURATION", "WAIT", "BLOCKED BY", "USER", "APP",
                               "QUERY"}
        keys = table.row_keys()
        slow, young = (dict(zip(labels, table.get_row(k), strict=True)) for k in keys)
        assert plain(slow["PID"]) == "4242"
        assert plain(slow["DURATION"]) == "⚠ 7m 12s" and "bold red" in style(slow["DURATION"])
        assert plain(young["DURATION"]) == "45s" and "red" not in style(young["DURATION"])
        assert plain(slow["QUERY"]) == "SELECT * FROM orders WHERE status = 'pending'"
        assert plain(young["BLOCKED BY"]) == "⊘ 4242"
        assert plain(young["WAIT"]) == "Lock:transactionid"
        assert plain(young["STATE"]) == "idle in txn"
        assert plain(young["QUERY"]).startswith("UPDATE orders SET tags = ARRAY[1,2] WHERE [bold]")
        selected = pane.selected_backend()
        assert selected is not None and selected.pid == 4242

        # the next poll: durations grew; one-line texts change without a layout pass
        older = replace(db_snapshot(), long_running=tuple(
            replace(b, duration_s=b.duration_s + 2) for b in db_snapshot().long_running))
        with record_refreshes(pane.query_one("#db-long", TextLine)) as calls:
            pane.update_source(older, ok("db"), NOW + timedelta(seconds=2))
            await pilot.pause()
        assert calls and not any(layout for _, _, layout in calls)
        assert "longest 7m 14s" in pane.query_one("#db-long", TextLine).text.plain


async def test_slow_queries_pane_and_hint() -> None:
    pane = SlowQueriesPane()
    async with Host(pane).run_test(size=SIZE) as pilot:
        pane.update_source(db_snapshot(), ok("db"), NOW)
        await pilot.pause()
        table = pane.query_one(DiffTable)
        q1, q2 = table.get_row("q1"), table.get_row("q2")
        assert [plain(v) for v in q1[:4]] == ["⚠ 1,532.4", "120", "3m 03s", "1,200"]
        assert "bold red" in style(q1[0])
        assert plain(q2[0]) == "0.8" and "red" not in style(q2[0])
        assert plain(q2[1]) == "10.4M" and plain(q2[3]) == "31.1M"
        assert plain(q2[2]) == "1m 12s"
        assert table.display

        pane.update_source(db_snapshot(statements=False), ok("db"), NOW)
        await pilot.pause()
        assert not table.display
        hint = pane.query_one("#slow-hint", TextLine)
        assert hint.display and "enable pg_stat_statements" in hint.text.plain
        assert "enable pg_stat_statements" in screen_text(pane.app)


async def test_endpoints_pane_groups_in_a_stable_order() -> None:
    pane = EndpointsPane()
    async with Host(pane).run_test(size=SIZE) as pilot:
        pane.update_source(endpoints_snapshot(), ok("endpoints"), NOW)
        await pilot.pause()
        table = pane.query_one(DiffTable)
        order = ["site/home", "login/login", "analytics/executive", "analytics/operations",
                 "orders/create", "api/health"]
        assert table.row_keys() == order
        assert column(table, "group") == ["site", "login", "analytics", "", "orders", "api"]
        executive = row_text(table, "analytics/executive")
        assert executive[2] == "✖ 503" and executive[6] == "HTTP 503"
        create = row_text(table, "orders/create")
        assert create[2] == "✖ timeout" and create[3] == "–"
        assert create[6] == "ReadTimeout: no answer within 5 s"
        login = table.get_row("login/login")
        assert plain(login[2]) == "✓ 200"
        assert plain(login[4]) == "⚠ 2,500" and "yellow" in style(login[4])
        operations = table.get_row("analytics/operations")
        assert plain(operations[4]) == "✖ 6,200" and "red" in style(operations[4])
        assert plain(login[3]) == "120"
        assert plain(login[5]).strip()[-1] == "█"
        summary = pane.query_one("#endpoints-summary", TextLine).text.plain
        assert "✖ 2 of 6 down: analytics/executive, orders/create" in summary

        table.move_cursor(row=3)
        pane.update_source(endpoints_snapshot(executive_down=False), ok("endpoints"), NOW)
        assert table.row_keys() == order  # recovering does not move rows
        assert table.selected_key() == "analytics/operations"
        assert row_text(table, "analytics/executive")[2] == "✓ 200"


async def test_alerts_pane_firing_first_and_empty_state() -> None:
    pane = AlertsPane()
    async with Host(pane).run_test(size=SIZE) as pilot:
        pane.update_source(alerts_snapshot(), ok("alerts"), NOW + timedelta(seconds=10))
        await pilot.pause()
        table = pane.query_one(DiffTable)
        rows = [row_text(table, key) for key in table.row_keys()]
        assert rows[0][:4] == ["AnalyticsEndpointDown", "critical", "● firing", "3m 20s"]
        assert rows[1][:4] == ["HighAPIResponseTime", "warning", "◌ pending", "55s"]
        assert rows[0][4] == "executive returns 503"
        summary = pane.query_one("#alerts-summary", TextLine).text.plain
        assert summary == "● 1 firing · ◌ 1 pending"

        pane.update_source(AlertsSnapshot(NOW, ()), ok("alerts"), NOW)
        await pilot.pause()
        assert pane.query_one("#alerts-summary", TextLine).text.plain == "✓ No alerts firing"
        assert not table.display
        assert "No alerts firing" in screen_text(pane.app)


# --- timeline -----------------------------------------------------------------


def item(i: int, seconds: int, kind: str = "note", text: str = "checking") -> TimelineItem:
    return TimelineItem(i, NOW + timedelta(seconds=seconds), kind, "alice", text)


async def test_timeline_empty_state_and_records() -> None:
    custom = TimelinePane(utc=True, empty_text="Nothing yet.", id="custom")
    timeline = TimelinePane(utc=True)
    async with Host(timeline, custom).run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "No active incident. Press n to declare one." in screen_text(timeline.app)
        assert "Nothing yet." in screen_text(timeline.app)

        timeline.set_records([item(2, 30), item(1, 0, "declared", "Declared P2")], "INC-1")
        await pilot.pause()
        table = timeline.query_one(DiffTable)
        assert table.row_keys() == ["1", "2"]  # newest at the bottom
        assert row_text(table, "1") == ["03:12:00", "Declared P2", "alice"]
        assert table.selected_key() == "2"  # follows the newest
        assert "INC-1" in str(timeline.border_subtitle)
        assert "No active incident" not in screen_text(timeline.app)

        with record_repaints(table) as dirty:
            timeline.set_records([item(1, 0, "declared", "Declared P2"), item(2, 30),
                                  item(3, 60, "mitigation", "scaled luckygas-backend to 10")],
                                 "INC-1")
            await pilot.pause()
        assert () not in dirty  # appended: the old lines were not redrawn
        assert table.row_keys() == ["1", "2", "3"] and table.selected_key() == "3"

        timeline.set_records([], None)
        await pilot.pause()
        assert "No active incident. Press n to declare one." in screen_text(timeline.app)


async def test_timeline_local_time() -> None:
    timeline = TimelinePane()
    async with Host(timeline).run_test(size=SIZE) as pilot:
        timeline.set_records([item(1, 0)], "INC-1")
        await pilot.pause()
        shown = row_text(timeline.query_one(DiffTable), "1")[0]
        assert shown == NOW.astimezone().strftime("%H:%M:%S")


# --- banner -------------------------------------------------------------------


async def test_banner() -> None:
    banner = Banner(read_only=True, utc=True, clock=lambda: NOW)
    async with Host(banner).run_test(size=SIZE) as pilot:
        await pilot.pause()
        line = banner.compose_line(160, NOW).plain
        assert "No active incident" in line and line.rstrip().endswith("03:12 UTC")
        assert "READ-ONLY" in line

        banner.set_incident("INC-2026-11-26-001 · P1 · Investigating · 00:12:34", "P1")
        banner.set_sources([
            ok("kube"),
            SourceState("db", SourceStatus.STALE, NOW - timedelta(seconds=12)),
            SourceState("endpoints", SourceStatus.FAILING, NOW, error="refused"),
            SourceState("alerts", SourceStatus.OFF),
        ])
        await pilot.pause()
        text = screen_text(banner.app).splitlines()[0]
        assert text.startswith(" INC-2026-11-26-001 · P1 · Investigating · for 00:12:34")
        for chip in ("● kube ok", "▲ db stale 12s", "✖ endpoints failing", "○ alerts off"):
            assert chip in text
        styled = banner.compose_line(160, NOW)
        assert any("on red" in str(span.style) for span in styled.spans)

        narrow = banner.compose_line(80, NOW)
        assert narrow.cell_len == 80
        assert narrow.plain.startswith(" INC-2026-11-26-001 · P1 ")
        assert "Investigating" not in narrow.plain  # the status word gives way first
        assert "▲ db 12s" in narrow.plain and "✖ endpoints" in narrow.plain

        with record_refreshes(banner) as calls:  # the same text again: no repaint
            banner.set_incident("INC-2026-11-26-001 · P1 · Investigating · 00:12:34", "P1")
            await pilot.pause()
        assert calls == []

        for severity, colour in (("P2", "dark_orange"), ("P3", "yellow"), ("P4", "blue")):
            banner.set_incident(f"INC-1 · {severity}", severity)
            assert any(colour in str(s.style) for s in banner.compose_line(160, NOW).spans)


async def test_banner_clock_is_local_unless_utc() -> None:
    banner = Banner(clock=lambda: NOW)
    async with Host(banner).run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        assert banner.compose_line(100, NOW).plain.rstrip().endswith(
            NOW.astimezone().strftime("%H:%M"))


async def test_panes_fit_a_tmux_side_pane() -> None:
    """80x24: the first, most important columns and the status line stay visible."""
    cases: list[tuple[Widget, Any, list[str]]] = [
        (PodsPane(), pods_snapshot(), ["POD", "STATUS", "CPU m", "% LIMIT", "✖ CrashLoopBackOff"]),
        (DatabasePane(), db_snapshot(), ["PID", "DURATION", "BLOCKED BY", "QUERY", "⚠ 7m 12s"]),
        (SlowQueriesPane(), db_snapshot(), ["MEAN ms", "QUERY", "⚠ 1,532.4"]),
        (EndpointsPane(), endpoints_snapshot(), ["STATUS", "P95 ms", "LATENCY", "✖ timeout"]),
        (AlertsPane(), alerts_snapshot(), ["FIRING FOR", "SUMMARY", "● firing"]),
    ]
    for pane, snapshot, expected in cases:
        assert isinstance(pane, Pane)
        async with Host(pane).run_test(size=(80, 24)) as pilot:
            pane.update_source(snapshot, SourceState(
                "src", SourceStatus.FAILING, NOW - timedelta(seconds=5), error="timeout"), NOW)
            await pilot.pause()
            text = screen_text(pane.app)
            for word in [*expected, "✖ failing: timeout · data 5s old"]:
                assert word in text, (type(pane).__name__, word)



def test_many_deployments_stay_on_one_line() -> None:
    from luckytui.snapshots import DeploymentInfo
    from widgets.pods import deployments_line

    many = [DeploymentInfo(f"svc-{i:02d}", 3, 3, 3, 3) for i in range(30)]
    assert deployments_line(many).plain == "deployments: all 30 ready"
    many[4] = DeploymentInfo("svc-04", 3, 1, 3, 1)
    text = deployments_line(many).plain
    assert text == "deployments: svc-04 1/3 ✖ · 29 more ready"


def test_many_down_endpoints_are_counted_not_listed() -> None:

    from luckytui.snapshots import EndpointResult
    from widgets.endpoints import summary_line

    now = datetime(2026, 1, 1, tzinfo=UTC)
    down = [EndpointResult(f"r{i}", "api", "GET", "http://x", 500, 1.0, 1.0, False,
                           "HTTP 500", now) for i in range(10)]
    assert summary_line(down).plain == "✖ 10 of 10 down: api/r0, api/r1, api/r2 and 7 more"


def test_warning_events_line() -> None:

    from luckytui.snapshots import KubeWarning, PodsSnapshot
    from widgets.pods import warnings_line

    now = datetime(2026, 1, 1, tzinfo=UTC)
    snap = PodsSnapshot(now, "luckygas", (), (), ())
    assert warnings_line(snap) is None
    warned = PodsSnapshot(now, "luckygas", (), (), (), warnings=(
        KubeWarning("BackOff", "pod/order-worker-1", "Back-off restarting", now),
        KubeWarning("FailedScheduling", "pod/api-2", "0/3 nodes available", now)))
    line = warnings_line(warned)
    assert line is not None
    assert line.plain == ("⚠ 2 recent warning events: BackOff pod/order-worker-1 · "
                          "FailedScheduling pod/api-2")
