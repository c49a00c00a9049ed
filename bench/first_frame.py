"""Time from process start to the first frame, and to data on every pane, in tmux.

    .venv/bin/python bench/first_frame.py [--runs 5] [--floor] [-- extra luckytui args]

Starts `luckytui demo` in a detached tmux session at 160x48 (on a tmux server
of its own, `tmux -L luckytui-bench-PID`, up for all the starts), polls
`capture-pane` every 10 ms, and reports the median time until the dashboard's
frame is drawn and until every pane shows simulated data. `--floor` times a
bare Textual app (bench/floor_app.py: header, a 200-row table, footer) the same
way: what any Textual app pays before its first frame on this machine.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ptyrun import PtyProgram

ROOT = Path(__file__).resolve().parents[1]
FRAME_MARK = "1 Pods"
DATA_MARKS = ("luckygas-backend-", "connections (", "MEAN ms", "health", "Alerts", "Timeline")
FLOOR_MARK = "floor-000"  # bench/floor_app.py's first row
TIMEOUT = 30.0
# a tmux server of our own, kept up across the starts by an idle session: starting the
# server is not the program's cost, and no one's own tmux is touched
TMUX_SOCKET = f"luckytui-bench-{os.getpid()}"
TMUX = ("tmux", "-L", TMUX_SOCKET)


@dataclass(frozen=True)
class Target:
    """A program to start in tmux and the screen text that says it has drawn."""

    name: str
    argv: Sequence[str]
    frame_mark: str
    data_marks: Sequence[str] = ()  # empty: the first frame is all there is to wait for
    not_while: str | None = None  # data is not there while the screen still shows this


@dataclass
class StartTimes:
    frames: list[float] = field(default_factory=list)
    datas: list[float] = field(default_factory=list)

    @property
    def frame_median(self) -> float:
        return statistics.median(self.frames)

    @property
    def data_median(self) -> float | None:
        return statistics.median(self.datas) if self.datas else None


def demo_target(extra: Sequence[str] = (), log_dir: str | None = None) -> Target:
    log = Path(log_dir or tempfile.gettempdir()) / "luckytui-bench-log.sqlite3"
    argv = [str(ROOT / ".venv/bin/luckytui"), "demo", "--log", str(log), *extra]
    return Target("luckytui demo", argv, FRAME_MARK, DATA_MARKS, not_while="connecting")


def floor_target() -> Target:
    argv = [str(ROOT / ".venv/bin/python"), str(ROOT / "bench/floor_app.py")]
    return Target("bare Textual app", argv, FLOOR_MARK)


def start_demo(extra: Sequence[str], log_dir: str, cols: int = 160,
               rows: int = 48) -> tuple[PtyProgram, float]:
    """`luckytui demo` in a pty we read, started and drawn: the program and its first frame."""
    program = PtyProgram(demo_target(extra, log_dir).argv, cols, rows, cwd=str(ROOT)).start()
    shown = program.wait_for(FRAME_MARK.encode(), TIMEOUT)
    if shown is None:
        program.stop()
        raise RuntimeError(f"luckytui demo drew no frame within {TIMEOUT:g} s")
    return program, shown


def capture(session: str) -> str:
    return subprocess.run([*TMUX, "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True).stdout


@contextmanager
def tmux_server() -> Iterator[None]:
    """Our tmux server, up for the whole measure."""
    subprocess.run([*TMUX, "new-session", "-d", "-s", "keeper", "sleep 3600"], check=True)
    try:
        yield
    finally:
        subprocess.run([*TMUX, "kill-server"], capture_output=True)
        socket_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (socket_dir / TMUX_SOCKET).unlink(missing_ok=True)  # tmux leaves it behind


def has_data(target: Target, screen: str) -> bool:
    if not all(mark in screen for mark in target.data_marks):
        return False
    return target.not_while is None or target.not_while not in screen


def watch(target: Target, session: str, start: float) -> tuple[float | None, float | None]:
    """Poll the pane until the frame (and data, if asked) shows: seconds since start."""
    frame = data = None
    while time.perf_counter() - start < TIMEOUT:
        screen = capture(session)
        now = time.perf_counter() - start
        if frame is None and target.frame_mark in screen:
            frame = now
        if frame is not None and has_data(target, screen):
            data = now if target.data_marks else None
            break
        time.sleep(0.01)
    return frame, data


def one_run(target: Target) -> tuple[float, float | None]:
    """Seconds from `tmux new-session` to the first frame, and to data on every pane."""
    session = f"luckytui-bench-{time.monotonic_ns()}"
    # Python may cache bytecode, as an installed package has it: the warm-up start writes it
    cmd = " ".join(shlex.quote(a) for a in ["env", "-u", "PYTHONDONTWRITEBYTECODE",
                                            *target.argv])
    start = time.perf_counter()
    subprocess.run([*TMUX, "new-session", "-d", "-s", session, "-x", "160", "-y", "48",
                    "-c", str(ROOT), cmd], check=True)
    try:
        frame, data = watch(target, session, start)
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)
    if frame is None or (target.data_marks and data is None):
        raise RuntimeError(f"{target.name} did not show within {TIMEOUT:g} s")
    return frame, data


def measure(target: Target, runs: int, verbose: bool = True) -> StartTimes:
    """Median-ready times of `runs` starts, after one start that warms the caches."""
    times = StartTimes()
    with tmux_server():
        one_run(target)  # warm the file cache and bytecode, as a second start would be
        for _ in range(runs):
            frame, data = one_run(target)
            times.frames.append(frame)
            if data is not None:
                times.datas.append(data)
            if verbose:
                shown = f", data on every pane {data:.3f} s" if data is not None else ""
                print(f"  {target.name}: first frame {frame:.3f} s{shown}", file=sys.stderr)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--floor", action="store_true",
                        help="time the bare Textual app (bench/floor_app.py) instead")
    parser.add_argument("extra", nargs="*", help="extra arguments for luckytui demo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as log_dir:
        target = floor_target() if args.floor else demo_target(args.extra, log_dir)
        times = measure(target, args.runs)
    line = f"{target.name}: first frame median {times.frame_median:.3f} s"
    if times.data_median is not None:
        line += f" (budget 1.0 s); data on every pane: median {times.data_median:.3f} s"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
