"""Key press to screen answer while every source polls at scale.

    .venv/bin/python bench/keys.py [--presses 40] [--settle 20] [--floor]
                                   [-- extra luckytui args]

Starts `luckytui demo --scale large` in a pty at 160x48, lets every pane fill,
then presses `?` about 40 times, 0.3-0.7 s apart at random so that some presses
land while a refresh is being drawn. A press is answered when the help screen's
first line ("Esc closes", written as one run of text between escape codes)
arrives in the terminal output; Escape then closes it and the dashboard's
repaint (the pods table's "CPU TREND" heading, hidden under the help) confirms
it closed before the next press. `--floor` presses the same key in the bare
Textual app (bench/floor_app.py), whose help modal is built like luckytui's:
what any Textual app pays to answer it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from first_frame import FLOOR_MARK, TIMEOUT, floor_target, start_demo
from ptyrun import PtyProgram

OPEN_KEY = b"?"
CLOSE_KEY = b"\x1b"
ANSWER_MARK = b"Esc closes"  # the help screen's first line
CLOSED_MARK = b"CPU TREND"  # under the help: written again once it has closed
FLOOR_CLOSED_MARK = FLOOR_MARK.encode()  # the floor app's whole screen is written again
ANSWER_TIMEOUT = 5.0
GAP = (0.3, 0.7)  # seconds between presses, drawn at random
AFTER_ESCAPE = 0.2  # ESC followed by another byte sooner is read as alt+key


@dataclass
class KeyLatency:
    """Milliseconds from each answered press to its answer on screen."""

    samples: list[float] = field(default_factory=list)
    unanswered: int = 0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return self.quantile(0.95)

    @property
    def max(self) -> float:
        return max(self.samples)


def press(program: PtyProgram) -> float | None:
    """Open the help screen: milliseconds until it is drawn, None if it never was."""
    program.pump(0.0)  # what was already written does not count
    program.send(OPEN_KEY)
    seconds = program.wait_for(ANSWER_MARK, ANSWER_TIMEOUT)
    return None if seconds is None else seconds * 1000


def close(program: PtyProgram, closed_mark: bytes, rng: random.Random) -> None:
    """Escape out of the help screen, confirm the screen below is back, then pause."""
    program.send(CLOSE_KEY)
    program.wait_for(closed_mark, ANSWER_TIMEOUT)
    program.drain(max(AFTER_ESCAPE, rng.uniform(*GAP)))


def measure_keys(program: PtyProgram, presses: int, closed_mark: bytes = CLOSED_MARK,
                 seed: int = 1) -> KeyLatency:
    """Press `?` `presses` times on a settled screen; Escape after each answer."""
    rng = random.Random(seed)
    latency = KeyLatency()
    for _ in range(presses):
        answered = press(program)
        if answered is None:
            latency.unanswered += 1
        else:
            latency.samples.append(answered)
            program.drain(rng.uniform(*GAP))  # Escape too lands anywhere in a refresh
        close(program, closed_mark, rng)
    if not latency.samples:
        raise RuntimeError("no key press was answered")
    return latency


def run(extra: Sequence[str], presses: int, settle: float) -> KeyLatency:
    """Start the demo, let every pane fill for `settle` s, then time the presses."""
    with tempfile.TemporaryDirectory() as log_dir:
        program, _ = start_demo(extra, log_dir)
        try:
            program.drain(settle)
            return measure_keys(program, presses)
        finally:
            program.stop()


def run_floor(presses: int) -> KeyLatency:
    """The same presses in the bare Textual app: its help modal over a 200-row table."""
    with PtyProgram(floor_target().argv) as program:
        if program.wait_for(FLOOR_CLOSED_MARK, TIMEOUT) is None:
            raise RuntimeError("the floor app drew no frame")
        program.drain(1.0)
        return measure_keys(program, presses, FLOOR_CLOSED_MARK)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--settle", type=float, default=20.0, help="seconds before the first")
    parser.add_argument("--floor", action="store_true",
                        help="press the key in the bare Textual app (bench/floor_app.py)")
    parser.add_argument("extra", nargs="*", default=["--scale", "large"],
                        help="luckytui demo arguments (default: --scale large)")
    args = parser.parse_args()
    latency = (run_floor(args.presses) if args.floor
               else run(args.extra, args.presses, args.settle))
    print(f"key press to screen answer over {len(latency.samples)} presses: "
          f"p50 {latency.p50:.1f} ms, p95 {latency.p95:.1f} ms, max {latency.max:.1f} ms"
          f" ({latency.unanswered} unanswered; budget p95 50 ms, goal 16 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
