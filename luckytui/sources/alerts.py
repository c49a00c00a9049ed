"""Active alerts from Prometheus's `/api/v1/alerts`.

prometheus-api-client has no call for the alerts endpoint, so this reads it
with aiohttp, within the answer limits (`bounded`), and checks the answer's
shape itself: anything that is not the documented
`{"status": "success", "data": {"alerts": [...]}}` is a `SourceError` with one
line saying what was wrong.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from luckytui.snapshots import Alert, AlertsSnapshot
from luckytui.sources.base import SourceError
from luckytui.systems.http import (
    AnswerLimit,
    Http,
    HttpClient,
    get_or_fail,
)

SEVERITY_ORDER = {"critical": 0, "page": 0, "error": 1, "warning": 2, "info": 3}
_NANOS = re.compile(r"\.(\d{6})\d+")
STATE_ORDER = {"firing": 0, "pending": 1}


def parse_active_at(value: object) -> datetime | None:
    """Prometheus's activeAt (RFC 3339, up to nanoseconds) as aware UTC; None for unset."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("activeAt is not a string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _NANOS.sub(r".\1", text)  # Go writes up to nine digits, Python reads six
    dt = datetime.fromisoformat(text)
    if dt.year <= 1:  # Go's zero time: the alert is not active
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _str_map(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not an object")
    return {str(k): str(v) for k, v in value.items()}


def parse_alert(raw: object, index: int) -> Alert:
    """One entry of `data.alerts`; ValueError names what is missing."""
    if not isinstance(raw, dict):
        raise ValueError(f"alert {index} is not an object")
    labels = _str_map(raw.get("labels"), f"alert {index} labels")
    name = labels.get("alertname")
    if not name:
        raise ValueError(f"alert {index} has no labels.alertname")
    state = raw.get("state")
    if not isinstance(state, str) or not state:
        raise ValueError(f"alert {name} has no state")
    annotations = _str_map(raw.get("annotations"), f"alert {name} annotations")
    try:
        active_at = parse_active_at(raw.get("activeAt"))
    except ValueError:
        raise ValueError(f"alert {name} has an unreadable activeAt") from None
    return Alert(
        name=name,
        state=state,
        severity=labels.get("severity", ""),
        active_at=active_at,
        summary=annotations.get("summary") or annotations.get("description") or "",
        labels=labels,
    )


def _order(a: Alert) -> tuple[int, int, datetime, str]:
    oldest = a.active_at or datetime.max.replace(tzinfo=UTC)
    return (STATE_ORDER.get(a.state, 2), SEVERITY_ORDER.get(a.severity, 4), oldest, a.name)


def parse_alerts_document(doc: Any) -> tuple[Alert, ...]:
    """The alerts of a decoded `/api/v1/alerts` answer: firing, most severe, oldest first."""
    if not isinstance(doc, dict):
        raise SourceError("Prometheus answered JSON that is not an object")
    status = doc.get("status")
    if status != "success":
        error = " ".join(str(doc.get("error") or "").split())
        detail = f": {error}" if error else ""
        raise SourceError(f"Prometheus answered status {status!r}{detail}")
    data = doc.get("data")
    alerts = data.get("alerts") if isinstance(data, dict) else None
    if not isinstance(alerts, list):
        raise SourceError("Prometheus answer has no data.alerts list")
    try:
        parsed = [parse_alert(raw, i) for i, raw in enumerate(alerts)]
    except ValueError as exc:
        raise SourceError(f"Prometheus answered a malformed alert: {exc}") from None
    return tuple(sorted(parsed, key=_order))


class AlertsSource:
    """Polls Prometheus for its pending and firing alerts."""

    name = "alerts"

    def __init__(self, prometheus_url: str, timeout: float = 5.0,
                 limit: AnswerLimit | None = None) -> None:
        self.url = prometheus_url.rstrip("/") + "/api/v1/alerts"
        self.timeout = timeout
        self.limit = limit or AnswerLimit()
        self.http: Http = HttpClient(self.limit, timeout,
                                     headers={"Accept": "application/json"})

    async def fetch(self) -> AlertsSnapshot:
        status, payload = await get_or_fail(self.http, self.url, "Prometheus", self.timeout)
        if status != 200:
            raise SourceError(f"HTTP {status} from Prometheus")
        try:
            doc = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise SourceError("Prometheus answered malformed JSON") from None
        return AlertsSnapshot(taken_at=datetime.now(UTC), alerts=parse_alerts_document(doc))

    async def aclose(self) -> None:
        await self.http.aclose()
