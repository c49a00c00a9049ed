"""Prose in a pane is cut between words, with an ellipsis: never "An an"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from luckytui.snapshots import Alert, AlertsSnapshot, SourceState, SourceStatus
from tests.app.test_widgets import NOW, Host, ok, screen_text
from widgets.alerts import AlertsPane
from widgets.pane import cut_words, status_text

SUMMARY = "An analytics endpoint is down (HTTP 500 on /api/v1/analytics/financial)"
WORDS = SUMMARY.split()


def whole_words(shown: str, text: str = SUMMARY) -> bool:
    """``shown`` is ``text``, or a run of its first words followed by "…"."""
    if shown == text:
        return True
    assert shown.endswith("…"), shown
    head = shown[:-1].split()
    return head == text.split()[:len(head)]


@pytest.mark.parametrize("width", range(3, len(SUMMARY) + 2))
def test_cut_words_keeps_whole_words(width: int) -> None:
    shown = cut_words(SUMMARY, width)
    assert len(shown) <= width
    assert whole_words(shown)
    if width >= len(SUMMARY):
        assert shown == SUMMARY


def test_one_long_word_is_cut_inside_with_an_ellipsis() -> None:
    assert cut_words("https://api.luckygas.com.tw/api/v1/analytics/financial", 12) == \
        "https://api…"
    assert cut_words("  spaces\n and\tnewlines  ", 40) == "spaces and newlines"


def test_failing_status_line_cuts_the_error_between_words() -> None:
    error = "connection refused by 10.0.0.12:5432 while " + "reading the answer " * 5
    text = status_text(SourceState("db", SourceStatus.FAILING, NOW, error=error), NOW, True)
    assert text is not None
    shown = text.plain.removeprefix("✖ failing: ").split(" · data")[0]
    assert shown.endswith("…") and whole_words(shown, error)


@pytest.mark.parametrize("width", [74, 80, 100, 120])
async def test_alert_summaries_on_screen_end_between_words(width: int) -> None:
    """(Narrower, the summary column lies past the pane's right edge: scrolled to.)"""
    pane = AlertsPane()
    snapshot = AlertsSnapshot(NOW, (
        Alert("AnalyticsEndpointDown", "firing", "critical", NOW - timedelta(minutes=3),
              SUMMARY),))
    async with Host(pane).run_test(size=(width, 12)) as pilot:
        pane.update_source(snapshot, ok("alerts"), NOW)
        await pilot.pause()
        row = next(line for line in screen_text(pane.app).splitlines()
                   if "AnalyticsEndpointDown" in line)
        shown = row.split("● firing", 1)[1].split("3m 00s", 1)[1].strip(" │")
        assert shown and whole_words(shown), row

