"""The pods pane's reads through KubeOps against the simulation's Kubernetes API: a pod's
log (tail, previous container, bounds, hostile lines), following it, describe of a
pod and a deployment with their events."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest

from luckytui.kubedescribe import deployment_lines, last_exit, pod_lines
from luckytui.systems.kubernetes import KubeOps, KubeOpsError
from tests.integration.conftest_kube import Cluster

NS = "luckygas"
BACKEND = "luckygas-backend"
CRASH = "FATAL: could not connect to the database at db-replica:5433"


def backend_pod(cluster: Cluster) -> str:
    cluster.sync()
    return sorted(p.name for p in cluster.model.pods.values()
                  if p.deployment == BACKEND and p.terminating_at is None)[0]


def crash_loop(cluster: Cluster) -> str:
    cluster.model.rollout_bad_config(BACKEND, {"DATABASE_URL": "postgres://db-replica:5433/x",
                                               "DB_PASSWORD": "hunter2"}, CRASH)
    cluster.step(90)
    return backend_pod(cluster)


def test_log_tail_holds_said_lines_hostile_ones_shown_and_redacted(cluster: Cluster,
                                                                   ops: KubeOps) -> None:
    cluster.step(120)
    cluster.model.say(BACKEND, "order 4711 stuck: payment gateway timeout")
    cluster.model.say(BACKEND, "login \x1b[2J password=hunter2 user=amy", verbatim=True)
    name = backend_pod(cluster)
    got = ops.pod_logs(name, tail=500)
    assert got.note == "" and not got.previous
    assert any(line.endswith("ERROR order 4711 stuck: payment gateway timeout")
               for line in got.lines)
    hostile = next(line for line in got.lines if "login ␛" in line)
    assert hostile.endswith("ERROR login ␛[2J password=*** user=amy")
    assert not any("\x1b" in line or "hunter2" in line for line in got.lines)
    assert len(ops.pod_logs(name, tail=5).lines) == 5


def test_a_log_over_the_cap_is_cut_with_a_note(cluster: Cluster) -> None:
    cluster.step(600)
    small = KubeOps(str(cluster.kubectl.kubeconfig), None, NS, timeout=5.0, log_bytes=2048)
    try:
        got = small.pod_logs(backend_pod(cluster), tail=500)
    finally:
        small.close()
    assert got.note.startswith("log cut at 2 KiB:")
    assert 0 < sum(len(line) + 1 for line in got.lines) <= 2048
    assert all(re.match(r"\d{4}-\d\d-\d\dT[\d:]{8}Z (INFO|ERROR) ", line)
               for line in got.lines)  # whole lines only


def test_previous_container_of_a_crash_loop_and_of_a_healthy_pod(cluster: Cluster,
                                                                  ops: KubeOps) -> None:
    healthy = backend_pod(cluster)
    cluster.step(30)
    with pytest.raises(KubeOpsError, match="has no previous container") as got:
        ops.pod_logs(healthy, previous=True)
    assert got.value.status == 400
    name = crash_loop(cluster)
    prev = ops.pod_logs(name, tail=50, previous=True)
    assert prev.previous and prev.lines[-1].endswith(f"FATAL {CRASH}")


def test_follow_streams_a_new_line_and_stops_when_closed(cluster: Cluster,
                                                        ops: KubeOps) -> None:
    cluster.step(60)
    name = backend_pod(cluster)
    stream = ops.follow_logs(name)
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        for batch in stream:
            seen.extend(batch)
        done.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = threading.Event()
    for _ in range(100):  # the stream is open once the sim has answered its headers
        if stream.opened:
            break
        deadline.wait(0.05)
    cluster.model.say(BACKEND, "cache miss storm on key orders:*", "WARN")
    for _ in range(100):
        if any("cache miss storm" in line for line in seen):
            break
        deadline.wait(0.05)
    assert any(line.endswith("WARN  cache miss storm on key orders:*") for line in seen)
    stream.close()
    assert done.wait(5), "close() ends the stream"


def test_describe_pod_of_a_crash_loop_shows_the_termination_and_events(
        cluster: Cluster, ops: KubeOps) -> None:
    name = crash_loop(cluster)
    pod = ops.describe_pod(name)
    statuses = pod["status"]["containerStatuses"]
    assert statuses[0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert last_exit(statuses[0]) == "Error (1)"
    # the kubelet's lastState is the newest exit: it moves with the restarts
    p = cluster.model.pods[name]
    assert p.restarts >= 2 and statuses[0]["lastState"]["terminated"]["finishedAt"] == \
        datetime.fromtimestamp(p.exited_at or 0, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = ops.events_for("Pod", name)
    assert events and all(e["involvedObject"]["name"] == name for e in events)
    text = "\n".join(pod_lines(pod, events, datetime.fromtimestamp(cluster.model.now, UTC)))
    assert "Last termination: Error (1), finished" in text
    assert f"Node: {p.node}" in text and "Image: " in text
    assert "DB_PASSWORD=***" in text and "hunter2" not in text
    assert "DATABASE_URL=postgres://db-replica:5433/x" in text
    assert "Warning  BackOff" in text.splitlines()[-1]  # newest last
    assert "Limits: cpu " in text and "Requests: cpu " in text


def test_describe_deployment_lists_its_revisions_and_events(cluster: Cluster,
                                                           ops: KubeOps) -> None:
    crash_loop(cluster)
    dep, replicasets = ops.describe_deployment(BACKEND)
    assert {rs["metadata"]["name"].rpartition("-")[0] for rs in replicasets} == {BACKEND}
    events = ops.events_for("Deployment", BACKEND)
    text = deployment_lines(dep, replicasets, events,
                            datetime.fromtimestamp(cluster.model.now, UTC))
    assert text[1].startswith("  Replicas: 3 desired, 0 ready, 3 updated")
    revisions = [line for line in text if line.startswith("  revision ")]
    assert revisions[0].startswith("  revision 2: ") and revisions[1].startswith("  revision 1: ")
    assert any("ScalingReplicaSet" in line for line in text)
    with pytest.raises(KubeOpsError, match="deployment nope not found"):
        ops.describe_deployment("nope")
