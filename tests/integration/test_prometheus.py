"""Pod CPU and the plan's alerts from a real Prometheus server.

Prometheus 2.42 runs as a plain process, scraping a test exporter every second
(see `tests/integration/prom.py`). Rates use windows of a few seconds, and the
plan's alert rules `for: 2s`, so nothing waits for minutes. Faults are real:
the server is killed (SIGKILL) or frozen (SIGSTOP), and HTTP servers on
loopback answer 500 or garbage where Prometheus should be.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from luckytui.sim.model import Production
from luckytui.snapshots import AlertsSnapshot, PodsSnapshot
from luckytui.sources.alerts import AlertsSource
from luckytui.sources.base import SourceError
from luckytui.sources.kube import KubeSource
from luckytui.sources.prometheus import (
    DEFAULT_QUERY,
    PrometheusCpu,
    cpu_query,
    parse_matrix,
    parse_vector,
)
from luckytui.systems.prometheus import describe_status
from tests.integration.conftest_kube import START, free_port, running_cluster, serve
from tests.integration.prom import (  # noqa: F401  (the fixtures register by import)
    PLAN_ALERTS,
    Exporter,
    PrometheusServer,
    exporter_fixture,
    fresh_prometheus_fixture,
    prometheus_fixture,
)

NS = "luckygas"  # the simulation's namespace
OTHER_NS = "cpu-check"
# the default query's shape with a window a few scrapes long
QUERY = ('sum by (pod) (rate(container_cpu_usage_seconds_total'
         '{namespace="$namespace",container!=""}[4s]))')
OTHER_RATES = {"api-7d9f-aaaaa": 0.25, "api-7d9f-bbbbb": 0.5, "worker-5c4b-ccccc": 1.25}
ROOT = Path(__file__).resolve().parents[2]


def sim_pod_names() -> list[str]:
    """The pods of the simulated cluster `running_cluster` serves (seed 7, small)."""
    return sorted(Production(seed=7, scale="small", clock=lambda: START).every_pod())


def sim_rates() -> dict[str, float]:
    """Cores for every simulated pod but the last, which Prometheus has no series of."""
    return {name: round(0.1 * (i + 1), 2) for i, name in enumerate(sim_pod_names()[:-1])}


@pytest.fixture(scope="session")
def cpu_series(exporter: Exporter) -> Iterator[None]:
    """CPU counters for both namespaces, set before Prometheus starts (ask for this
    fixture first) so their windows fill while it warms up."""
    for pod, cores in OTHER_RATES.items():
        exporter.set_pod_cpu(pod, cores, namespace=OTHER_NS)
    for pod, cores in sim_rates().items():
        exporter.set_pod_cpu(pod, cores, namespace=NS)
    exporter.set_pod_cpu("ghost-0000-zzzzz", 3.0, namespace=NS)  # not in the cluster
    exporter.set_pod_cpu("elsewhere", 2.0, namespace="kube-system")
    yield
    for ns in (OTHER_NS, NS, "kube-system"):
        exporter.remove("container_cpu_usage_seconds_total", namespace=ns)


def wait_age(exporter: Exporter, seconds: float, namespace: str) -> None:
    """Sleep until the namespace's CPU series have been scraped for `seconds`."""
    deadline = time.monotonic() + seconds + 15
    while True:
        age = exporter.series_age("container_cpu_usage_seconds_total", namespace=namespace)
        if age >= seconds:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the {namespace} CPU series were not scraped for {seconds:g} s")
        time.sleep(max(0.05, min(seconds - age, 1.0)) if age else 0.1)


def assert_one_line(message: str) -> None:
    assert message and "\n" not in message and len(message) <= 160, message


def promql_cpu(server: PrometheusServer, query: str, at: float) -> dict[str, float]:
    """Prometheus's own answer, from its HTTP API: pod → millicores."""
    return {s["metric"]["pod"]: float(s["value"][1]) * 1000
            for s in server.query(query, at=at)}


# --- PrometheusCpu --------------------------------------------------------------------


def test_module_import_is_light() -> None:
    code = ("import sys, luckytui.sources.prometheus, luckytui.sources.kube\n"
            "heavy = [m for m in ('prometheus_api_client', 'requests') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_default_query_names_the_namespace() -> None:
    assert "$namespace" in DEFAULT_QUERY
    assert cpu_query("luckygas") == (
        'sum by (pod) (rate(container_cpu_usage_seconds_total'
        '{namespace="luckygas",container!=""}[2m]))')
    assert PrometheusCpu("http://p:9090/", 'we"ird').query.count('\\"') == 1
    assert PrometheusCpu("http://p:9090", "x", query="up").query == "up"


def test_errors_never_name_credentials() -> None:
    port = free_port()
    cpu = PrometheusCpu(f"http://admin:hunter2@127.0.0.1:{port}/prom", NS, timeout=1.0)
    with pytest.raises(SourceError) as err:
        cpu.read()
    assert str(err.value) == f"Prometheus: connection refused (127.0.0.1:{port})"
    cpu.close()


def test_answers_parse_per_pod() -> None:
    vector = [
        {"metric": {"pod": "a", "container": "app"}, "value": [1.0, "0.25"]},
        {"metric": {"pod": "a", "container": "sidecar"}, "value": [1.0, "0.125"]},
        {"metric": {"pod": "b"}, "value": [1.0, "NaN"]},  # no rate yet: no CPU shown
        {"metric": {"job": "x"}, "value": [1.0, "9"]},  # not a pod's series
    ]
    assert parse_vector(vector) == {"a": 375.0}
    matrix = [
        {"metric": {"pod": "a"}, "values": [[2.0, "0.5"], [1.0, "0.25"]]},
        {"metric": {"pod": "a", "container": "c"}, "values": [[1.0, "0.25"]]},
        {"metric": {"pod": "b"}, "values": [[1.0, "+Inf"]]},
    ]
    assert parse_matrix(matrix) == {"a": [500.0, 500.0]}
    for bad in ({"resultType": "vector"}, [1.0, "2"], [{"value": [1.0, "1"]}]):
        with pytest.raises(SourceError, match=r"^Prometheus: "):
            parse_vector(bad)
    assert describe_status('HTTP Status Code 503 (b\'{"status":"error","errorType":'
                           '"timeout","error":"query timed out"}\')') == (
        "HTTP 503: timeout: query timed out")
    assert describe_status("HTTP Status Code 502 (b'<html>bad gateway</html>')") == "HTTP 502"


def test_read_equals_promql_at_the_same_time(cpu_series: None, prometheus: PrometheusServer,
                                             exporter: Exporter) -> None:
    cpu = PrometheusCpu(prometheus.url, OTHER_NS, query=QUERY, timeout=3.0)
    expanded = QUERY.replace("$namespace", OTHER_NS)
    wait_age(exporter, 4 + 1.5 + 1.5, OTHER_NS)  # a full 4 s window, 1.5 s ago
    try:
        at = time.time() - 1.5  # every sample up to then has surely been written
        got = cpu.read(at=at)
        want = promql_cpu(prometheus, expanded, at)
        assert set(got) == set(OTHER_RATES)  # the other namespaces are not there
        for pod, cores in OTHER_RATES.items():
            assert got[pod] == pytest.approx(want[pod], rel=1e-12, abs=1e-9)
            # the container="" series is left out, not added: near the rate set
            assert got[pod] == pytest.approx(cores * 1000, rel=0.1)
        now = cpu.read()
        assert set(now) == set(OTHER_RATES)
        # each refresh may ask for the busiest pods only: Prometheus's topk
        top = PrometheusCpu(prometheus.url, OTHER_NS, query=QUERY, timeout=3.0, top=2)
        try:
            busiest = top.read(at=at)
        finally:
            top.close()
        ranked = sorted(got, key=lambda pod: -got[pod])
        assert set(busiest) == set(ranked[:2])
        assert all(busiest[pod] == pytest.approx(got[pod], rel=1e-9) for pod in busiest)
    finally:
        cpu.close()


def test_backfill_returns_each_pods_history(cpu_series: None, prometheus: PrometheusServer,
                                            exporter: Exporter) -> None:
    history, step = 4, 1.0
    cpu = PrometheusCpu(prometheus.url, OTHER_NS, query=QUERY, history=history, step_s=step)
    # the oldest point needs a 4 s window that ends 4 steps before now
    wait_age(exporter, 4 + history * step + 2.5, OTHER_NS)
    try:
        end = math.floor(time.time()) - 2.0
        past = cpu.backfill(end=end)
        data = prometheus.api("/api/v1/query_range", query=QUERY.replace("$namespace", OTHER_NS),
                              start=f"{end - step * history:.3f}", end=f"{end - step:.3f}",
                              step=f"{step:g}")
        want = {s["metric"]["pod"]: [float(v) * 1000 for _, v in s["values"]]
                for s in data["result"]}
        assert set(past) == set(OTHER_RATES)
        for pod, cores in OTHER_RATES.items():
            assert len(past[pod]) == history
            assert past[pod] == pytest.approx(want[pod], rel=1e-12, abs=1e-9)
            assert past[pod] == pytest.approx([cores * 1000] * history, rel=0.1)
        assert set(cpu.backfill()) == set(OTHER_RATES)  # ending now works too
    finally:
        cpu.close()


def test_query_errors_carry_prometheus_words(prometheus: PrometheusServer) -> None:
    unclosed = "sum(rate(container_cpu_usage_seconds_total[5s])"
    cpu = PrometheusCpu(prometheus.url, NS, query=unclosed)
    for call in (cpu.read, cpu.backfill):
        with pytest.raises(SourceError) as err:
            call()
        message = str(err.value)
        assert_one_line(message)
        assert message.startswith("Prometheus: HTTP 400: bad_data: "), message
        assert "parse error: unclosed left parenthesis" in message
    scalar = PrometheusCpu(prometheus.url, NS, query="1 + 1")
    with pytest.raises(SourceError, match="Prometheus: the query's result is not a vector"):
        scalar.read()
    cpu.close()
    scalar.close()


# --- KubeSource with Prometheus -----------------------------------------------------------


async def test_kube_source_shows_prometheus_cpu(cpu_series: None,
                                                prometheus: PrometheusServer,
                                                exporter: Exporter, tmp_path: Path) -> None:
    rates = sim_rates()
    history = 3
    cpu = PrometheusCpu(prometheus.url, NS, query=QUERY, history=history, step_s=1.0,
                        timeout=3.0)
    await asyncio.to_thread(wait_age, exporter, 4 + history + 2.5, NS)
    with running_cluster(tmp_path, tmp_path / "kubectl-cache") as cluster:
        names = sorted(cluster.model.every_pod())
        assert names == sim_pod_names()
        src = KubeSource(str(tmp_path / "kubeconfig"), None, NS, history, timeout=5.0, cpu=cpu)
        try:
            snap = await src.fetch()
            check = await asyncio.to_thread(cpu.read)
            assert snap.metrics_available and src.cpu_error is None
            by_name = {p.name: p for p in snap.pods}
            assert sorted(by_name) == names  # Prometheus's ghost pod is not a pod here
            for name, cores in rates.items():
                pod = by_name[name]
                assert pod.cpu_m is not None
                assert pod.cpu_m == pytest.approx(check[name], rel=0.05)
                assert pod.cpu_m == pytest.approx(cores * 1000, rel=0.1)
                # backfilled on the first fetch: the trend is full from the first frame
                assert len(pod.cpu_history) == history
                assert pod.cpu_history[-1] == pod.cpu_m
                assert pod.cpu_history == pytest.approx([cores * 1000] * history, rel=0.1)
            missing = by_name[names[-1]]
            assert missing.cpu_m is None and missing.cpu_history == ()
            # the metrics API is asked for nodes only, never for pods
            metrics = [r for r in cluster.requests if "/apis/metrics.k8s.io/" in r]
            assert metrics and not [r for r in metrics if "/pods" in r]
            assert any(n.cpu_m is not None for n in snap.nodes)

            again = await src.fetch()
            assert {p.uid for p in again.pods} == set(src._cpu)  # history kept by uid
            for pod in again.pods:
                if pod.name in rates:
                    assert len(pod.cpu_history) == history
                    assert pod.cpu_history[-1] == pod.cpu_m
                    assert pod.cpu_history[:-1] == by_name[pod.name].cpu_history[1:]
        finally:
            await src.aclose()


async def test_kube_source_keeps_pods_when_prometheus_is_down(tmp_path: Path) -> None:
    port = free_port()
    cpu = PrometheusCpu(f"http://127.0.0.1:{port}", NS, timeout=2.0)
    with running_cluster(tmp_path, tmp_path / "kubectl-cache") as cluster:
        src = KubeSource(str(tmp_path / "kubeconfig"), None, NS, timeout=5.0, cpu=cpu)
        try:
            snap = await src.fetch()
        finally:
            await src.aclose()
        assert sorted(p.name for p in snap.pods) == sorted(cluster.model.every_pod())
        assert not snap.metrics_available
        assert all(p.cpu_m is None and p.cpu_history == () for p in snap.pods)
        assert src.cpu_error == f"Prometheus: connection refused (127.0.0.1:{port})"
        assert not [r for r in cluster.requests if "/apis/metrics.k8s.io/v1beta1/namespaces/"
                    in r]


# --- the plan's alerts -------------------------------------------------------------------


def plan_alerts(snap: AlertsSnapshot) -> dict[str, Any]:
    return {a.name: a for a in snap.alerts if a.name in PLAN_ALERTS}


async def wait_alerts(src: AlertsSource, done: Any, what: str, within_s: float,
                      seen: dict[str, list[str]] | None = None) -> AlertsSnapshot:
    deadline = time.monotonic() + within_s
    while True:
        snap = await src.fetch()
        active = plan_alerts(snap)
        if seen is not None:
            for name, alert in active.items():
                states = seen.setdefault(name, [])
                if not states or states[-1] != alert.state:
                    states.append(alert.state)
        if done(active):
            return snap
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within_s:g} s: {what}; active: "
                        f"{ {n: a.state for n, a in active.items()} }, seen: {seen}")
        await asyncio.sleep(0.2)


async def test_plan_alerts_go_pending_then_firing_then_resolve(
        prometheus: PrometheusServer, exporter: Exporter) -> None:
    src = AlertsSource(prometheus.url, timeout=3.0)
    try:
        await wait_alerts(src, lambda active: not active, "no plan alert at rest", 15)
        seen: dict[str, list[str]] = {}
        try:
            exporter.set_gauge("luckygas_api_p95_seconds", 3.4)
            exporter.set_gauge("luckygas_analytics_endpoint_up", 0, endpoint="financial")
            exporter.set_rate("luckygas_orders_processed_total", 0.0)
            exporter.set_gauge("luckygas_db_connections", 97)
            snap = await wait_alerts(
                src, lambda active: set(active) == set(PLAN_ALERTS) and all(
                    a.state == "firing" for a in active.values()),
                "every plan alert firing", 25, seen)
        finally:
            exporter.healthy()
        assert seen == {name: ["pending", "firing"] for name in PLAN_ALERTS}
        active = plan_alerts(snap)
        assert active["HighAPIResponseTime"].severity == "warning"
        for name in PLAN_ALERTS[1:]:
            assert active[name].severity == "critical"
        assert all(a.summary and a.active_at is not None for a in active.values())
        down = active["AnalyticsEndpointDown"]
        assert down.labels["endpoint"] == "financial"
        assert down.summary == "Analytics endpoint financial is down"
        assert [a.state for a in snap.alerts][:4] == ["firing"] * 4

        await wait_alerts(src, lambda active: not active, "every plan alert resolved", 15)
    finally:
        await src.aclose()


# --- faults ----------------------------------------------------------------------------


async def test_killed_prometheus_is_one_line_from_both_readers(
        fresh_prometheus: PrometheusServer) -> None:
    server = fresh_prometheus
    cpu = PrometheusCpu(server.url, NS, query=QUERY, timeout=2.0)
    alerts = AlertsSource(server.url, timeout=2.0)
    try:
        await asyncio.to_thread(cpu.read)  # connections are open and kept alive
        await alerts.fetch()
        server.kill()
        with pytest.raises(SourceError) as cpu_err:
            await asyncio.to_thread(cpu.read)
        with pytest.raises(SourceError) as alerts_err:
            await alerts.fetch()
        assert str(cpu_err.value) == f"Prometheus: connection refused (127.0.0.1:{server.port})"
        assert str(alerts_err.value) == "Prometheus: connection refused"
        with pytest.raises(SourceError, match=r"^Prometheus: connection refused"):
            await asyncio.to_thread(cpu.backfill)

        server.start()  # a restart on the same port: both read again
        assert isinstance(await asyncio.to_thread(cpu.read), dict)
        assert isinstance(await alerts.fetch(), AlertsSnapshot)
    finally:
        cpu.close()
        await alerts.aclose()


async def test_frozen_prometheus_times_out_then_recovers(
        fresh_prometheus: PrometheusServer, tmp_path: Path) -> None:
    server = fresh_prometheus
    limit = 1.0
    cpu = PrometheusCpu(server.url, NS, query=QUERY, timeout=limit)
    alerts = AlertsSource(server.url, timeout=limit)
    kube_cpu = PrometheusCpu(server.url, NS, query=QUERY, timeout=limit)

    async def timed(coro: Any) -> tuple[float, Any]:
        t0 = time.monotonic()
        try:
            result = await coro
        except SourceError as exc:
            result = exc
        return time.monotonic() - t0, result

    with running_cluster(tmp_path, tmp_path / "kubectl-cache") as cluster:
        src = KubeSource(str(tmp_path / "kubeconfig"), None, NS, timeout=5.0, cpu=kube_cpu)
        try:
            await src.fetch()  # connected, backfilled
            server.pause()
            try:
                (t_cpu, r_cpu), (t_alerts, r_alerts), (t_kube, r_kube) = await asyncio.gather(
                    timed(asyncio.to_thread(cpu.read)), timed(alerts.fetch()),
                    timed(src.fetch()))
            finally:
                server.resume()
            assert isinstance(r_cpu, SourceError)
            assert str(r_cpu) == "Prometheus: timed out after 1 s"
            assert isinstance(r_alerts, SourceError)
            assert str(r_alerts) == "Prometheus: timed out after 1 s"
            assert limit * 0.9 <= t_cpu < limit + 0.8
            assert limit * 0.9 <= t_alerts < limit + 0.8
            # the pods pane goes on without CPU, within Prometheus's bound
            assert isinstance(r_kube, PodsSnapshot) and t_kube < limit + 1.5
            assert not r_kube.metrics_available
            assert sorted(p.name for p in r_kube.pods) == sorted(cluster.model.every_pod())
            assert src.cpu_error is not None and "timed out" in src.cpu_error

            assert isinstance(await asyncio.to_thread(cpu.read), dict)
            assert isinstance(await alerts.fetch(), AlertsSnapshot)
            snap = await src.fetch()
            assert snap.metrics_available and src.cpu_error is None
        finally:
            await src.aclose()
            cpu.close()
            await alerts.aclose()


def misbehaving(answer: str) -> web.Application:
    """Where Prometheus should be: a server that answers every path with `answer`."""
    async def handle(request: web.Request) -> web.StreamResponse:
        if answer == "500":
            return web.Response(status=500, text="upstream connect error\n")
        if answer == "garbage":
            return web.Response(text='{"status": "success", "data": {"resu',
                                content_type="application/json")
        if answer == "html":
            return web.Response(text="<html><body>Sign in</body></html>",
                                content_type="text/html")
        doc = {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"pod": "api-1"}, "value": [1.0, "fast"]}]}}
        return web.Response(text=json.dumps(doc), content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@pytest.mark.parametrize(("answer", "cpu_says", "alerts_says"), [
    ("500", "Prometheus: HTTP 500", "HTTP 500 from Prometheus"),
    ("garbage", "Prometheus: malformed JSON", "Prometheus answered malformed JSON"),
    ("html", "Prometheus: malformed JSON", "Prometheus answered malformed JSON"),
    ("bad-sample", "Prometheus: malformed sample for pod api-1",
     "Prometheus answer has no data.alerts list"),
], ids=["http-500", "truncated-json", "html", "bad-sample"])
async def test_misbehaving_server_is_one_line(answer: str, cpu_says: str,
                                              alerts_says: str) -> None:
    with serve(misbehaving(answer)) as served:
        cpu = PrometheusCpu(served.url, NS, timeout=2.0)
        alerts = AlertsSource(served.url, timeout=2.0)
        try:
            for call in (cpu.read, cpu.backfill):
                t0 = time.monotonic()
                with pytest.raises(SourceError) as err:
                    await asyncio.to_thread(call)
                assert time.monotonic() - t0 < 1.0  # answered at once: no retries
                assert str(err.value) == cpu_says
                assert_one_line(str(err.value))
            with pytest.raises(SourceError) as err:
                await alerts.fetch()
            assert str(err.value) == alerts_says
        finally:
            cpu.close()
            await alerts.aclose()
