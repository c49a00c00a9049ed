"""Usage errors: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def luckytui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "luckytui", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--refresh", "soon"), "not a number: 'soon'"),
        (("--refresh", "0"), "between 0.2 and 3600"),
        (("demo", "--scale", "huge"), "invalid choice: 'huge'"),
        (("--panes", "pods,cpu", "--config", "/nonexistent.toml"), "no such file"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: tuple[str, ...], needle: str) -> None:
    result = luckytui(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("luckytui: ")
    assert "Traceback" not in result.stderr


def test_no_config_tells_how(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = luckytui(env=env)
    assert result.returncode == 2
    assert "no configuration" in result.stderr and "luckytui demo" in result.stderr


def test_bad_panes_flag_names_the_pane(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("refresh = 2\n")
    result = luckytui("--config", str(cfg), "--panes", "pods,cpu")
    assert result.returncode == 2
    assert "unknown pane cpu" in result.stderr


def test_log_export_and_verify(tmp_path: Path) -> None:
    import asyncio
    import json

    from luckytui.store import EventLog

    path = tmp_path / "log.sqlite3"

    async def fill() -> None:
        async with await EventLog.open(path) as log:
            await log.append("alert.fired", {"alert": "HighAPIResponseTime"}, actor="a@h")
            await log.append("note", {"text": "db password=hunter2 leaked?"}, actor="a@h",
                             incident="INC-2026-11-26-001")

    asyncio.run(fill())
    result = luckytui("log", "export", "--format", "jsonl", "--log", str(path))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["kind"] for r in lines] == ["alert.fired", "note"]
    for r in lines:
        assert {"id", "ts", "kind", "actor", "incident"} <= set(r)
        assert r["ts"].endswith(("Z", "+00:00"))
    assert lines[0]["alert"] == "HighAPIResponseTime"
    assert lines[1]["incident"] == "INC-2026-11-26-001"
    assert "hunter2" not in result.stdout
    only = luckytui("log", "export", "--log", str(path), "--incident", "INC-2026-11-26-001")
    assert len(only.stdout.splitlines()) == 1
    verify = luckytui("log", "verify", "--log", str(path))
    assert verify.returncode == 0 and "intact" in verify.stdout


def test_log_export_of_a_file_that_is_not_a_log(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("just text\n" * 100)
    result = luckytui("log", "export", "--log", str(bad))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_missing_secret_stops_before_the_screen(tmp_path: Path) -> None:
    import os

    cfg = tmp_path / "c.toml"
    cfg.write_text('[login]\nurl = "https://api.example.test/api/v1/auth/login"\n'
                   'email = "probe@example.test"\npassword_env = "LUCKYTUI_TEST_NO_SUCH_VAR"\n')
    env = {k: v for k, v in os.environ.items() if k != "LUCKYTUI_TEST_NO_SUCH_VAR"}
    result = luckytui("--config", str(cfg), env=env)
    assert result.returncode == 2
    assert "LUCKYTUI_TEST_NO_SUCH_VAR is not set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("flags", "postgres"), [((), True), (("--no-postgres",), False)])
def test_drill_runs_its_database_on_postgres_unless_told_not_to(
        monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...], postgres: bool) -> None:
    """`luckytui drill NAME` starts the simulation as the demo does: with the embedded
    server unless `--no-postgres` (the room itself is not started here)."""
    import luckytui.app
    from luckytui.cli import main
    from luckytui.sim.launcher import SimProcess

    started: list[SimProcess] = []
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # the room unwraps them: put them back
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    monkeypatch.setattr(SimProcess, "spawn", lambda self: None)
    monkeypatch.setattr(luckytui.app, "run_app",
                        lambda settings, sim: started.append(sim) or 0)
    assert main(["drill", "database-failure", "--speed", "5", *flags]) == 0
    [sim] = started
    assert sim.postgres is postgres and sim.drill is not None
    assert sim.drill.endswith("database-failure.toml") and sim.speed == 5.0
