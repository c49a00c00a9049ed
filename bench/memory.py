"""Memory over time at scale: `make bench-long`.

    .venv/bin/python bench/memory.py [--minutes 10] [--every 15] [--out bench/results-long.json]

Runs `luckytui demo --scale large` in a 160x48 pty for `--minutes`, reading its
terminal all along, and samples the luckytui process's RSS every `--every`
seconds. Reports RSS at 1 min, at the end and at its maximum, and the slope of
a least-squares line through the samples taken after the first 2 minutes
(start-up, imports and the first full lists are over by then), in MB per hour.
Memory is called flat when that slope is under 5 MB/h: at that rate an hour
adds less than the run-to-run noise of one sample. The RSS after 1 h is
projected from the last sample along the slope. The slope over the second half
of the run alone is reported too: lower than the whole fit when the growth is
levelling off (a cache or a history filling to its bound), the same when it is
not. Writes bench/results-long.json, which `make bench` shows with its date.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from first_frame import start_demo
from ptyrun import PtyProgram, cpu_seconds, rss_mb
from run import RESULTS_LONG, ROOT, machine, now

LARGE = ("--scale", "large")
FIT_AFTER_MIN = 2.0  # minutes of start-up left out of the fit
FLAT_MB_PER_H = 5.0


@dataclass(frozen=True)
class Sample:
    minutes: float
    rss_mb: float


def sample(program: PtyProgram, started: float, every: float, minutes: float) -> list[Sample]:
    """RSS every `every` s for `minutes`, reading the terminal in between."""
    samples: list[Sample] = []
    end = started + minutes * 60
    while True:
        samples.append(Sample((time.perf_counter() - started) / 60, rss_mb(program.pid)))
        left = end - time.perf_counter()
        if left <= 0:
            return samples
        program.drain(min(every, left))


def slope_per_hour(samples: list[Sample]) -> float | None:
    """Least-squares slope of RSS over time, in MB per hour (None under two samples)."""
    n = len(samples)
    if n < 2:
        return None
    mean_t = sum(s.minutes for s in samples) / n
    mean_r = sum(s.rss_mb for s in samples) / n
    var = sum((s.minutes - mean_t) ** 2 for s in samples)
    cov = sum((s.minutes - mean_t) * (s.rss_mb - mean_r) for s in samples)
    return 60 * cov / var if var else None


def at(samples: list[Sample], minutes: float) -> float:
    """RSS of the sample nearest to `minutes`."""
    return min(samples, key=lambda s: abs(s.minutes - minutes)).rss_mb


def summary(samples: list[Sample], minutes: float, cpu_s: float,
            host: dict[str, Any]) -> dict[str, Any]:
    fitted = [s for s in samples if s.minutes >= FIT_AFTER_MIN]
    slope = slope_per_hour(fitted)
    late = slope_per_hour([s for s in samples if s.minutes >= minutes / 2])
    end = samples[-1]
    projected = (None if slope is None
                 else round(end.rss_mb + slope * max(0.0, 60 - end.minutes) / 60, 1))
    return {
        "date": now(),
        "machine": host,
        "argv": ["luckytui", "demo", *LARGE],
        "minutes": minutes,
        "rss_1min_mb": round(at(samples, 1.0), 1),
        "rss_end_mb": round(end.rss_mb, 1),
        "rss_max_mb": round(max(s.rss_mb for s in samples), 1),
        "slope_mb_per_h": None if slope is None else round(slope, 2),
        "fit_after_min": FIT_AFTER_MIN,
        "fit_samples": len(fitted),
        "slope_second_half_mb_per_h": None if late is None else round(late, 2),
        "flat": slope is not None and abs(slope) < FLAT_MB_PER_H,
        "flat_below_mb_per_h": FLAT_MB_PER_H,
        "projected_1h_mb": projected,
        "cpu_pct_mean": round(100 * cpu_s / (end.minutes * 60), 2) if end.minutes else None,
        "samples": [[round(s.minutes, 2), round(s.rss_mb, 1)] for s in samples],
    }


def run(minutes: float, every: float) -> dict[str, Any]:
    host = machine()  # the load average before the run
    with tempfile.TemporaryDirectory(prefix="luckytui-bench-") as log_dir:
        started = time.perf_counter()
        program, _ = start_demo(LARGE, log_dir)
        try:
            cpu0 = cpu_seconds(program.pid)
            samples = sample(program, started, every, minutes)
            cpu_s = cpu_seconds(program.pid) - cpu0
        finally:
            program.stop()
    return summary(samples, minutes, cpu_s, host)


def report(result: dict[str, Any]) -> str:
    line = (f"RSS, demo --scale large over {result['minutes']:g} min: "
            f"{result['rss_1min_mb']:.1f} MB at 1 min, {result['rss_end_mb']:.1f} MB at the end, "
            f"max {result['rss_max_mb']:.1f} MB; ")
    if result["slope_mb_per_h"] is None:
        return line + f"too short for a slope (it is fitted after {FIT_AFTER_MIN:g} min)"
    verdict = "flat" if result["flat"] else "not flat"
    late = result["slope_second_half_mb_per_h"]
    return line + (f"slope {result['slope_mb_per_h']:+.1f} MB/h after {FIT_AFTER_MIN:g} min "
                   f"({verdict}: under {FLAT_MB_PER_H:g} MB/h is flat), "
                   f"{late:+.1f} MB/h over the second half; projected at 1 h "
                   f"{result['projected_1h_mb']:.1f} MB (budget 200, goal 120)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--out", type=Path, default=RESULTS_LONG)
    args = parser.parse_args()
    result = run(args.minutes, args.every)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"written to {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
