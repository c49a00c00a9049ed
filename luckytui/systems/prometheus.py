"""Prometheus: what luckytui needs of its query API, and the real adapter.

`PrometheusClient` speaks through prometheus-api-client, which is synchronous
and costs ~0.1 s to import (it pulls in requests): `PrometheusConnect` is
imported on the first call, in whichever worker thread makes it, never when
this module loads. Every call blocks: run it with `asyncio.to_thread`.

Every failure is a `SourceError` with one line: connection refused, timed
out, an HTTP status, a malformed answer, an answer over its size or time limit
(`http.AnswerLimit`: the session's adapter streams every body and stops
reading past the limit), or the error text Prometheus gave for the query.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from luckytui.systems.errors import SourceError, one_line
from luckytui.systems.http import AnswerLimit, AnswerTooLarge, AnswerTooSlow, read_sync

# prometheus-api-client 0.7 raises this for any answer but 200
_STATUS = re.compile(r"^HTTP Status Code (\d+) \((.*)\)$", re.DOTALL)


class Prometheus(Protocol):
    """PromQL over HTTP: each call answers the query's `data.result`, as decoded JSON."""

    def query(self, promql: str, at: float | None = None) -> object:
        """One instant query, now or at the Unix time `at`."""
        ...

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> object:
        """One range query from `start` to `end` (Unix times), a sample every `step_s`."""
        ...

    def close(self) -> None: ...


class PrometheusClient:
    """The real adapter: one Prometheus server, no retries, every answer bounded."""

    def __init__(self, url: str, *, timeout: float = 5.0,
                 limit: AnswerLimit | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.limit = limit or AnswerLimit()
        self._where = _host_port(self.url)
        self._lock = threading.Lock()
        self._client: Any = None  # PrometheusConnect, made in the first worker thread

    def query(self, promql: str, at: float | None = None) -> object:
        params = self._params()
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self._call(lambda c: c.custom_query(promql, params=params,
                                                   timeout=self.timeout))

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> object:
        start_dt = datetime.fromtimestamp(start, UTC)
        end_dt = datetime.fromtimestamp(end, UTC)
        return self._call(lambda c: c.custom_query_range(
            promql, start_time=start_dt, end_time=end_dt, step=f"{step_s:g}",
            params=self._params(), timeout=self.timeout))

    def close(self) -> None:
        """Release the HTTP connections (blocking; a later call reconnects)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

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
