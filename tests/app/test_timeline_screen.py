"""The full-screen timeline, driven with Pilot: filters, notes, export, live updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App
from textual.widgets import Input

from screens.timeline import NO_INCIDENT, TimelineScreen
from widgets.timeline import TimelineItem

T0 = datetime(2026, 11, 26, 3, 0, 0, tzinfo=UTC)
SIZE = (120, 30)
TITLE = "INC-2026-11-26-001 · Analytics down (P1)"

ITEMS = [
    TimelineItem(1, T0, "alert.fired", "prometheus", "▲ AnalyticsEndpointDown firing"),
    TimelineItem(2, T0 + timedelta(seconds=20), "endpoint.down", "ana",
                 "▼ analytics/executive DOWN: HTTP 500"),
    TimelineItem(3, T0 + timedelta(minutes=1), "incident.declared", "ana",
                 "Declared P1: Analytics down"),
    TimelineItem(4, T0 + timedelta(minutes=2), "incident.note", "ana",
                 "Note: disk full on analytics-db"),
    TimelineItem(5, T0 + timedelta(minutes=3), "mitigation.intent", "bo",
                 "Scale analytics 2 → 4"),
    TimelineItem(6, T0 + timedelta(minutes=4), "runbook.step", "bo",
                 "☑ Analytics Endpoint Down: step 1, check endpoints"),
    TimelineItem(7, T0 + timedelta(minutes=5), "incident.update_sent", "cy",
                 "Status update sent (next by 03:35)"),
    TimelineItem(8, T0 + timedelta(minutes=6), "incident.notice_sent", "cy",
                 "Customer notice sent"),
    TimelineItem(9, T0 + timedelta(minutes=7), "endpoint.up", "ana",
                 "▲ analytics/executive back up after 6m 40s"),
]


class Host(App[None]):
    """Shows one TimelineScreen and records what it asks for."""

    def __init__(self, *, callbacks: bool = True) -> None:
        super().__init__()
        self.notes: list[str] = []
        self.exports = 0
        self.closed = False
        self.timeline = TimelineScreen(
            ITEMS, TITLE, utc=True,
            on_note=self.notes.append if callbacks else None,
            on_export=self._export if callbacks else None)

    def _export(self) -> None:
        self.exports += 1

    def on_mount(self) -> None:
        self.push_screen(self.timeline, lambda _: setattr(self, "closed", True))


def item(i: int, kind: str = "incident.note", text: str = "") -> TimelineItem:
    return TimelineItem(i, T0 + timedelta(minutes=i), kind, "ana", text or f"Note: number {i}")


async def test_items_shown_oldest_first_and_the_cursor_at_the_end() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.timeline
        assert app.screen is screen
        assert screen.shown_ids == list(range(1, 10))
        assert screen.table.cursor_row == 8
        assert app.focused is screen.table
        assert TITLE in screen.header.text.plain
        assert "9 of 9 shown" in screen.filter_line.text.plain
        # the row under the cursor is shown in full below the table
        assert "back up after 6m 40s" in screen.detail.text.plain
        assert "03:07:00" in str(screen.table.get_row("9")[0])


async def test_no_incident_header() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        app.timeline.set_items(ITEMS[:2], "")
        await pilot.pause()
        assert NO_INCIDENT in app.timeline.header.text.plain
        assert app.timeline.shown_ids == [1, 2]


async def test_f_cycles_the_kind_filters() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.timeline
        expected = [
            ("Incident", [3, 4, 7, 8]),
            ("Signals", [1, 2, 9]),
            ("Actions", [5, 6]),
            ("Comms", [7, 8]),
            ("Notes", [4]),
            ("All", list(range(1, 10))),
        ]
        for name, ids in expected:
            await pilot.press("f")
            await pilot.pause()
            assert screen.kind_filter_name == name
            assert screen.shown_ids == ids, name
            assert f"{len(ids)} of 9 shown" in screen.filter_line.text.plain


async def test_free_text_filter_enter_keeps_escape_clears() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.timeline
        await pilot.press("slash")
        await pilot.pause()
        assert screen.search.has_focus
        await pilot.press(*"ANALYTICS/exec")
        await pilot.pause()
        assert screen.shown_ids == [2, 9]  # case-insensitive, as typed
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is screen.table
        assert not screen.search.has_class("shown")
        assert screen.shown_ids == [2, 9]
        assert "“ANALYTICS/exec”" in screen.filter_line.text.plain
        # the kind filter combines with the text filter
        await pilot.press("f", "f")
        await pilot.pause()
        assert screen.kind_filter_name == "Signals"
        assert screen.shown_ids == [2, 9]
        # who did it matches too
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"bo", "enter")
        await pilot.pause()
        assert screen.shown_ids == []
        assert "Nothing matches" in screen.detail.text.plain
        await pilot.press("f")  # Actions
        await pilot.pause()
        assert screen.shown_ids == [5, 6]
        await pilot.press("escape")
        await pilot.pause()
        assert screen.text_filter == ""
        assert screen.shown_ids == [5, 6]
        assert app.screen is screen and not app.closed


async def test_escape_in_the_search_field_clears_and_closes_it() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.timeline
        await pilot.press("slash", *"note")
        await pilot.pause()
        assert screen.shown_ids == [4]
        await pilot.press("escape")
        await pilot.pause()
        assert screen.shown_ids == list(range(1, 10))
        assert not screen.search.has_class("shown")
        assert app.focused is screen.table
        await pilot.press("escape")  # nothing left to clear: closes
        await pilot.pause()
        assert app.closed


async def test_colon_asks_a_note_for_the_callback() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.timeline
        await pilot.press("colon")
        await pilot.pause()
        assert screen.note.has_focus
        await pilot.press(*"failover ", "t", "o", *" DR")  # keys that are bindings elsewhere
        await pilot.press("enter")
        await pilot.pause()
        assert app.notes == ["failover to DR"]
        assert app.focused is screen.table
        # an empty note is not sent; Escape cancels one half typed
        await pilot.press("colon", "space", "enter")
        await pilot.press("colon", *"half", "escape")
        await pilot.pause()
        assert app.notes == ["failover to DR"]
        assert app.screen is screen and not app.closed
        assert screen.query_one("#timeline-note-input", Input).value == ""


async def test_p_asks_for_the_post_mortem() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("P")
        await pilot.pause()
        assert app.exports == 1


async def test_without_callbacks_note_and_export_are_not_offered() -> None:
    app = Host(callbacks=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.timeline
        await pilot.pause()
        offered = {b.binding.action for b in screen.active_bindings.values()
                   if screen.check_action(b.binding.action, ()) is not False}
        assert "note" not in offered and "export" not in offered
        assert {"cycle_filter", "search", "close", "back"} <= offered
        await pilot.press("colon")
        await pilot.pause()
        assert not screen.note.has_class("shown")


async def test_bindings_carry_ids_and_descriptions() -> None:
    for binding in TimelineScreen.BINDINGS:
        assert not isinstance(binding, tuple)
        assert binding.id and binding.id.startswith("timeline-")
        assert binding.description and binding.tooltip


async def test_new_items_are_appended_and_the_filter_kept() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.timeline
        await pilot.press("f", "f", "f", "f", "f")  # Notes
        await pilot.pause()
        assert screen.shown_ids == [4]
        before = dict(screen.table.rows)
        more = [*ITEMS, item(10), item(11, "alert.fired", "▲ B firing")]
        screen.set_items(more, TITLE)
        await pilot.pause()
        assert screen.kind_filter_name == "Notes"
        assert screen.shown_ids == [4, 10]
        # the row already shown is the very same row: appended to, not rebuilt
        after = dict(screen.table.rows)
        assert [k.value for k in after] == ["4", "10"]
        assert all(after[key] is row for key, row in before.items())
        assert screen.table.cursor_row == 1  # following the end
        # the same items again change nothing
        screen.set_items(more, TITLE)
        await pilot.pause()
        assert all(a is b for a, b in zip(after.values(), screen.table.rows.values(),
                                          strict=True))
        assert "2 of 11 shown" in screen.filter_line.text.plain
        # a record given twice (two readers of the log) is shown once, as given last
        again = TimelineItem(10, item(10).ts, "incident.note", "ana", "Note: number 10, fixed")
        screen.set_items([*more, again, more[-1]], TITLE)
        await pilot.pause()
        assert screen.shown_ids == [4, 10]
        assert "2 of 11 shown" in screen.filter_line.text.plain
        assert "number 10, fixed" in str(screen.table.get_row("10")[3])


async def test_cursor_stays_put_when_the_user_moved_up() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.timeline
        await pilot.press("up", "up")
        await pilot.pause()
        assert screen.table.selected_key() == "7"
        screen.set_items([*ITEMS, item(10), item(11)], TITLE)
        await pilot.pause()
        assert screen.table.selected_key() == "7"
        assert "Status update sent" in screen.detail.text.plain
        await pilot.press("G")  # back to the newest: following again
        await pilot.pause()
        assert screen.table.selected_key() == "11"
        screen.set_items([*ITEMS, item(10), item(11), item(12)], TITLE)
        await pilot.pause()
        assert screen.table.selected_key() == "12"


async def test_old_records_dropped_from_the_front() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.timeline
        screen.set_items(ITEMS[3:], TITLE)
        await pilot.pause()
        assert screen.shown_ids == list(range(4, 10))
        assert screen.table.selected_key() == "9"


async def test_t_closes() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert app.closed
        assert app.screen is not app.timeline
