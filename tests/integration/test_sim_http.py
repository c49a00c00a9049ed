"""The simulation's HTTP servers, checked over real loopback HTTP.

Each app is served on a free loopback port inside the test's event loop and
spoken to with httpx, as the sources and other processes speak to it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from luckytui.sim.api import make_api_app
from luckytui.sim.model import DATABASE, EXTRA_RESOURCES, Production
from luckytui.sim.pgapi import make_pg_app
from luckytui.sim.promapi import make_prometheus_app
from tests.conftest import ManualClock as Clock
from tests.conftest import serve

START = 1_780_000_000.0
EMAIL = "oncall@luckygas.com.tw"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def model(clock: Clock) -> Production:
    return Production(seed=7, clock=clock)


@pytest.fixture
async def api(model: Production) -> AsyncIterator[httpx.AsyncClient]:
    app = make_api_app(model, EMAIL, PASSWORD, latency_scale=0.01)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        yield client


async def login(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert isinstance(token, str)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the LuckyGas API -------------------------------------------------------------------


async def test_health(api: httpx.AsyncClient) -> None:
    r = await api.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_login_gives_an_expiring_bearer_token(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert len(body["access_token"]) >= 32


@pytest.mark.parametrize(
    ("content", "status"),
    [
        ({"email": EMAIL, "password": "wrong"}, 401),
        ({"email": "someone@else", "password": PASSWORD}, 401),
        (b"{not json", 400),
        ({"email": EMAIL}, 422),
        ([EMAIL, PASSWORD], 422),
        ({"email": EMAIL, "password": 12345}, 422),
    ],
)
async def test_login_refuses(api: httpx.AsyncClient, content: object, status: int) -> None:
    if isinstance(content, bytes):
        r = await api.post("/api/v1/auth/login", content=content,
                           headers={"Content-Type": "application/json"})
    else:
        r = await api.post("/api/v1/auth/login", json=content)
    assert r.status_code == status
    assert "access_token" not in r.json()
    assert PASSWORD not in r.text


async def test_analytics_need_a_valid_token(api: httpx.AsyncClient) -> None:
    for name in ("executive", "operations", "financial", "performance"):
        r = await api.get(f"/api/v1/analytics/{name}")
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"
    r = await api.get("/api/v1/analytics/executive", headers=bearer("forged"))
    assert r.status_code == 401
    r = await api.get("/api/v1/analytics/executive", headers={"Authorization": "Basic eDp5"})
    assert r.status_code == 401
    token = await login(api)
    for name in ("executive", "operations", "financial", "performance"):
        r = await api.get(f"/api/v1/analytics/{name}", headers=bearer(token))
        assert r.status_code == 200
        assert r.json()["report"] == name


async def test_financial_analytics_answer_500_while_broken(
        api: httpx.AsyncClient, model: Production) -> None:
    token = await login(api)
    model.analytics_broken_since = model.now
    r = await api.get("/api/v1/analytics/financial", headers=bearer(token))
    assert r.status_code == 500
    assert "detail" in r.json()
    r = await api.get("/api/v1/analytics/executive", headers=bearer(token))
    assert r.status_code == 200
    model.analytics_broken_since = None
    r = await api.get("/api/v1/analytics/financial", headers=bearer(token))
    assert r.status_code == 200


async def test_orders_are_created_and_refused_when_read_only(
        api: httpx.AsyncClient, model: Production) -> None:
    token = await login(api)
    order = {"customer_id": 1, "product_id": 20, "quantity": 1}
    assert (await api.post("/api/v1/orders", json=order)).status_code == 401
    r1 = await api.post("/api/v1/orders", json=order, headers=bearer(token))
    r2 = await api.post("/api/v1/orders", json=order, headers=bearer(token))
    assert (r1.status_code, r2.status_code) == (201, 201)
    assert r2.json()["id"] == r1.json()["id"] + 1
    assert model.orders_created == 2

    model.set_read_only(DATABASE, True)
    r = await api.post("/api/v1/orders", json=order, headers=bearer(token))
    assert r.status_code == 503
    assert "read-only" in r.json()["detail"]
    assert model.orders_created == 2
    assert model.orders_failed == 1

    model.set_read_only(DATABASE, False)
    r = await api.post("/api/v1/orders", json=order, headers=bearer(token))
    assert r.status_code == 201
    assert model.orders_created == 3
    bad = await api.post("/api/v1/orders", content=b"{", headers=bearer(token))
    assert bad.status_code == 400


async def test_tokens_expire_after_15_minutes(
        api: httpx.AsyncClient, clock: Clock) -> None:
    token = await login(api)
    clock.advance(899)
    assert (await api.get("/api/v1/analytics/operations", headers=bearer(token))).status_code \
        == 200
    clock.advance(2)
    assert (await api.get("/api/v1/analytics/operations", headers=bearer(token))).status_code \
        == 401
    fresh = await login(api)
    assert fresh != token
    assert (await api.get("/api/v1/analytics/operations", headers=bearer(fresh))).status_code \
        == 200


async def test_every_request_advances_the_model(
        api: httpx.AsyncClient, model: Production, clock: Clock) -> None:
    clock.advance(30)
    await api.get("/health")
    assert model.now == START + 30


async def test_backend_down_answers_503(api: httpx.AsyncClient, model: Production) -> None:
    token = await login(api)
    for pod in model.pods.values():
        if pod.deployment == "luckygas-backend":
            pod.ready_at = model.now + 3600
    r = await api.get("/api/v1/analytics/executive", headers=bearer(token))
    assert r.status_code == 503
    r = await api.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 503
    assert (await api.get("/health")).status_code == 200


async def test_latency_is_really_waited(model: Production) -> None:
    async with serve(make_api_app(model, EMAIL, PASSWORD)) as url, \
            httpx.AsyncClient(base_url=url) as client:
        token = await login(client)
        start = time.perf_counter()
        r = await client.get("/api/v1/analytics/executive", headers=bearer(token))
        elapsed = time.perf_counter() - start
    assert r.status_code == 200
    # executive is 140 ms at its base, at least twice that queued, times 0.7 at the least
    assert elapsed >= 0.19


async def test_serving_requests_leaves_the_model_deterministic() -> None:
    t = [START]
    served, untouched = (Production(seed=7, clock=lambda: t[0]) for _ in range(2))
    async with serve(make_api_app(served, EMAIL, PASSWORD, latency_scale=0.0)) as url, \
            httpx.AsyncClient(base_url=url) as client:
        token = await login(client)
        for _ in range(5):
            t[0] += 3
            await client.get("/api/v1/analytics/executive", headers=bearer(token))
            await client.get("/health")
    untouched.sync()
    assert served.now == untouched.now
    assert served.rng.random() == untouched.rng.random()


async def test_large_scale_serves_the_extra_resources(clock: Clock) -> None:
    large = Production(seed=7, scale="large", clock=clock)
    small = Production(seed=7, clock=clock)
    async with serve(make_api_app(large, EMAIL, PASSWORD, latency_scale=0.0)) as big_url, \
            serve(make_api_app(small, EMAIL, PASSWORD, latency_scale=0.0)) as small_url, \
            httpx.AsyncClient() as client:
        r = await client.post(f"{big_url}/api/v1/auth/login",
                              json={"email": EMAIL, "password": PASSWORD})
        token = r.json()["access_token"]
        for res in EXTRA_RESOURCES:
            r = await client.get(f"{big_url}/api/v1/{res}", headers=bearer(token))
            assert r.status_code == 200, res
            assert r.json()["resource"] == res
        assert (await client.get(f"{big_url}/api/v1/customers")).status_code == 401
        assert (await client.get(f"{small_url}/api/v1/customers")).status_code == 404


# --- Prometheus -----------------------------------------------------------------------


async def test_alerts_in_prometheus_format(model: Production, clock: Clock) -> None:
    async with serve(make_prometheus_app(model)) as url, \
            httpx.AsyncClient(base_url=url) as client:
        r = await client.get("/api/v1/alerts")
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json() == {"status": "success", "data": {"alerts": []}}

        clock.advance(100)  # past the analytics failure and its 15 s `for`
        doc = (await client.get("/api/v1/alerts")).json()
        assert doc["status"] == "success"
        alerts = doc["data"]["alerts"]
        assert alerts == model.alerts()
        by_name = {a["labels"]["alertname"]: a for a in alerts}
        down = by_name["AnalyticsEndpointDown"]
        assert down["state"] == "firing"
        assert down["labels"]["severity"] == "critical"
        assert set(down) == {"labels", "annotations", "state", "activeAt", "value"}
        assert isinstance(down["value"], str)
        assert down["activeAt"].endswith("Z")
        assert datetime.fromisoformat(down["activeAt"]).timestamp() == START + 75

        ready = await client.get("/-/ready")
        assert (ready.status_code, ready.text) == (200, "Prometheus Server is Ready.\n")
        info = (await client.get("/api/v1/status/buildinfo")).json()
        assert info["status"] == "success"
        assert info["data"]["version"].startswith("2.")


# --- the database's activity ------------------------------------------------------------

ACTIVITY_KEYS = {
    "pid", "datname", "usename", "application_name", "client_addr", "backend_start",
    "xact_start", "query_start", "state_change", "wait_event_type", "wait_event", "state",
    "backend_type", "query", "blocked_by", "lock",
}
STATEMENT_KEYS = {"queryid", "query", "calls", "total_exec_time", "mean_exec_time", "rows"}


async def test_pg_activity_rows(model: Production, clock: Clock) -> None:
    async with serve(make_pg_app(model)) as url, httpx.AsyncClient(base_url=url) as client:
        clock.advance(5)
        r = await client.get(f"/databases/{DATABASE}/activity")
        assert r.status_code == 200
        doc = r.json()
        assert model.now == START + 5
        assert doc["max_connections"] == model.max_connections == 100
        assert datetime.fromisoformat(doc["now"]).timestamp() == START + 5
        rows = doc["activity"]
        assert len(rows) == len(model.connections)
        assert all(set(row) == ACTIVITY_KEYS for row in rows)
        by_pid = {row["pid"]: row for row in rows}
        for pid, conn in model.connections.items():
            assert by_pid[pid]["state"] == conn.state
            assert by_pid[pid]["backend_type"] == conn.backend_type
        workers = [row for row in rows if row["backend_type"] != "client backend"]
        assert {w["backend_type"] for w in workers} >= {"checkpointer", "walwriter"}
        assert all(w["datname"] is None and w["state"] is None for w in workers)
        waiter = next(row for row in rows if row["wait_event_type"] == "Lock")
        assert waiter["state"] == "active"
        holder = by_pid[waiter["blocked_by"][0]]
        assert holder["state"] == "idle in transaction"
        # the lock it waits for, as pg_locks gives it; nobody else waits on one
        assert waiter["lock"] == {"mode": "ShareLock", "locktype": "transactionid",
                                  "relation": "orders"}
        assert all(row["lock"] is None for row in rows if row is not waiter)
        started = datetime.fromisoformat(waiter["query_start"]).timestamp()
        assert started == pytest.approx(START - 80)

        statements = doc["statements"]
        assert len(statements) == len(model.statements)
        assert all(set(s) == STATEMENT_KEYS for s in statements)
        first = statements[0]
        assert first["mean_exec_time"] == pytest.approx(
            first["total_exec_time"] / first["calls"])

        missing = await client.get("/databases/postgres/activity")
        assert missing.status_code == 404
        assert "does not exist" in missing.json()["error"]


async def test_pg_activity_follows_actions(model: Production) -> None:
    async with serve(make_pg_app(model)) as url, httpx.AsyncClient(base_url=url) as client:
        rows = (await client.get(f"/databases/{DATABASE}/activity")).json()["activity"]
        waiter = next(row for row in rows if row["wait_event_type"] == "Lock")
        model.terminate_backend(waiter["blocked_by"][0])
        rows = (await client.get(f"/databases/{DATABASE}/activity")).json()["activity"]
        after = next(row for row in rows if row["pid"] == waiter["pid"])
        assert after["blocked_by"] == []
        assert after["wait_event_type"] is None


async def test_simulated_prometheus_answers_topk_like_prometheus(clock: Clock) -> None:
    import asyncio

    from luckytui.sources.prometheus import PrometheusCpu

    model = Production(seed=7, scale="large", clock=clock)
    async with serve(make_prometheus_app(model)) as url:
        every = PrometheusCpu(url, model.namespace)
        top = PrometheusCpu(url, model.namespace, top=5)
        try:
            everything, busiest = await asyncio.gather(asyncio.to_thread(every.read),
                                                       asyncio.to_thread(top.read))
        finally:
            every.close()
            top.close()
    assert len(everything) == len(model.every_pod()) > 2000
    ranked = sorted(everything.values(), reverse=True)
    assert sorted(busiest.values(), reverse=True) == ranked[:5]
