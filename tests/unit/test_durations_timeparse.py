"""The one duration formatter (each style) and the one ISO time parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from luckytui.durations import format_duration
from luckytui.timeparse import parse_iso, parse_time, parse_utc

D2H4 = 2 * 86400 + 4 * 3600


@pytest.mark.parametrize(("seconds", "style", "text"), [
    (4, "age", "4s"), (125, "age", "2m 05s"), (120, "age", "2m 00s"), (3780, "age", "1h 03m"),
    (D2H4, "age", "2d 04h"), (-3, "age", "0s"), (59.9, "age", "59s"),
    (0, "span", "0s"), (45, "span", "45s"), (190, "span", "3m 10s"), (180, "span", "3m"),
    (3900, "span", "1h 05m"), (93600, "span", "1d 02h"), (59.6, "span", "1m"),
    (45, "mtt", "0m 45s"), (245, "mtt", "4m 05s"), (3720, "mtt", "1h 02m"),
    (D2H4, "mtt", "2d 04h"), (None, "mtt", "—"),
    (45, "kube", "45s"), (725, "kube", "12m"), (11100, "kube", "3h05m"),
    (5 * 86400 + 3 * 3600, "kube", "5d03h"),
    (723, "clock", "12:03"), (3723, "clock", "1:02:03"), (-250, "clock", "-4:10"),
    (0, "clock", "0:00"),
    (754, "elapsed", "00:12:34"), (97380, "elapsed", "27:03:00"), (-5, "elapsed", "00:00:00"),
    (900, "window", "15 min"), (7200, "window", "2 h"), (86400, "window", "24 h"),
])
def test_format_duration_styles(seconds: float | None, style: str, text: str) -> None:
    assert format_duration(seconds, style) == text  # type: ignore[arg-type]


def test_parse_iso_reads_z_offsets_and_nanoseconds() -> None:
    want = datetime(2026, 11, 26, 3, 4, 5, 123456, tzinfo=UTC)
    assert parse_iso("2026-11-26T03:04:05.123456789Z") == want
    assert parse_iso(" 2026-11-26T03:04:05.123456z ") == want
    assert parse_iso("2026-11-26T05:04:05.123456+02:00") == want
    assert parse_iso("2026-11-26T03:04:05").tzinfo is None
    with pytest.raises(ValueError):
        parse_iso("yesterday")


def test_parse_time_naive_policy_and_garbage() -> None:
    naive = "2026-11-26T03:04:05"
    assert parse_time(naive) == datetime(2026, 11, 26, 3, 4, 5, tzinfo=UTC)
    assert parse_time(naive, "reject") is None
    local = parse_time(naive, "local")
    assert local is not None and local.tzinfo is not None
    assert local.replace(tzinfo=None) == datetime(2026, 11, 26, 3, 4, 5)
    for bad in (None, "", "  ", 17, "not a time", "2026-13-01T00:00:00Z"):
        assert parse_time(bad) is None
    plus2 = parse_time("2026-11-26T05:04:05+02:00")
    assert plus2 is not None and plus2.utcoffset() == timedelta(hours=2)
    assert parse_utc("2026-11-26T05:04:05+02:00") == datetime(2026, 11, 26, 3, 4, 5, tzinfo=UTC)
    east = datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))
    assert parse_utc(east) == datetime(2026, 1, 1, tzinfo=UTC)
