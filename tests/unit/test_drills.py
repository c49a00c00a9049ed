"""The plan's drills on the simulated production, driven by the test's clock: doing
nothing leaves the fault in place, the right remedies (the mechanics the simulation's
servers call) recover it, a wrong one does not; and the [[fault]] format's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from luckytui.configread import ConfigError
from luckytui.drills.records import DrillRecorder
from luckytui.drills.scenario import built_in, load_scenario
from luckytui.events import DRILL_RECOVERED, DRILL_STARTED, DRILL_STOPPED
from luckytui.sim.drill import parse_faults, storyline
from luckytui.sim.model import Production
from tests.conftest import ManualClock


def start(name: str) -> tuple[Production, ManualClock, DrillRecorder]:
    clock = ManualClock()
    scenario = built_in()[name]
    m = Production(clock=clock, scenario=scenario)
    recorder = DrillRecorder(scenario, speed=1.0)
    m.drill.on_started, m.drill.on_recovered = recorder.started, recorder.recovered
    return m, clock, recorder


def run(m: Production, clock: ManualClock, seconds: float) -> None:
    clock.advance(seconds)
    m.sync()


def firing(m: Production) -> set[str]:
    return {a["labels"]["alertname"] for a in m.alerts()  # type: ignore[index]
            if a["state"] == "firing"}


def status(m: Production, name: str) -> int:
    return m.endpoint_response(next(e for e in m.endpoints if e.name == name), 0.5)[0]


def kinds(recorder: DrillRecorder) -> list[str]:
    return [k for k, _ in recorder.pending]


# --- database failure -------------------------------------------------------------

def test_database_failure_left_alone_stays_down() -> None:
    m, clock, recorder = start("database-failure")
    run(m, clock, 240)
    assert {"DatabaseConnectionPoolExhausted", "NoOrdersProcessed"} <= firing(m)
    assert status(m, "orders") == 503
    assert len(m.connections) > 0.9 * m.max_connections
    blocked = [c for c in m.connections.values() if c.blocked_by]
    assert len(blocked) >= 4  # the fault's waiters (and the demo's own)
    said = [line for _, _, line in m.said["order-worker"]]  # the faults' `say` lines
    assert any("QueuePool limit" in line for line in said)
    assert any("lock timeout" in line for line in said)
    assert m.drill.recovered_at is None
    assert kinds(recorder) == [DRILL_STARTED]
    recorder.stopped()
    assert kinds(recorder) == [DRILL_STARTED, DRILL_STOPPED]


def test_database_failure_terminating_what_the_plan_says_recovers_it() -> None:
    m, clock, recorder = start("database-failure")
    run(m, clock, 90)
    assert "DatabaseConnectionPoolExhausted" in firing(m)
    # terminate-long, then terminate-idle (idle in transaction too), as the room would
    for c in list(m.connections.values()):
        if c.state == "active" and c.query_start and m.now - c.query_start > 300:
            m.terminate_backend(c.pid)
    assert "long_queries" not in m.drill.still()
    for c in list(m.connections.values()):
        if (c.state or "").startswith("idle") and m.now - c.state_change > 10:
            m.terminate_backend(c.pid)
    run(m, clock, 2)
    assert m.drill.still() == []
    assert m.drill.recovered_at is not None
    assert status(m, "orders") == 200
    run(m, clock, 20)
    assert "DatabaseConnectionPoolExhausted" not in {a["labels"]["alertname"]  # type: ignore[index]
                                                     for a in m.alerts()}
    assert kinds(recorder) == [DRILL_STARTED, DRILL_RECOVERED]
    assert recorder.pending[1][1] == {"drill_id": recorder.drill_id,
                                      "scenario": "database-failure"}
    recorder.stopped()  # after recovery, stopping records nothing more
    assert kinds(recorder) == [DRILL_STARTED, DRILL_RECOVERED]


def test_database_failure_restarting_order_worker_retires_the_leaking_pods() -> None:
    m, clock, _ = start("database-failure")
    run(m, clock, 90)
    m.restart("order-worker")
    run(m, clock, 30)
    assert m.drill.still() == [] and m.drill.recovered_at is not None
    assert len(m.connections) < 0.6 * m.max_connections


def test_database_failure_scaling_order_worker_makes_it_worse() -> None:
    m, clock, _ = start("database-failure")
    run(m, clock, 30)
    before = len(m.connections)
    m.scale("order-worker", 6)
    run(m, clock, 60)
    assert len(m.connections) > before
    assert "DatabaseConnectionPoolExhausted" in firing(m)
    assert set(m.drill.still()) == {"long_queries", "connection_leak", "lock_pileup"}
    assert m.drill.recovered_at is None


# --- API degradation --------------------------------------------------------------

def test_api_degradation_left_alone_stays_degraded() -> None:
    m, clock, _ = start("api-degradation")
    run(m, clock, 240)
    assert {"HighAPIResponseTime", "AnalyticsEndpointDown"} <= firing(m)
    assert m.api_p95_ms() > 2000 and status(m, "financial") == 500
    assert m.drill.recovered_at is None


def test_api_degradation_scale_and_aggregation_job_recover_it() -> None:
    m, clock, recorder = start("api-degradation")
    run(m, clock, 60)
    m.scale("luckygas-backend", 10)
    run(m, clock, 20)
    assert m.api_p95_ms() < 2000 and m.drill.still() == ["analytics_down"]
    m.create_job("analytics-aggregation-manual-1", "analytics-aggregation")
    run(m, clock, 15)
    assert status(m, "financial") == 200
    assert m.drill.still() == [] and kinds(recorder) == [DRILL_STARTED, DRILL_RECOVERED]


def test_api_degradation_restarting_the_backend_does_not_recover_it() -> None:
    m, clock, _ = start("api-degradation")
    run(m, clock, 60)
    m.restart("luckygas-backend")
    run(m, clock, 60)
    assert "HighAPIResponseTime" in firing(m) and status(m, "financial") == 500
    assert m.drill.recovered_at is None


# --- security incident -------------------------------------------------------------

ATTACKERS = ["203.0.113.45", "198.51.100.23", "192.0.2.77"]


def test_security_incident_left_alone_gets_in() -> None:
    m, clock, _ = start("security-incident")
    run(m, clock, 120)
    assert "SuspiciousLoginActivity" in firing(m)
    assert m.logins.compromised_by == ATTACKERS[0]
    assert m.logins.failure_rate(m.now) == pytest.approx(6.0, rel=0.05)
    logged = [line for _, _, line in m.said["luckygas-backend"]]  # `kubectl logs`
    assert {ip for ip in ATTACKERS if any(ip in line for line in logged)} == set(ATTACKERS)
    assert m.drill.recovered_at is None


def test_security_incident_blocking_and_rotating_recovers_it() -> None:
    m, clock, recorder = start("security-incident")
    run(m, clock, 90)
    for ip in ATTACKERS:
        m.logins.block(ip)
    run(m, clock, 70)
    assert m.logins.failure_rate(m.now) == 0.0
    assert m.drill.still() == ["failed_logins"]  # the stolen session still works
    m.logins.rotate()
    run(m, clock, 20)
    assert m.drill.still() == [] and kinds(recorder) == [DRILL_STARTED, DRILL_RECOVERED]
    assert "SuspiciousLoginActivity" not in {a["labels"]["alertname"]  # type: ignore[index]
                                             for a in m.alerts()}


def test_security_incident_blocking_two_of_three_does_not() -> None:
    m, clock, _ = start("security-incident")
    run(m, clock, 30)
    m.logins.block(ATTACKERS[1])
    m.logins.block(ATTACKERS[2])
    m.logins.rotate()
    run(m, clock, 120)
    assert "SuspiciousLoginActivity" in firing(m)
    assert m.logins.compromised_by == ATTACKERS[0]  # it got in after the rotation
    assert m.drill.recovered_at is None


# --- the demo's story and the format ----------------------------------------------

def test_the_demo_story_is_a_scenario_played_by_the_same_engine() -> None:
    story = storyline()
    assert [(f.kind, f.at) for f in parse_faults(story.faults, story.source)] == [
        ("surge", 20.0), ("connection_leak", 45.0), ("analytics_down", 75.0)]
    clock = ManualClock()
    m = Production(clock=clock)
    run(m, clock, 19)
    assert not m.surge_active and not m.leak_active
    run(m, clock, 60)
    assert m.surge_active and m.leak_active and m.analytics_broken_since is not None


@pytest.mark.parametrize(("fault", "problem"), [
    ('kind = "meteor"', 'fault[0].kind: unknown fault kind \'meteor\''),
    ('kind = "surge"\nfactr = 2', "fault[0].factr: unknown key"),
    ('kind = "surge"\nfactor = "2"', "fault[0].factor: must be float, not str"),
    ('kind = "surge"\nfactor = 99', "fault[0].factor: must be between 1 and 10"),
    ('kind = "surge"\nat = -5', "fault[0].at: must be between 0 and 86400"),
    ('kind = "long_queries"\ncount = 2.5', "fault[0].count: must be int, not float"),
    ('kind = "connection_leak"\ncount = -1', "fault[0].count: must be between 0 and 10000"),
    ('kind = "failed_logins"', "fault[0].ips: is required"),
    ('kind = "failed_logins"\nips = ["10.0.0.300"]', "fault[0].ips[0]: not an IP address"),
    ('kind = "bad_rollout"\ndeployment = "x"\nenv = { A = 1 }', "fault[0].env.A: must be str"),
    ('kind = "surge"\nsay = [3]', "fault[0].say[0]: must be str, not int"),
    ('kind = "surge"\nsay = ["a\\u001b[2Jb"]', "fault[0].say[0]: contains a control character"),
])
def test_a_bad_fault_is_one_line_naming_file_and_key(tmp_path: Path, fault: str,
                                                      problem: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\ntitle = "Mine"\nsummary = "s"\nexpected_severity = "P2"\n'
                    f'right = ["scale luckygas-backend"]\n\n[[fault]]\n{fault}\n')
    scenario = load_scenario(path)
    with pytest.raises(ConfigError) as caught:
        parse_faults(scenario.faults, scenario.source)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message


def test_every_built_in_drill_has_faults_the_model_knows() -> None:
    for scenario in built_in().values():
        faults = parse_faults(scenario.faults, scenario.source)
        assert faults, scenario.name


# --- complete outage ---------------------------------------------------------------

def statuses(m: Production) -> set[int]:
    return {status(m, e.name) for e in m.endpoints}


def test_complete_outage_left_alone_every_endpoint_fails() -> None:
    m, clock, _ = start("complete-outage")
    run(m, clock, 180)
    assert statuses(m) == {503}
    crashing = [p for p in m.pods.values() if p.crashed(m.now)]
    assert {p.deployment for p in crashing} == {"luckygas-backend", "luckygas-frontend"}
    assert m.drill.recovered_at is None


def test_complete_outage_rollout_undo_recovers_it() -> None:
    m, clock, recorder = start("complete-outage")
    run(m, clock, 120)
    m.rollout_undo("luckygas-backend")
    run(m, clock, 60)
    assert m.drill.still() == ["bad_rollout"]  # the frontend still crash-loops
    assert status(m, "health") == 503 and status(m, "orders") == 200
    m.rollout_undo("luckygas-frontend")
    run(m, clock, 60)
    assert statuses(m) == {200, 201} or statuses(m) == {200}
    assert m.drill.still() == [] and kinds(recorder) == [DRILL_STARTED, DRILL_RECOVERED]


def test_complete_outage_scaling_up_does_not_recover_it() -> None:
    m, clock, _ = start("complete-outage")
    run(m, clock, 120)
    m.scale("luckygas-backend", 10)
    m.scale("luckygas-frontend", 5)
    run(m, clock, 120)
    assert statuses(m) == {503} and m.drill.recovered_at is None
