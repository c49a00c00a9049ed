"""The kubectl commands an incident needs beyond the plan's text, with the real kubectl
against the simulation: describe (with the object's events), revisions and rollbacks,
rollout status, logs, exec, RBAC, labels, drain and delete. Commands that wait for the
cluster (drain, delete, rollout status) run while the test moves the clock."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

from luckytui.sim.kube import KUBE_API
from luckytui.systems.kubernetes import KubeOps
from tests.integration.conftest_kube import (
    READONLY_CONTEXT,
    READONLY_TOKEN,
    Cluster,
    write_kubeconfig,
)

NS = "luckygas"
CRASH = "FATAL: could not connect to the database at db-replica:5433"


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def while_time_passes(cluster: Cluster, *args: str, limit: float = 40) -> \
        subprocess.CompletedProcess[str]:
    """Run kubectl while the simulated clock moves a second every 0.1 s."""
    k = cluster.kubectl
    proc = subprocess.Popen([k.binary, "--kubeconfig", str(k.kubeconfig), "--cache-dir",
                             str(k.cache_dir), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=k.env)
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline:
        cluster.step(1)
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate()
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def live(cluster: Cluster, deployment: str) -> list[str]:
    cluster.sync()
    return sorted(p.name for p in cluster.model.pods.values()
                  if p.deployment == deployment and p.terminating_at is None)


def test_bad_rollout_history_describe_and_undo(cluster: Cluster) -> None:
    k, m = cluster.kubectl, cluster.model
    m.rollout_bad_config("luckygas-backend", {"DATABASE_URL": "postgres://db-replica:5433/x"},
                         CRASH)
    cluster.step(60)
    table = rows(k.out("get", "pods", "-l", "app=luckygas-backend"))
    assert {r[2] for r in table[1:]} == {"CrashLoopBackOff"}
    assert all(r[1] == "0/1" and int(r[3]) >= 2 for r in table[1:])
    pod = table[1][0]
    assert k.out("logs", pod, "--tail=1").strip().endswith(f"FATAL {CRASH}")
    described = k.out("describe", "pod", pod)
    assert "Reason:       CrashLoopBackOff" in described
    assert "Back-off restarting failed container luckygas-backend" in described
    assert "BackOff" in described and "Warning" in described
    rs = rows(k.out("get", "rs"))
    d = m.deployments["luckygas-backend"]
    assert sorted(f"luckygas-backend-{h}" for h in d.history) == sorted(
        r[0] for r in rs[1:] if r[0].startswith("luckygas-backend-"))
    history = rows(k.out("rollout", "history", "deployment/luckygas-backend"))
    assert [r[0] for r in history[2:]] == ["1", "2"]
    rev2 = k.out("rollout", "history", "deployment/luckygas-backend", "--revision=2")
    assert "DATABASE_URL:\tpostgres://db-replica:5433/x" in rev2
    described = k.out("describe", "deployment", "luckygas-backend")
    assert f"NewReplicaSet:   luckygas-backend-{d.template_hash}" in described
    assert "ScalingReplicaSet" in described
    out = k.out("rollout", "undo", "deployment/luckygas-backend")
    assert out.strip() == "deployment.apps/luckygas-backend rolled back"
    assert "DATABASE_URL" not in d.env and d.revision == 3
    done = while_time_passes(cluster, "rollout", "status", "deployment/luckygas-backend")
    assert done.returncode == 0, done.stderr
    assert 'deployment "luckygas-backend" successfully rolled out' in done.stdout
    assert {r[2] for r in rows(k.out("get", "pods", "-l", "app=luckygas-backend"))[1:]} == \
        {"Running"}
    out = k.out("rollout", "undo", "deployment/luckygas-backend", "--to-revision=2")
    assert out.strip() == "deployment.apps/luckygas-backend rolled back"
    assert d.env["DATABASE_URL"] == "postgres://db-replica:5433/x" and d.revision == 4


def test_describe_node_reads_its_events_by_field_selector(cluster: Cluster) -> None:
    k = cluster.kubectl
    k.out("cordon", "gke-luckygas-pool-01")
    described = k.out("describe", "node", "gke-luckygas-pool-01")
    assert "Unschedulable:      true" in described
    assert "NodeNotSchedulable" in described
    assert f"{NS}  " in described.split("Non-terminated Pods:")[1]
    assert any("/events?" in r and "involvedObject.name%3Dgke-luckygas-pool-01" in r
               for r in cluster.requests)  # kubectl orders the selector's fields at random
    warnings = rows(k.out("get", "events", "--field-selector", "type=Warning"))
    assert all(r[1] == "Warning" for r in warnings[1:])


def test_logs_tail_and_follow(cluster: Cluster) -> None:
    k = cluster.kubectl
    cluster.step(30)
    pod = live(cluster, "order-worker")[0]
    lines = k.out("logs", pod, "--tail=5").strip().splitlines()
    assert len(lines) == 5 and lines == sorted(lines)
    proc = subprocess.Popen([k.binary, "--kubeconfig", str(k.kubeconfig), "--cache-dir",
                             str(k.cache_dir), "logs", "-f", pod, "--tail=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=k.env)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(iter(proc.stdout.readline, "")),
                              daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        time.sleep(1)
        cluster.model.say("order-worker", "streamed while following")
        deadline = time.monotonic() + 20
        while not any("streamed while following" in ln for ln in got):
            assert time.monotonic() < deadline, got
            cluster.step(1)
            time.sleep(0.2)
        assert got[0].strip() == lines[-1]
    finally:
        proc.kill()
        proc.wait()


def test_exec_env_and_an_unknown_command(cluster: Cluster) -> None:
    k = cluster.kubectl
    pod = live(cluster, "luckygas-backend")[0]
    env = k.out("exec", pod, "--", "env").splitlines()
    assert f"HOSTNAME={pod}" in env and "DB_POOL_SIZE=5" in env
    assert k.out("exec", pod, "--", "cat", "/etc/hostname").strip() == pod
    done = k.run("exec", pod, "--", "rm", "-rf", "/", check=False)
    assert done.returncode == 127
    assert "rm: command not found" in done.stderr
    writes = cluster.served.app[KUBE_API].writes
    assert f"EXEC {pod} rm -> 127" in writes


def test_rbac_read_only_user(cluster: Cluster, tmp_path: Path) -> None:
    k = cluster.kubectl
    ro = ["--context", READONLY_CONTEXT]
    assert k.out(*ro, "auth", "can-i", "list", "pods").strip() == "yes"
    assert k.run(*ro, "auth", "can-i", "patch", "deployments", check=False).stdout.strip() == "no"
    assert k.out("auth", "can-i", "patch", "deployments").strip() == "yes"
    assert k.run("auth", "can-i", "patch", "deployments", "-n", "kube-system",
                 check=False).stdout.strip() == "no"
    done = k.run(*ro, "patch", "deployment", "order-worker", "-p",
                 '{"spec":{"replicas":4}}', check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        'Error from server (Forbidden): deployments.apps "order-worker" is forbidden: User '
        '"luckygas-readonly" cannot patch resource "deployments" in API group "apps" in the '
        'namespace "luckygas"')
    assert cluster.model.deployments["order-worker"].replicas == 2
    done = k.run(*ro, "delete", "secret", "redis-auth", check=False)
    assert done.returncode == 1 and "cannot delete resource \"secrets\"" in done.stderr
    assert "redis-auth" in cluster.model.secrets
    # the python client is told apart by its token
    config = write_kubeconfig(tmp_path / "ro-kubeconfig", cluster.served.url,
                              token=READONLY_TOKEN)
    ops = KubeOps(str(config), None, NS, timeout=5.0)
    try:
        assert not ops.can_i("patch", "deployments", group="apps", name="order-worker")
        assert ops.can_i("get", "deployments", group="apps")
    finally:
        ops.close()


def test_label_annotate_and_select(cluster: Cluster) -> None:
    k = cluster.kubectl
    pod = live(cluster, "order-worker")[0]
    assert k.out("label", "pod", pod, "triage=suspect").strip() == f"pod/{pod} labeled"
    assert k.out("annotate", "pod", pod, "note=leaking").strip() == f"pod/{pod} annotated"
    assert [r[0] for r in rows(k.out("get", "pods", "-l", "triage=suspect"))[1:]] == [pod]
    shown = rows(k.out("get", "pod", pod, "--show-labels"))[1][-1]
    assert "triage=suspect" in shown.split(",")
    doc = json.loads(k.out("get", "pod", pod, "-o", "json"))
    assert doc["metadata"]["annotations"] == {"note": "leaking"}
    k.out("label", "deployment", "order-worker", "tier=worker")
    k.out("annotate", "deployment", "order-worker", "owner=orders-team")
    assert [r[0] for r in rows(k.out("get", "deploy", "-l", "tier=worker"))[1:]] == [
        "order-worker"]
    d = cluster.model.deployments["order-worker"]
    assert d.labels == {"tier": "worker"} and d.meta_annotations == {"owner": "orders-team"}
    k.out("label", "pod", pod, "triage-")
    assert cluster.model.pods[pod].labels.get("triage") is None


def test_drain_evicts_and_the_deployments_reschedule(cluster: Cluster) -> None:
    node = "gke-luckygas-pool-02"
    m = cluster.model
    on_node = sorted(p.name for p in m.pods.values() if p.node == node)
    assert on_node
    done = while_time_passes(cluster, "drain", node, "--ignore-daemonsets",
                             "--delete-emptydir-data")
    assert done.returncode == 0, done.stderr
    assert f"node/{node} drained" in done.stdout
    assert all(f"pod/{p} evicted" in done.stdout for p in on_node)
    cluster.step(10)
    cluster.sync()
    assert m.nodes[node].unschedulable
    assert not [p for p in m.pods.values() if p.node == node]
    assert {d: len(live(cluster, d)) for d in m.deployments} == {
        d.name: d.replicas for d in m.deployments.values()}
    assert any(f"/pods/{on_node[0]}/eviction" in r for r in cluster.requests)


def test_delete_pod_is_replaced(cluster: Cluster) -> None:
    pod = live(cluster, "luckygas-frontend")[0]
    done = while_time_passes(cluster, "delete", "pod", pod)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f'pod "{pod}" deleted'
    cluster.step(10)
    after = live(cluster, "luckygas-frontend")
    assert pod not in after and len(after) == 2


def test_watch_deployments_and_secrets_and_config_maps(cluster: Cluster) -> None:
    k = cluster.kubectl
    proc = subprocess.Popen([k.binary, "--kubeconfig", str(k.kubeconfig), "--cache-dir",
                             str(k.cache_dir), "get", "deployments", "--watch-only", "-o",
                             "name"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=k.env)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(iter(proc.stdout.readline, "")),
                              daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        time.sleep(1.5)
        cluster.model.scale("order-worker", 4)
        deadline = time.monotonic() + 20
        while "deployment.apps/order-worker\n" not in got:
            assert proc.poll() is None and time.monotonic() < deadline, got
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    secrets = rows(k.out("get", "secrets"))
    assert secrets[0] == ["NAME", "TYPE", "DATA", "AGE"]
    assert {r[0] for r in secrets[1:]} == set(cluster.model.secrets)
    assert k.out("patch", "cm", "audit-config", "-p",
                 '{"data":{"audit-level":"RequestResponse"}}').strip() == \
        "configmap/audit-config patched"
    assert cluster.model.configmaps["audit-config"].data["audit-level"] == "RequestResponse"
