"""Revisions, a bad config rollout that crash-loops, its undo, and what pods log."""

from __future__ import annotations

import pytest

from luckytui.sim.model import Production, SimPod
from luckytui.sim.rollouts import pod_log
from tests.conftest import ManualClock


def model() -> tuple[Production, ManualClock]:
    clock = ManualClock()
    return Production(seed=7, clock=clock), clock


def run(m: Production, clock: ManualClock, seconds: int) -> None:
    clock.advance(seconds)
    m.sync()


def live(m: Production, deployment: str) -> list[SimPod]:
    return [p for p in m.pods.values()
            if p.deployment == deployment and p.terminating_at is None]


def test_each_template_change_is_a_new_revision_and_undo_renumbers_the_old_one() -> None:
    m, _ = model()
    d = m.deployments["luckygas-backend"]
    first = d.template_hash
    assert [(r.number, r.template_hash) for r in d.history.values()] == [(1, first)]
    m.patch_template("luckygas-backend", {}, {"CACHE_TTL": "300"})
    second = d.template_hash
    m.restart("luckygas-backend")
    assert sorted(r.number for r in d.history.values()) == [1, 2, 3]
    assert d.history[second].env["CACHE_TTL"] == "300" and d.revision == 3
    m.scale("luckygas-backend", 5)  # replicas are not the template: no revision
    assert d.revision == 3
    assert m.rollout_undo("luckygas-backend", to_revision=1) == 1
    assert d.template_hash == first and "CACHE_TTL" not in d.env
    assert sorted(r.number for r in d.history.values()) == [2, 3, 4]
    assert d.history[first].number == 4 and d.history[second].number == 2
    with pytest.raises(LookupError, match="revision 9"):
        m.rollout_undo("luckygas-backend", to_revision=9)


def test_undo_without_history_is_refused() -> None:
    m, _ = model()
    with pytest.raises(LookupError, match="no rollout history"):
        m.rollout_undo("order-worker")


def test_bad_config_crash_loops_every_pod_and_undo_recovers() -> None:
    m, clock = model()
    d = m.deployments["luckygas-backend"]
    m.rollout_bad_config("luckygas-backend", {"DATABASE_URL": "postgres://db:5433/x"},
                         "FATAL: could not connect to the database at db:5433")
    assert d.revision == 2 and d.env["DATABASE_URL"] == "postgres://db:5433/x"
    run(m, clock, 60)
    pods = live(m, "luckygas-backend")
    assert len(pods) == 3 and all(p.template_hash == d.template_hash for p in pods)
    assert not any(p.ready(m.now) for p in pods)
    restarts = {p.name: p.restarts for p in pods}
    assert all(r >= 2 for r in restarts.values())
    run(m, clock, 120)
    assert all(p.restarts > restarts[p.name] for p in pods), "restarts climb"
    assert all(pod_log(m, p)[-1].endswith("FATAL: could not connect to the database at db:5433")
               for p in pods)
    backoff = [e for e in m.events if e.reason == "BackOff"]
    assert {e.object_name for e in backoff} == {p.name for p in pods}
    assert all(e.type == "Warning" and e.message.startswith(
        "Back-off restarting failed container") and e.count > 1 for e in backoff)
    # every endpoint but the health check fails while no backend pod is ready
    status, _ = m.endpoint_response(m.endpoints[1], 0.5)
    assert status == 503
    assert m.rollout_undo("luckygas-backend") == 1
    assert "DATABASE_URL" not in d.env and d.revision == 3
    run(m, clock, 40)
    pods = live(m, "luckygas-backend")
    assert len(pods) == 3 and all(p.ready(m.now) and p.crash_at is None for p in pods)
    assert m.endpoint_response(m.endpoints[1], 0.5)[0] == 200


def test_a_restart_of_a_bad_config_still_crashes() -> None:
    m, clock = model()
    m.rollout_bad_config("order-worker", {"QUEUE": "nowhere"}, "queue nowhere not found")
    m.restart("order-worker")
    run(m, clock, 60)
    assert all(p.crash_message == "queue nowhere not found" for p in live(m, "order-worker"))


def test_said_lines_reach_the_live_pods_logs_stamped_and_made_safe() -> None:
    m, clock = model()
    run(m, clock, 5)
    m.say("order-worker", "could not acquire a connection\x1b[2J", "WARN")
    m.say("order-worker", "pool exhausted")
    run(m, clock, 3)
    for p in live(m, "order-worker"):
        lines = pod_log(m, p, tail=200)
        said = [ln for ln in lines if "pool exhausted" in ln or "acquire" in ln]
        assert said[0].endswith("WARN  could not acquire a connection␛[2J")
        assert said[1].endswith("ERROR pool exhausted") and said[1][:20] <= lines[-1][:20]
        assert len(pod_log(m, p, tail=3)) == 3
    assert not any("pool exhausted" in ln for p in live(m, "luckygas-backend")
                   for ln in pod_log(m, p))
    with pytest.raises(KeyError):
        m.say("no-such-deployment", "x")


def test_chatter_is_the_same_for_a_seed_and_tells_the_service() -> None:
    a, ca = model()
    b, cb = model()
    run(a, ca, 30)
    run(b, cb, 30)
    pod = sorted(live(a, "order-worker"), key=lambda p: p.name)[0]
    lines = pod_log(a, pod, tail=20)
    assert lines == pod_log(b, b.pods[pod.name], tail=20)
    assert len(lines) == 20 and any("order" in ln for ln in lines)
