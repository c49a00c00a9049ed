"""Every outside HTTP reader keeps an answer within its size (decoded) and time limits.

Real servers on loopback answer with an endless body, a gzip bomb (~64 KB on the
wire, 64 MiB decoded) or a byte every 0.1 s, then, on the next request, a good
answer. Each reader must stop with one line ("response over 1 MiB", "no complete
answer in 1.5 s"), hold no more than about the limit in memory while reading
(measured with tracemalloc over the read, not RSS), and show the good answer next.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import sys
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from luckytui.sim.pgtwin import SimPgOps, SimPostgresSource
from luckytui.snapshots import SourceStatus
from luckytui.sources.alerts import AlertsSource
from luckytui.sources.base import Poller, SourceError, Update
from luckytui.sources.endpoints import EndpointSpec, EndpointsSource
from luckytui.sources.kube import KubeSource
from luckytui.sources.kubewatch import PodWatch
from luckytui.sources.prometheus import PrometheusCpu
from luckytui.systems.http import MIB, AnswerLimit
from luckytui.systems.kubernetes import KubeOps, KubeOpsError
from luckytui.systems.postgres import PgOpsError
from tests.conftest import serve
from tests.integration.conftest_kube import write_kubeconfig

LIMIT = AnswerLimit(1 * MIB, 1.5)
MODES = ("endless", "bomb", "trickle")
EXPECTED = {"endless": "response over 1 MiB", "bomb": "response over 1 MiB",
            "trickle": "no complete answer in 1.5 s"}
PEAK_BYTES = 4 * MIB  # what a read may hold at its worst: the limit, a copy, buffers
ROOT = Path(__file__).resolve().parents[2]

GOOD: dict[str, Any] = {
    "/api/v1/alerts": {"status": "success", "data": {"alerts": [{
        "labels": {"alertname": "HighAPIResponseTime", "severity": "warning"},
        "annotations": {"summary": "API p95 above 2 s"}, "state": "firing",
        "activeAt": "2026-11-26T03:03:35Z"}]}},
    "/api/v1/query": {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"pod": "luckygas-backend-1"}, "value": [1780000000, "0.25"]}]}},
    "/databases/db/activity": {"max_connections": 100, "now": "2026-11-26T03:04:05Z",
                               "activity": [{"pid": 7, "state": "active",
                                             "backend_type": "client backend",
                                             "backend_start": "2026-11-26T03:00:00Z",
                                             "query_start": "2026-11-26T03:04:00Z"}]},
    "/api/v1/namespaces/luckygas/pods": {"kind": "PodList", "metadata": {}, "items": [{
        "metadata": {"name": "luckygas-backend-1", "uid": "u1", "resourceVersion": "1"},
        "status": {"phase": "Running"}}]},
    "/apis/apps/v1/namespaces/luckygas/deployments/luckygas-backend": {
        "kind": "Deployment", "metadata": {"name": "luckygas-backend", "uid": "d1"},
        "spec": {"replicas": 3}},
    "/health": {"ok": True},
}


@functools.cache
def bomb() -> bytes:
    return gzip.compress(b" " * (64 * MIB), compresslevel=9)


class Hostile:
    """Answers the next request to each watched path badly (`mode`), then well."""

    def __init__(self) -> None:
        self.mode: str | None = None
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.answer)

    async def answer(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path not in GOOD:  # a list or metric the test does not watch: empty
            if "metrics.k8s.io" in path:
                return web.json_response({"message": "not found"}, status=404)
            return web.json_response({"kind": "List", "metadata": {}, "items": []})
        mode, self.mode = self.mode, None
        if mode is None:
            return web.json_response(GOOD[path])
        if mode == "bomb":
            return web.Response(body=bomb(), headers={"Content-Encoding": "gzip",
                                                      "Content-Type": "application/json"})
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        piece = b" " * 65536 if mode == "endless" else b" "
        try:
            for _ in range(100_000):  # far beyond any limit, and ends on its own
                await response.write(piece)
                if mode == "trickle":
                    await asyncio.sleep(0.1)
        except (ConnectionError, RuntimeError):
            pass  # the client gave up, as it should
        return response


@asynccontextmanager
async def hostile() -> AsyncIterator[tuple[Hostile, str]]:
    server = Hostile()
    async with serve(server.app) as url:
        yield server, url


async def measured(read: Callable[[], Awaitable[Any]]) -> tuple[BaseException | Any, int]:
    """What `read()` gave (or raised) and the peak of memory allocated meanwhile."""
    bomb()  # compressed before measuring
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            result: Any = await read()
        except Exception as exc:
            result = exc
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def one_line_error(result: Any, kind: type[BaseException], mode: str) -> str:
    assert isinstance(result, kind), result
    text = str(result)
    assert "\n" not in text and text.endswith(EXPECTED[mode]), text
    return text


@pytest.mark.parametrize("mode", MODES)
async def test_alerts_pane_fails_with_one_line_and_recovers(mode: str) -> None:
    async with hostile() as (server, url):
        updates: list[Update[Any]] = []
        source = AlertsSource(url, timeout=5.0, limit=LIMIT)
        poller = Poller(source, updates.append, timeout=10.0)
        await poller.poll_once()  # imported and connected: the measure is of the read
        server.mode = mode
        update, peak = await measured(poller.poll_once)
        assert update.state.status is SourceStatus.FAILING and update.snapshot is None
        assert update.state.error == f"Prometheus: {EXPECTED[mode]}"
        assert peak < PEAK_BYTES, peak
        update = await poller.poll_once()
        assert update.state.status is SourceStatus.OK
        assert [a.name for a in update.snapshot.alerts] == ["HighAPIResponseTime"]
        await source.aclose()


@pytest.mark.parametrize("mode", MODES)
async def test_prometheus_cpu_in_its_thread(mode: str) -> None:
    async with hostile() as (server, url):
        cpu = PrometheusCpu(url, "luckygas", timeout=5.0, limit=LIMIT)
        await asyncio.to_thread(cpu.read)  # imported and connected
        server.mode = mode
        result, peak = await measured(lambda: asyncio.to_thread(cpu.read))
        assert one_line_error(result, SourceError, mode) == f"Prometheus: {EXPECTED[mode]}"
        assert peak < PEAK_BYTES, peak
        assert await asyncio.to_thread(cpu.read) == {"luckygas-backend-1": 250.0}
        await asyncio.to_thread(cpu.close)


@pytest.mark.parametrize("mode", MODES)
async def test_endpoint_probe(mode: str) -> None:
    async with hostile() as (server, url):
        spec = EndpointSpec(name="health", group="api", method="GET", url=f"{url}/health",
                            timeout_s=5.0)
        source = EndpointsSource([spec], None, limit=LIMIT)
        await source.fetch()
        server.mode = mode
        snap, peak = await measured(source.fetch)
        (result,) = snap.endpoints
        assert not result.ok and result.error == EXPECTED[mode]
        assert peak < PEAK_BYTES, peak
        (result,) = (await source.fetch()).endpoints
        assert result.ok and result.status == 200 and result.error is None
        await source.aclose()


@pytest.mark.parametrize("mode", MODES)
async def test_simulated_database_source_and_remedies(mode: str) -> None:
    async with hostile() as (server, url):
        source = SimPostgresSource(f"{url}/databases/db/activity", "db", timeout=5.0,
                                   limit=LIMIT)
        await source.fetch()
        server.mode = mode
        result, peak = await measured(source.fetch)
        assert one_line_error(result, SourceError, mode) == \
            f"database simulation: {EXPECTED[mode]}"
        assert peak < PEAK_BYTES, peak
        assert (await source.fetch()).total == 1
        await source.aclose()

        ops = SimPgOps(url, "db", limit=LIMIT)
        await ops.activity()
        server.mode = mode
        result, peak = await measured(ops.activity)
        assert one_line_error(result, PgOpsError, mode) == \
            f"database simulation: {EXPECTED[mode]}"
        assert peak < PEAK_BYTES, peak
        assert [r["pid"] for r in await ops.activity()] == [7]


@pytest.mark.parametrize("mode", MODES)
async def test_kubernetes_source_and_remedies(mode: str, tmp_path: Path) -> None:
    async with hostile() as (server, url):
        kubeconfig = str(write_kubeconfig(tmp_path / "kubeconfig", url))
        source = KubeSource(kubeconfig, None, "luckygas", timeout=5.0, watch=False,
                            limit=LIMIT)
        await source.fetch()  # connected, so the measure is of the reads only
        server.mode = mode
        result, peak = await measured(source.fetch)
        assert one_line_error(result, SourceError, mode) == EXPECTED[mode]
        assert peak < PEAK_BYTES, peak
        assert [p.name for p in (await source.fetch()).pods] == ["luckygas-backend-1"]
        await source.aclose()

        ops = KubeOps(kubeconfig, None, "luckygas", timeout=5.0, limit=LIMIT)
        await asyncio.to_thread(ops.deployment, "luckygas-backend")
        server.mode = mode
        result, peak = await measured(lambda: asyncio.to_thread(ops.deployment,
                                                                "luckygas-backend"))
        assert one_line_error(result, KubeOpsError, mode) == \
            f"the Kubernetes API's {EXPECTED[mode]}"
        assert peak < PEAK_BYTES, peak
        doc = await asyncio.to_thread(ops.deployment, "luckygas-backend")
        assert doc["spec"]["replicas"] == 3
        await asyncio.to_thread(ops.close)


async def test_luckytui_check_takes_the_limits_from_the_config(tmp_path: Path) -> None:
    async with hostile() as (server, url):
        config = tmp_path / "config.toml"
        config.write_text(f'[prometheus]\nurl = "{url}"\n[limits]\nmax_body_mib = 1\n')
        server.mode = "endless"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "luckytui", "check", "--json", "--config", str(config),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 1, err
        prometheus = json.loads(out)["sources"]["prometheus"]
        assert prometheus["ok"] is False
        assert prometheus["error"] == "Prometheus: response over 1 MiB"


class EndlessEvent:
    """A watch stream whose one event never ends (no newline, ever)."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed = False

    def stream(self, amt: int, decode_content: bool = True) -> Iterator[bytes]:
        while not self.closed and self.sent < 64 * MIB:
            self.sent += amt
            yield b" " * amt

    def close(self) -> None:
        self.closed = True


def test_an_endless_watch_event_ends_the_watch_and_a_fresh_list_follows() -> None:
    lists: list[int] = []
    relisted = threading.Event()
    inspected = threading.Event()
    stream = EndlessEvent()

    def list_pods() -> tuple[list[Any], str]:
        lists.append(1)
        if len(lists) == 2:
            relisted.set()
            inspected.wait(5)
        return [{"metadata": {"name": "a", "resourceVersion": "1"}}], "1"

    def open_watch(rv: str) -> Any:
        if stream.sent:  # after the relist: a quiet watch
            return _Quiet()
        return stream

    watch = PodWatch(list_pods, open_watch, max_event=1 * MIB).start()
    try:
        assert relisted.wait(5)
        assert str(watch.error) == "response over 1 MiB" and not watch.synced
        assert stream.sent <= 2 * MIB  # it stopped reading at the limit
        inspected.set()
        deadline = time.monotonic() + 5
        while not watch.synced:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert watch.items() == [{"metadata": {"name": "a", "resourceVersion": "1"}}]
    finally:
        inspected.set()
        watch.stop()


class _Quiet:
    def __init__(self) -> None:
        self.closed = False

    def stream(self, amt: int, decode_content: bool = True) -> Iterator[bytes]:
        while not self.closed:
            time.sleep(0.01)
        yield from ()

    def close(self) -> None:
        self.closed = True
