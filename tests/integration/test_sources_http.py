"""The HTTP sources against the simulation and against servers that misbehave.

The misbehaving servers are real HTTP servers on loopback: they answer 500,
garbage or truncated JSON, documents with fields missing, answer slowly, or
never answer at all; a bound socket that does not listen refuses connections.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from luckytui.sim.api import make_api_app
from luckytui.sim.model import DATABASE, Production
from luckytui.sim.pgapi import make_pg_app
from luckytui.sim.pgtwin import SimPostgresSource
from luckytui.sim.promapi import make_prometheus_app
from luckytui.snapshots import EndpointResult, EndpointsSnapshot
from luckytui.sources.alerts import AlertsSource
from luckytui.sources.base import SourceError
from luckytui.sources.endpoints import EndpointSpec, EndpointsSource, LoginSpec, p95
from luckytui.sources.postgres import STATEMENTS_HINT
from tests.conftest import ManualClock as Clock
from tests.conftest import serve

START = 1_780_000_000.0
EMAIL = "oncall@luckygas.com.tw"
PASSWORD = "s3cret-Passw0rd-for-the-drill"
TIMEOUT = 0.3  # how long a test lets a hanging server hang
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback port that is bound but not listening: connecting is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def model(clock: Clock) -> Production:
    return Production(seed=7, clock=clock)


class Misbehaving:
    """A server whose routes each fail in one way; `release()` ends the hangs."""

    def __init__(self) -> None:
        self.release_hangs = asyncio.Event()
        self.app = web.Application()
        self.in_flight = 0
        self.max_in_flight = 0
        self.hits: dict[str, int] = {}
        route = self.app.router.add_route
        route("*", "/status/{code}", self.status)
        route("*", "/garbage", self.text("<html>502 Bad Gateway</html>", "text/html"))
        route("*", "/truncated", self.truncated)
        route("*", "/json", self.json_doc)
        route("*", "/hang", self.hang)
        route("*", "/slow/{ms}", self.slow)
        route("*", "/cut", self.cut)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        async with serve(self.app) as url:
            try:
                yield url
            finally:
                self.release_hangs.set()

    def text(self, body: str, content_type: str) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(text=body, content_type=content_type)
        return handler

    async def status(self, request: web.Request) -> web.StreamResponse:
        code = int(request.match_info["code"])
        return web.json_response({"status": "error", "error": "boom"}, status=code)

    async def truncated(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=b'{"status": "success", "data": {"alerts": [{"labels": ',
                            content_type="application/json")

    async def json_doc(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.document)

    document: Any = None

    async def hang(self, request: web.Request) -> web.StreamResponse:
        await self.release_hangs.wait()
        return web.json_response({})

    async def slow(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(int(request.match_info["ms"]) / 1000)
        finally:
            self.in_flight -= 1
        return web.json_response({"ok": True})

    async def cut(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b'{"status": "succ')
        assert request.transport is not None
        request.transport.close()
        return response


@pytest.fixture
async def bad() -> AsyncIterator[tuple[Misbehaving, str]]:
    server = Misbehaving()
    async with server.serving() as url:
        yield server, url


# --- alerts -------------------------------------------------------------------------------


async def test_alerts_from_the_simulation(model: Production, clock: Clock) -> None:
    async with serve(make_prometheus_app(model)) as url:
        source = AlertsSource(url)
        try:
            assert (await source.fetch()).alerts == ()
            clock.advance(100)
            snap = await source.fetch()
        finally:
            await source.aclose()
    assert {a.name for a in snap.alerts} == {
        a["labels"]["alertname"] for a in model.alerts()}  # type: ignore[index]
    down = next(a for a in snap.alerts if a.name == "AnalyticsEndpointDown")
    assert down.state == "firing"
    assert down.severity == "critical"
    assert down.summary == "An analytics endpoint answers 5xx"
    assert down.active_at is not None
    assert down.active_at.timestamp() == START + 75
    assert down.labels["namespace"] == "luckygas"
    assert snap.alerts[0].state == "firing"


GOOD_ALERT = {"labels": {"alertname": "HighAPIResponseTime", "severity": "warning"},
              "annotations": {"summary": "slow"}, "state": "pending",
              "activeAt": "2026-11-26T03:04:05.123456789Z", "value": "2.5e+00"}


@pytest.mark.parametrize(
    ("path", "document", "error"),
    [
        ("/status/500", None, "HTTP 500 from Prometheus"),
        ("/status/503", None, "HTTP 503 from Prometheus"),
        ("/garbage", None, "Prometheus answered malformed JSON"),
        ("/truncated", None, "Prometheus answered malformed JSON"),
        ("/json", {"status": "error", "errorType": "internal", "error": "query\nfailed"},
         "Prometheus answered status 'error': query failed"),
        ("/json", {"status": "success"}, "Prometheus answer has no data.alerts list"),
        ("/json", {"status": "success", "data": {"alerts": {}}},
         "Prometheus answer has no data.alerts list"),
        ("/json", [1, 2], "Prometheus answered JSON that is not an object"),
        ("/json", {"status": "success", "data": {"alerts": [GOOD_ALERT, {"state": "firing"}]}},
         "Prometheus answered a malformed alert: alert 1 has no labels.alertname"),
        ("/json", {"status": "success", "data": {"alerts": [
            {"labels": {"alertname": "X"}, "activeAt": "2026-01-01T00:00:00Z"}]}},
         "Prometheus answered a malformed alert: alert X has no state"),
        ("/json", {"status": "success", "data": {"alerts": [
            {**GOOD_ALERT, "activeAt": "yesterday"}]}},
         "Prometheus answered a malformed alert: alert HighAPIResponseTime has an "
         "unreadable activeAt"),
        ("/cut", None, "Prometheus: server closed the connection without a complete answer"),
    ],
)
async def test_alerts_errors_are_one_line(
        bad: tuple[Misbehaving, str], path: str, document: Any, error: str) -> None:
    server, url = bad
    server.document = document
    source = AlertsSource(f"{url}{path.replace('/api/v1/alerts', '')}")
    source.url = f"{url}{path}"
    try:
        with pytest.raises(SourceError) as info:
            await source.fetch()
    finally:
        await source.aclose()
    assert str(info.value) == error
    assert "\n" not in str(info.value)


async def test_alerts_tolerate_what_prometheus_may_leave_out(
        bad: tuple[Misbehaving, str]) -> None:
    server, url = bad
    server.document = {"status": "success", "data": {"alerts": [
        {"labels": {"alertname": "Old", "severity": "warning"}, "state": "firing",
         "activeAt": "2026-11-26T01:00:00Z"},
        {"labels": {"alertname": "Pending", "severity": "critical"}, "state": "pending",
         "annotations": {"description": "fills up"}, "activeAt": "0001-01-01T00:00:00Z"},
        {"labels": {"alertname": "New", "severity": "critical"}, "state": "firing",
         "activeAt": "2026-11-26T03:00:00.5+02:00"},
        GOOD_ALERT,
    ]}}
    source = AlertsSource(url)
    source.url = f"{url}/json"
    try:
        snap = await source.fetch()
    finally:
        await source.aclose()
    assert [a.name for a in snap.alerts] == ["New", "Old", "Pending", "HighAPIResponseTime"]
    pending = snap.alerts[2]
    assert pending.active_at is None
    assert pending.summary == "fills up"
    assert snap.alerts[3].active_at is not None
    assert snap.alerts[3].active_at.microsecond == 123456


async def test_alerts_hang_is_bounded(bad: tuple[Misbehaving, str]) -> None:
    _, url = bad
    source = AlertsSource(url, timeout=TIMEOUT)
    source.url = f"{url}/hang"
    start = time.perf_counter()
    try:
        with pytest.raises(SourceError, match=r"^Prometheus: timed out after 0\.3 s$"):
            await source.fetch()
    finally:
        await source.aclose()
    assert time.perf_counter() - start < TIMEOUT + 0.5


async def test_alerts_connection_refused(refused_url: str) -> None:
    source = AlertsSource(refused_url, timeout=TIMEOUT)
    try:
        with pytest.raises(SourceError, match=r"^Prometheus: connection refused$"):
            await source.fetch()
    finally:
        await source.aclose()


# --- database -------------------------------------------------------------------------------


async def test_db_from_the_simulation(model: Production, clock: Clock) -> None:
    async with serve(make_pg_app(model)) as url:
        source = SimPostgresSource(f"{url}/databases/{DATABASE}/activity", DATABASE)
        by_base = SimPostgresSource(url, DATABASE)
        try:
            clock.advance(2)
            snap = await source.fetch()
            same = await by_base.fetch()
        finally:
            await source.aclose()
            await by_base.aclose()
    assert snap.database == DATABASE
    assert snap.max_connections == 100
    clients = [c for c in model.connections.values() if c.backend_type == "client backend"]
    assert snap.total == len(clients) == same.total
    assert sum(snap.counts.values()) == snap.total
    assert snap.counts["waiting"] == 1
    assert snap.taken_at.timestamp() == START + 2
    # the scripted report (7 min), the forgotten transaction and the lock waiter
    assert [b.application_name for b in snap.long_running][:1] == ["metabase"]
    durations = [b.duration_s for b in snap.long_running]
    assert durations == sorted(durations, reverse=True)
    assert durations[0] == pytest.approx(422, abs=1)
    waiter = next(b for b in snap.long_running if b.wait_event_type == "Lock")
    holder = next(b for b in snap.long_running if b.pid == waiter.blocked_by[0])
    assert holder.state == "idle in transaction"
    assert snap.statements_available
    means = [s.mean_ms for s in snap.statements]
    assert means == sorted(means, reverse=True)
    assert len(snap.statements) == 10
    assert snap.statements[0].mean_ms > 2000  # the regional report


@pytest.mark.parametrize(
    ("path", "document", "error"),
    [
        ("/status/500", None, "HTTP 500 from the database simulation"),
        ("/garbage", None, "the database simulation answered malformed JSON"),
        ("/truncated", None, "the database simulation answered malformed JSON"),
        ("/json", {"max_connections": 100}, "the database simulation answered an "
         "unexpected document: no activity list"),
        ("/json", {"activity": []}, "the database simulation answered an "
         "unexpected document: missing 'max_connections'"),
        ("/json", {"max_connections": 100, "activity": [{"state": "idle"}]},
         "the database simulation answered a row luckytui cannot read (no pid)"),
    ],
)
async def test_db_errors_are_one_line(
        bad: tuple[Misbehaving, str], path: str, document: Any, error: str) -> None:
    server, url = bad
    server.document = document
    source = SimPostgresSource(f"{url}{path}/activity", DATABASE)
    source.url = f"{url}{path}"
    try:
        with pytest.raises(SourceError) as info:
            await source.fetch()
    finally:
        await source.aclose()
    assert str(info.value) == error


async def test_db_without_statements_gives_the_hint(bad: tuple[Misbehaving, str]) -> None:
    server, url = bad
    server.document = {"max_connections": 10, "now": "2026-11-26T03:04:05Z", "activity": [
        {"pid": 1, "state": "active", "query_start": "2026-11-26T03:00:05Z",
         "backend_type": "client backend", "query": "SELECT 1"}]}
    source = SimPostgresSource(f"{url}/json", "db1")
    source.url = f"{url}/json"
    try:
        snap = await source.fetch()
    finally:
        await source.aclose()
    assert not snap.statements_available
    assert snap.statements_hint == STATEMENTS_HINT
    assert snap.long_running[0].duration_s == 240


async def test_db_unknown_database(model: Production) -> None:
    async with serve(make_pg_app(model)) as url:
        source = SimPostgresSource(url, "nope")
        try:
            with pytest.raises(SourceError, match=r'^database "nope" does not exist$'):
                await source.fetch()
        finally:
            await source.aclose()


async def test_db_hang_and_refusal_are_bounded(
        bad: tuple[Misbehaving, str], refused_url: str) -> None:
    _, url = bad
    hanging = SimPostgresSource(f"{url}/hang", DATABASE, timeout=TIMEOUT)
    hanging.url = f"{url}/hang"
    refused = SimPostgresSource(refused_url, DATABASE, timeout=TIMEOUT)
    start = time.perf_counter()
    try:
        with pytest.raises(SourceError, match=r"^database simulation: timed out after 0\.3 s$"):
            await hanging.fetch()
        assert time.perf_counter() - start < TIMEOUT + 0.5
        with pytest.raises(SourceError, match=r"^database simulation: connection refused$"):
            await refused.fetch()
    finally:
        await hanging.aclose()
        await refused.aclose()


# --- endpoints ------------------------------------------------------------------------------


def sim_specs(url: str, model: Production) -> list[EndpointSpec]:
    specs = []
    for ep in model.endpoints:
        if ep.group == "login":
            continue
        post = ep.method == "POST"
        specs.append(EndpointSpec(
            name=ep.name, group=ep.group, method=ep.method, url=url + ep.path,
            expect_status=(201,) if post else (200,), auth=ep.group != "site",
            body={"customer_id": 1, "product_id": 20, "quantity": 1} if post else None))
    return specs


def by_name(snap: EndpointsSnapshot) -> dict[str, EndpointResult]:
    return {r.name: r for r in snap.endpoints}


class Counter:
    """Counts the simulation API's requests by path and status."""

    def __init__(self, app: web.Application) -> None:
        self.seen: list[tuple[str, int]] = []
        app.middlewares.append(self.middleware)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        self.seen.append((request.path, response.status))
        return response

    def count(self, path: str, status: int | None = None) -> int:
        return sum(1 for p, s in self.seen if p == path and (status is None or s == status))


async def test_endpoints_against_the_simulation(model: Production, clock: Clock) -> None:
    app = make_api_app(model, EMAIL, PASSWORD, latency_scale=0.01)
    counter = Counter(app)
    async with serve(app) as url:
        login = LoginSpec(url=f"{url}/api/v1/auth/login", email=EMAIL, password=PASSWORD)
        source = EndpointsSource(sim_specs(url, model), login)
        try:
            first = await source.fetch()
            model.analytics_broken_since = model.now
            second = await source.fetch()
        finally:
            await source.aclose()
    names = [r.name for r in first.endpoints]
    assert names[0] == "login"
    assert first.endpoints[0].group == "login"
    assert first.endpoints[0].method == "POST"
    assert set(names) == {ep.name for ep in model.endpoints}
    assert all(r.ok and r.error is None for r in first.endpoints), first.endpoints
    assert by_name(first)["orders"].status == 201
    assert model.orders_created == 2
    # the first fetch logs in once before the authenticated calls; the second probes login
    # beside them, keeping the token it holds
    assert counter.count("/api/v1/auth/login") == 2

    financial = by_name(second)["financial"]
    assert (financial.ok, financial.status, financial.error) == (False, 500, "HTTP 500")
    assert financial.latency_ms is not None
    assert len(financial.history) == 2
    assert all(r.ok for r in second.endpoints if r.name != "financial")


async def test_endpoints_renew_an_expired_token(model: Production, clock: Clock) -> None:
    app = make_api_app(model, EMAIL, PASSWORD, latency_scale=0.01)
    counter = Counter(app)
    async with serve(app) as url:
        login = LoginSpec(url=f"{url}/api/v1/auth/login", email=EMAIL, password=PASSWORD)
        specs = [s for s in sim_specs(url, model) if s.name == "executive"]
        source = EndpointsSource(specs, login)
        try:
            await source.fetch()
            clock.advance(16 * 60)  # past the token's 15 minutes
            snap = await source.fetch()
        finally:
            await source.aclose()
    executive = by_name(snap)["executive"]
    assert executive.ok and executive.status == 200
    assert counter.count("/api/v1/analytics/executive", 401) == 1
    assert counter.count("/api/v1/analytics/executive", 200) == 2
    assert counter.count("/api/v1/auth/login") == 3  # first, probe, renewal
    assert by_name(snap)["login"].ok


async def test_endpoints_with_a_wrong_password(model: Production) -> None:
    async with serve(make_api_app(model, EMAIL, PASSWORD, latency_scale=0.0)) as url:
        login = LoginSpec(url=f"{url}/api/v1/auth/login", email=EMAIL, password="not-it")
        source = EndpointsSource(sim_specs(url, model), login)
        try:
            snap = await source.fetch()
        finally:
            await source.aclose()
    results = by_name(snap)
    assert results["login"].error == "expected 200, got 401"
    assert results["health"].ok
    for name in ("executive", "orders"):
        assert results[name].error == "not checked: login failed"
        assert results[name].status is None
    assert "not-it" not in repr(snap)


class FakeApi:
    """An API whose tokens the test controls, to watch the renewal."""

    def __init__(self) -> None:
        self.valid: set[str] = set()
        self.logins = 0
        self.bodies: list[Any] = []
        self.app = web.Application()
        self.app.router.add_post("/login", self.login)
        self.app.router.add_get("/private", self.private)
        self.app.router.add_get("/always-401", self.always_401)
        self.app.router.add_post("/no-token", self.no_token)

    async def login(self, request: web.Request) -> web.StreamResponse:
        self.bodies.append(await request.json())
        self.logins += 1
        token = f"tok-{self.logins}-abcdef"
        self.valid.add(token)
        return web.json_response({"token": token})

    async def private(self, request: web.Request) -> web.StreamResponse:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.valid:
            return web.json_response({"detail": f"bad token {token}"}, status=401)
        return web.json_response({"ok": True})

    async def always_401(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({}, status=401)

    async def no_token(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"hello": "there"})


async def test_token_renewal_on_401_once_per_fetch() -> None:
    fake = FakeApi()
    async with serve(fake.app) as url:
        login = LoginSpec(url=f"{url}/login", email="a@b", password=PASSWORD,
                          email_field="username", password_field="pass", token_field="token")
        specs = [EndpointSpec("private", "api", "GET", f"{url}/private", auth=True),
                 EndpointSpec("private-2", "api", "GET", f"{url}/private", auth=True),
                 EndpointSpec("always", "api", "GET", f"{url}/always-401", auth=True)]
        source = EndpointsSource(specs, login)
        try:
            first = await source.fetch()
            assert fake.logins == 2  # one up front, then one for the 401 of "always"
            fake.valid.clear()  # the server forgets every token
            second = await source.fetch()
            assert fake.logins == 4  # the probe, then one renewal for all the 401s
        finally:
            await source.aclose()
    assert fake.bodies[0] == {"username": "a@b", "pass": PASSWORD}
    for snap in (first, second):
        results = by_name(snap)
        assert results["private"].ok and results["private-2"].ok
        assert results["always"].error == "expected 200, got 401"
        assert results["login"].ok
    text = repr(first) + repr(second) + repr(login) + repr(source.login)
    assert PASSWORD not in text
    assert "tok-" not in text


async def test_login_without_a_token_in_the_answer() -> None:
    fake = FakeApi()
    async with serve(fake.app) as url:
        login = LoginSpec(url=f"{url}/no-token", email="a@b", password=PASSWORD)
        source = EndpointsSource(
            [EndpointSpec("private", "api", "GET", f"{url}/private", auth=True)], login)
        try:
            snap = await source.fetch()
        finally:
            await source.aclose()
    results = by_name(snap)
    assert results["login"].error == "login answered without a access_token"
    assert results["login"].status == 200
    assert not results["login"].ok
    assert results["private"].error == "not checked: login failed"


async def test_endpoint_failures_are_one_line_and_bounded(
        bad: tuple[Misbehaving, str], refused_url: str) -> None:
    _, url = bad
    specs = [
        EndpointSpec("ok", "site", "GET", f"{url}/status/200"),
        EndpointSpec("created", "orders", "POST", f"{url}/status/201", expect_status=(201,),
                     body={"probe": True}),
        EndpointSpec("err", "api", "GET", f"{url}/status/500"),
        EndpointSpec("missing", "api", "GET", f"{url}/status/404"),
        EndpointSpec("either", "api", "GET", f"{url}/status/404", expect_status=(200, 204)),
        EndpointSpec("hang", "api", "GET", f"{url}/hang", timeout_s=TIMEOUT),
        EndpointSpec("refused", "api", "GET", f"{refused_url}/health"),
        EndpointSpec("cut", "api", "GET", f"{url}/cut"),
        EndpointSpec("slow", "api", "GET", f"{url}/slow/300"),
        EndpointSpec("bad-url", "api", "GET", "ftp://example.invalid/x"),
    ]
    source = EndpointsSource(specs, None)
    start = time.perf_counter()
    try:
        snap = await source.fetch()
    finally:
        await source.aclose()
    elapsed = time.perf_counter() - start
    assert elapsed < TIMEOUT + 0.5  # the hang is cut at its timeout, the rest run beside it
    r = by_name(snap)
    assert [x.name for x in snap.endpoints] == [s.name for s in specs]
    assert (r["ok"].ok, r["ok"].status, r["ok"].error) == (True, 200, None)
    assert (r["created"].ok, r["created"].status) == (True, 201)
    assert (r["err"].ok, r["err"].error) == (False, "HTTP 500")
    assert r["missing"].error == "expected 200, got 404"
    assert r["either"].error == "expected 200/204, got 404"
    assert r["hang"].error == "timed out after 0.3 s"
    assert r["hang"].status is None
    assert r["hang"].latency_ms == pytest.approx(300, abs=150)
    assert r["refused"].error == "connection refused"
    assert r["refused"].latency_ms is None
    assert r["refused"].history == ()
    assert r["cut"].error == "server closed the connection without a complete answer"
    assert r["slow"].ok
    assert r["slow"].latency_ms is not None and r["slow"].latency_ms >= 300
    assert r["bad-url"].error is not None and r["bad-url"].error.startswith("invalid URL")
    for result in snap.endpoints:
        assert result.error is None or "\n" not in result.error
        assert result.ok == (result.error is None)


async def test_concurrency_is_bounded(bad: tuple[Misbehaving, str]) -> None:
    server, url = bad
    specs = [EndpointSpec(f"slow-{i}", "api", "GET", f"{url}/slow/100") for i in range(6)]
    source = EndpointsSource(specs, None, concurrency=2)
    start = time.perf_counter()
    try:
        snap = await source.fetch()
    finally:
        await source.aclose()
    assert all(r.ok for r in snap.endpoints)
    assert server.max_in_flight == 2
    assert time.perf_counter() - start >= 0.3
    assert source.max_fetch_s == 2 * 3 * 5.0  # three waves of two, twice, no login


async def test_history_and_p95(bad: tuple[Misbehaving, str]) -> None:
    _, url = bad
    source = EndpointsSource(
        [EndpointSpec("fast", "api", "GET", f"{url}/slow/1"),
         EndpointSpec("hang", "api", "GET", f"{url}/hang", timeout_s=0.05)],
        None, history=5)
    try:
        snaps = [await source.fetch() for _ in range(7)]
    finally:
        await source.aclose()
    lengths = [len(by_name(s)["fast"].history) for s in snaps]
    assert lengths == [1, 2, 3, 4, 5, 5, 5]
    last = by_name(snaps[-1])["fast"]
    assert last.latency_ms == last.history[-1]
    assert last.p95_ms == p95(last.history) == max(last.history)
    prev = by_name(snaps[-2])["fast"]
    assert last.history[:-1] == prev.history[1:]
    # a timeout counts as at least its timeout in the history, so p95 shows the hang
    hang = by_name(snaps[-1])["hang"]
    assert hang.p95_ms is not None and hang.p95_ms >= 50


def test_p95_by_nearest_rank() -> None:
    assert p95([]) is None
    assert p95([7.0]) == 7.0
    values = [float(v) for v in range(1, 101)]
    assert p95(values) == 95.0
    assert p95(list(reversed(values))) == 95.0
    assert p95([float(v) for v in range(1, 21)]) == 19.0


async def test_nothing_to_probe_is_an_error() -> None:
    source = EndpointsSource([], None)
    with pytest.raises(SourceError, match="no endpoints configured"):
        await source.fetch()
    await source.aclose()


async def test_a_login_alone_is_probed(model: Production) -> None:
    async with serve(make_api_app(model, EMAIL, PASSWORD, latency_scale=0.0)) as url:
        source = EndpointsSource([], LoginSpec(f"{url}/api/v1/auth/login", EMAIL, PASSWORD))
        try:
            snap = await source.fetch()
        finally:
            await source.aclose()
    assert [(r.name, r.group, r.ok) for r in snap.endpoints] == [("login", "login", True)]
    assert json.dumps(repr(snap)).find(PASSWORD) == -1
