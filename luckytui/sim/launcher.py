"""Run `luckytui sim` as a child process and wait until it is ready.

The demo runs the simulation in its own process, so the war room's process
does only what it does in production: poll and draw. The child exits when
our end of its stdin closes, so it never outlives the war room, even after
a crash or a kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

from luckytui.config import Settings, load_settings


class SimulationError(Exception):
    """The simulation did not start; one line for the operator."""


class SimProcess:
    def __init__(self, *, seed: int = 7, scale: str = "small",
                 directory: Path | None = None, ready_timeout: float = 30.0) -> None:
        self.seed, self.scale, self.ready_timeout = seed, scale, ready_timeout
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="luckytui-demo-")
            directory = Path(self._tmp.name)
        self.directory = directory
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Settings:
        """Start the child; return the settings that point at it once it says `ready`."""
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "luckytui", "sim", "--dir", str(self.directory),
            "--seed", str(self.seed), "--scale", self.scale, "--exit-with-stdin",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(self.ready_timeout):
                while True:
                    line = await self.proc.stdout.readline()
                    if not line:
                        err = b""
                        if self.proc.stderr is not None:
                            err = await self.proc.stderr.read()
                        last = err.decode(errors="replace").strip().splitlines()[-1:] or [
                            "no output"]
                        raise SimulationError(f"the simulation exited: {last[0]}")
                    if line.strip() == b"ready":
                        break
        except TimeoutError:
            await self.stop()
            raise SimulationError(
                f"the simulation did not start within {self.ready_timeout:g} s") from None
        return load_settings(self.directory / "config.toml")

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 3)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
