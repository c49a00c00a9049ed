"""Time from process start to the first frame, and to data on every pane, in tmux.

    .venv/bin/python bench/first_frame.py [--runs 5] [-- extra luckytui args]

Starts `luckytui demo` in a detached tmux session at 160x48, polls
`capture-pane` every 10 ms, and reports the median time until the dashboard's
frame is drawn and until every pane shows simulated data.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAME_MARK = "1 Pods"
DATA_MARKS = ("luckygas-backend-", "connections (", "MEAN ms", "health", "Alerts", "Timeline")


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True).stdout


def one_run(extra: list[str]) -> tuple[float, float]:
    session = f"luckytui-bench-{time.monotonic_ns()}"
    log = Path(tempfile.mkdtemp()) / "log.sqlite3"
    cmd = " ".join(shlex.quote(a) for a in [str(ROOT / ".venv/bin/luckytui"), "demo",
                                            "--log", str(log), *extra])
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "48", cmd],
                   check=True)
    frame = data = None
    try:
        while time.perf_counter() - start < 30:
            screen = capture(session)
            now = time.perf_counter() - start
            if frame is None and FRAME_MARK in screen:
                frame = now
            if frame is not None and all(m in screen for m in DATA_MARKS) and (
                    "connecting" not in screen):
                data = now
                break
            time.sleep(0.01)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    if frame is None or data is None:
        raise SystemExit("the dashboard did not show within 30 s")
    return frame, data


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    one_run(args.extra)  # warm the file cache and bytecode, as a second start would be
    frames, datas = [], []
    for _ in range(args.runs):
        frame, data = one_run(args.extra)
        frames.append(frame)
        datas.append(data)
        print(f"first frame {frame:.3f} s, data on every pane {data:.3f} s", file=sys.stderr)
    print(f"first frame: median {statistics.median(frames):.3f} s (budget 1.0 s); "
          f"data on every pane: median {statistics.median(datas):.3f} s (budget 3 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
