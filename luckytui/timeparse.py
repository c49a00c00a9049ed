"""ISO 8601 / RFC 3339 times from outside text, as aware datetimes.

One parser for every reader: "Z" or "z" for UTC, fractions of up to nine digits
(Go and Prometheus write nanoseconds; Python keeps microseconds), an offset or
none. What a time without a zone means differs by caller, so each says:
"utc" (a stored or served time), "local" (typed by a person), or "reject".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

Naive = Literal["utc", "local", "reject"]
_NANOS = re.compile(r"(\.\d{6})\d+")


def parse_iso(text: str) -> datetime:
    """Strict: the time in ``text`` (naive when it names no zone); ValueError otherwise."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(_NANOS.sub(r"\1", text))


def aware(dt: datetime, naive: Naive = "utc") -> datetime | None:
    """``dt`` with a zone: a naive one is read as ``naive`` says (None when rejected)."""
    if dt.tzinfo is not None:
        return dt
    if naive == "utc":
        return dt.replace(tzinfo=UTC)
    if naive == "local":
        return dt.astimezone()
    return None


def parse_time(value: object, naive: Naive = "utc") -> datetime | None:
    """Lenient: an aware datetime from ISO text, or None for anything else (not a
    string, empty, not a time, or naive when ``naive`` is "reject")."""
    if isinstance(value, datetime):
        return aware(value, naive)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return aware(parse_iso(value), naive)
    except ValueError:
        return None


def parse_utc(value: object, naive: Naive = "utc") -> datetime | None:
    """As ``parse_time``, converted to UTC."""
    dt = parse_time(value, naive)
    return dt.astimezone(UTC) if dt is not None else None
