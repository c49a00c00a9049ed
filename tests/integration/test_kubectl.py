"""The simulation's Kubernetes API, judged by the real kubectl (v1.32 on PATH).

Each test runs kubectl in a subprocess against the API served on loopback over
a seeded model whose clock only moves when the test says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from luckytui.sim.model import SimPod
from tests.integration.conftest_kube import Cluster, running_cluster

NS = "luckygas"


def rows(text: str) -> list[list[str]]:
    """kubectl's table output as cells (split on runs of 2+ spaces), header first."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()]


def live_pods(cluster: Cluster, deployment: str) -> list[SimPod]:
    return [p for p in cluster.model.pods.values()
            if p.deployment == deployment and p.terminating_at is None]


def test_get_pods_prints_the_columns_kubectl_prints(cluster: Cluster) -> None:
    table = rows(cluster.kubectl.out("get", "pods", "-n", NS))
    assert table[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    by_name = {r[0]: r for r in table[1:]}
    assert set(by_name) == set(cluster.model.every_pod())
    pod = next(iter(cluster.model.pods.values()))
    assert by_name[pod.name][1:4] == ["1/1", "Running", str(pod.restarts)]
    assert re.fullmatch(r"\d+d(\d+h)?", by_name[pod.name][4])


def test_get_pods_wide_adds_ip_and_node(cluster: Cluster) -> None:
    table = rows(cluster.kubectl.out("get", "pods", "-o", "wide"))
    assert table[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                        "NOMINATED NODE", "READINESS GATES"]
    for row in table[1:]:
        pod = cluster.model.every_pod()[row[0]]
        assert row[6] == pod.node
        assert re.fullmatch(r"10\.\d+\.\d+\.\d+", row[5])


def test_get_deployments_and_one_as_json(cluster: Cluster) -> None:
    table = rows(cluster.kubectl.out("get", "deployments"))
    assert table[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    got = {r[0]: r[1:4] for r in table[1:]}
    assert got == {"luckygas-backend": ["3/3", "3", "3"], "luckygas-frontend": ["2/2", "2", "2"],
                   "order-worker": ["2/2", "2", "2"]}
    doc = json.loads(cluster.kubectl.out("get", "deployment", "order-worker", "-o", "json"))
    assert doc["kind"] == "Deployment" and doc["spec"]["selector"]["matchLabels"] == {
        "app": "order-worker"}
    env = doc["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "DB_POOL_SIZE", "value": "4"} in env


def test_get_nodes(cluster: Cluster) -> None:
    table = rows(cluster.kubectl.out("get", "nodes"))
    assert table[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [r[0] for r in table[1:]] == sorted(cluster.model.nodes)
    assert {r[1] for r in table[1:]} == {"Ready"}
    assert all(r[4].startswith("v1.32.") for r in table[1:])


def test_scale_changes_the_model_and_pods_follow(cluster: Cluster) -> None:
    out = cluster.kubectl.out("scale", "deployment", "luckygas-backend", "--replicas=5")
    assert out.strip() == "deployment.apps/luckygas-backend scaled"
    assert cluster.model.deployments["luckygas-backend"].replicas == 5
    spec = cluster.kubectl.out("get", "deployment", "luckygas-backend", "-o",
                               "jsonpath={.spec.replicas}")
    assert spec == "5"
    cluster.step(10)
    names = cluster.kubectl.out("get", "pods", "-l", "app=luckygas-backend", "-o", "name")
    assert len(names.split()) == 5
    assert len(live_pods(cluster, "luckygas-backend")) == 5
    table = rows(cluster.kubectl.out("get", "deployment", "luckygas-backend"))
    assert table[1][1:4] == ["5/5", "5", "5"]


def test_scale_server_dry_run_changes_nothing(cluster: Cluster) -> None:
    rv = cluster.model.deployments["luckygas-backend"].resource_version
    out = cluster.kubectl.out("scale", "deployment", "luckygas-backend", "--replicas=9",
                              "--dry-run=server")
    assert out.strip() == "deployment.apps/luckygas-backend scaled (server dry run)"
    assert cluster.model.deployments["luckygas-backend"].replicas == 3
    assert cluster.model.deployments["luckygas-backend"].resource_version == rv
    assert any("dryRun=All" in r for r in cluster.requests if r.startswith("PATCH"))


def test_rollout_restart_sets_the_annotation_and_rolls_the_pods(cluster: Cluster) -> None:
    before = {p.name for p in live_pods(cluster, "order-worker")}
    old_hash = cluster.model.deployments["order-worker"].template_hash
    out = cluster.kubectl.out("rollout", "restart", "deployment", "order-worker")
    assert out.strip() == "deployment.apps/order-worker restarted"
    d = cluster.model.deployments["order-worker"]
    assert "kubectl.kubernetes.io/restartedAt" in d.annotations
    assert d.template_hash != old_hash
    cluster.step(30)
    names = set(cluster.kubectl.out("get", "pods", "-l", "app=order-worker", "-o",
                                    "jsonpath={.items[*].metadata.name}").split())
    assert len(names) == 2 and not names & before
    assert all(f"-{d.template_hash}-" in n for n in names)
    annotations = json.loads(cluster.kubectl.out(
        "get", "deployment", "order-worker", "-o",
        "jsonpath={.spec.template.metadata.annotations}"))
    assert set(annotations) == {"kubectl.kubernetes.io/restartedAt"}


def test_cordon_and_uncordon_a_node(cluster: Cluster) -> None:
    node = "gke-luckygas-pool-02"
    assert cluster.kubectl.out("cordon", node).strip() == f"node/{node} cordoned"
    assert cluster.model.nodes[node].unschedulable
    status = {r[0]: r[1] for r in rows(cluster.kubectl.out("get", "nodes"))[1:]}
    assert status[node] == "Ready,SchedulingDisabled"
    assert status["gke-luckygas-pool-01"] == "Ready"
    assert cluster.kubectl.out("uncordon", node).strip() == f"node/{node} uncordoned"
    assert not cluster.model.nodes[node].unschedulable
    status = {r[0]: r[1] for r in rows(cluster.kubectl.out("get", "nodes"))[1:]}
    assert status[node] == "Ready"


def test_top_pods(cluster: Cluster) -> None:
    cluster.step(3)
    table = rows(cluster.kubectl.out("top", "pods", "-n", NS))
    assert table[0] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    got = {r[0]: r for r in table[1:]}
    assert set(got) == set(cluster.model.every_pod())
    for name, row in got.items():
        pod = cluster.model.every_pod()[name]
        assert row[1].endswith("m") and abs(int(row[1][:-1]) - pod.cpu_m) <= 1  # rounded up
        assert row[2].endswith("Mi")


def test_top_nodes(cluster: Cluster) -> None:
    table = rows(cluster.kubectl.out("top", "nodes"))
    assert table[0] == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert [r[0] for r in table[1:]] == sorted(cluster.model.nodes)
    assert all(r[2].endswith("%") and r[4].endswith("%") for r in table[1:])


def test_missing_deployment_is_a_not_found_error(cluster: Cluster) -> None:
    done = cluster.kubectl.run("get", "deployment", "no-such-thing", check=False)
    assert done.returncode == 1
    assert 'Error from server (NotFound): deployments.apps "no-such-thing" not found' in \
        done.stderr


def test_events_cronjobs_jobs_and_can_i(cluster: Cluster) -> None:
    cluster.step(25)  # the scripted surge raises a Warning event
    warnings = rows(cluster.kubectl.out("get", "events", "--field-selector", "type=Warning"))
    assert warnings[0][:4] == ["LAST SEEN", "TYPE", "REASON", "OBJECT"]
    assert {r[1] for r in warnings[1:]} == {"Warning"}
    assert any(r[2] == "HighLoad" for r in warnings[1:])
    cron = rows(cluster.kubectl.out("get", "cronjobs"))
    assert cron[0][:2] == ["NAME", "SCHEDULE"] and cron[1][:2] == ["analytics-aggregation",
                                                                   "*/15 * * * *"]
    done = cluster.kubectl.run("get", "jobs", check=False)
    assert done.returncode == 0 and "No resources found" in done.stderr
    assert cluster.kubectl.out("auth", "can-i", "patch", "deployments").strip() == "yes"


def test_set_env_and_json_patch_reach_the_model(cluster: Cluster) -> None:
    out = cluster.kubectl.out("set", "env", "deployment/luckygas-backend", "CACHE_TTL=60")
    assert out.strip() == "deployment.apps/luckygas-backend env updated"
    assert cluster.model.deployments["luckygas-backend"].env["CACHE_TTL"] == "60"
    patch = json.dumps([{"op": "replace", "path": "/spec/replicas", "value": 4}])
    cluster.kubectl.out("patch", "deployment", "luckygas-frontend", "--type=json", "-p", patch)
    assert cluster.model.deployments["luckygas-frontend"].replicas == 4
    done = cluster.kubectl.run("patch", "deployment", "luckygas-frontend", "--type=merge", "-p",
                               '{"spec":{"replicas":-1}}', check=False)
    assert done.returncode == 1
    assert 'deployment "luckygas-frontend" is invalid: spec.replicas' in done.stderr
    assert cluster.model.deployments["luckygas-frontend"].replicas == 4


def test_get_pods_at_large_scale_pages(tmp_path: Path, kube_cache: Path) -> None:
    with running_cluster(tmp_path, kube_cache, scale="large") as cluster:
        table = rows(cluster.kubectl.out("get", "pods"))
        assert len(table) - 1 == len(cluster.model.pods) + 1 == 2031  # and redis-0
        assert {r[0] for r in table[1:]} == set(cluster.model.pods) | {"redis-0"}
        lists = [r for r in cluster.requests if r.startswith(f"GET /api/v1/namespaces/{NS}/pods")]
        assert len(lists) == 5 and all("limit=500" in r for r in lists)
        assert sum("continue=" in r for r in lists) == 4


def test_create_job_from_cronjob_posts_protobuf_and_repairs_analytics(cluster: Cluster) -> None:
    out = cluster.kubectl.out("create", "job", "analytics-manual-1",
                              "--from=cronjob/analytics-aggregation")
    assert out.strip() == "job.batch/analytics-manual-1 created"
    job = cluster.model.jobs["analytics-manual-1"]
    assert job.from_cronjob == "analytics-aggregation"
    doc = json.loads(cluster.kubectl.out("get", "job", "analytics-manual-1", "-o", "json"))
    assert doc["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert doc["metadata"]["ownerReferences"][0]["name"] == "analytics-aggregation"
    assert doc["spec"]["template"]["spec"]["containers"][0]["name"] == "aggregate"
    assert rows(cluster.kubectl.out("get", "jobs"))[1][:3] == ["analytics-manual-1", "Running",
                                                                "0/1"]
    cluster.step(10)
    assert rows(cluster.kubectl.out("get", "jobs"))[1][:3] == ["analytics-manual-1", "Complete",
                                                                "1/1"]
    again = cluster.kubectl.run("create", "job", "analytics-manual-1",
                                "--from=cronjob/analytics-aggregation", check=False)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_get_pods_watch_streams_new_and_deleted_pods(cluster: Cluster) -> None:
    import subprocess
    import threading
    import time

    k = cluster.kubectl
    proc = subprocess.Popen(
        [k.binary, "--kubeconfig", str(k.kubeconfig), "--cache-dir", str(k.cache_dir),
         "get", "pods", "-n", NS, "--watch-only", "-o", "name"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=k.env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                              daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        time.sleep(1.5)  # the watch is open
        before = set(cluster.model.pods)
        cluster.model.scale("luckygas-backend", 5)
        cluster.step(1)
        deadline = time.monotonic() + 20
        while len({ln.strip() for ln in lines}) < 2:
            assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, lines
            time.sleep(0.1)
        new = set(cluster.model.pods) - before
        assert {ln.strip() for ln in lines} == {f"pod/{name}" for name in new}
    finally:
        proc.kill()
        proc.wait()
