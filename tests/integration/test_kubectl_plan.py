"""Every kubectl command of the incident response plan, run with the real kubectl
against the simulation, in the plan's order, each checked by its effect on the model
or by what its output says.

The plan's placeholders are filled with the simulation's names (`<service>` is
order-worker, `redis-pod` the cache's pod redis-0, `backend-pod` a backend pod, ...);
`exec -it` runs without `-it` here (a test has no terminal). One cluster serves the
whole table, 80 s into its storyline (the surge, the connection leak and the failed
analytics aggregation have begun); the rows run in order and build on each other as
an incident would.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from luckytui.sim.kube import KUBE_API
from luckytui.sim.model import SimPod
from tests.integration.conftest_kube import Cluster, kubectl_binary, running_cluster

Check = Callable[[Cluster, subprocess.CompletedProcess[str]], None]
NEW_VALUE = "rotated-4f1c9a7e"


@dataclass(frozen=True)
class PlanCommand:
    plan: str  # the command as the plan writes it
    args: Callable[[Cluster], list[str]]  # what runs (placeholders filled)
    check: Check
    env: tuple[tuple[str, str], ...] = ()


@pytest.fixture(scope="module")
def plan_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    kubectl_binary()
    tmp = tmp_path_factory.mktemp("plan")
    with running_cluster(tmp, tmp / "cache") as cluster:
        cluster.step(80)
        cluster.sync()
        yield cluster


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def live(cluster: Cluster, deployment: str) -> list[SimPod]:
    return sorted((p for p in cluster.model.pods.values()
                   if p.deployment == deployment and p.terminating_at is None),
                  key=lambda p: p.name)


def backend_pod(cluster: Cluster) -> str:
    now = cluster.model.now
    return next(p.name for p in live(cluster, "luckygas-backend") if p.ready(now))


def fixed(*args: str) -> Callable[[Cluster], list[str]]:
    return lambda _c: list(args)


# --- the checks -----------------------------------------------------------------------


def check_get_all(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    names = {r[0] for r in rows(done.stdout) if r and r[0] != "NAME"}
    assert {f"pod/{p}" for p in c.model.every_pod()} <= names
    assert {f"deployment.apps/{d}" for d in c.model.deployments} <= names
    assert {f"replicaset.apps/{d.name}-{d.template_hash}" for d in c.model.deployments.values()} \
        <= names
    assert {"service/luckygas-backend", "statefulset.apps/redis",
            "cronjob.batch/analytics-aggregation",
            "job.batch/analytics-aggregation-29117"} <= names


def check_ingress(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    out = done.stdout
    assert "Address:          34.80.112.47" in out
    backend = next(ln for ln in out.splitlines() if "luckygas-backend:80" in ln)
    ready = [p for p in live(c, "luckygas-backend") if p.ready(c.model.now)]
    assert backend.count(":8000") == len(ready) > 0


def replicas(name: str, n: int) -> Check:
    def check(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
        assert done.stdout.strip() == f"deployment.apps/{name} scaled"
        assert c.model.deployments[name].replicas == n
    return check


def check_top_pods_by_cpu(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    table = rows(done.stdout)[1:]
    cpus = [int(r[1].rstrip("m")) for r in table]
    assert cpus == sorted(cpus, reverse=True)
    shown = {r[0] for r in table}
    assert shown <= set(c.model.every_pod())
    assert {p.name for p in c.model.pods.values() if p.ready(c.model.now)} <= shown
    assert c.model.every_pod()[table[0][0]].deployment == "luckygas-backend"  # the surge's


def check_top_nodes(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    assert {r[0] for r in rows(done.stdout)[1:]} == set(c.model.nodes)


def check_flushall(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    assert done.stdout.strip() == "OK"
    assert c.model.cache.keys == 0 and c.model.cache.flushes == 1


def env_set(key: str, value: str) -> Check:
    def check(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
        assert done.stdout.strip() == "deployment.apps/luckygas-backend env updated"
        d = c.model.deployments["luckygas-backend"]
        assert d.env[key] == value and d.history[d.template_hash].env[key] == value
    return check


def check_cordon(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    assert done.stdout.strip() == "node/gke-luckygas-pool-03 cordoned"
    assert c.model.nodes["gke-luckygas-pool-03"].unschedulable


def check_secret_deleted(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    assert done.stdout.strip() == 'secret "luckygas-api-keys" deleted'
    assert "luckygas-api-keys" not in c.model.secrets


def check_secret_created(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    assert done.stdout.strip() == "secret/luckygas-api-keys created"
    assert c.model.secrets["luckygas-api-keys"].data == {"key": NEW_VALUE.encode()}
    served = c.kubectl.out("get", "secret", "luckygas-api-keys", "-o", "jsonpath={.data.key}")
    assert base64.b64decode(served).decode() == NEW_VALUE
    writes = c.served.app[KUBE_API].writes
    assert not any(NEW_VALUE in w for w in writes), "a secret's value reached the audit trail"
    assert NEW_VALUE not in repr(c.model.secrets["luckygas-api-keys"])


def check_edit(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    assert done.stdout.strip() == "configmap/audit-config edited", done.stderr
    assert c.model.configmaps["audit-config"].data["audit-log-enabled"] == "true"


def check_top_backend(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    """Every backend pod that runs, as metrics-server reports them: the ones a rolling
    update is stopping included, until they are gone."""
    shown = {r[0] for r in rows(done.stdout)[1:]}
    backend = [p for p in c.model.pods.values() if p.deployment == "luckygas-backend"]
    assert shown == {p.name for p in backend if p.phase(c.model.now) == "Running"}
    assert {p.name for p in backend if p.ready(c.model.now)} <= shown


def check_cronjobs(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    table = rows(done.stdout)
    assert table[1][:6] == ["analytics-aggregation", "*/15", "*", "*", "*", "*"]


def check_job_logs(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    lines = done.stdout.strip().splitlines()
    assert 0 < len(lines) <= 100
    assert lines[-1].endswith('aggregation failed: relation "analytics_daily" is locked by '
                              "another transaction (lock timeout after 300s)")
    assert any("aggregated region" in ln for ln in lines)


def check_aggregation(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    assert "analytics tables rebuilt (the endpoint was failing)" in done.stdout
    assert c.model.analytics_broken_since is None
    financial = next(ep for ep in c.model.endpoints if ep.name == "financial")
    assert c.model.endpoint_response(financial, 0.5)[0] == 200


def check_worker_logs(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    lines = done.stdout.strip().splitlines()
    workers = live(c, "order-worker")
    assert len(lines) <= 200 * len(workers)
    said = [ln for ln in lines if ln.endswith("ERROR could not acquire a database connection")]
    assert len(said) == len([p for p in workers if p.created <= SAID_AT[0]])
    assert any("order" in ln and "INFO" in ln for ln in lines)


def check_orders(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    processed = int(done.stdout.split()[1])
    assert done.stdout.strip() == f"processed {processed} pending orders"
    assert c.model.last_order_processed == c.model.now


def check_restart(c: Cluster, done: subprocess.CompletedProcess[str]) -> None:
    assert done.stdout.strip() == "deployment.apps/luckygas-backend restarted"
    d = c.model.deployments["luckygas-backend"]
    assert "kubectl.kubernetes.io/restartedAt" in d.annotations
    assert d.history[d.template_hash].number == d.revision == 5  # 1, three set env, the restart


SAID_AT = [0.0]


def say_worker_trouble(c: Cluster) -> list[str]:
    c.model.say("order-worker", "could not acquire a database connection")
    SAID_AT[0] = c.model.now
    c.step(2)
    return ["logs", "-l", "app=order-worker", "--tail=200"]


EDITOR = ("#!/bin/sh\nsed -i 's/audit-log-enabled: \"false\"/audit-log-enabled: \"true\"/' "
          '"$1"\n')

PLAN: list[PlanCommand] = [
    PlanCommand("kubectl get all", fixed("get", "all"), check_get_all),
    PlanCommand("kubectl describe ingress luckygas-ingress",
                fixed("describe", "ingress", "luckygas-ingress"), check_ingress),
    PlanCommand("kubectl scale deployment luckygas-backend --replicas=10",
                fixed("scale", "deployment", "luckygas-backend", "--replicas=10"),
                replicas("luckygas-backend", 10)),
    PlanCommand("kubectl scale deployment luckygas-frontend --replicas=5",
                fixed("scale", "deployment", "luckygas-frontend", "--replicas=5"),
                replicas("luckygas-frontend", 5)),
    PlanCommand("kubectl top pods --sort-by=cpu", fixed("top", "pods", "--sort-by=cpu"),
                check_top_pods_by_cpu),
    PlanCommand("kubectl top nodes", fixed("top", "nodes"), check_top_nodes),
    PlanCommand("kubectl scale deployment <service> --replicas=<n>",
                fixed("scale", "deployment", "order-worker", "--replicas=3"),
                replicas("order-worker", 3)),
    PlanCommand("kubectl exec -it redis-pod -- redis-cli FLUSHALL",
                fixed("exec", "redis-0", "--", "redis-cli", "FLUSHALL"), check_flushall),
    PlanCommand("kubectl set env deployment/luckygas-backend CACHE_TTL=300",
                fixed("set", "env", "deployment/luckygas-backend", "CACHE_TTL=300"),
                env_set("CACHE_TTL", "300")),
    PlanCommand("kubectl cordon <node>", fixed("cordon", "gke-luckygas-pool-03"),
                check_cordon),
    PlanCommand("kubectl delete secret <secret-name>",
                fixed("delete", "secret", "luckygas-api-keys"), check_secret_deleted),
    PlanCommand("kubectl create secret generic <secret-name> --from-literal=key=<new-value>",
                fixed("create", "secret", "generic", "luckygas-api-keys",
                      f"--from-literal=key={NEW_VALUE}"), check_secret_created),
    PlanCommand("kubectl edit cm audit-config", fixed("edit", "cm", "audit-config"), check_edit,
                env=(("KUBE_EDITOR", "EDITOR_SCRIPT"),)),
    PlanCommand("kubectl top pods -l app=luckygas-backend",
                fixed("top", "pods", "-l", "app=luckygas-backend"), check_top_backend),
    PlanCommand("kubectl set env deployment/luckygas-backend QUERY_CACHE_TTL=300",
                fixed("set", "env", "deployment/luckygas-backend", "QUERY_CACHE_TTL=300"),
                env_set("QUERY_CACHE_TTL", "300")),
    PlanCommand("kubectl get cronjobs", fixed("get", "cronjobs"), check_cronjobs),
    PlanCommand("kubectl logs -l job-name=analytics-aggregation --tail=100",
                fixed("logs", "-l", "job-name=analytics-aggregation", "--tail=100"),
                check_job_logs),
    PlanCommand("kubectl exec -it backend-pod -- python scripts/run_analytics_aggregation.py",
                lambda c: ["exec", backend_pod(c), "--", "python",
                           "scripts/run_analytics_aggregation.py"], check_aggregation),
    PlanCommand("kubectl logs -l app=order-worker --tail=200", say_worker_trouble,
                check_worker_logs),
    PlanCommand("kubectl exec -it backend-pod -- python scripts/process_pending_orders.py",
                lambda c: ["exec", backend_pod(c), "--", "python",
                           "scripts/process_pending_orders.py"], check_orders),
    PlanCommand("kubectl set env deployment/luckygas-backend DB_POOL_SIZE=150",
                fixed("set", "env", "deployment/luckygas-backend", "DB_POOL_SIZE=150"),
                env_set("DB_POOL_SIZE", "150")),
    PlanCommand("kubectl rollout restart deployment/luckygas-backend",
                fixed("rollout", "restart", "deployment/luckygas-backend"), check_restart),
]


@pytest.mark.parametrize("command", PLAN, ids=[c.plan for c in PLAN])
def test_plan_command(plan_cluster: Cluster, command: PlanCommand, tmp_path: Path) -> None:
    k = plan_cluster.kubectl
    env = dict(k.env)
    for key, value in command.env:
        if value == "EDITOR_SCRIPT":
            script = tmp_path / "editor.sh"
            script.write_text(EDITOR)
            script.chmod(0o755)
            value = str(script)
        env[key] = value
    plan_cluster.step(1)
    plan_cluster.sync()
    args = command.args(plan_cluster)
    done = subprocess.run([k.binary, "--kubeconfig", str(k.kubeconfig), "--cache-dir",
                           str(k.cache_dir), "--request-timeout", "20s", *args],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    plan_cluster.sync()
    command.check(plan_cluster, done)
