"""Pods by list + watch: listed once, then kept current by the server's events.

Against the simulation's Kubernetes API (which streams watch events like an API
server), and PodWatch alone with scripted streams for what a real server may do:
410 Gone, no watch support, garbage mid-stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from luckytui.sources.kube import KubeSource
from luckytui.sources.kubewatch import PodWatch
from tests.integration.conftest_kube import running_cluster

NS = "luckygas"


def pod_lists(requests: list[str]) -> list[str]:
    return [r for r in requests if r.startswith(f"GET /api/v1/namespaces/{NS}/pods")
            and "watch=" not in r]


async def test_lists_once_then_follows_the_watch(tmp_path: Path) -> None:
    with running_cluster(tmp_path, tmp_path / "cache") as cluster:
        src = KubeSource(str(cluster.kubectl.kubeconfig), None, NS, timeout=5.0)
        try:
            snap = await src.fetch()
            assert sum(p.deployment == "luckygas-backend" for p in snap.pods) == 3
            cluster.model.scale("luckygas-backend", 5)
            cluster.step(1)
            deadline = time.monotonic() + 10
            while sum(p.deployment == "luckygas-backend" for p in snap.pods) != 5:
                assert time.monotonic() < deadline, "the watch never brought the new pods"
                await asyncio.sleep(0.2)
                snap = await src.fetch()
            assert {p.name for p in snap.pods} == set(cluster.model.every_pod())
            for _ in range(3):  # refreshes with nothing new read no list
                await src.fetch()
            assert len(pod_lists(cluster.requests)) == 1, cluster.requests
            assert any("watch=true" in r for r in cluster.requests)
            assert src._watch is not None and src._watch.changes >= 2
            cluster.model.scale("luckygas-backend", 2)  # and deletions leave the list
            cluster.step(60)
            deadline = time.monotonic() + 10
            while {p.name for p in snap.pods} != set(cluster.model.every_pod()):
                assert time.monotonic() < deadline, "deleted pods stayed"
                await asyncio.sleep(0.2)
                snap = await src.fetch()
            # a quiet watch (no event, no bookmark for seconds) still stops at once
            watch = src._watch
            await asyncio.sleep(1.5)  # the watch thread is now waiting on a silent socket
            started = time.monotonic()
            await src.aclose()
            assert time.monotonic() - started < 1.5
            assert watch is not None and not watch._thread.is_alive()
        finally:
            await src.aclose()


# --- PodWatch with scripted servers ---------------------------------------------------


def pod(name: str, rv: int) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": str(rv)}}


class Stream:
    def __init__(self, events: list[Any], then_block: bool = False) -> None:
        self.body = b"".join((e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n"
                             for e in events)
        self.then_block = then_block
        self.closed = False

    def stream(self, amt: int, decode_content: bool = True) -> Iterator[bytes]:
        for i in range(0, len(self.body), 7):  # lines split across chunks
            yield self.body[i:i + 7]
        while self.then_block and not self.closed:
            time.sleep(0.01)

    def close(self) -> None:
        self.closed = True


class Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def until(condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_events_update_the_pods_and_a_410_lists_again() -> None:
    lists: list[int] = []
    streams = [Stream([{"type": "ADDED", "object": pod("c", 11)},
                       {"type": "MODIFIED", "object": pod("a", 12)},
                       {"type": "DELETED", "object": pod("b", 13)},
                       {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "20"}}},
                       {"type": "ERROR", "object": {"code": 410, "message": "too old"}}]),
               Stream([], then_block=True)]
    opened: list[str] = []

    def list_pods() -> tuple[list[Any], str]:
        lists.append(1)
        return ([pod("a", 1), pod("b", 2)], "10") if len(lists) == 1 else \
            ([pod("a", 12), pod("c", 11), pod("d", 21)], "21")

    def open_watch(rv: str) -> Stream:
        opened.append(rv)
        return streams.pop(0)

    watch = PodWatch(list_pods, open_watch).start()
    try:
        until(lambda: len(opened) == 2)
        assert opened == ["10", "21"]  # from the first list; after the 410, a new list's
        assert sorted(p["metadata"]["name"] for p in watch.items()) == ["a", "c", "d"]
        assert watch.synced and watch.error is None and watch.changes == 3
    finally:
        watch.stop()


def test_a_server_without_watch_makes_the_source_poll() -> None:
    def open_watch(rv: str) -> Stream:
        raise Refused(405)

    watch = PodWatch(lambda: ([pod("a", 1)], "1"), open_watch).start()
    try:
        until(lambda: watch.unsupported)
    finally:
        watch.stop()


def test_garbage_in_the_stream_is_an_error_then_a_fresh_list_recovers() -> None:
    lists: list[int] = []
    streams = [Stream([b"{not json"]), Stream([], then_block=True)]

    def list_pods() -> tuple[list[Any], str]:
        lists.append(1)
        return [pod("a", len(lists))], str(len(lists))

    watch = PodWatch(list_pods, lambda rv: streams.pop(0)).start()
    try:
        until(lambda: len(lists) == 2 and watch.synced)
        assert watch.error is None and watch.items() == [pod("a", 2)]
    finally:
        watch.stop()


def test_a_failing_list_reports_its_error_until_it_lists() -> None:
    calls: list[int] = []

    def list_pods() -> tuple[list[Any], str]:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError("connection refused")
        return [pod("a", 1)], "1"

    watch = PodWatch(list_pods, lambda rv: Stream([], then_block=True)).start()
    try:
        until(lambda: watch.ready.is_set())
        assert not watch.synced or len(calls) > 1
        until(lambda: watch.synced)
        assert watch.items() == [pod("a", 1)]
    finally:
        watch.stop()
