"""`luckytui act` against the simulated production: plan, dry run, confirm, two records."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import textwrap
from pathlib import Path

from luckytui.mitigations.runner import INTENT, OUTCOME, unfinished
from luckytui.sim.runner import Simulation
from luckytui.store import EventLog

ROOT = Path(__file__).resolve().parents[2]



async def act(sim: Simulation, log: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "luckytui", "act", "--config", str(sim.config_path),
        "--log", str(log), "--as", "amy", *args, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def records(log: Path) -> list[tuple[str, dict[str, object]]]:
    async with await EventLog.open(log) as opened:
        return [(r.kind, dict(r.data)) for r in await opened.records()]


async def test_list(sim: Simulation, tmp_path: Path) -> None:
    code, out, _ = await act(sim, tmp_path / "log", "--list")
    assert code == 0
    for name in ("scale DEPLOYMENT REPLICAS", "restart DEPLOYMENT", "cordon NODE",
                 "uncordon NODE", "set-env DEPLOYMENT KEY=VALUE", "run-job CRONJOB"):
        assert name in out


async def test_dry_run_shows_the_plan_and_changes_nothing(sim: Simulation,
                                                          tmp_path: Path) -> None:
    code, out, err = await act(sim, tmp_path / "log", "scale", "luckygas-backend", "10",
                               "--dry-run")
    assert code == 0, err
    assert "Scale deployment luckygas-backend" in out and "replicas: 3 → 10" in out
    assert "kubectl -n luckygas scale deployment luckygas-backend --replicas=10" in out
    assert "server dry run: accepted: replicas would be 10" in out
    assert sim.model.deployments["luckygas-backend"].replicas == 3
    assert await records(tmp_path / "log") == []


async def test_scale_records_intent_then_outcome(sim: Simulation, tmp_path: Path) -> None:
    log = tmp_path / "log"
    code, out, err = await act(sim, log, "scale", "luckygas-backend", "10", "--yes", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "ok" and doc["changed"] == {"replicas": 10}
    assert sim.model.deployments["luckygas-backend"].replicas == 10
    (k1, intent), (k2, outcome) = await records(log)
    assert (k1, k2) == (INTENT, OUTCOME)
    assert intent["command"] == ("kubectl -n luckygas scale deployment luckygas-backend "
                                 "--replicas=10")
    assert intent["undo"] == {"action": "scale", "args": ["luckygas-backend", "3"]}
    assert outcome["status"] == "ok" and outcome["undo"] == intent["undo"]
    async with await EventLog.open(log) as opened:
        rs = await opened.records()
    assert rs[1].data["intent"] == rs[0].id and rs[0].actor == "amy"


async def test_refusals(sim: Simulation, tmp_path: Path) -> None:
    log = tmp_path / "log"
    code, out, err = await act(sim, log, "scale", "luckygas-backend", "50", "--yes")
    assert code == 2 and out == ""
    assert err == ("luckytui: refused: replicas must be between 0 and 20 (max_replicas); "
                   "--force to go up to 50, not 50\n")
    code, out, _ = await act(sim, log, "scale", "no-such-thing", "2", "--yes")
    assert code == 1 and "not found" in out
    assert [k for k, _ in await records(log)] == ["mitigation.refused"] * 2
    code, _, err = await act(sim, log, "scale", "luckygas-backend", "4")  # no terminal
    assert code == 2 and "pass --yes" in err
    code, _, err = await act(sim, log, "--read-only", "scale", "luckygas-backend", "4", "--yes")
    assert code == 2 and "read-only" in err
    assert sim.model.deployments["luckygas-backend"].replicas == 3


async def test_the_other_kubernetes_remedies(sim: Simulation, tmp_path: Path) -> None:
    log = tmp_path / "log"
    node = sorted(sim.model.nodes)[0]
    assert (await act(sim, log, "cordon", node, "--yes"))[0] == 0
    assert sim.model.nodes[node].unschedulable
    code, out, _ = await act(sim, log, "cordon", node, "--yes")
    assert code == 1 and "already cordoned" in out
    assert (await act(sim, log, "uncordon", node, "--yes"))[0] == 0
    assert not sim.model.nodes[node].unschedulable
    assert (await act(sim, log, "set-env", "luckygas-backend", "CACHE_TTL=300", "--yes"))[0] == 0
    assert sim.model.deployments["luckygas-backend"].env["CACHE_TTL"] == "300"
    before = sim.model.deployments["order-worker"].template_hash
    assert (await act(sim, log, "restart", "order-worker", "--yes"))[0] == 0
    assert sim.model.deployments["order-worker"].template_hash != before
    assert (await act(sim, log, "run-job", "analytics-aggregation", "--yes"))[0] == 0
    assert any(j.startswith("analytics-aggregation-manual-") for j in sim.model.jobs)


async def test_killed_between_intent_and_outcome(tmp_path: Path) -> None:
    """A process killed while the action runs leaves an intent with no outcome."""
    log = tmp_path / "log.sqlite3"
    script = textwrap.dedent(f"""
        import asyncio
        from luckytui.mitigations.base import Change, Plan
        from luckytui.mitigations.runner import Mitigator
        from luckytui.store import EventLog

        class Hangs:
            name = "scale"
            async def execute(self, plan):
                print("executing", flush=True)
                await asyncio.sleep(3600)

        async def main():
            log = await EventLog.open({str(log)!r})
            plan = Plan("scale", "Scale deployment x", "deployment/x", {{}},
                        (Change("replicas", "3", "9"),), "kubectl scale deployment x", {{}})
            await Mitigator(log, "amy").run(Hangs(), plan)
        asyncio.run(main())
    """)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"executing"
    os.kill(proc.pid, signal.SIGKILL)
    await proc.wait()
    async with await EventLog.open(log) as opened:
        rs = await opened.records()
    assert [r.kind for r in rs] == [INTENT]
    assert [r.id for r in unfinished(rs)] == [rs[0].id]
    export = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "luckytui", "log", "export", "--log", str(log), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE)
    out, _ = await export.communicate()
    assert json.loads(out.decode().splitlines()[0])["outcome"] == "unknown"


async def test_emergency_scale_is_typed_and_lists_what_it_touches(sim: Simulation,
                                                                  tmp_path: Path) -> None:
    log = tmp_path / "log"
    code, out, _ = await act(sim, log, "emergency-scale", "--dry-run")
    assert code == 0
    assert "luckygas-backend replicas: 3 → 10" in out and "touches 2:" in out
    assert "deployment/luckygas-frontend: 2 → 5 replicas" in out
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)",
        sys.executable, "-m", "luckytui", "act", "--config", str(sim.config_path),
        "--log", str(log), "emergency-scale", cwd=ROOT, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out_b, _ = await asyncio.wait_for(proc.communicate(b"luckygas\n"), 60)
    assert proc.returncode == 0, out_b.decode()
    assert "Type 'luckygas' to proceed" in out_b.decode()
    assert sim.model.deployments["luckygas-backend"].replicas == 10
    assert sim.model.deployments["luckygas-frontend"].replicas == 5


def _config_with(sim: Simulation, tmp_path: Path, extra: str) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(sim.config_path.read_text() + "\n" + extra)
    return cfg


async def test_custom_commands_and_cache_clear_from_the_config(
        sim: Simulation, tmp_path: Path) -> None:
    from tests.integration.redis_server import private_redis

    script = tmp_path / "validate.sh"
    script.write_text("#!/bin/sh\necho \"validated $1\"\n")
    script.chmod(0o755)
    with private_redis() as redis:
        redis.fill(25)
        cfg = _config_with(sim, tmp_path, f"""
[cache]
url = "redis://127.0.0.1:{redis.port}/0"

[[commands]]
name = "post-deploy-validation"
summary = "Run the plan's post-deploy validation"
argv = ["{script}", "{{ENV}}"]
placeholders = {{ ENV = "name" }}
mutating = false
""")
        log = tmp_path / "log"

        async def run(*args: str) -> tuple[int, str, str]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "luckytui", "act", "--config", str(cfg), "--log",
                str(log), *args, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode is not None
            return proc.returncode, out.decode(), err.decode()

        code, out, _ = await run("--list")
        assert "cache-clear" in out and "post-deploy-validation ENV" in out
        code, out, err = await run("post-deploy-validation", "prod", "--yes")
        assert code == 0 and "validated prod" in out, out + err
        # read-only: a command that changes nothing may still run; the cache may not be cleared
        code, out, err = await run("--read-only", "post-deploy-validation", "prod", "--yes")
        assert code == 0, err
        code, _, err = await run("--read-only", "cache-clear", "--yes")
        assert code == 2 and "read-only" in err
        code, out, err = await run("cache-clear", "--yes")
        assert code == 0, out + err
        assert redis.dbsize(0) == 0
