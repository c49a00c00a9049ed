"""Pod CPU from Prometheus, by PromQL, through prometheus-api-client.

The client is synchronous and costs ~0.1 s to import (it pulls in requests),
so `PrometheusConnect` is imported on the first call, in whichever worker
thread makes it, and never when this module loads. Both calls block: run them
with `asyncio.to_thread`.

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

import ast
import json
import math
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from luckytui.sources.base import SourceError, one_line
from luckytui.systems.http import AnswerLimit, AnswerTooLarge, AnswerTooSlow, read_sync

NAMESPACE_PLACEHOLDER = "$namespace"
DEFAULT_QUERY = ('sum by (pod) (rate(container_cpu_usage_seconds_total'
                 '{namespace="$namespace",container!=""}[2m]))')

# prometheus-api-client 0.7 raises this for any answer but 200
_STATUS = re.compile(r"^HTTP Status Code (\d+) \((.*)\)$", re.DOTALL)


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
        self._where = _host_port(self.url)
        self._lock = threading.Lock()
        self._client: Any = None  # PrometheusConnect, made in the first worker thread

    # --- the two queries ----------------------------------------------------------

    def read(self, at: float | None = None) -> dict[str, float]:
        """Pod name → millicores now (or at the Unix time `at`), by one instant query."""
        params = self._params()
        if at is not None:
            params["time"] = f"{at:.3f}"
        result = self._call(lambda c: c.custom_query(self.instant_query, params=params,
                                                     timeout=self.timeout))
        return parse_vector(result)

    def backfill(self, end: float | None = None) -> dict[str, list[float]]:
        """Pod name → its last `history` CPU samples (millicores, oldest first), one
        every `step_s` seconds, the newest a step before `end` (default now), so a
        `read()` made now follows them at the same spacing."""
        from datetime import UTC, datetime

        last = (time.time() if end is None else end) - self.step_s
        first = last - (self.history - 1) * self.step_s
        start_dt = datetime.fromtimestamp(first, UTC)
        end_dt = datetime.fromtimestamp(last, UTC)
        result = self._call(lambda c: c.custom_query_range(
            self.query, start_time=start_dt, end_time=end_dt, step=f"{self.step_s:g}",
            params=self._params(), timeout=self.timeout))
        return parse_matrix(result)

    def close(self) -> None:
        """Release the HTTP connections (blocking; a later call reconnects)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # --- worker-thread side ---------------------------------------------------------

    def _params(self) -> dict[str, str]:
        # Prometheus gives up evaluating at the same bound the HTTP call has
        return {"timeout": f"{self.timeout:g}s"}

    def _connect(self) -> Any:
        with self._lock:
            if self._client is None:
                import requests
                from prometheus_api_client import PrometheusConnect
                from urllib3.util.retry import Retry

                # No retries: the poller decides when to try again, and a retried
                # 5xx or refused connection would hide the failure for seconds.
                retry = Retry(total=0, redirect=0, raise_on_status=False)
                session = requests.Session()
                self._client = PrometheusConnect(
                    url=self.url, retry=retry, session=session,
                    headers={"User-Agent": "luckytui/0.1", "Accept": "application/json"},
                    timeout=self.timeout)
                # over the adapter PrometheusConnect mounted for this URL: one that
                # reads every answer within the limits
                session.mount(self.url, _bounded_adapter(retry, self.limit))
            return self._client

    def _call(self, call: Any) -> object:
        try:
            client = self._connect()
            result: object = call(client)
        except (AnswerTooLarge, AnswerTooSlow) as exc:
            raise SourceError(f"Prometheus: {exc}") from None
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(self._describe(exc)) from None
        return result

    def _describe(self, exc: BaseException) -> str:
        return one_line(SourceError(f"Prometheus: {describe(exc, self.timeout, self._where)}"))


def _bounded_adapter(retry: Any, limit: AnswerLimit) -> Any:
    """A requests adapter that streams each answer and keeps it within `limit`."""
    from requests.adapters import HTTPAdapter

    class BoundedAdapter(HTTPAdapter):
        def send(self, request: Any, stream: bool = False, timeout: Any = None,
                 verify: Any = True, cert: Any = None, proxies: Any = None) -> Any:
            deadline = limit.deadline()
            response = super().send(request, stream=True, timeout=timeout, verify=verify,
                                    cert=cert, proxies=proxies)
            # what Response.content would hold, read by us instead of all at once
            response._content = read_sync(response.raw, limit, deadline)
            response._content_consumed = True
            return response

    return BoundedAdapter(max_retries=retry)


def _host_port(url: str) -> str:
    """host:port of a URL, for messages: never its user or password."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "the configured URL"
    if not host:
        return "the configured URL"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def describe(exc: BaseException, timeout: float, where: str) -> str:
    """Why a prometheus-api-client call got no usable answer, in a few words."""
    import requests.exceptions as rex
    from prometheus_api_client.exceptions import PrometheusApiClientException

    if isinstance(exc, PrometheusApiClientException):
        return describe_status(str(exc))
    if isinstance(exc, rex.JSONDecodeError | json.JSONDecodeError | UnicodeDecodeError):
        return "malformed JSON"
    if isinstance(exc, KeyError | TypeError | IndexError):
        return "answer has no data.result"
    if isinstance(exc, rex.ConnectTimeout):
        return f"connection timed out after {timeout:g} s ({where})"
    if isinstance(exc, rex.Timeout | TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, rex.InvalidURL | rex.MissingSchema | rex.InvalidSchema):
        return f"invalid URL: {where}"
    if isinstance(exc, rex.ChunkedEncodingError | rex.ContentDecodingError):
        return "connection dropped mid-answer"
    if isinstance(exc, rex.ConnectionError):
        return _connection_error(exc, timeout, where)
    return one_line(exc)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (urllib3 keeps a `reason`), and their causes."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 12:
        e = todo.pop()
        if e in seen:
            continue
        seen.append(e)
        todo.extend(x for x in (*e.args, getattr(e, "reason", None), e.__cause__,
                                e.__context__) if isinstance(x, BaseException))
    return seen


def _connection_error(exc: BaseException, timeout: float, where: str) -> str:
    import socket

    import urllib3.exceptions as ue

    chain = _chain(exc)
    if any(isinstance(e, ConnectionRefusedError) or "refused" in str(e).lower()
           for e in chain):
        return f"connection refused ({where})"
    if any(isinstance(e, ue.NameResolutionError | socket.gaierror) for e in chain):
        return f"cannot resolve host ({where})"
    # with retries off, requests reports a read timeout as a ConnectionError
    if any(isinstance(e, ue.ReadTimeoutError) for e in chain):
        return f"timed out after {timeout:g} s"
    if any(isinstance(e, ue.ConnectTimeoutError | TimeoutError) for e in chain):
        return f"connection timed out after {timeout:g} s ({where})"
    if any(isinstance(e, ConnectionResetError) for e in chain):
        return f"connection reset ({where})"
    if any(isinstance(e, ue.ProtocolError) for e in chain):
        return f"connection dropped mid-answer ({where})"
    if any(isinstance(e, ue.SSLError) for e in chain):
        return f"TLS error talking to {where}"
    last = chain[-1] if chain else exc
    return f"cannot connect to {where}: {str(last).rpartition(': ')[2] or type(last).__name__}"


def describe_status(text: str) -> str:
    """"HTTP Status Code 400 (b'{...}')" → "HTTP 400: bad_data: <Prometheus's error>"."""
    m = _STATUS.match(text)
    if m is None:
        return text
    line = f"HTTP {m[1]}"
    try:
        body = ast.literal_eval(m[2])
        doc = json.loads(body) if isinstance(body, bytes | str) and body else None
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"]:
        kind = doc.get("errorType")
        prefix = f"{kind}: " if isinstance(kind, str) and kind else ""
        return f"{line}: {prefix}{doc['error']}"
    return line
