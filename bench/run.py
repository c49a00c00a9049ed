"""Every budget of the design, measured: `make bench`.

    .venv/bin/python bench/run.py [--only first-frame,steady,keys,peer,pg] [--quick]
                                  [--out bench/results.json]

Prints one table (figure, measured, budget, goal, pg_activity's figure where
there is one, verdict) and writes it with the machine it was measured on to
bench/results.json. The parts:

- first-frame: `luckytui demo` in tmux 160x48, process start to first frame and
  to data on every pane, median of 5; beside it the floor, a bare Textual app
  (bench/floor_app.py) timed the same way.
- steady: `luckytui demo --scale large` in a 160x48 pty, after 20 s for every
  pane to fill, CPU (% of one core, the luckytui process alone), bytes written
  to the terminal and RSS over 60 s; then the same with `--frozen` (nothing
  changes, every source still polls).
- keys: on that same settled dashboard, `?` pressed 40 times 0.3-0.7 s apart,
  time until the help screen is drawn (bench/keys.py); beside it the same key
  in the bare Textual app.
- peer: luckytui's DB pane against pg_activity on one PostgreSQL server
  (bench/peer.py's `measure(seconds=60)`).
- pg: server time of luckytui's PostgreSQL queries per refresh at 1,000
  connections (bench/pg_overhead.py's `measure()`).

The memory figures come from the last `make bench-long` (bench/memory.py,
bench/results-long.json), shown with their date. `--only` runs the named parts
and updates just their figures in the results file; `--quick` shortens every
window to check the harness and writes nothing unless `--out` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import first_frame
import keys
from ptyrun import PtyProgram, Window

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
RESULTS_LONG = ROOT / "bench" / "results-long.json"
PARTS = ("first-frame", "steady", "keys", "peer", "pg")
LARGE = ("--scale", "large")
FROZEN = ("--scale", "large", "--frozen")
BUSY_LOAD = 0.5  # a 1-minute load average above this at the start is worth a warning
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # the other bench modules, as bench.peer and bench.pg_overhead


@dataclass(frozen=True)
class Plan:
    """How long each part measures: the full run, or --quick to check the harness."""

    runs: int = 5  # tmux starts per program, after one warm-up
    settle: float = 20.0  # seconds for every pane to fill before measuring
    window: float = 60.0  # seconds measured
    presses: int = 40
    floor_presses: int = 20
    peer_seconds: int = 60


QUICK = Plan(runs=2, settle=5.0, window=10.0, presses=10, floor_presses=5, peer_seconds=10)


@dataclass
class Figure:
    """One measured figure and what the design asks of it (lower is better)."""

    key: str
    what: str
    unit: str
    measured: float | None
    budget: float | None = None
    goal: float | None = None
    pg_activity: float | None = None
    note: str = ""
    date: str | None = None  # when measured, if not by this run
    words: tuple[str, str] = ("met", "NOT MET")  # the verdict within budget, and over it

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return "not measured"
        if self.budget is None:
            return ""
        if self.goal is not None and self.measured <= self.goal:
            return "goal met"
        return self.words[0] if self.measured <= self.budget else self.words[1]

    def as_json(self) -> dict[str, Any]:
        fields = {k: v for k, v in asdict(self).items() if k != "words"}
        return {**fields, "verdict": self.verdict}


@dataclass
class Bench:
    """The state the parts share: the plan, the settled large demo, the raw details."""

    plan: Plan
    parts: set[str]
    log_dir: str
    details: dict[str, Any] = field(default_factory=dict)
    large: PtyProgram | None = None

    def large_demo(self) -> PtyProgram:
        """`demo --scale large`, started and settled once for steady and keys."""
        if self.large is None:
            self.large, _ = first_frame.start_demo(LARGE, self.log_dir)
            self.large.drain(self.plan.settle)
        return self.large

    def release_large(self) -> None:
        if self.large is not None:
            self.large.stop()
            self.large = None


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def shorter(text: str, most: int = 160) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def rounded(values: list[float], digits: int) -> list[float]:
    return [round(v, digits) for v in values]


# first-frame ---------------------------------------------------------------------------------

def first_frame_part(bench: Bench) -> list[Figure]:
    say(f"first frame: luckytui demo and the bare Textual app in tmux 160x48, "
        f"{bench.plan.runs} starts each")
    demo = first_frame.measure(first_frame.demo_target((), bench.log_dir), bench.plan.runs)
    floor = first_frame.measure(first_frame.floor_target(), bench.plan.runs)
    bench.details["first_frame"] = {"demo_s": rounded(demo.frames, 3),
                                    "data_s": rounded(demo.datas, 3),
                                    "floor_s": rounded(floor.frames, 3)}
    runs = f"median of {bench.plan.runs}"
    return [
        Figure("first_frame", "first frame, demo, tmux 160x48", "s", demo.frame_median, 1.0, 0.5,
               note=f"{runs}; floor + 0.1 s = {floor.frame_median + 0.1:.2f} s"),
        Figure("first_frame_floor", "  floor: bare Textual app", "s", floor.frame_median,
               note=f"{runs}; header, 200-row table, footer"),
        Figure("data_every_pane", "data on every pane, demo", "s", demo.data_median, 3.0,
               note=runs),
    ]


# steady --------------------------------------------------------------------------------------

def steady_figures(key: str, what: str, window: Window, plan: Plan,
                   frozen: bool) -> list[Figure]:
    seconds = f"% of one core, over {window.seconds:.0f} s after {plan.settle:g} s to fill"
    cpu_budget, cpu_goal = (1.0, 0.1) if frozen else (5.0, 2.0)
    cpu_note = f"{seconds}; goal ≈ 0 read as ≤ 0.1 %" if frozen else seconds
    kb_budget, kb_goal = (None, None) if frozen else (20.0, 6.0)
    rss_budget, rss_goal = (None, None) if frozen else (200.0, 120.0)
    rss_note = f"at the end of the window, ~{plan.settle + plan.window:.0f} s after start"
    return [
        Figure(f"{key}_cpu", f"CPU, {what}", "%", window.cpu_pct, cpu_budget, cpu_goal,
               note=cpu_note),
        Figure(f"{key}_bytes", f"terminal bytes, {what}", "KB/s", window.bytes_per_s / 1000,
               kb_budget, kb_goal, note=seconds.split(", ", 1)[1]),
        Figure(f"{key}_rss", f"RSS, {what}", "MB", window.rss_mb, rss_budget, rss_goal,
               note=rss_note + ("" if frozen else " (the budget is for 1 h: see memory)")),
    ]


def steady_part(bench: Bench) -> list[Figure]:
    plan = bench.plan
    say(f"steady: demo --scale large, 160x48, {plan.settle:g} s to fill, "
        f"{plan.window:g} s measured")
    window = bench.large_demo().measure(plan.window)
    return steady_figures("steady", "demo large, 160x48", window, plan, frozen=False)


def frozen_part(bench: Bench) -> list[Figure]:
    plan = bench.plan
    bench.release_large()
    say(f"steady: demo --scale large --frozen, {plan.settle:g} s to fill, "
        f"{plan.window:g} s measured")
    program, _ = first_frame.start_demo(FROZEN, bench.log_dir)
    try:
        program.drain(plan.settle)
        window = program.measure(plan.window)
    finally:
        program.stop()
    return steady_figures("frozen", "large, nothing changes", window, plan, frozen=True)


# keys ----------------------------------------------------------------------------------------

def keys_part(bench: Bench) -> list[Figure]:
    plan = bench.plan
    say(f"keys: `?` x{plan.presses} on demo --scale large, then x{plan.floor_presses} "
        f"on the bare Textual app")
    ours = keys.measure_keys(bench.large_demo(), plan.presses)
    bench.release_large()
    floor = keys.run_floor(plan.floor_presses)
    bench.details["keys"] = {"ms": rounded(ours.samples, 1), "unanswered": ours.unanswered,
                             "floor_ms": rounded(floor.samples, 1)}
    n = f"{len(ours.samples)} presses of `?` (help)"
    if ours.unanswered:
        n += f", {ours.unanswered} unanswered"
    return [
        Figure("keys_p50", "key to screen answer p50, large", "ms", ours.p50, note=n),
        Figure("keys_p95", "key to screen answer p95, large", "ms", ours.p95, 50.0, 16.0,
               note=n),
        Figure("keys_max", "key to screen answer max, large", "ms", ours.max, note=n),
        Figure("keys_floor_p95", "  floor: same key, bare Textual, p95", "ms", floor.p95,
               note=f"p50 {floor.p50:.0f} ms over {len(floor.samples)} presses"),
    ]


# peer and pg: the other bench modules -------------------------------------------------------

def call_module(name: str, **kwargs: Any) -> dict[str, Any]:
    """`bench.<name>.measure(**kwargs)`, which must return a dict."""
    measure = getattr(importlib.import_module(f"bench.{name}"), "measure", None)
    if not callable(measure):
        raise RuntimeError(f"bench/{name}.py has no measure()")
    if inspect.iscoroutinefunction(measure):
        raise RuntimeError(f"bench/{name}.py's measure() is a coroutine, not a function")
    try:
        inspect.signature(measure).bind(**kwargs)
    except TypeError as e:
        raise RuntimeError(f"bench/{name}.py's measure{inspect.signature(measure)} "
                           f"cannot be called with {kwargs or 'no arguments'}: {e}") from e
    result = measure(**kwargs)
    if not isinstance(result, dict):
        raise RuntimeError(f"bench/{name}.py's measure() returned {type(result).__name__}")
    return result


def number(result: dict[str, Any], *path: str) -> float:
    value: Any = result
    for step in path:
        if not isinstance(value, dict) or step not in value:
            keys_seen = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise RuntimeError(f"no {'.'.join(path)} in its result (found {keys_seen})")
        value = value[step]
    if not isinstance(value, int | float):
        raise RuntimeError(f"{'.'.join(path)} is not a number: {value!r}")
    return float(value)


def peer_part(bench: Bench) -> list[Figure]:
    say(f"peer: luckytui --panes db beside pg_activity, one PostgreSQL server, "
        f"{bench.plan.peer_seconds} s measured")
    result = call_module("peer", seconds=bench.plan.peer_seconds)
    bench.details["peer"] = result
    ours = {k: number(result, "luckytui", k) for k in ("cpu_pct", "kb_per_s", "rss_mb")}
    theirs = {k: number(result, "pg_activity", k) for k in ("cpu_pct", "kb_per_s", "rss_mb")}
    fair = (f"; x{result.get('ratio_cpu_no_sys')} CPU, x{result.get('ratio_bytes_no_sys')} "
            f"bytes against pg_activity without /proc counters"
            if "ratio_cpu_no_sys" in result else "")
    return [
        Figure("peer_cpu", "DB pane vs pg_activity: CPU", "%",
               ours["cpu_pct"], 2 * theirs["cpu_pct"], theirs["cpu_pct"], theirs["cpu_pct"],
               note=f"x{result.get('ratio_cpu')} pg_activity's{fair}"),
        Figure("peer_bytes", "DB pane vs pg_activity: bytes", "KB/s",
               ours["kb_per_s"], 2 * theirs["kb_per_s"], theirs["kb_per_s"],
               theirs["kb_per_s"], note=f"x{result.get('ratio_bytes')} pg_activity's"),
        Figure("peer_rss", "DB pane vs pg_activity: RSS", "MB", ours["rss_mb"],
               pg_activity=theirs["rss_mb"]),
    ]


def pg_part(bench: Bench) -> list[Figure]:
    say("pg: PostgreSQL server time per refresh at 1,000 connections")
    result = call_module("pg_overhead")
    bench.details["pg"] = result
    theirs = number(result, "pg_activity", "server_ms") if "pg_activity" in result else None
    return [Figure("pg_server_ms", "PG server time a refresh, 1,000 conns", "ms",
                   number(result, "luckytui", "server_ms"), 10.0, 4.0, theirs,
                   note=pg_note(result))]


def pg_note(result: dict[str, Any]) -> str:
    ours = result.get("luckytui", {})
    if "server_ms_default" not in ours:
        return "server time (plan + execute) of luckytui's queries"
    return (f"the activity scan; {ours['server_ms_default']:.2f} ms with the top statements "
            f"every 10 s (the default), {ours.get('server_ms_worst', 0):.2f} ms every refresh")


# the long memory run -------------------------------------------------------------------------

def long_figures() -> list[Figure]:
    """The last `make bench-long`, if there is one, marked with its date."""
    if not RESULTS_LONG.exists():
        return [Figure("memory", "memory over time (bench-long)", "MB", None,
                       note="no bench/results-long.json yet")]
    data = json.loads(RESULTS_LONG.read_text())
    date = data["date"]
    when = f"make bench-long of {date[:10]}, {data['minutes']:g} min"
    hour: tuple[float | None, float | None] = (
        (200.0, 120.0) if data["minutes"] >= 60 else (None, None))  # the budget is after 1 h
    late = (f"; {data['slope_second_half_mb_per_h']:+.1f} MB/h over the second half"
            if data.get("slope_second_half_mb_per_h") is not None else "")
    figures = [
        Figure("memory_rss_1min", "RSS at 1 min, large", "MB", data["rss_1min_mb"], note=when),
        Figure("memory_rss_end", f"RSS at {data['minutes']:g} min, large", "MB",
               data["rss_end_mb"], budget=hour[0], goal=hour[1], note=when),
        Figure("memory_rss_max", "RSS max, large", "MB", data["rss_max_mb"], note=when),
        Figure("memory_slope", "RSS growth after 2 min", "MB/h", data["slope_mb_per_h"], 5.0,
               note=f"least squares; under 5 MB/h is flat{late}; {when}",
               words=("flat", "NOT FLAT")),
        Figure("memory_rss_1h", "RSS at 1 h, projected", "MB", data["projected_1h_mb"],
               200.0, 120.0, note=f"the last sample plus the slope; {when}"),
    ]
    for figure in figures:
        figure.date = date
    return figures


# running and reporting -----------------------------------------------------------------------

Step = Callable[[Bench], list[Figure]]
STEPS: list[tuple[str, str, Step]] = [  # (part, what it measures, how), in running order
    ("first-frame", "first frame", first_frame_part),
    ("steady", "steady CPU and bytes", steady_part),
    ("keys", "key latency", keys_part),
    ("steady", "nothing changes", frozen_part),
    ("peer", "DB pane vs pg_activity", peer_part),
    ("pg", "PostgreSQL server time", pg_part),
]


def run_step(bench: Bench, part: str, what: str, step: Step) -> list[Figure]:
    """One step's figures, or one row saying why it was not measured."""
    started = time.perf_counter()
    try:
        figures = step(bench)
        say(f"  ({time.perf_counter() - started:.0f} s)")
        return figures
    except Exception as e:  # a failed part is reported; the others still run
        reason = shorter(f"{type(e).__name__}: {e}".splitlines()[0])
        say(f"{part}: not measured: {reason}")
        if os.environ.get("BENCH_TRACEBACK"):
            traceback.print_exc()
        bench.release_large()
        return [Figure(f"{part}:{what}", what, "", None, note=reason)]


def run_all(bench: Bench) -> list[Figure]:
    figures: list[Figure] = []
    try:
        for part, what, step in STEPS:
            if part in bench.parts:
                figures += run_step(bench, part, what, step)
    finally:
        bench.release_large()
    return figures


def shown(value: float | None, unit: str) -> str:
    """A measured figure with three significant digits at most (1.23, 12.3, 123)."""
    if value is None:
        return "—"
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:.{digits}f} {unit}".strip()


def limit(value: float | None, unit: str) -> str:
    """A budget or goal, as the design writes it."""
    return "—" if value is None else f"≤ {round(value, 2):g} {unit}".strip()


def table(figures: list[Figure]) -> str:
    head = ("figure", "measured", "budget", "goal", "pg_activity", "verdict")
    rows = [head] + [
        (f.what, shown(f.measured, f.unit), limit(f.budget, f.unit), limit(f.goal, f.unit),
         shown(f.pg_activity, f.unit), f.verdict or "—")
        for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {f.what.strip()}: {f.note}" for f in figures if f.note]
    return "\n".join([*lines, "", "notes:", *notes])


def read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def git_commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in read(Path("/proc/cpuinfo")).splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next((int(line.split()[1]) for line in read(Path("/proc/meminfo")).splitlines()
                   if line.startswith("MemTotal:")), 0)
    release = dict(line.split("=", 1) for line in read(Path("/etc/os-release")).splitlines()
                   if "=" in line)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "os": f"{release.get('PRETTY_NAME', platform.system()).strip(chr(34))}, "
              f"Linux {platform.release()}",
        "python": platform.python_version(),
        "textual": metadata.version("textual"),
        "load_average": [round(x, 2) for x in os.getloadavg()],  # 1, 5, 15 min, at the start
        "commit": git_commit(),
    }


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def save(path: Path, figures: list[Figure], bench: Bench, host: dict[str, Any],
         merge: bool) -> None:
    """Write the figures; with `merge`, keep the figures of the parts not run this time."""
    old = json.loads(path.read_text()) if merge and path.exists() else {}
    stamped = {f.key: {**f.as_json(), "date": f.date or now()} for f in figures}
    kept = {key: figure for key, figure in old.get("figures", {}).items()
            if not key.startswith("memory")}  # read again from results-long.json each run
    results = {
        "machine": host,
        "date": now(),
        "parts": sorted(bench.parts),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "figures": {**kept, **stamped},
        "details": {**old.get("details", {}), **bench.details},
    }
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run (default all: {','.join(PARTS)})")
    parser.add_argument("--quick", action="store_true",
                        help="short windows, to check the harness; writes no results")
    parser.add_argument("--out", type=Path, help=f"results file (default {RESULTS})")
    args = parser.parse_args(argv)
    args.parts = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = args.parts - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {PARTS}")
    return args


@contextmanager
def bench_for(args: argparse.Namespace) -> Iterator[Bench]:
    with tempfile.TemporaryDirectory(prefix="luckytui-bench-") as log_dir:
        yield Bench(QUICK if args.quick else Plan(), args.parts, log_dir)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    host = machine()
    if host["load_average"][0] > BUSY_LOAD:
        say(f"load average {host['load_average'][0]} at the start: other programs are running "
            f"and the figures may read high")
    with bench_for(args) as bench:
        figures = run_all(bench)
    figures += long_figures()
    print(table(figures))
    out = args.out or (None if args.quick else RESULTS)
    if out is not None:
        save(out, figures, bench, host, merge=args.parts != set(PARTS))
        print(f"\nwritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
