"""HTTP endpoint probes: status and latency of the LuckyGas API, per endpoint.

Every fetch probes all configured endpoints concurrently (at most
`concurrency` at once), each bounded by its own timeout. Endpoints that need
a login use a bearer token from the configured login call; the token is kept
between fetches and renewed once per fetch when an authenticated call answers
401. The login call is probed on every fetch too and shows as its own
endpoint in group "login", so "users cannot log in" is visible by itself.

One endpoint's failure is one result with a one-line error; it never fails
the fetch. Neither the password nor the token ever appears in a result. Each
answer is read within `limit` (1 MiB decoded and 10 s by default, `[limits]`):
past it the probe fails with "response over 1 MiB" or "no complete answer in
5 s" (its own timeout, when shorter).

Each endpoint keeps the latencies of its last `history` answers; a request
that timed out counts as its timeout (a lower bound), so p95 shows hangs, and
one refused outright adds nothing.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

from luckytui.snapshots import EndpointResult, EndpointsSnapshot
from luckytui.sources.base import SourceError
from luckytui.systems.http import (
    DEFAULT_MAX_PROBE,
    AnswerLimit,
    AnswerTooLarge,
    AnswerTooSlow,
    describe_error,
    read_async,
)

USER_AGENT = "luckytui/0.1"


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint to probe."""

    name: str
    group: str  # site, login, analytics, orders, api, ...: how the pane groups rows
    method: str
    url: str
    expect_status: tuple[int, ...] = (200,)
    timeout_s: float = 5.0  # the whole request, connect to last byte
    auth: bool = False  # send the login's bearer token
    body: dict[str, Any] | None = None  # sent as JSON when given
    slow_ms: float = 2000.0  # latency above this is shown as slow
    verify_tls: bool = True


@dataclass(frozen=True)
class LoginSpec:
    """How to log in for the endpoints that need a token."""

    url: str
    email: str
    password: str = field(repr=False)
    email_field: str = "email"
    password_field: str = "password"
    token_field: str = "access_token"
    name: str = "login"
    timeout_s: float = 5.0
    verify_tls: bool = True


def status_error(status: int, expected: Sequence[int]) -> str | None:
    """None when `status` is expected, else one line saying what is wrong."""
    if status in expected:
        return None
    if status >= 500:
        return f"HTTP {status}"
    want = "/".join(str(s) for s in expected) or "nothing"
    return f"expected {want}, got {status}"


def p95(values: Sequence[float]) -> float | None:
    """The 95th percentile by nearest rank, None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class _Probe:
    """What one request gave, before it becomes a result."""

    status: int | None
    latency_ms: float | None
    error: str | None
    payload: bytes = b""
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class EndpointsSource:
    """Probes HTTP endpoints and keeps a latency history for each."""

    name = "endpoints"

    def __init__(self, endpoints: Sequence[EndpointSpec], login: LoginSpec | None,
                 history: int = 30, concurrency: int = 16,
                 limit: AnswerLimit | None = None) -> None:
        self.endpoints = tuple(endpoints)
        self.limit = limit or AnswerLimit(DEFAULT_MAX_PROBE)
        self.login = login
        self.history = max(1, history)
        self.concurrency = max(1, concurrency)
        self._token: str | None = None
        self._histories: dict[tuple[str, str, str], deque[float]] = {}
        # aiohttp, not httpx, for the probes: ~0.3 ms of CPU a request against ~4 ms
        # (measured on the 2-core bench machine), and 40 endpoints every 2 s add up
        self._clients: dict[bool, aiohttp.ClientSession] = {}

    @property
    def max_fetch_s(self) -> float:
        """The longest one fetch can take: login, probes, renewal and retries, all timing out.

        A poller's own timeout for this source should be at least this.
        """
        waves = math.ceil(len(self.endpoints) / self.concurrency)
        probes = waves * max((s.timeout_s for s in self.endpoints), default=0.0)
        login = self.login.timeout_s if self.login is not None else 0.0
        return 2 * (login + probes)

    # --- plumbing -----------------------------------------------------------------

    def _client(self, verify: bool) -> aiohttp.ClientSession:
        client = self._clients.get(verify)
        if client is None or client.closed:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=self.concurrency, ssl=verify)
            client = aiohttp.ClientSession(connector=connector,
                                           headers={"User-Agent": USER_AGENT},
                                           cookie_jar=aiohttp.DummyCookieJar())
            self._clients[verify] = client
        return client

    def _scrub(self, text: str | None) -> str | None:
        """Remove any secret that found its way into a message."""
        if text is None:
            return None
        for secret in (self.login.password if self.login else None, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text

    async def _request(self, method: str, url: str, timeout_s: float, verify: bool,
                       expected: Sequence[int], body: dict[str, Any] | None = None,
                       token: str | None = None, *, sem: asyncio.Semaphore) -> _Probe:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        async with sem:
            start = time.perf_counter()
            try:
                status, payload = await read_async(
                    self._client(verify), method, url, self.limit, timeout_s, json=body,
                    headers=headers, allow_redirects=False)
            except Exception as exc:  # any failure of one request is that endpoint's result
                elapsed = (time.perf_counter() - start) * 1000.0
                bounded = isinstance(exc, AnswerTooLarge | AnswerTooSlow)
                timed_out = isinstance(exc, TimeoutError | AnswerTooSlow)
                return _Probe(None, elapsed if timed_out else None,
                              str(exc) if bounded else describe_error(exc, timeout_s))
            elapsed = (time.perf_counter() - start) * 1000.0
        return _Probe(status, elapsed, status_error(status, expected), payload)

    def _result(self, name: str, group: str, method: str, url: str,
                probe: _Probe) -> EndpointResult:
        key = (name, method, url)
        hist = self._histories.setdefault(key, deque(maxlen=self.history))
        if probe.latency_ms is not None:
            hist.append(probe.latency_ms)
        return EndpointResult(
            name=name, group=group, method=method, url=url, status=probe.status,
            latency_ms=probe.latency_ms, p95_ms=p95(hist),
            ok=probe.error is None and probe.status is not None,
            error=self._scrub(probe.error), checked_at=probe.checked_at,
            history=tuple(hist))

    # --- login ----------------------------------------------------------------------

    async def _log_in(self, sem: asyncio.Semaphore) -> tuple[_Probe, str | None]:
        """POST the login: the probe, and the token it gave (None on failure)."""
        login = self.login
        assert login is not None
        probe = await self._request(
            "POST", login.url, login.timeout_s, login.verify_tls, (200,),
            body={login.email_field: login.email, login.password_field: login.password},
            sem=sem)
        if probe.error is not None:
            return probe, None
        token = _token_from(probe.payload, login.token_field)
        if token is None:
            probe.error = f"login answered without a {login.token_field}"
        return probe, token

    # --- fetch ----------------------------------------------------------------------

    async def fetch(self) -> EndpointsSnapshot:
        """Probe every endpoint once; one result per endpoint, login first."""
        if not self.endpoints and self.login is None:
            raise SourceError("no endpoints configured")
        sem = asyncio.Semaphore(self.concurrency)
        login_probe: _Probe | None = None
        if self.login is not None and self._token is None and any(
                s.auth for s in self.endpoints):
            login_probe, self._token = await self._log_in(sem)

        async def probe(spec: EndpointSpec, token: str | None) -> _Probe:
            if spec.auth and self.login is not None and token is None:
                return _Probe(None, None, "not checked: login failed")
            return await self._request(
                spec.method, spec.url, spec.timeout_s, spec.verify_tls, spec.expect_status,
                body=spec.body, token=token if spec.auth else None, sem=sem)

        token = self._token
        jobs = [asyncio.ensure_future(probe(s, token)) for s in self.endpoints]
        login_job = (asyncio.ensure_future(self._log_in(sem))
                     if self.login is not None and login_probe is None else None)
        try:
            probes = list(await asyncio.gather(*jobs))
            if login_job is not None:
                login_probe, fresh = await login_job
                if self._token is None:
                    self._token = fresh
        finally:
            for job in jobs:
                job.cancel()
            if login_job is not None:
                login_job.cancel()

        # one renewal per fetch: a 401 on an authenticated call means the token expired
        rejected = [i for i, (s, p) in enumerate(zip(self.endpoints, probes, strict=True))
                    if s.auth and p.status == 401 and 401 not in s.expect_status]
        if rejected and self.login is not None:
            login_probe, self._token = await self._log_in(sem)
            if self._token is not None:
                retried = await asyncio.gather(
                    *(probe(self.endpoints[i], self._token) for i in rejected))
                for i, p in zip(rejected, retried, strict=True):
                    probes[i] = p

        results: list[EndpointResult] = []
        if self.login is not None and login_probe is not None:
            results.append(self._result(self.login.name, "login", "POST", self.login.url,
                                        login_probe))
        for spec, p in zip(self.endpoints, probes, strict=True):
            results.append(self._result(spec.name, spec.group, spec.method, spec.url, p))
        return EndpointsSnapshot(taken_at=datetime.now(UTC), endpoints=tuple(results))

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()


def _token_from(payload: bytes, field_name: str) -> str | None:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    token = data.get(field_name) if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None
