"""The plan's drills on the served simulation, remedied through `luckytui act` as the
room would: the right remedies recover production and the drill says so in the log,
a wrong one does not. One end-to-end run of `luckytui sim --drill NAME --speed X`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from luckytui.drills.scenario import built_in
from luckytui.events import DRILL_RECOVERED, DRILL_STARTED, DRILL_STOPPED
from luckytui.sim.launcher import SimProcess
from luckytui.sim.runner import Simulation, start_simulation
from luckytui.store import EventLog
from tests.conftest import ManualClock
from tests.integration.test_act import act, records

ROOT = Path(__file__).resolve().parents[2]
ATTACKERS = ("203.0.113.45", "198.51.100.23", "192.0.2.77")


@pytest.fixture
async def drill(request: pytest.FixtureRequest, tmp_path: Path,
                clock: ManualClock) -> AsyncIterator[Simulation]:
    sim = await start_simulation(tmp_path / "sim", clock=clock,
                                 scenario=built_in()[request.param])
    try:
        yield sim
    finally:
        await sim.stop()


async def advance(sim: Simulation, clock: ManualClock, seconds: float) -> None:
    """Time passes on the simulation; its drill records reach its log."""
    clock.advance(seconds)
    sim.model.sync()
    assert sim.recorder is not None
    async with await EventLog.open(sim.log_path) as log:
        await sim.recorder.flush(log)


def firing(sim: Simulation) -> set[str]:
    return {a["labels"]["alertname"] for a in sim.model.alerts()  # type: ignore[index]
            if a["state"] == "firing"}


async def ok(sim: Simulation, *args: str) -> str:
    code, out, err = await act(sim, sim.log_path, *args, "--yes")
    assert code == 0, out + err
    return out


@pytest.mark.parametrize("drill", ["database-failure"], indirect=True)
async def test_database_failure_recovers_by_terminating(drill: Simulation,
                                                        clock: ManualClock) -> None:
    assert f'log = "{drill.log_path}"' in drill.config_path.read_text()
    await advance(drill, clock, 90)
    assert "DatabaseConnectionPoolExhausted" in firing(drill)
    await ok(drill, "terminate-long")
    await ok(drill, "terminate-idle", "10s")  # the leaked transactions and the lock holder
    await advance(drill, clock, 5)
    assert drill.model.drill.still() == []
    kinds = [k for k, _ in await records(drill.log_path)]
    assert kinds[0] == DRILL_STARTED and kinds[-1] == DRILL_RECOVERED


@pytest.mark.parametrize("drill", ["database-failure"], indirect=True)
async def test_database_failure_scaling_order_worker_does_not(drill: Simulation,
                                                              clock: ManualClock) -> None:
    await advance(drill, clock, 30)
    await ok(drill, "scale", "order-worker", "6")
    await advance(drill, clock, 90)
    assert "DatabaseConnectionPoolExhausted" in firing(drill)
    assert DRILL_RECOVERED not in [k for k, _ in await records(drill.log_path)]


@pytest.mark.parametrize("drill", ["api-degradation"], indirect=True)
async def test_api_degradation_recovers_by_scaling_and_the_job(drill: Simulation,
                                                               clock: ManualClock) -> None:
    await advance(drill, clock, 80)
    assert {"HighAPIResponseTime", "AnalyticsEndpointDown"} <= firing(drill)
    await ok(drill, "restart", "luckygas-backend")  # harmful: no recovery
    await advance(drill, clock, 30)
    assert DRILL_RECOVERED not in [k for k, _ in await records(drill.log_path)]
    await ok(drill, "scale", "luckygas-backend", "10")
    await ok(drill, "run-job", "analytics-aggregation")
    await advance(drill, clock, 30)
    assert drill.model.drill.still() == []
    assert [k for k, _ in await records(drill.log_path)][-1] == DRILL_RECOVERED


@pytest.mark.parametrize("drill", ["security-incident"], indirect=True)
async def test_security_incident_custom_commands_block_and_rotate(
        drill: Simulation, clock: ManualClock) -> None:
    await advance(drill, clock, 90)
    assert "SuspiciousLoginActivity" in firing(drill)
    for ip in ATTACKERS[:2]:
        assert f"blocked {ip}" in await ok(drill, "block-ip", ip)
    await ok(drill, "rotate-secret")
    await advance(drill, clock, 90)
    assert "SuspiciousLoginActivity" in firing(drill)  # the third address goes on
    await ok(drill, "block-ip", ATTACKERS[2])
    await advance(drill, clock, 90)
    assert drill.model.logins.blocked == set(ATTACKERS)
    assert drill.model.drill.still() == []
    assert [k for k, _ in await records(drill.log_path)][-1] == DRILL_RECOVERED


@pytest.mark.parametrize("drill", ["complete-outage"], indirect=True)
async def test_complete_outage_recovers_by_rolling_back_not_by_scaling(
        drill: Simulation, clock: ManualClock) -> None:
    await advance(drill, clock, 120)
    assert drill.model.drill.still() == ["bad_rollout", "bad_rollout"]
    await ok(drill, "emergency-scale")  # the plan's step: more pods that crash
    await advance(drill, clock, 60)
    assert DRILL_RECOVERED not in [k for k, _ in await records(drill.log_path)]
    out = await ok(drill, "rollout-undo", "luckygas-backend")
    assert "revision" in out
    await ok(drill, "rollout-undo", "luckygas-frontend")
    await advance(drill, clock, 90)
    assert drill.model.drill.still() == []
    assert [k for k, _ in await records(drill.log_path)][-1] == DRILL_RECOVERED
    assert not [p for p in drill.model.pods.values() if p.crashed(drill.model.now)]


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "luckytui", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


async def test_sim_drill_at_speed_end_to_end(tmp_path: Path) -> None:
    """`luckytui sim --drill security-incident --speed 20`; remedies from other terminals
    with the config it wrote; the drill's records in the log that config names."""
    d = tmp_path / "sim"
    proc = SimProcess(directory=d, postgres=False, drill="security-incident", speed=20)
    try:
        await proc.start()  # `luckytui sim --dir d --drill security-incident --speed 20`
        config = str(d / "config.toml")
        started = time.monotonic()
        while time.monotonic() - started < 20:  # 60 s of drill: the attacker gets in
            done = await asyncio.to_thread(run_cli, "check", "--json", "--config", config)
            alerts = json.loads(done.stdout)
            if "SuspiciousLoginActivity" in json.dumps(alerts):
                break
            await asyncio.sleep(0.5)
        else:
            raise AssertionError("SuspiciousLoginActivity never showed")
        for args in ([["block-ip", ip] for ip in ATTACKERS] + [["rotate-secret"]]):
            done = await asyncio.to_thread(run_cli, "act", *args, "--yes", "--config", config)
            assert done.returncode == 0, done.stdout + done.stderr
        log = d / "log.sqlite3"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            kinds = [k for k, _ in await records(log)]
            if DRILL_RECOVERED in kinds:
                break
            await asyncio.sleep(0.5)
        recs = await records(log)
        started_rec = next(data for k, data in recs if k == DRILL_STARTED)
        assert started_rec["scenario"] == "security-incident" and started_rec["speed"] == 20.0
        assert started_rec["right"] == ["rotate-secret", "block-ip"]
        recovered = [data for k, data in recs if k == DRILL_RECOVERED]
        assert recovered == [{"drill_id": started_rec["drill_id"],
                              "scenario": "security-incident"}]
        actions = [data.get("action") for k, data in recs if k == "mitigation.outcome"]
        assert actions.count("block-ip") == 3 and "rotate-secret" in actions
    finally:
        await proc.stop()
    kinds = [k for k, _ in await records(d / "log.sqlite3")]
    assert DRILL_STOPPED not in kinds  # it had recovered


def test_bad_drill_name_and_speed_are_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_cli("drill", "fire-drill")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "database-failure, api-degradation, security-incident, complete-outage" in done.stderr
    for bad in ("0.1", "50", "nan", "1e3"):
        done = run_cli("sim", "--dir", str(tmp_path), "--drill", "database-failure",
                       "--speed", bad)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--speed" in done.stderr
    listed = run_cli("drill", "--list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[0].split()[:2] == ["database-failure", "P2"]


async def test_a_drill_stopped_before_recovery_says_so(tmp_path: Path) -> None:
    d = tmp_path / "sim"
    proc = SimProcess(directory=d, postgres=False, drill="database-failure", speed=20)
    try:
        await proc.start()
        deadline = time.monotonic() + 20
        while DRILL_STARTED not in [k for k, _ in await records(d / "log.sqlite3")]:
            assert time.monotonic() < deadline, "the drill never started"
            await asyncio.sleep(0.3)
    finally:
        await proc.stop()
    recs = await records(d / "log.sqlite3")
    started = next(data for k, data in recs if k == DRILL_STARTED)
    assert [data for k, data in recs if k == DRILL_STOPPED] == [
        {"drill_id": started["drill_id"], "scenario": "database-failure", "recovered": False}]
    assert DRILL_RECOVERED not in [k for k, _ in recs]
