"""Signals for the timeline: endpoints down and up, recorded once, and one line per kind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from luckytui.redact import redact_url, redact_urls
from luckytui.signals import (
    ENDPOINT_DOWN,
    ENDPOINT_UP,
    EndpointChange,
    EndpointWatch,
    describe,
    logged_endpoints_down,
    record_endpoint_changes,
)
from luckytui.snapshots import EndpointResult, EndpointsSnapshot
from luckytui.store.log import EventLog

T0 = datetime(2026, 11, 26, 3, 0, 0, tzinfo=UTC)
STEP = timedelta(seconds=15)
URL = "https://probe:s3cret@api.luckygas.com.tw/api/v1/analytics/executive?token=abc123#x"


def result(ok: bool, at: datetime, *, name: str = "executive", group: str = "analytics",
           status: int | None = None, error: str | None = None,
           url: str = URL) -> EndpointResult:
    if status is None:
        status = 200 if ok else 500
    if error is None and not ok:
        error = f"HTTP {status}"
    return EndpointResult(name=name, group=group, method="GET", url=url, status=status,
                          latency_ms=12.0, p95_ms=15.0, ok=ok, error=error, checked_at=at)


def snap(at: datetime, *results: EndpointResult) -> EndpointsSnapshot:
    return EndpointsSnapshot(taken_at=at, endpoints=results)


class Probes:
    """Feeds a watch one probe of one endpoint at a time, STEP apart."""

    def __init__(self, watch: EndpointWatch | None = None) -> None:
        self.watch = watch or EndpointWatch()
        self.at = T0

    def __call__(self, ok: bool, *, status: int | None = None,
                 error: str | None = None) -> list[EndpointChange]:
        changes = self.watch.feed(snap(self.at, result(ok, self.at, status=status,
                                                       error=error)))
        self.at += STEP
        return changes


# --- EndpointWatch -----------------------------------------------------------------------


def test_one_failed_probe_is_a_blip_not_an_event() -> None:
    probe = Probes()
    assert probe(True) == []
    assert probe(False) == []
    assert probe(True) == []
    assert probe(False) == []
    assert probe(True) == []
    assert probe.watch.down == []


def test_down_after_two_failures_and_reported_once() -> None:
    probe = Probes()
    probe(True)
    assert probe(False) == []
    changes = probe(False, status=503, error="HTTP 503")
    assert [c.kind for c in changes] == [ENDPOINT_DOWN]
    down = changes[0]
    assert down.key == "analytics/executive"
    assert down.status == 503 and down.error == "HTTP 503"
    assert down.since == T0 + STEP  # the first failed probe
    assert down.at == T0 + 2 * STEP
    assert probe.watch.is_down("analytics/executive")
    assert probe(False) == []
    assert probe(False) == []


def test_up_after_one_success_with_the_outage_length() -> None:
    probe = Probes()
    probe(True)
    probe(False)
    probe(False)
    probe(False)
    changes = probe(True)
    assert [c.kind for c in changes] == [ENDPOINT_UP]
    assert changes[0].down_for_s == 3 * STEP.total_seconds()
    assert changes[0].error is None
    assert not probe.watch.is_down("analytics/executive")
    assert probe(True) == []


def test_start_up_reports_nothing_until_a_failure_repeats() -> None:
    watch = EndpointWatch()
    first = snap(T0, result(True, T0, name="a"), result(False, T0, name="b"))
    assert watch.feed(first) == []
    second = snap(T0 + STEP, result(True, T0 + STEP, name="a"),
                  result(False, T0 + STEP, name="b"))
    changes = watch.feed(second)
    assert [(c.kind, c.name) for c in changes] == [(ENDPOINT_DOWN, "b")]
    assert changes[0].since == T0


def test_the_same_probe_fed_twice_counts_once() -> None:
    watch = EndpointWatch()
    failing = snap(T0, result(False, T0))
    assert watch.feed(failing) == []
    assert watch.feed(failing) == []
    assert watch.down == []


def test_probes_not_sent_change_nothing() -> None:
    probe = Probes()
    probe(True)
    probe(False)
    assert probe(False, status=None, error="not checked: login failed") == []
    assert probe(False, status=None, error="not checked: login failed") == []
    assert probe.watch.down == []
    assert [c.kind for c in probe(False)] == [ENDPOINT_DOWN]


def test_a_known_outage_is_not_reported_again_and_its_recovery_is() -> None:
    since = T0 - timedelta(minutes=5)
    probe = Probes(EndpointWatch(known_down={"analytics/executive": since}))
    assert probe(False) == []
    assert probe(False) == []
    changes = probe(True)
    assert [c.kind for c in changes] == [ENDPOINT_UP]
    assert changes[0].since == since


def test_endpoints_leaving_the_configuration_are_forgotten() -> None:
    watch = EndpointWatch()
    watch.feed(snap(T0, result(False, T0, name="a")))
    watch.feed(snap(T0 + STEP, result(False, T0 + STEP, name="a")))
    assert watch.down == ["analytics/a"]
    watch.feed(snap(T0 + 2 * STEP, result(True, T0 + 2 * STEP, name="b")))
    assert watch.down == []


def test_change_carries_no_credentials_or_query() -> None:
    probe = Probes()
    probe(False, error=f"Client error for url '{URL}'")
    (change,) = probe(False, error=f"Client error for url '{URL}'")
    assert change.url == "https://api.luckygas.com.tw/api/v1/analytics/executive"
    assert change.error is not None
    for secret in ("s3cret", "token", "abc123", "probe:"):
        assert secret not in change.url
        assert secret not in change.error


# --- redaction and durations ------------------------------------------------------------------


@pytest.mark.parametrize(("url", "want"), [
    (URL, "https://api.luckygas.com.tw/api/v1/analytics/executive"),
    ("http://user@[::1]:8080/health?x=1", "http://[::1]:8080/health"),
    ("https://api.example/plain", "https://api.example/plain"),
    ("http://u:pw@[::1/x?token=abc", "[::1/x"),  # not a URL urlsplit reads
    ("http://[::1/x password=hunter2", "http://[::1/x password=***"),
])
def test_redact_url(url: str, want: str) -> None:
    assert redact_url(url) == want


def test_redact_urls_in_text() -> None:
    text = "GET http://a:b@h/x?api_key=k failed; see https://h/y?sig=z"
    assert redact_urls(text) == "GET http://h/x failed; see https://h/y"
    assert redact_urls("no url here") == "no url here"


# --- recording to a shared log ----------------------------------------------------------------


def stepping(start: datetime) -> Callable[[], datetime]:
    ticks: Iterator[int] = iter(range(10**6))
    return lambda: start + timedelta(milliseconds=next(ticks))


def change(kind: str, at: datetime, since: datetime | None = None, *,
           name: str = "executive") -> EndpointChange:
    down = kind == ENDPOINT_DOWN
    return EndpointChange(kind, name, "analytics", "https://u:p@api/x?token=t",
                          500 if down else 200, "HTTP 500 at https://api/x?token=t" if down
                          else None, at, since)


async def test_two_processes_record_each_transition_once(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path, clock=stepping(T0)) as one, \
            await EventLog.open(path, clock=stepping(T0)) as two:
        down = change(ENDPOINT_DOWN, T0 + STEP, since=T0)
        assert await record_endpoint_changes(one, [down], actor="ana", incident=None) == 1
        assert await record_endpoint_changes(two, [down], actor="bo", incident=None) == 0
        # the other process saw it a probe later: still the same outage
        late = change(ENDPOINT_DOWN, T0 + 2 * STEP, since=T0 + STEP)
        assert await record_endpoint_changes(two, [late], actor="bo", incident=None) == 0

        up = change(ENDPOINT_UP, T0 + timedelta(minutes=3, seconds=10), since=None)
        assert await record_endpoint_changes(two, [up], actor="bo", incident="INC-1") == 1
        assert await record_endpoint_changes(one, [up], actor="ana", incident="INC-1") == 0

        records = await one.records()
    assert [(r.kind, r.actor, r.data["ordinal"]) for r in records] == [
        (ENDPOINT_DOWN, "ana", 1), (ENDPOINT_UP, "bo", 2)]
    assert [r.dedupe for r in records] == ["endpoint:analytics/executive:1",
                                          "endpoint:analytics/executive:2"]
    # measured from the first failed probe the log holds, not from this process's view
    assert records[1].data["down_for_s"] == 190.0
    assert records[1].incident == "INC-1"
    down_data = dict(records[0].data)
    assert down_data["url"] == "https://api/x"
    assert down_data["error"] == "HTTP 500 at https://api/x"
    assert down_data["since"] == T0.isoformat()
    assert describe(records[0].kind, down_data) == \
        "▼ analytics/executive DOWN: HTTP 500 at https://api/x"
    assert describe(records[1].kind, dict(records[1].data)) == \
        "▲ analytics/executive back up after 3m 10s"


async def test_racing_processes_compute_the_same_ordinal(tmp_path: Path) -> None:
    """Both read the log before either writes: the dedupe key makes the second a no-op."""
    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path) as one, await EventLog.open(path) as two:
        down = change(ENDPOINT_DOWN, T0, since=T0)
        counts = await asyncio.gather(
            record_endpoint_changes(one, [down], actor="ana", incident=None),
            record_endpoint_changes(two, [down], actor="bo", incident=None))
        assert sorted(counts) == [0, 1]
        assert len(await one.records()) == 1


async def test_up_without_a_recorded_down_is_not_written(tmp_path: Path) -> None:
    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        up = change(ENDPOINT_UP, T0, since=T0 - STEP)
        assert await record_endpoint_changes(log, [up], actor="ana", incident=None) == 0
        assert await log.records() == []


async def test_flapping_alternates_and_endpoints_are_numbered_apart(tmp_path: Path) -> None:
    async with await EventLog.open(tmp_path / "log.sqlite3") as log:
        kinds = [ENDPOINT_DOWN, ENDPOINT_UP, ENDPOINT_DOWN, ENDPOINT_UP]
        for i, kind in enumerate(kinds):
            at = T0 + i * STEP
            both = [change(kind, at, at), change(kind, at, at, name="orders")]
            assert await record_endpoint_changes(log, both, actor="ana", incident=None) == 2
        assert await logged_endpoints_down(log) == {}
        await record_endpoint_changes(log, [change(ENDPOINT_DOWN, T0, T0 - STEP)],
                                      actor="ana", incident=None)
        assert await logged_endpoints_down(log) == {"analytics/executive": T0 - STEP}
        records = await log.records()
    executive = [r for r in records if r.data["endpoint"] == "executive"]
    assert [r.data["ordinal"] for r in executive] == [1, 2, 3, 4, 5]
    assert [r.kind for r in executive] == [*kinds, ENDPOINT_DOWN]


async def test_a_new_process_picks_up_the_logged_outage(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path) as log:
        await record_endpoint_changes(log, [change(ENDPOINT_DOWN, T0 + STEP, T0)],
                                      actor="ana", incident=None)
    async with await EventLog.open(path) as log:
        watch = EndpointWatch(known_down=await logged_endpoints_down(log))
        at = T0 + timedelta(minutes=1)
        changes = watch.feed(snap(at, result(True, at)))
        assert await record_endpoint_changes(log, changes, actor="bo", incident=None) == 1
        last = (await log.records())[-1]
    assert last.kind == ENDPOINT_UP and last.data["down_for_s"] == 60.0


# --- describe ------------------------------------------------------------------------------


def test_describe_endpoint_lines() -> None:
    assert describe(ENDPOINT_DOWN, {"endpoint": "executive", "group": "analytics",
                                    "status": 500, "error": "HTTP 500"}) == \
        "▼ analytics/executive DOWN: HTTP 500"
    assert describe(ENDPOINT_DOWN, {"endpoint": "executive", "group": "analytics",
                                    "status": None, "error": None}) == \
        "▼ analytics/executive DOWN: no answer"
    assert describe(ENDPOINT_UP, {"endpoint": "executive", "group": "analytics"}) == \
        "▲ analytics/executive back up"
    assert describe(ENDPOINT_UP, {"endpoint": "executive", "group": "analytics",
                                  "down_for_s": 190.4}) == \
        "▲ analytics/executive back up after 3m 10s"


def test_describe_incident_comms_and_clocks() -> None:
    due = datetime(2026, 11, 26, 3, 19, tzinfo=UTC).isoformat()
    assert describe("incident.update_sent", {"text": "x", "next_update": due}) == \
        "Status update sent (next by 03:19)"
    assert describe("incident.update_sent", {"text": "x"}) == "Status update sent"
    assert describe("incident.notice_sent", {"text": "x"}) == "Customer notice sent"
    assert describe("incident.clock", {"clock": "response", "label": "Ack",
                                       "due": due, "result": "met"}) == "⏱ Ack SLA met"
    assert describe("incident.clock", {"clock": "status_update", "label": "Status page",
                                       "due": due, "result": "missed"}) == \
        "⏱ Status page update MISSED (due 03:19)"
    assert describe("incident.clock", {"clock": "other", "label": "Other",
                                       "result": "missed"}) == "⏱ Other MISSED"


def test_describe_shows_times_in_the_given_zone() -> None:
    due = datetime(2026, 11, 26, 3, 19, tzinfo=UTC).isoformat()
    taipei = timezone(timedelta(hours=8))
    assert describe("incident.update_sent", {"next_update": due}, tz=taipei) == \
        "Status update sent (next by 11:19)"
    assert describe("incident.clock", {"clock": "status_update", "due": due,
                                       "result": "missed"}, tz=taipei) == \
        "⏱ Status page update MISSED (due 11:19)"


def test_describe_keeps_the_existing_lines() -> None:
    assert describe("alert.fired", {"alert": "A", "severity": "critical",
                                    "summary": "s"}) == "▲ A firing (critical): s"
    assert describe("incident.note", {"text": "hi"}) == "Note: hi"
    assert describe("something.else", {"text": "t"}) == "something.else t"


# --- flapping ------------------------------------------------------------------------------


def test_a_flapping_endpoint_becomes_one_line_until_stable() -> None:
    from luckytui.signals import ENDPOINT_FLAPPING, ENDPOINT_STABLE

    probe = Probes()
    probe(True)
    seen: list[EndpointChange] = []
    for _ in range(8):  # down (two failures) and up, eight times, 45 s a round
        seen += probe(False) + probe(False) + probe(True)
    kinds = [c.kind for c in seen]
    # the first two outages as they are; the third makes it flapping; then nothing
    assert kinds == [ENDPOINT_DOWN, ENDPOINT_UP, ENDPOINT_DOWN, ENDPOINT_UP, ENDPOINT_FLAPPING]
    assert seen[-1].flaps == 3 and seen[-1].since == T0 + STEP  # the first failed probe
    quiet = []
    for _ in range(int(timedelta(minutes=5) / STEP)):  # up for five minutes
        quiet += probe(True)
    assert [(c.kind, c.flaps, c.state) for c in quiet] == [(ENDPOINT_STABLE, 8, "up")]
    # and a later outage is an ordinary one again
    assert [c.kind for c in probe(False) + probe(False)] == [ENDPOINT_DOWN]


async def test_flapping_is_recorded_once_from_two_processes(tmp_path: Path) -> None:
    from luckytui.signals import ENDPOINT_FLAPPING, ENDPOINT_STABLE

    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path) as one, await EventLog.open(path) as two:
        rooms = [(one, EndpointWatch()), (two, EndpointWatch())]
        at = T0
        pattern = [True] + [False, False, True] * 6 + [False] * 24  # then down for good
        for ok in pattern:
            for log, watch in rooms:
                changes = watch.feed(snap(at, result(ok, at)))
                await record_endpoint_changes(log, changes, actor="room", incident=None)
            at += STEP
        records = await one.records()
        assert await logged_endpoints_down(one) == {"analytics/executive": T0 + STEP}
    assert [r.kind for r in records] == [ENDPOINT_DOWN, ENDPOINT_UP, ENDPOINT_DOWN, ENDPOINT_UP,
                                         ENDPOINT_FLAPPING, ENDPOINT_STABLE]
    flapping, stable = records[-2:]
    assert flapping.data["flaps"] == 3 and stable.data["flaps"] == 7
    assert stable.data["state"] == "down" and stable.data["error"] == "HTTP 500"
    assert describe(flapping.kind, dict(flapping.data)) == (
        "↯ analytics/executive FLAPPING: down 3 times since 03:00; one line until it is "
        "stable")
    assert describe(stable.kind, dict(stable.data)) == (
        "▼ analytics/executive stable after 7 flaps: DOWN: HTTP 500")
