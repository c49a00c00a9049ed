"""The simulated cluster's diagnostic commands and its RBAC model, without a server."""

from __future__ import annotations

from luckytui.sim import objects
from luckytui.sim.kube.rbac import ONCALL, READONLY, Attributes, allowed, attributes
from luckytui.sim.model import DATABASE, Production, SimPod
from tests.conftest import ManualClock


def model() -> tuple[Production, ManualClock]:
    clock = ManualClock()
    return Production(seed=7, clock=clock), clock


def pod(m: Production, deployment: str) -> SimPod:
    return next(p for p in m.pods.values() if p.deployment == deployment)


def test_flushall_only_in_the_redis_pod() -> None:
    m, _ = model()
    redis = m.extra_pods[objects.REDIS_POD]
    assert objects.run(m, redis, ["redis-cli", "DBSIZE"]) == (0, "(integer) 48213\n", "")
    assert objects.run(m, redis, ["redis-cli", "flushall"]) == (0, "OK\n", "")
    assert m.cache.keys == 0 and m.cache.flushes == 1
    code, out, err = objects.run(m, pod(m, "luckygas-backend"), ["redis-cli", "FLUSHALL"])
    assert (code, out) == (127, "") and "redis-cli: command not found" in err
    assert m.cache.flushes == 1


def test_pending_orders_get_processed_unless_the_database_is_read_only() -> None:
    m, clock = model()
    backend = pod(m, "luckygas-backend")
    m.set_read_only(DATABASE, True)
    clock.advance(30)
    m.sync()
    code, _, err = objects.run(m, backend, ["python", "scripts/process_pending_orders.py"])
    assert code == 1 and "read-only transaction" in err
    before = m.orders_processed
    m.set_read_only(DATABASE, False)
    code, out, _ = objects.run(m, backend, ["python", "scripts/process_pending_orders.py"])
    assert code == 0 and out == "processed 60 pending orders\n"
    assert m.orders_processed == before + 60 and m.last_order_processed == m.now
    code, _, err = objects.run(m, pod(m, "order-worker"),
                               ["python", "scripts/process_pending_orders.py"])
    assert code == 2 and "No such file" in err


def test_env_masks_secret_looking_values() -> None:
    m, clock = model()
    m.rollout_bad_config("order-worker", {"DB_PASSWORD": "hunter2", "QUEUE": "orders"}, "x")
    clock.advance(10)
    m.sync()
    fresh = max((p for p in m.pods.values() if p.deployment == "order-worker"),
                key=lambda p: p.created)
    code, out, _ = objects.run(m, fresh, ["env"])
    assert code == 0 and "DB_PASSWORD=***" in out and "QUEUE=orders" in out
    assert "hunter2" not in out


def test_request_attributes_from_paths() -> None:
    assert attributes("PATCH", "/apis/apps/v1/namespaces/luckygas/deployments/web/scale",
                      {}) == Attributes("patch", "apps", "deployments", "scale", "luckygas",
                                        "web")
    assert attributes("GET", "/api/v1/pods", {"watch": "1"}) == Attributes(
        "watch", "", "pods")
    assert attributes("GET", "/api/v1/namespaces/luckygas/pods/p/exec", {}) == Attributes(
        "create", "", "pods", "exec", "luckygas", "p")
    assert attributes("DELETE", "/api/v1/namespaces/luckygas/secrets", {}).verb == \
        "deletecollection"  # type: ignore[union-attr]
    assert attributes("GET", "/apis", {}) is None


def test_roles() -> None:
    patch = Attributes("patch", "apps", "deployments", "", "luckygas", "web")
    assert allowed(ONCALL, patch, "luckygas")
    assert not allowed(READONLY, patch, "luckygas")
    assert not allowed(ONCALL, Attributes("patch", "apps", "deployments", "", "kube-system"),
                       "luckygas")
    assert allowed(ONCALL, Attributes("patch", "", "nodes", name="n1"), "luckygas")
    assert not allowed(READONLY, Attributes("patch", "", "nodes", name="n1"), "luckygas")
    assert allowed(READONLY, Attributes("list", "", "pods"), "luckygas")
    assert not allowed(READONLY, Attributes("get", "", "pods", "exec", "luckygas"), "luckygas")
