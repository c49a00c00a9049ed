"""`luckytui check` as a script runs it: JSON that matches the services, and exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from luckytui.sim.runner import Simulation

ROOT = Path(__file__).resolve().parents[2]



async def luckytui(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "luckytui", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_check_json_matches_the_simulated_production(sim: Simulation) -> None:
    code, out, err = await luckytui("check", "--json", "--config", str(sim.config_path))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True
    sources = doc["sources"]
    model = sim.model
    pods = sources["kubernetes"]["pods"]
    assert {p["name"] for p in pods} == set(model.every_pod())
    for p in pods:
        assert set(p) >= {"name", "phase", "restarts", "cpu_millicores"}
        assert p["restarts"] == model.every_pod()[p["name"]].restarts
    pg = sources["postgresql"]
    assert pg["max_connections"] == model.max_connections
    assert pg["connections"]["total"] == sum(
        1 for c in model.connections.values() if c.backend_type == "client backend")
    assert any(q["duration_s"] > 300 for q in pg["long_running"])
    for q in pg["long_running"]:
        assert set(q) >= {"pid", "duration_s", "state", "query"}
        assert q["pid"] in model.connections
    endpoints = {e["name"]: e for e in sources["endpoints"]["endpoints"]}
    assert {"login", "health", "executive", "orders"} <= set(endpoints)
    for e in endpoints.values():
        assert set(e) >= {"name", "url", "status", "latency_ms", "ok"}
        assert e["ok"] and e["status"] in (200, 201)
    assert sources["prometheus"]["ok"] is True
    password = (sim.directory / "login-password").read_text().strip()
    assert password not in out


async def test_check_exits_1_when_an_endpoint_is_down(sim: Simulation) -> None:
    sim.model.begin("analytics")  # the aggregation fails now
    code, out, _ = await luckytui("check", "--json", "--config", str(sim.config_path))
    assert code == 1
    doc = json.loads(out)
    endpoints = {e["name"]: e for e in doc["sources"]["endpoints"]["endpoints"]}
    assert endpoints["financial"]["status"] == 500 and not endpoints["financial"]["ok"]
    assert doc["sources"]["endpoints"]["ok"] is False
    assert "financial" in doc["sources"]["endpoints"]["error"]


async def test_check_table_names_unconfigured_and_failing_sources(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[prometheus]\nurl = "http://127.0.0.1:9"\n')
    code, out, err = await luckytui("check", "--config", str(cfg), "--timeout", "3")
    assert code == 1, err
    assert "not configured" in out and "failing" in out
    assert "Traceback" not in out + err
    code, out, _ = await luckytui("check", "--json", "--config", str(cfg), "--timeout", "3")
    doc = json.loads(out)
    assert doc["sources"]["kubernetes"] == {"configured": False, "ok": False, "error": None}
    assert doc["sources"]["prometheus"]["ok"] is False
    assert "refused" in doc["sources"]["prometheus"]["error"]


async def test_config_check_masks_secrets_and_flags_override(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[login]\nurl = "https://api.example.test/api/v1/auth/login"\n'
                   'email = "probe@example.test"\npassword_env = "PROBE_PW"\n'
                   '[prometheus]\nurl = "http://prom.example.test:9090"\n')
    code, out, err = await luckytui("config", "check", "--config", str(cfg),
                                    "--prometheus", "http://other.example.test:9090",
                                    "--dsn", "host=db.example.test dbname=luckygas_prod user=m")
    assert code == 0, err
    assert "http://other.example.test:9090" in out and "prom.example.test" not in out
    assert "postgresql luckygas_prod: host=db.example.test" in out
    assert "$PROBE_PW" in out
    code, _, err = await luckytui("config", "check", "--config", str(cfg),
                                  "--dsn", "postgresql://u:hunter2@db/x")
    assert code == 2 and "hunter2" not in err and "password" in err


async def test_timeout_caps_every_source_even_a_slower_endpoint_timeout(
        tmp_path: Path) -> None:
    """A server that accepts and never answers: --timeout is the longest the check waits,
    though the endpoint's own timeout (30 s) is longer."""
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # connections are accepted by the kernel and never answered
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    config = tmp_path / "config.toml"
    config.write_text(f'[prometheus]\nurl = "{url}"\n[[endpoints]]\nname = "health"\n'
                      f'url = "{url}/health"\ntimeout = 30\n')
    try:
        started = time.monotonic()
        code, out, _ = await luckytui("check", "--json", "--timeout", "1",
                                      "--config", str(config))
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert code == 1
    doc = json.loads(out)
    assert doc["sources"]["prometheus"]["error"] == "timed out after 1 s"
    endpoints = doc["sources"]["endpoints"]
    assert endpoints["configured"] and (endpoints["error"] or endpoints.get("down"))
    assert elapsed < 15, f"check took {elapsed:.1f} s with --timeout 1 (endpoint: 30 s)"
