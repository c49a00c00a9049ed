"""Pod CPU from Prometheus, by PromQL, through `systems.prometheus`.

The adapter is synchronous (prometheus-api-client, imported on the first call
in whichever worker thread makes it, never when this module loads). Both
calls block: run them with `asyncio.to_thread`.

- `read()` is one instant query: pod name → CPU in millicores, now.
- `backfill()` is one range query over the last `history * step_s` seconds,
  made once when the pods pane starts so its CPU trend is full from the
  first frame.

The query must return a vector with a `pod` label and a value in cores (CPU
seconds per second); series of the same pod are added together. The default
query is cAdvisor's counter, as kubelet exposes it:

    sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="<ns>",container!=""}[2m]))

A custom query may say `$namespace` where the namespace goes.

Every failure is a `SourceError` with one line: connection refused, timed
out, an HTTP status, a malformed answer, an answer over its size or time limit
(`http.AnswerLimit`: the session's adapter streams every body and stops
reading past the limit), or the error text Prometheus gave for the query.
"""

from __future__ import annotations

import math
import time
from typing import Any

from luckytui.sources.base import SourceError
from luckytui.systems.http import AnswerLimit
from luckytui.systems.prometheus import Prometheus, PrometheusClient

NAMESPACE_PLACEHOLDER = "$namespace"
DEFAULT_QUERY = ('sum by (pod) (rate(container_cpu_usage_seconds_total'
                 '{namespace="$namespace",container!=""}[2m]))')



def promql_string(value: str) -> str:
    """`value` as the inside of a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def cpu_query(namespace: str, query: str | None = None) -> str:
    """The PromQL to run: `query` (or the default) with the namespace filled in."""
    return (query or DEFAULT_QUERY).replace(NAMESPACE_PLACEHOLDER, promql_string(namespace))


def _number(raw: object) -> float | None:
    """A sample value ("0.25", "NaN", "+Inf") as millicores; None when not finite."""
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ValueError("a sample value is not a number")
    value = float(raw)
    return value * 1000.0 if math.isfinite(value) else None


def _series(result: object) -> list[dict[str, Any]]:
    # a scalar or string result is [time, "value"]: a list too, but not of series
    if not isinstance(result, list) or not all(isinstance(e, dict) for e in result):
        raise SourceError("Prometheus: the query's result is not a vector "
                          "(it must return one series per pod)")
    if not all(isinstance(e.get("metric"), dict) for e in result):
        raise SourceError("Prometheus: a series of the result has no labels")
    return result


def parse_vector(result: object) -> dict[str, float]:
    """`data.result` of an instant query → pod → millicores (series of a pod summed)."""
    out: dict[str, float] = {}
    for entry in _series(result):
        pod = entry["metric"].get("pod")
        if not isinstance(pod, str) or not pod:
            continue  # not a pod's series: nothing to show it against
        sample = entry.get("value")
        try:
            if not isinstance(sample, list) or len(sample) != 2:
                raise ValueError("a sample is not [time, value]")
            value = _number(sample[1])
        except ValueError:
            raise SourceError(f"Prometheus: malformed sample for pod {pod}") from None
        if value is not None:
            out[pod] = out.get(pod, 0.0) + value
    return out


def parse_matrix(result: object) -> dict[str, list[float]]:
    """`data.result` of a range query → pod → millicores, oldest first."""
    by_pod: dict[str, dict[float, float]] = {}
    for entry in _series(result):
        pod = entry["metric"].get("pod")
        if not isinstance(pod, str) or not pod:
            continue
        samples = entry.get("values")
        points = by_pod.setdefault(pod, {})
        try:
            if not isinstance(samples, list):
                raise ValueError("no values")
            for sample in samples:
                if not isinstance(sample, list) or len(sample) != 2:
                    raise ValueError("a sample is not [time, value]")
                at = float(sample[0])
                value = _number(sample[1])
                if value is not None:
                    points[at] = points.get(at, 0.0) + value
        except (TypeError, ValueError):
            raise SourceError(f"Prometheus: malformed sample for pod {pod}") from None
    return {pod: [points[t] for t in sorted(points)] for pod, points in by_pod.items() if points}


class PrometheusCpu:
    """Reads per-pod CPU of one namespace from a Prometheus server (blocking calls)."""

    def __init__(self, url: str, namespace: str, *, query: str | None = None,
                 timeout: float = 5.0, history: int = 20, step_s: float = 10.0,
                 top: int | None = None, limit: AnswerLimit | None = None) -> None:
        self.url = url.rstrip("/")
        self.namespace = namespace
        self.query = cpu_query(namespace, query)
        # each refresh asks only for the busiest pods (what the pane shows): at 2,000
        # pods the whole vector is ~230 KB of JSON every refresh, topk(200) ~25 KB
        self.instant_query = f"topk({top}, {self.query})" if top else self.query
        self.timeout = timeout
        self.limit = limit or AnswerLimit()
        self.history = max(1, history)
        self.step_s = step_s
        self.prometheus: Prometheus = PrometheusClient(self.url, timeout=timeout,
                                                       limit=self.limit)

    # --- the two queries ----------------------------------------------------------

    def read(self, at: float | None = None) -> dict[str, float]:
        """Pod name → millicores now (or at the Unix time `at`), by one instant query."""
        return parse_vector(self.prometheus.query(self.instant_query, at))

    def backfill(self, end: float | None = None) -> dict[str, list[float]]:
        """Pod name → its last `history` CPU samples (millicores, oldest first), one
        every `step_s` seconds, the newest a step before `end` (default now), so a
        `read()` made now follows them at the same spacing."""
        last = (time.time() if end is None else end) - self.step_s
        first = last - (self.history - 1) * self.step_s
        return parse_matrix(self.prometheus.query_range(self.query, first, last, self.step_s))

    def close(self) -> None:
        """Release the HTTP connections (blocking; a later call reconnects)."""
        self.prometheus.close()
