"""Run `luckytui sim` as a child process and wait until it is ready.

The demo runs the simulation in its own process, so the war room's process
does only what it does in production: poll and draw. `spawn()` is called by
the command line before Textual is even imported, so the simulation boots on
the other core while the first frame is drawn. The child exits when our end
of its stdin closes, so it never outlives the war room, even after a crash or
a kill.

The child says what it serves before `ready`: `dsn URL` when the database is
an embedded PostgreSQL server (`psql URL` reaches it while the demo runs), or
`note TEXT` when that server could not start and the database is simulated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

from luckytui.config import Settings, load_settings

log = logging.getLogger(__name__)


class SimulationError(Exception):
    """The simulation did not start; one line for the operator."""


class SimProcess:
    def __init__(self, *, seed: int = 7, scale: str = "small", frozen: bool = False,
                 directory: Path | None = None, ready_timeout: float = 30.0,
                 postgres: bool = True, drill: str | None = None,
                 drill_title: str | None = None, speed: float = 1.0,
                 log: Path | None = None) -> None:
        self.seed, self.scale, self.ready_timeout = seed, scale, ready_timeout
        self.drill, self.drill_title, self.speed = drill, drill_title, speed
        self.log = log  # where a drill's records go (the war room's log)
        self.frozen, self.postgres = frozen, postgres
        self.dsn: str | None = None  # the embedded PostgreSQL server's, once ready
        self.note: str | None = None  # why the database is simulated instead
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="luckytui-demo-")
            directory = Path(self._tmp.name)
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def spawn(self) -> None:
        """Start the child process (returns at once)."""
        if self.proc is not None:
            return
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop_now()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "luckytui", "sim", "--dir", str(self.directory),
             "--seed", str(self.seed), "--scale", self.scale, "--exit-with-stdin",
             *(["--frozen"] if self.frozen else []),
             *([] if self.postgres else ["--no-postgres"]),
             *(["--drill", self.drill, "--speed", f"{self.speed:g}"] if self.drill else []),
             *(["--log", str(self.log)] if self.drill and self.log else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
        )

    def _read_until_ready(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            word, _, rest = line.decode(errors="replace").strip().partition(" ")
            if word == "ready":
                return
            if word == "dsn":
                self.dsn = rest
                log.info("the demo's PostgreSQL: %s", rest)
            elif word == "note":
                self.note = rest
                log.warning("%s", rest)
        self.proc.wait()
        raise SimulationError(f"the simulation exited: {self._last_error()}")

    def _last_error(self) -> str:
        if self._stderr is None:
            return "no output"
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"

    async def start(self) -> Settings:
        """Spawn if needed; return the settings that point at the child once it is ready."""
        self.spawn()
        try:
            await asyncio.wait_for(asyncio.to_thread(self._read_until_ready),
                                   self.ready_timeout)
        except TimeoutError:
            await self.stop()
            raise SimulationError(
                f"the simulation did not start within {self.ready_timeout:g} s") from None
        return load_settings(self.directory / "config.toml")

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_now)

    def stop_now(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
