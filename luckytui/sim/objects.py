"""The simulated cluster's other objects (config maps, secrets, the Redis cache and
its pod) and the diagnostic commands `kubectl exec` can run in a pod.

A command acts on the model as the real script would: the aggregation repairs the
analytics endpoint (as the CronJob's Job does), the pending orders get processed
(unless the database is read-only), FLUSHALL empties the cache. Anything else is
"command not found" (exit 127). `env` masks the values of secret-looking names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from luckytui.redact import is_secret_key
from luckytui.sim.resources import DATABASE, SimConfigMap, SimJob, SimPod, SimSecret, _h

if TYPE_CHECKING:
    from luckytui.sim.model import Production

REDIS_POD = "redis-0"  # the StatefulSet `redis`'s one pod
ORDERS_PER_S = 2  # what the workers normally get through
CONFIG_MAPS: dict[str, dict[str, str]] = {
    "audit-config": {"audit-level": "Metadata", "audit-log-enabled": "false",
                     "audit-log-maxage": "30"},
    "luckygas-config": {"API_BASE_URL": "https://api.luckygas.com.tw",
                        "LOG_LEVEL": "info", "ANALYTICS_SCHEDULE": "*/15 * * * *"},
}
SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "luckygas-db-credentials": ("username", "password"),
    "luckygas-api-keys": ("google-maps-key", "sms-gateway-token"),
    "redis-auth": ("password",),
}


def seed(model: Production) -> None:
    """Config maps, secrets and the Redis pod, with values drawn from the seed (never
    from the model's random generator: the storyline draws stay as they were)."""
    t0 = model.started - 86400 * 12
    for name, data in CONFIG_MAPS.items():
        model.configmaps[name] = SimConfigMap(name, model._uid("cm", name), t0, dict(data),
                                              model.next_rv())
    for name, keys in SECRET_KEYS.items():
        values = {k: model._uid("secret", name, k).replace("-", "")[:24].encode() for k in keys}
        model.secrets[name] = SimSecret(name, model._uid("secret", name), t0, values,
                                        resource_version=model.next_rv())
    node = min(model.nodes) if model.nodes else ""
    model.extra_pods[REDIS_POD] = SimPod(
        REDIS_POD, model._uid("pod", REDIS_POD), "redis", "", node, t0, t0 + 5, 100, 500, 1024,
        memory_mi=310.0, resource_version=model.next_rv(),
        labels={"app": "redis", "statefulset.kubernetes.io/pod-name": REDIS_POD})


def job_pod(model: Production, job: SimJob, failed: str | None = None) -> SimPod:
    """The pod a Job runs. The CronJob's pod template carries the label
    `job-name: <cronjob>` (what the plan's `kubectl logs -l job-name=...` selects); a
    Job of its own gets `job-name: <job>`, as Kubernetes sets it."""
    name = f"{job.name}-{model._uid('job-pod', job.name)[:5]}"
    node = min((n for n, v in model.nodes.items() if not v.unschedulable), default="")
    pod = SimPod(name, model._uid("pod", name), job.from_cronjob or job.name, "", node,
                 job.created, job.created + 2, 500, 1000, 1024, memory_mi=180.0,
                 resource_version=model.next_rv(),
                 labels={"job-name": job.from_cronjob or job.name,
                         "batch.kubernetes.io/job-name": job.name,
                         "batch.kubernetes.io/controller-uid": job.uid,
                         "controller-uid": job.uid})
    pod.finished_at = job.completes_at if failed is None else model.now
    if failed is not None:
        pod.crash_message, pod.crash_at = failed, pod.finished_at
        pod.next_restart_at = float("inf")  # a Job's pod is not restarted in place
    model.extra_pods[name] = pod
    return pod


def failed_aggregation(model: Production, name: str) -> SimJob:
    """The scheduled aggregation run that failed (the storyline's analytics outage)."""
    job = SimJob(name, model._uid("job", name), model.now - 305, float("inf"),
                 "analytics-aggregation", model.next_rv(),
                 failed="Job has reached the specified backoff limit")
    model.jobs[name] = job
    cron = model.cronjobs.get("analytics-aggregation")
    if cron is not None:
        cron.last_schedule = job.created
    job_pod(model, job, "aggregation failed: relation \"analytics_daily\" is locked by "
            "another transaction (lock timeout after 300s)")
    model.event("Warning", "BackoffLimitExceeded", "Job", name, job.failed or "")
    return job


def step(model: Production) -> None:
    """One second of the pods no deployment owns: a little CPU while they run (drawn
    from their name and the second, not from the model's generator)."""
    now = model.now
    for p in model.extra_pods.values():
        p.cpu_seconds += p.cpu_m / 1000.0
        p.cpu_m = 0.0 if not p.ready(now) else 15.0 + int(_h(p.name, now)[:2], 16) / 32
        p.cpu_trail.append(p.cpu_m)


def create_secret(model: Production, name: str, data: dict[str, bytes], type_: str,
                  labels: dict[str, str] | None = None) -> SimSecret:
    if name in model.secrets:
        raise KeyError(name)
    s = SimSecret(name, model._uid("secret", name, model.now), model.now, data, type_,
                  model.next_rv(), dict(labels or {}))
    model.secrets[name] = s
    return s


def delete_secret(model: Production, name: str) -> SimSecret:
    s = model.secrets.pop(name)
    model.next_rv()
    return s


def pod_env(model: Production, pod: SimPod) -> dict[str, str]:
    """The container's environment as `env` prints it."""
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOSTNAME": pod.name, "KUBERNETES_SERVICE_HOST": "10.96.0.1",
           "KUBERNETES_SERVICE_PORT": "443"}
    d = model.deployments.get(pod.deployment)
    rev = d.history.get(pod.template_hash) if d is not None else None
    env.update(rev.env if rev is not None else {})
    return env


def run(model: Production, pod: SimPod, argv: Sequence[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `argv` run in `pod`'s container."""
    if not argv:
        return 127, "", "no command given\n"
    cmd = list(argv)
    if cmd == ["env"]:
        env = pod_env(model, pod)
        return 0, "".join(f"{k}={'***' if is_secret_key(k) else v}\n" for k, v in env.items()), ""
    if cmd == ["cat", "/etc/hostname"] or cmd == ["hostname"]:
        return 0, pod.name + "\n", ""
    if cmd[0] == "redis-cli" and pod.name == REDIS_POD:
        return _redis(model, [c.upper() for c in cmd[1:2]] + cmd[2:])
    if cmd[0] == "python" and len(cmd) == 2 and cmd[1].startswith("scripts/"):
        if pod.deployment != "luckygas-backend":
            return 2, "", (f"python: can't open file '/app/{cmd[1]}': "
                           "[Errno 2] No such file or directory\n")
        if cmd[1] == "scripts/run_analytics_aggregation.py":
            return _aggregate(model)
        if cmd[1] == "scripts/process_pending_orders.py":
            return _process_orders(model)
        return 2, "", (f"python: can't open file '/app/{cmd[1]}': "
                       "[Errno 2] No such file or directory\n")
    return 127, "", f"sh: 1: {cmd[0]}: command not found\n"


def _redis(model: Production, args: list[str]) -> tuple[int, str, str]:
    if args == ["FLUSHALL"] or args == ["FLUSHALL", "ASYNC"]:
        model.cache.keys = 0
        model.cache.flushes += 1
        model.event("Normal", "CacheFlushed", "Pod", REDIS_POD, "FLUSHALL: every key removed")
        return 0, "OK\n", ""
    if args == ["DBSIZE"]:
        return 0, f"(integer) {model.cache.keys}\n", ""
    if args == ["PING"]:
        return 0, "PONG\n", ""
    return 1, "", f"(error) ERR unknown command '{' '.join(args[:1])}'\n"


def _aggregate(model: Production) -> tuple[int, str, str]:
    was_broken = model.analytics_broken_since is not None
    model.analytics_broken_since = None
    model.event("Normal", "Completed", "Job", "analytics-aggregation-manual",
                "manual aggregation completed")
    out = ("aggregating executive, operations, financial, performance\n"
           f"analytics tables rebuilt{' (the endpoint was failing)' if was_broken else ''}\n")
    return 0, out, ""


def _process_orders(model: Production) -> tuple[int, str, str]:
    if DATABASE in model.read_only_databases:
        return 1, "", ("psycopg.errors.ReadOnlySqlTransaction: cannot execute UPDATE in a "
                       "read-only transaction\n")
    backlog = int((model.now - model.last_order_processed) * ORDERS_PER_S)
    model.orders_processed += backlog
    model.last_order_processed = model.now
    return 0, f"processed {backlog} pending orders\n", ""
