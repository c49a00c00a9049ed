"""A log that cannot be read or written: `luckytui act` says so in one line and exits 1,
changes nothing in production (nothing runs unrecorded), and what was recorded before
is still there."""

from __future__ import annotations

import asyncio
import resource
import signal
import sys
from pathlib import Path

from luckytui.sim.runner import Simulation
from luckytui.store import EventLog

ROOT = Path(__file__).resolve().parents[2]


async def act(sim: Simulation, log: Path, *args: str,
              file_size_limit: int | None = None) -> tuple[int, str, str]:
    def limit_writes() -> None:  # in the child: a disk that is full past this size
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "luckytui", "act", "--config", str(sim.config_path),
        "--log", str(log), "--as", "amy", *args, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=limit_writes)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _one_line(err: str) -> None:
    assert err.startswith("luckytui: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


async def test_a_corrupt_log_refuses_the_action(sim: Simulation, tmp_path: Path) -> None:
    log = tmp_path / "log.sqlite3"
    log.write_bytes(b"not a database at all\n" * 100)
    code, _, err = await act(sim, log, "scale", "luckygas-backend", "5", "--yes")
    assert code == 1
    _one_line(err)
    assert "not a luckytui event log" in err
    assert sim.model.deployments["luckygas-backend"].replicas == 3
    assert log.read_bytes() == b"not a database at all\n" * 100  # left as it was


async def test_a_full_disk_refuses_the_action_and_keeps_what_was_recorded(
        sim: Simulation, tmp_path: Path) -> None:
    log = tmp_path / "log.sqlite3"
    code, _, err = await act(sim, log, "scale", "luckygas-backend", "4", "--yes")
    assert code == 0, err
    # no byte more can be written to the log's files: the next intent cannot be recorded
    code, _, err = await act(sim, log, "scale", "luckygas-backend", "6", "--yes",
                             file_size_limit=1)
    assert code == 1
    _one_line(err)
    assert "cannot" in err and str(log) in err
    assert sim.model.deployments["luckygas-backend"].replicas == 4  # not run unrecorded
    async with await EventLog.open(log) as opened:
        kinds = [r.kind for r in await opened.records()]
        assert kinds == ["mitigation.intent", "mitigation.outcome"]
        assert (await opened.verify()).ok


def test_reading_commands_create_no_log(tmp_path: Path, capsys: object) -> None:
    """Reports, post-mortems and incident lists read a log; a mistyped path is said, and
    no empty log appears there (only declaring an incident starts a log)."""
    import pytest

    from luckytui.cli import main

    missing = tmp_path / "typo.sqlite3"
    assert isinstance(capsys, pytest.CaptureFixture)
    assert main(["report", "--log", str(missing)]) == 0  # no log yet: no incidents
    assert capsys.readouterr().out == f"no incidents in the log ({missing})\n"
    assert not missing.exists()
    for argv in (["postmortem"], ["incident", "list"], ["incident", "show"],
                 ["incident", "ack"], ["incident", "note", "x"]):
        assert main([*argv, "--log", str(missing)]) == 1, argv
        err = capsys.readouterr().err
        assert err.startswith("luckytui: ") and err.count("\n") == 1, argv
        assert str(missing) in err and ("no event log here" in err or "no incidents" in err)
        assert not missing.exists()
    assert main(["incident", "declare", "--title", "db down", "--severity", "P2",
                 "--log", str(missing)]) == 0
    assert missing.exists()


def test_the_shell_asks_before_resolving_what_still_fails(
        tmp_path: Path, capsys: object) -> None:
    """`incident resolve` while the log says a critical alert still fires: refused with
    what still fails named, then --anyway resolves and the record keeps why."""
    import asyncio

    import pytest

    from luckytui.cli import main

    assert isinstance(capsys, pytest.CaptureFixture)
    log = tmp_path / "log.sqlite3"

    async def fire() -> None:
        async with await EventLog.open(log) as opened:
            await opened.append("alert.fired", {
                "alert": "NoOrdersProcessed", "severity": "critical", "summary": "",
                "active_at": "2026-12-05T03:00:00+00:00"}, actor="luckytui",
                dedupe="alert.fired:NoOrdersProcessed@2026-12-05T03:00:00+00:00")
            await opened.append("endpoint.down", {"group": "api", "endpoint": "orders",
                                                  "error": "HTTP 500"}, actor="luckytui")

    asyncio.run(fire())
    assert main(["incident", "declare", "--title", "orders failing", "--severity", "P2",
                 "--log", str(log)]) == 0
    capsys.readouterr()
    assert main(["incident", "resolve", "--tick", "1", "--log", str(log)]) == 1
    assert capsys.readouterr().err == (
        "luckytui: Still firing: NoOrdersProcessed (critical). Still failing: api/orders. "
        "Resolve anyway with --anyway (recorded).\n")
    assert main(["incident", "resolve", "--tick", "1", "--anyway", "--log", str(log)]) == 0

    async def resolved() -> dict[str, object]:
        async with await EventLog.open(log) as opened:
            return dict((await opened.records(kinds=("incident.resolved",)))[0].data)

    assert asyncio.run(resolved())["resolved_anyway"] == (
        "Still firing: NoOrdersProcessed (critical). Still failing: api/orders.")
