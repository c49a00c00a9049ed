"""KubeSource against the simulation's Kubernetes API on loopback, and the
official python client against the same API (its models validate our replies).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from luckytui.sim.kube import (
    human_duration,
    json_patch,
    make_kube_app,
    merge_patch,
    parse_label_selector,
    strategic_merge,
)
from luckytui.sim.model import Production
from luckytui.sources.base import SourceError
from luckytui.sources.kube import (
    KubeSource,
    parse_cpu_m,
    pod_deployment,
    pod_phase,
)
from tests.integration.conftest_kube import (
    START,
    TOKEN,
    ServedApp,
    free_port,
    serve,
    write_kubeconfig,
)

ROOT = Path(__file__).resolve().parents[2]
NS = "luckygas"


@dataclass
class Sim:
    model: Production
    clock: list[float]
    served: ServedApp
    kubeconfig: Path

    def step(self, seconds: float) -> None:
        self.clock[0] += seconds


@contextmanager
def simulated(tmp_path: Path, scale: str = "small",
              metrics_status: int | None = None) -> Iterator[Sim]:
    clock = [START]
    model = Production(seed=7, scale="large" if scale == "large" else "small",
                       clock=lambda: clock[0])
    app = make_kube_app(model)
    if metrics_status is not None:
        status = metrics_status

        @web.middleware
        async def no_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path.startswith("/apis/metrics.k8s.io/"):
                return web.json_response({"kind": "Status", "apiVersion": "v1",
                                          "status": "Failure", "code": status,
                                          "message": "the server is currently unable to "
                                                     "handle the request"}, status=status)
            return await handler(request)

        app.middlewares.append(no_metrics)
    with serve(app) as served:
        yield Sim(model, clock, served, write_kubeconfig(tmp_path / "kubeconfig", served.url))


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    with simulated(tmp_path) as s:
        yield s


@asynccontextmanager
async def source_for(kubeconfig: Path, limit_s: float = 5.0, history: int = 20,
                     watch: bool = False) -> AsyncIterator[KubeSource]:
    """A source that lists every refresh (the snapshot tests step the model between
    fetches); the watch has tests of its own."""
    src = KubeSource(str(kubeconfig), None, NS, history, timeout=limit_s, watch=watch)
    try:
        yield src
    finally:
        await src.aclose()


# --- the snapshot ---------------------------------------------------------------


async def test_snapshot_matches_the_model(sim: Sim) -> None:
    sim.model.set_unschedulable("gke-luckygas-pool-03", True)
    async with source_for(sim.kubeconfig) as src:
        snap = await src.fetch()
    model = sim.model
    assert src.name == "kube" and snap.namespace == NS and snap.metrics_available
    assert [p.name for p in snap.pods] == sorted(model.every_pod())
    for info in snap.pods:
        pod = model.every_pod()[info.name]
        owner = pod.deployment if pod.deployment in model.deployments else ""  # redis-0: none
        assert info.uid == pod.uid and info.deployment == owner
        assert info.node == pod.node and info.phase == "Running" and info.ready
        assert info.restarts == pod.restarts
        assert info.cpu_limit_m == pod.cpu_limit_m
        assert info.cpu_m == pytest.approx(pod.cpu_m, abs=1e-5)
        assert info.cpu_history == (info.cpu_m,)
        assert info.started_at is not None and info.started_at.timestamp() == int(pod.created)
    assert {(d.name, d.desired, d.ready, d.updated, d.available) for d in snap.deployments} == {
        ("luckygas-backend", 3, 3, 3, 3), ("luckygas-frontend", 2, 2, 2, 2),
        ("order-worker", 2, 2, 2, 2)}
    assert all(d.resource_version for d in snap.deployments)
    nodes = {n.name: n for n in snap.nodes}
    assert set(nodes) == set(model.nodes)
    assert nodes["gke-luckygas-pool-03"].unschedulable
    assert not nodes["gke-luckygas-pool-01"].unschedulable
    assert all(n.ready and n.cpu_capacity_m == 8000 for n in nodes.values())
    on_01 = sum(p.cpu_m for p in model.pods.values() if p.node == "gke-luckygas-pool-01")
    assert nodes["gke-luckygas-pool-01"].cpu_m == pytest.approx(on_01 + 180, abs=0.01)


async def test_history_accumulates_and_forgets_vanished_pods(sim: Sim) -> None:
    async with source_for(sim.kubeconfig, history=3) as src:
        for _ in range(4):
            snap = await src.fetch()
            sim.step(2)
        assert all(len(p.cpu_history) == 3 for p in snap.pods)
        backend = next(p for p in snap.pods if p.deployment == "luckygas-backend")
        assert backend.cpu_history[-1] == backend.cpu_m
        sim.model.scale("luckygas-backend", 1)
        sim.step(5)
        snap = await src.fetch()
        uids = {p.uid for p in snap.pods}
        assert sum(p.deployment == "luckygas-backend" for p in snap.pods) == 1
        assert set(src._cpu) == uids  # the history of the removed pods is gone


async def test_new_and_leaving_pods_show_their_state(sim: Sim) -> None:
    async with source_for(sim.kubeconfig) as src:
        sim.model.scale("order-worker", 3)
        sim.step(1)
        snap = await src.fetch()
        new = [p for p in snap.pods if p.deployment == "order-worker" and not p.ready]
        assert [p.phase for p in new] == ["ContainerCreating"]
        assert new[0].cpu_m is None  # no metrics yet for a starting pod
        sim.model.scale("order-worker", 1)
        sim.step(1)
        snap = await src.fetch()
        assert sorted(p.phase for p in snap.pods if p.deployment == "order-worker") == [
            "Running", "Terminating", "Terminating"]
        worker = next(d for d in snap.deployments if d.name == "order-worker")
        assert worker.desired == 1


@pytest.mark.parametrize("status", [404, 503])
async def test_missing_metrics_still_gives_pods(tmp_path: Path, status: int) -> None:
    with simulated(tmp_path, metrics_status=status) as sim:
        async with source_for(sim.kubeconfig) as src:
            snap = await src.fetch()
    assert not snap.metrics_available
    assert len(snap.pods) == len(sim.model.every_pod())
    assert all(p.cpu_m is None and p.cpu_history == () for p in snap.pods)
    assert all(n.cpu_m is None for n in snap.nodes)
    assert all(p.cpu_limit_m is not None for p in snap.pods)


# --- failures ---------------------------------------------------------------------


def assert_one_line(message: str) -> None:
    assert message and "\n" not in message and len(message) <= 160
    assert TOKEN not in message and "Traceback" not in message


async def test_server_down_is_connection_refused(tmp_path: Path) -> None:
    port = free_port()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{port}")
    async with source_for(kubeconfig) as src:
        started = time.monotonic()
        with pytest.raises(SourceError) as err:
            await src.fetch()
    assert str(err.value) == f"connection refused: 127.0.0.1:{port}"
    assert_one_line(str(err.value))
    assert time.monotonic() - started < 3


async def test_hanging_server_times_out_within_the_timeout(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url)
        async with source_for(kubeconfig, limit_s=0.5) as src:
            started = time.monotonic()
            with pytest.raises(SourceError) as err:
                await src.fetch()
            elapsed = time.monotonic() - started
    assert str(err.value) == "timed out after 0.5 s"
    assert elapsed < 1.5


def broken_app(kind: str) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        if kind == "500":
            return web.Response(status=500, text="upstream exploded\n")
        if kind == "403":
            return web.json_response(
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                 "code": 403, "message": 'pods is forbidden: User "viewer" cannot list resource '
                                         '"pods" in API group "" in the namespace "luckygas"'},
                status=403)
        if kind == "401":
            return web.json_response({"kind": "Status", "code": 401, "message": "Unauthorized"},
                                     status=401)
        if kind == "garbage":
            return web.Response(text="<html>not json</html>", content_type="application/json")
        return web.json_response({"kind": "PodList", "items": "not a list"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@pytest.mark.parametrize(("kind", "message"), [
    ("500", "HTTP 500 Internal Server Error"),
    ("403", 'HTTP 403 Forbidden: pods is forbidden: User "viewer" cannot list resource "pods" '
            'in API group "" in the namespace "luckygas"'),
    ("401", "HTTP 401 Unauthorized: Unauthorized"),
    ("garbage", "the API server answered malformed JSON"),
    ("shape", "the API server answered something that is not a list"),
])
async def test_bad_answers_are_one_line_errors(tmp_path: Path, kind: str, message: str) -> None:
    with serve(broken_app(kind)) as served:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", served.url)
        async with source_for(kubeconfig) as src:
            with pytest.raises(SourceError) as err:
                await src.fetch()
    assert str(err.value) == message
    assert_one_line(str(err.value))


async def test_missing_kubeconfig_is_a_one_line_error(tmp_path: Path) -> None:
    async with source_for(tmp_path / "nope.yaml") as src:
        with pytest.raises(SourceError) as err:
            await src.fetch()
    assert str(err.value).startswith("kubeconfig: ")
    assert_one_line(str(err.value))


async def test_recovers_after_the_server_comes_back(tmp_path: Path) -> None:
    with simulated(tmp_path) as sim:
        async with source_for(sim.kubeconfig) as src:
            assert (await src.fetch()).pods
            sim.served.stop()
            with pytest.raises(SourceError, match=r"^connection refused"):
                await src.fetch()
            with serve(make_kube_app(sim.model), port=sim.served.port):
                assert len((await src.fetch()).pods) == len(sim.model.every_pod())


# --- scale ------------------------------------------------------------------------


async def test_large_scale_fetch(tmp_path: Path) -> None:
    with simulated(tmp_path, scale="large") as sim:
        async with source_for(sim.kubeconfig) as src:
            await src.fetch()  # imports the client, loads the kubeconfig, fills caches
            sim.step(2)
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                snap = await src.fetch()
                timings.append(time.perf_counter() - started)
                sim.step(2)
    assert len(snap.pods) == 2031 and len(snap.nodes) == 60 and len(snap.deployments) == 30
    assert all(len(p.cpu_history) == 4 for p in snap.pods)
    print(f"\nKubeSource.fetch, 2,030 pods: best {min(timings) * 1000:.0f} ms, "
          f"worst {max(timings) * 1000:.0f} ms")
    assert min(timings) < 2.0


def test_module_import_is_light() -> None:
    # the Kubernetes client (0.25-0.65 s to import) is loaded by the worker that first
    # needs it, never by importing the source: the first frame does not wait for it
    # (how long the import takes is the benchmark's business, not a unit test's)
    code = (
        "import sys\n"
        "import luckytui.sources.kube\n"
        "print('kubernetes' in sys.modules, 'urllib3' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split()
    assert out == ["False", "False"]


# --- parsing helpers ------------------------------------------------------------


@pytest.mark.parametrize(("text", "millis"), [
    ("123m", 123.0), ("0.5", 500.0), ("123456789n", 123.456789), ("1", 1000.0),
    ("2", 2000.0), ("250000u", 250.0), ("1e3m", 1000.0), (".25", 250.0), (3, 3000.0),
])
def test_cpu_quantities(text: Any, millis: float) -> None:
    assert parse_cpu_m(text) == pytest.approx(millis)


@pytest.mark.parametrize("bad", ["", "abc", "12x", "1.2.3", None, True])
def test_bad_cpu_quantities(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_cpu_m(bad)


def test_pod_phase_prefers_waiting_reasons_and_terminating() -> None:
    waiting = {"phase": "Running", "containerStatuses": [
        {"state": {"running": {}}}, {"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    assert pod_phase({}, waiting) == "CrashLoopBackOff"
    assert pod_phase({"deletionTimestamp": "2025-01-01T00:00:00Z"}, waiting) == "Terminating"
    assert pod_phase({}, {"phase": "Pending", "initContainerStatuses": [
        {"state": {"waiting": {"reason": "ImagePullBackOff"}}}]}) == "Init:ImagePullBackOff"
    assert pod_phase({}, {"phase": "Failed", "reason": "Evicted"}) == "Evicted"
    assert pod_phase({}, {"phase": "Running", "containerStatuses": [
        {"state": {"terminated": {"reason": "OOMKilled"}}}]}) == "OOMKilled"
    assert pod_phase({}, {"phase": "Succeeded"}) == "Succeeded"


def test_pod_deployment_from_its_replica_set() -> None:
    meta = {"labels": {"pod-template-hash": "5d9f7c"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-api-5d9f7c"}]}
    assert pod_deployment(meta) == "web-api"
    assert pod_deployment({"ownerReferences": [{"kind": "ReplicaSet", "name": "web-7f"}]}) == "web"
    assert pod_deployment({"ownerReferences": [{"kind": "StatefulSet", "name": "db"}]}) == ""
    assert pod_deployment({}) == ""


def test_patch_flavours() -> None:
    doc: dict[str, Any] = {"spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}}}}
    smp = strategic_merge(doc, {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}],
        "containers": [{"name": "app", "env": [{"name": "B", "value": "3"},
                                               {"name": "A", "$patch": "delete"}]}]}}}})
    assert smp["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "env": [{"name": "B", "value": "3"}]}]
    assert doc["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] == "1"
    merged = merge_patch(doc, {"spec": {"replicas": None}})
    assert "replicas" not in merged["spec"]
    patched = json_patch(doc, [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "add", "path": "/spec/template/spec/containers/0/env/-",
         "value": {"name": "C", "value": "x"}},
        {"op": "replace", "path": "/spec/replicas", "value": 7}])
    assert patched["spec"]["replicas"] == 7
    assert patched["spec"]["template"]["spec"]["containers"][0]["env"][-1]["name"] == "C"


def test_label_selectors_and_ages() -> None:
    labels = {"app": "web", "tier": "front"}
    for text, want in [("app=web", True), ("app!=web", False), ("app in (api, web)", True),
                       ("app notin (web)", False), ("tier", True), ("!tier", False),
                       ("app=web,tier=back", False)]:
        assert all(r(labels) for r in parse_label_selector(text)) is want, text
    assert [human_duration(s) for s in (5, 119, 125, 600, 3 * 3600 + 60, 30 * 3600,
                                        3 * 86400 + 3600, 12 * 86400)] == [
        "5s", "119s", "2m5s", "10m", "3h1m", "30h", "3d1h", "12d"]


# --- the official client's models accept every reply ------------------------------


@pytest.fixture
def client_apis(sim: Sim) -> Iterator[tuple[Any, Any, Any, Any]]:
    from kubernetes import client, config

    api = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(sim.kubeconfig), persist_config=False)
    try:
        yield (client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api),
               client.AuthorizationV1Api(api))
    finally:
        api.close()


def test_python_client_reads_and_validates(sim: Sim, client_apis: tuple[Any, ...]) -> None:
    core, apps, batch, _ = client_apis
    pods = core.list_namespaced_pod(NS)
    assert len(pods.items) == len(sim.model.every_pod())
    pod = pods.items[0]
    assert pod.spec.containers[0].resources.limits["cpu"] in ("1", "500m")
    assert pod.status.container_statuses[0].restart_count >= 0
    assert pod.metadata.owner_references[0].kind == "ReplicaSet"
    d = apps.read_namespaced_deployment("luckygas-backend", NS)
    assert d.spec.selector.match_labels == {"app": "luckygas-backend"}
    assert d.status.ready_replicas == 3 and d.status.updated_replicas == 3
    nodes = core.list_node()
    assert nodes.items[0].status.allocatable["cpu"] == "7910m"
    assert nodes.items[0].status.conditions[-1].type == "Ready"
    assert core.read_namespace(NS).status.phase == "Active"
    scale = apps.read_namespaced_deployment_scale("order-worker", NS)
    assert scale.spec.replicas == 2 and scale.status.selector == "app=order-worker"
    cron = batch.read_namespaced_cron_job("analytics-aggregation", NS)
    assert cron.spec.job_template.spec.template.spec.containers
    sim.step(25)
    warnings = core.list_namespaced_event(NS, field_selector="type=Warning")
    assert [e.reason for e in warnings.items] == ["HighLoad"]
    page = core.list_namespaced_pod(NS, limit=2)
    rest = core.list_namespaced_pod(NS, _continue=page.metadata._continue)
    assert [p.metadata.name for p in page.items + rest.items] == sorted(sim.model.every_pod())


def test_python_client_actions_reach_the_model(sim: Sim, client_apis: tuple[Any, ...]) -> None:
    from kubernetes.client.exceptions import ApiException

    core, apps, batch, authz = client_apis
    model = sim.model
    review = authz.create_self_subject_access_review({"spec": {"resourceAttributes": {
        "namespace": NS, "verb": "patch", "group": "apps", "resource": "deployments",
        "subresource": "scale"}}})
    assert review.status.allowed and review.spec.resource_attributes.verb == "patch"

    dry = apps.patch_namespaced_deployment_scale("luckygas-backend", NS,
                                                 {"spec": {"replicas": 6}}, dry_run="All")
    assert dry.spec.replicas == 6 and model.deployments["luckygas-backend"].replicas == 3
    done = apps.patch_namespaced_deployment_scale("luckygas-backend", NS,
                                                  {"spec": {"replicas": 6}})
    assert done.spec.replicas == 6 and model.deployments["luckygas-backend"].replicas == 6
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment_scale("luckygas-backend", NS,
                                               {"spec": {"replicas": -1}})
    assert err.value.status == 422 and model.deployments["luckygas-backend"].replicas == 6

    env_patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "luckygas-backend", "env": [{"name": "QUERY_CACHE_TTL", "value": "60"}]}]}}}}
    apps.patch_namespaced_deployment("luckygas-backend", NS, env_patch, dry_run="All")
    assert "QUERY_CACHE_TTL" not in model.deployments["luckygas-backend"].env
    patched = apps.patch_namespaced_deployment("luckygas-backend", NS, env_patch)
    env = {e.name: e.value for e in patched.spec.template.spec.containers[0].env}
    assert env == {"DB_POOL_SIZE": "5", "QUERY_CACHE_TTL": "60"}
    assert model.deployments["luckygas-backend"].env == env
    apps.patch_namespaced_deployment("order-worker", NS, [
        {"op": "add", "path": "/spec/template/metadata/annotations",
         "value": {"kubectl.kubernetes.io/restartedAt": "2025-11-26T03:04:05Z"}}])
    assert model.deployments["order-worker"].annotations == {
        "kubectl.kubernetes.io/restartedAt": "2025-11-26T03:04:05Z"}

    node = core.patch_node("gke-luckygas-pool-01", {"spec": {"unschedulable": True}})
    assert node.spec.unschedulable and model.nodes["gke-luckygas-pool-01"].unschedulable
    core.patch_node("gke-luckygas-pool-01", {"spec": {"unschedulable": None}})
    assert not model.nodes["gke-luckygas-pool-01"].unschedulable

    cron = batch.read_namespaced_cron_job("analytics-aggregation", NS)
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {
        "name": "analytics-aggregation-manual-1",
        "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                             "name": cron.metadata.name, "uid": cron.metadata.uid,
                             "controller": True}]},
        "spec": cron.spec.job_template.spec.to_dict(serialize=True)}
    batch.create_namespaced_job(NS, job, dry_run="All")
    assert "analytics-aggregation-manual-1" not in model.jobs
    created = batch.create_namespaced_job(NS, job)
    assert created.metadata.owner_references[0].name == "analytics-aggregation"
    assert model.jobs["analytics-aggregation-manual-1"].from_cronjob == "analytics-aggregation"
    with pytest.raises(ApiException) as err:
        batch.create_namespaced_job(NS, job)
    assert err.value.status == 409 and "AlreadyExists" in err.value.body

    with pytest.raises(ApiException) as err:
        apps.read_namespaced_deployment("nope", NS)
    assert err.value.status == 404
    raw = apps.api_client.call_api(
        "PATCH", f"{sim.served.url}/apis/apps/v1/namespaces/{NS}/deployments/order-worker",
        {"Content-Type": "application/apply-patch+yaml"}, body={"spec": {"replicas": 1}})
    raw.read()
    assert raw.status == 415 and model.deployments["order-worker"].replicas == 2


async def test_without_a_kubeconfig_inside_a_pod_uses_the_service_account(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes.config import incluster_config

    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text(TOKEN)
    ca.write_text("not a certificate\n")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.delenv("KUBECONFIG", raising=False)
    port = free_port()
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(port))
    src = KubeSource(None, None, NS, timeout=1.0)
    try:
        with pytest.raises(SourceError) as err:
            await src.fetch()
    finally:
        await src.aclose()
    assert f"127.0.0.1:{port}" in str(err.value)  # it went for the in-cluster address
    assert_one_line(str(err.value))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    src = KubeSource(None, None, NS)
    with pytest.raises(SourceError, match=r"^kubeconfig: "):
        await src.fetch()


def test_fetch_never_loads_the_generated_api_classes(tmp_path: Path) -> None:
    """The generated API classes cost over a second of start-up: the source uses
    only the ApiClient layer. A fresh interpreter proves it."""
    import subprocess
    import sys

    with simulated(tmp_path) as s:
        code = (
            "import asyncio, sys\n"
            "from luckytui.sources.kube import KubeSource\n"
            f"src = KubeSource({str(s.kubeconfig)!r}, None, {NS!r})\n"
            "snap = asyncio.run(src.fetch())\n"
            "assert snap.pods, 'no pods'\n"
            "print(sorted(m for m in sys.modules if m.startswith('kubernetes.client.api.')))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "[]"


async def test_recent_warning_events_are_reported(sim: Sim) -> None:
    sim.model.event("Warning", "BackOff", "Pod", "order-worker-abc12",
                    "Back-off restarting failed container")
    sim.model.event("Normal", "Scheduled", "Pod", "order-worker-abc12", "assigned")
    async with source_for(sim.kubeconfig) as src:
        snap = await src.fetch()
    reasons = [(w.reason, w.object) for w in snap.warnings]
    assert ("BackOff", "pod/order-worker-abc12") in reasons
    assert all(r != "Scheduled" for r, _ in reasons)
