"""KubeOps against the simulation's Kubernetes API on loopback: each write, its
server-side dry run, the errors, and the real kubectl reading one result."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from luckytui.sim.kube import make_kube_app
from luckytui.sim.model import Production
from luckytui.systems.kubernetes import KubeOps, KubeOpsError
from tests.integration.conftest_kube import (
    START,
    TOKEN,
    Cluster,
    free_port,
    serve,
    write_kubeconfig,
)

NS = "luckygas"
BACKEND = "luckygas-backend"
NODE = "gke-luckygas-pool-02"
CRON = "analytics-aggregation"


def backend_pods(cluster: Cluster) -> list[str]:
    cluster.sync()
    return sorted(p.name for p in cluster.model.pods.values()
                  if p.deployment == BACKEND and p.terminating_at is None)


def writes(cluster: Cluster) -> list[str]:
    return [r for r in cluster.requests if not r.startswith("GET ")]


# --- reads ------------------------------------------------------------------------


def test_reads_and_access_review(cluster: Cluster, ops: KubeOps) -> None:
    d = ops.deployment(BACKEND)
    assert d["kind"] == "Deployment" and d["spec"]["replicas"] == 3
    assert ops.node(NODE)["metadata"]["name"] == NODE
    assert ops.cronjob(CRON)["spec"]["jobTemplate"]["spec"]["template"]
    assert ops.can_i("patch", "deployments", group="apps", subresource="scale", name=BACKEND)
    assert ops.can_i("patch", "nodes")
    assert ops.can_i("create", "jobs", group="batch")
    assert cluster.requests[0] == f"GET /apis/apps/v1/namespaces/{NS}/deployments/{BACKEND}"
    assert writes(cluster) == ["POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews"] * 3


def test_missing_objects_say_so_in_one_line(ops: KubeOps) -> None:
    with pytest.raises(KubeOpsError) as got:
        ops.deployment("nope")
    assert got.value.status == 404
    assert str(got.value) == f"deployment nope not found in namespace {NS}"
    with pytest.raises(KubeOpsError) as got:
        ops.scale("nope", 2, dry_run=True)
    assert got.value.status == 404 and "\n" not in str(got.value)
    with pytest.raises(KubeOpsError) as got:
        ops.cordon("no-such-node", True, dry_run=False)
    assert got.value.status == 404 and str(got.value) == "node no-such-node not found"
    with pytest.raises(KubeOpsError) as got:
        ops.job_from_cronjob("nope", "nope-manual", dry_run=False)
    assert got.value.status == 404
    assert str(got.value) == f"cronjob nope not found in namespace {NS}"


def test_server_errors_keep_the_servers_message(cluster: Cluster, ops: KubeOps) -> None:
    with pytest.raises(KubeOpsError) as got:
        ops.job_from_cronjob(CRON, "Not_A_Name", dry_run=True)
    assert got.value.status == 422
    assert str(got.value).startswith('Job.batch "Not_A_Name" is invalid: metadata.name')
    assert TOKEN not in str(got.value)
    with pytest.raises(KubeOpsError) as bad:
        ops.scale(BACKEND, -1, dry_run=True)
    assert bad.value.status is None and cluster.model.deployments[BACKEND].replicas == 3


# --- scale --------------------------------------------------------------------------


def test_scale_dry_run_changes_nothing(cluster: Cluster, ops: KubeOps) -> None:
    before = backend_pods(cluster)
    scale = ops.scale(BACKEND, 5, dry_run=True)
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 5
    cluster.step(10)
    assert cluster.model.deployments[BACKEND].replicas == 3
    assert backend_pods(cluster) == before
    assert writes(cluster) == [f"PATCH /apis/apps/v1/namespaces/{NS}/deployments/{BACKEND}"
                               "/scale?dryRun=All&fieldManager=luckytui"]


def test_scale_for_real_adds_pods(cluster: Cluster, ops: KubeOps) -> None:
    scale = ops.scale(BACKEND, 5, dry_run=False)
    assert scale["spec"]["replicas"] == 5
    assert cluster.model.deployments[BACKEND].replicas == 5
    assert writes(cluster) == [f"PATCH /apis/apps/v1/namespaces/{NS}/deployments/{BACKEND}"
                               "/scale?fieldManager=luckytui"]
    cluster.step(2)
    assert len(backend_pods(cluster)) == 5


def test_kubectl_sees_the_scale(cluster: Cluster, ops: KubeOps) -> None:
    ops.scale("order-worker", 4, dry_run=False)
    got = cluster.kubectl.out("get", "deployment", "order-worker", "-n", NS,
                              "-o", "jsonpath={.spec.replicas}")
    assert got == "4"


# --- restart and env ------------------------------------------------------------------


def test_restart_stamps_the_template_and_rolls_pods(cluster: Cluster, ops: KubeOps) -> None:
    at = "2025-11-26T03:05:00Z"
    model = cluster.model.deployments[BACKEND]
    old_hash, before = model.template_hash, backend_pods(cluster)

    dry = ops.restart(BACKEND, at, dry_run=True)
    annotations = dry["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"] == at
    assert model.annotations == {} and model.template_hash == old_hash

    done = ops.restart(BACKEND, at, dry_run=False)
    assert done["spec"]["template"]["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": at}
    assert model.annotations == {"kubectl.kubernetes.io/restartedAt": at}
    assert model.template_hash != old_hash
    for _ in range(30):
        cluster.step(1)
        if not set(backend_pods(cluster)) & set(before):
            break
    pods = [cluster.model.pods[n] for n in backend_pods(cluster)]
    assert len(pods) == 3 and all(p.template_hash == model.template_hash for p in pods)
    assert writes(cluster)[-1] == (f"PATCH /apis/apps/v1/namespaces/{NS}/deployments/{BACKEND}"
                                   "?fieldManager=luckytui")


def test_set_env_adds_then_removes(cluster: Cluster, ops: KubeOps) -> None:
    model = cluster.model.deployments[BACKEND]
    assert model.env == {"DB_POOL_SIZE": "5"}

    dry = ops.set_env(BACKEND, BACKEND, "CACHE_TTL", "60", dry_run=True)
    env = dry["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "CACHE_TTL", "value": "60"} in env
    assert model.env == {"DB_POOL_SIZE": "5"}

    added = ops.set_env(BACKEND, BACKEND, "CACHE_TTL", "60", dry_run=False)
    assert {"name": "CACHE_TTL", "value": "60"} in (
        added["spec"]["template"]["spec"]["containers"][0]["env"])
    assert model.env == {"DB_POOL_SIZE": "5", "CACHE_TTL": "60"}
    ops.set_env(BACKEND, BACKEND, "DB_POOL_SIZE", "8", dry_run=False)
    assert model.env == {"DB_POOL_SIZE": "8", "CACHE_TTL": "60"}

    ops.set_env(BACKEND, BACKEND, "CACHE_TTL", None, dry_run=True)
    assert "CACHE_TTL" in model.env
    removed = ops.set_env(BACKEND, BACKEND, "CACHE_TTL", None, dry_run=False)
    assert model.env == {"DB_POOL_SIZE": "8"}
    names = [e["name"] for e in removed["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert names == ["DB_POOL_SIZE"]


def test_set_env_refuses_an_unknown_container(cluster: Cluster, ops: KubeOps) -> None:
    with pytest.raises(KubeOpsError, match="has no container 'sidecar'"):
        ops.set_env(BACKEND, "sidecar", "X", "1", dry_run=False)
    assert writes(cluster) == []


# --- nodes ----------------------------------------------------------------------------


def test_cordon_and_uncordon(cluster: Cluster, ops: KubeOps) -> None:
    node = cluster.model.nodes[NODE]
    dry = ops.cordon(NODE, True, dry_run=True)
    assert dry["spec"]["unschedulable"] is True and not node.unschedulable
    done = ops.cordon(NODE, True, dry_run=False)
    assert done["spec"]["unschedulable"] is True and node.unschedulable
    undone = ops.cordon(NODE, False, dry_run=False)
    assert not undone["spec"].get("unschedulable") and not node.unschedulable
    assert writes(cluster) == [f"PATCH /api/v1/nodes/{NODE}?dryRun=All&fieldManager=luckytui",
                               f"PATCH /api/v1/nodes/{NODE}?fieldManager=luckytui",
                               f"PATCH /api/v1/nodes/{NODE}?fieldManager=luckytui"]


# --- jobs -------------------------------------------------------------------------------


def test_job_from_cronjob(cluster: Cluster, ops: KubeOps) -> None:
    cron = cluster.model.cronjobs[CRON]
    jobs_before = set(cluster.model.jobs)

    dry = ops.job_from_cronjob(CRON, "analytics-manual-1", dry_run=True)
    assert dry["kind"] == "Job" and dry["metadata"]["name"] == "analytics-manual-1"
    assert set(cluster.model.jobs) == jobs_before

    job = ops.job_from_cronjob(CRON, "analytics-manual-1", dry_run=False)
    meta = job["metadata"]
    assert meta["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert meta["ownerReferences"] == [{
        "apiVersion": "batch/v1", "kind": "CronJob", "name": CRON, "uid": cron.uid,
        "controller": True, "blockOwnerDeletion": True}]
    assert meta["labels"] == {"app": CRON}
    assert job["spec"]["template"]["spec"]["containers"][0]["name"] == "aggregate"
    made = cluster.model.jobs["analytics-manual-1"]
    assert made.from_cronjob == CRON and set(cluster.model.jobs) == jobs_before | {made.name}
    assert writes(cluster) == [
        f"POST /apis/batch/v1/namespaces/{NS}/jobs?dryRun=All&fieldManager=luckytui",
        f"POST /apis/batch/v1/namespaces/{NS}/jobs?fieldManager=luckytui"]

    with pytest.raises(KubeOpsError) as again:
        ops.job_from_cronjob(CRON, "analytics-manual-1", dry_run=False)
    assert again.value.status == 409
    assert str(again.value) == 'jobs.batch "analytics-manual-1" already exists'


# --- connection ---------------------------------------------------------------------------


def test_server_down_is_one_line(tmp_path: Path) -> None:
    port = free_port()
    config = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{port}")
    ops = KubeOps(str(config), None, NS, timeout=2.0)
    try:
        for write in (False, True):
            with pytest.raises(KubeOpsError) as got:
                if write:
                    ops.scale(BACKEND, 4, dry_run=False)
                else:
                    ops.deployment(BACKEND)
            assert str(got.value) == (f"cannot reach the Kubernetes API at 127.0.0.1:{port}: "
                                      "connection refused")
            assert got.value.status is None
    finally:
        ops.close()


def test_bad_kubeconfig_is_one_line(tmp_path: Path) -> None:
    ops = KubeOps(str(tmp_path / "absent"), None, NS)
    with pytest.raises(KubeOpsError) as got:
        ops.node(NODE)
    assert str(got.value).startswith("kubeconfig: ") and "\n" not in str(got.value)
    ops.close()


def test_forbidden_and_slow_answers(tmp_path: Path) -> None:
    model = Production(seed=7, scale="small", clock=lambda: START)
    app = make_kube_app(model)
    sleeping = [0]  # slow answers still running: the server must not stop under them

    @web.middleware
    async def gatekeeper(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "PATCH" and request.path.startswith("/api/v1/nodes/"):
            return web.json_response({
                "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403,
                "reason": "Forbidden",
                "message": f'nodes "{request.match_info.get("name", NODE)}" is forbidden: '
                           f'User "system:serviceaccount:{NS}:oncall" cannot patch resource '
                           f'"nodes" (token {TOKEN})'}, status=403)
        if request.method == "PATCH":
            sleeping[0] += 1
            try:
                await asyncio.sleep(0.8)
            finally:
                sleeping[0] -= 1
        return await handler(request)

    app.middlewares.insert(0, gatekeeper)
    with serve(app) as served:
        ops = KubeOps(str(write_kubeconfig(tmp_path / "kubeconfig", served.url)), None, NS,
                      timeout=0.4)
        try:
            with pytest.raises(KubeOpsError) as denied:
                ops.cordon(NODE, True, dry_run=False)
            assert denied.value.status == 403
            assert str(denied.value).startswith(f'forbidden: nodes "{NODE}" is forbidden: User')
            assert TOKEN not in str(denied.value) and not model.nodes[NODE].unschedulable
            with pytest.raises(KubeOpsError) as slow:
                ops.scale(BACKEND, 4, dry_run=False)
            assert str(slow.value) == (
                f"the Kubernetes API at 127.0.0.1:{served.port} did not answer within 0.4 s "
                "(the change may or may not have been made)")
            assert slow.value.status is None
            with pytest.raises(KubeOpsError) as slow_dry:
                ops.scale(BACKEND, 4, dry_run=True)
            assert str(slow_dry.value).endswith("did not answer within 0.4 s")
        finally:
            ops.close()
            deadline = time.monotonic() + 5
            while sleeping[0] and time.monotonic() < deadline:
                time.sleep(0.05)
