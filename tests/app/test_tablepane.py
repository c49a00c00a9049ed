"""The table panes' shared base: keyed rows (a key given twice is kept, as "#2"), the
row under the cursor, and the "-empty" state, seen through the real panes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from luckytui.snapshots import (
    Alert,
    AlertsSnapshot,
    EndpointResult,
    EndpointsSnapshot,
)
from tests.app.test_widgets import db_snapshot
from tests.app.widgetkit import NOW, SIZE, Host, ok, plain, screen_text
from widgets import AlertsPane, DiffTable, EndpointsPane, SlowQueriesPane
from widgets.tablepane import TablePane


def alert(summary: str, minutes: int) -> Alert:
    return Alert("OrdersStuck", "firing", "critical", NOW - timedelta(minutes=minutes), summary,
                 {"alertname": "OrdersStuck", "service": "orders"})


def endpoint(group: str, name: str, ok_: bool = True) -> EndpointResult:
    return EndpointResult(name, group, "GET", f"https://luckygas.test/{name}",
                          200 if ok_ else 503, 120.0, 150.0, ok_, None, NOW)


async def test_a_key_given_twice_keeps_both_rows_and_selection_follows_the_row() -> None:
    pane = AlertsPane()
    assert isinstance(pane, TablePane)
    async with Host(pane).run_test(size=SIZE) as pilot:
        twins = (alert("first of two", 9), alert("second of two", 3))
        pane.update_source(AlertsSnapshot(NOW, twins), ok("alerts"), NOW)
        await pilot.pause()
        table = pane.query_one(DiffTable)
        key = "OrdersStuck{service=orders}"
        assert table.row_keys() == [key, f"{key}#2"]
        assert {plain(table.get_row(k)[4]) for k in table.row_keys()} == {
            "first of two", "second of two"}
        table.move_cursor(row=1)
        chosen = pane.selected()
        assert chosen is not None
        assert chosen.summary == plain(table.get_row(f"{key}#2")[4])
        assert not pane.has_class("-empty")

        pane.update_source(AlertsSnapshot(NOW, ()), ok("alerts"), NOW)
        await pilot.pause()
        assert table.row_count == 0 and pane.selected() is None
        assert pane.has_class("-empty") and not table.display  # the calm line alone
        assert "No alerts firing" in screen_text(pane.app)


async def test_endpoints_group_named_once_and_twins_kept() -> None:
    pane = EndpointsPane()
    async with Host(pane).run_test(size=SIZE) as pilot:
        results = (endpoint("api", "health"), endpoint("api", "orders", ok_=False),
                   endpoint("api", "health"), endpoint("site", "home"))
        pane.update_source(EndpointsSnapshot(NOW, results), ok("endpoints"), NOW)
        await pilot.pause()
        table = pane.query_one(DiffTable)
        # the plan's group order (site before api), config order inside a group
        assert table.row_keys() == ["site/home", "api/health", "api/orders", "api/health#2"]
        groups = [plain(table.get_row(k)[0]) for k in table.row_keys()]
        assert groups == ["site", "api", "", ""]
        table.move_cursor(row=2)
        selected = pane.selected()
        assert selected is not None and selected.name == "orders" and not selected.ok


async def test_slow_queries_same_statement_for_two_users() -> None:
    pane = SlowQueriesPane()
    async with Host(pane).run_test(size=SIZE) as pilot:
        base = db_snapshot()
        one = base.statements[0]
        twin = replace(one, mean_ms=one.mean_ms / 2)  # another user's run of it
        pane.update_source(replace(base, statements=(one, twin)), ok("db"), NOW)
        await pilot.pause()
        table = pane.query_one(DiffTable)
        assert table.row_keys() == [one.queryid, f"{one.queryid}#2"]
        table.move_cursor(row=1)
        assert pane.selected() is twin
