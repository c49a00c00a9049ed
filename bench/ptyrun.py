"""Run a terminal program in a pseudo-terminal we read, and measure what it costs.

The program gets a real terminal (a pty of the asked size, TERM and COLORTERM as
given); everything it writes is read and counted, as an SSH session would carry
it. CPU is the process's own user + system time from /proc (children, such as the
demo's simulation, are not counted), RSS from /proc/PID/status.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Window:
    """What one measured stretch of time cost."""

    seconds: float
    cpu_s: float
    bytes: int
    rss_mb: float

    @property
    def cpu_pct(self) -> float:
        return 100.0 * self.cpu_s / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_s(self) -> float:
        return self.bytes / self.seconds if self.seconds else 0.0


@dataclass
class PtyProgram:
    argv: Sequence[str]
    cols: int = 160
    rows: int = 48
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    pid: int = 0
    fd: int = -1
    output: bytearray = field(default_factory=bytearray)
    total: int = 0
    keep: int = 1 << 20  # the last MiB of output, for markers

    def start(self) -> PtyProgram:
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor",
               "LINES": str(self.rows), "COLUMNS": str(self.cols), **self.env}
        pid, fd = pty.fork()
        if pid == 0:  # the child: becomes the program
            try:
                if self.cwd:
                    os.chdir(self.cwd)
                os.execvpe(self.argv[0], list(self.argv), env)
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        self.pid, self.fd = pid, fd
        return self

    def pump(self, timeout: float) -> int:
        """Read what is there (waiting up to timeout for the first bytes)."""
        got = 0
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            ready, _, _ = select.select([self.fd], [], [], max(0.0, left))
            if not ready:
                return got
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return got
            if not chunk:
                return got
            got += len(chunk)
            self.total += len(chunk)
            self.output += chunk
            if len(self.output) > self.keep:
                del self.output[: len(self.output) - self.keep]
            if left <= 0:
                return got

    def wait_for(self, marker: bytes | Callable[[bytes], bool], timeout: float) -> float | None:
        """Seconds until marker appears in the output written from now on."""
        start = time.perf_counter()
        self.output = self.output[-4096:]  # only what comes next counts (with some context)
        mark = len(self.output)
        test = marker if callable(marker) else (lambda data: marker in data)
        while time.perf_counter() - start < timeout:
            self.pump(0.005)
            if test(bytes(self.output[mark:])):
                return time.perf_counter() - start
        return None

    def drain(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.pump(min(0.05, max(0.0, end - time.perf_counter())))

    def measure(self, seconds: float) -> Window:
        """CPU and bytes over the next `seconds`, reading the terminal all along."""
        start_cpu, start_bytes = cpu_seconds(self.pid), self.total
        start = time.perf_counter()
        self.drain(seconds)
        elapsed = time.perf_counter() - start
        return Window(elapsed, cpu_seconds(self.pid) - start_cpu, self.total - start_bytes,
                      rss_mb(self.pid))

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def stop(self) -> None:
        if self.pid <= 0:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.perf_counter() + 5
            while time.perf_counter() < deadline:
                self.pump(0.05)  # keep reading so it is never blocked on a full pty
                done, _ = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    self.pid = 0
                    break
            if self.pid == 0:
                break
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def __enter__(self) -> PtyProgram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
