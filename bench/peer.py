"""luckytui's database pane against pg_activity: same server, terminal size and refresh.

    .venv/bin/python bench/peer.py [--seconds 60] [--settle 10] [--idle 300] [--busy 20] [--long 5]

Starts a private PostgreSQL (bench/pgserver.py), opens `--idle` idle sessions
and `--busy` busy ones (pg_sleep and short CPU queries in a loop, idle
pauses between, so the active list changes between refreshes; `--long` of
them run 70-150 s queries instead, started 8 s apart, so that luckytui's
long-running table, which lists sessions busy for over a minute, gains and
loses rows while measured, as pg_activity's list does), then runs, at
the same time and each in a 160x48 pty of its own (TERM=xterm-256color,
COLORTERM=truecolor), all with a 2 s refresh, connected over TCP to the same
server as the superuser:

- `pg_activity --refresh 2 -h H -p P -U postgres -d DB` as root, its
  defaults: on the server's host it also reads the backends' CPU, memory
  and I/O from /proc (what a DBA running it on the box sees);
- the same pg_activity as the `nobody` user (`setpriv`; only when we are
  root), which cannot read the postmaster's pid file, so it shows the
  database's view alone, as from another host: the fair peer of the DB
  pane, which reads no /proc;
- `luckytui --dsn ... --panes db --refresh 2 --log PATH` (the DB pane alone)
  and `--panes db,slow` (with the slow-statements pane).

They settle `--settle` s (with long queries: until the first one is past a
minute, ~65 s after the sessions open), then each one's CPU (user + system
of its own process), bytes written to its terminal and RSS are measured over
the same `--seconds`. pg_activity runs from a virtualenv of its own, made on
first use from bench/requirements.txt (see `peer_venv`). The terminal answers
cursor position reports (see `drain_all`) and no other query.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from pgserver import DATABASE, SERVER_USER, PgCluster, Traffic, bench_cluster, on_signals_cleanup  # noqa: E402
from ptyrun import PtyProgram, Window, cpu_seconds, rss_mb  # noqa: E402

REQUIREMENTS = ROOT / "bench" / "requirements.txt"
COLS, ROWS, REFRESH = 160, 48, 2
LUCKYTUI = ROOT / ".venv" / "bin" / "luckytui"
# what each program shows once its first data is on screen
PGA_MARK = b"RUNNING QUERIES"
LUCKYTUI_MARK = b"connections ("
CPR, CPR_ANSWER = b"\x1b[6n", b"\x1b[1;1R"
LONG_RUNNING_S = 60  # luckytui lists a session in its table past one minute
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def peer_venv(quiet: bool = True) -> Path:
    """The peer's virtualenv, made (python -m venv; pip install -r) unless it is up to date.

    It lives in build/peer-venv (build/ is ignored by git), or where
    $LUCKYTUI_PEER_VENV says; it is remade when bench/requirements.txt changes.
    """
    venv = Path(os.environ.get("LUCKYTUI_PEER_VENV") or ROOT / "build" / "peer-venv")
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = venv / ".requirements-sha256"
    if (venv / "bin" / "pg_activity").exists() and stamp.exists() and stamp.read_text() == want:
        return venv
    print(f"making the peer's virtualenv in {venv} from {REQUIREMENTS.name}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install",
                    "--disable-pip-version-check", *(["-q"] if quiet else []),
                    "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(want)
    return venv


def pg_activity_version(venv: Path) -> str:
    out = subprocess.run([str(venv / "bin" / "pg_activity"), "--version"], capture_output=True,
                         text=True, check=True)
    return out.stdout.split()[-1]


def pg_activity_argv(venv: Path, cluster: PgCluster, user: str = SERVER_USER,
                     refresh: float = REFRESH) -> list[str]:
    return [str(venv / "bin" / "pg_activity"), "--refresh", f"{refresh:g}",
            "-h", cluster.host, "-p", str(cluster.port), "-U", user, "-d", DATABASE]


def luckytui_argv(cluster: PgCluster, panes: str, log: Path) -> list[str]:
    return [str(LUCKYTUI), "--dsn", cluster.dsn(DATABASE), "--panes", panes,
            "--refresh", str(REFRESH), "--log", str(log)]


def isolated_env(home: Path) -> dict[str, str]:
    """No user's configuration reaches the programs (theirs or luckytui's)."""
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "LUCKYTUI_CONFIG": "",
            "PGPASSFILE": os.devnull, "PGSERVICEFILE": os.devnull}


class Ended(RuntimeError):
    """A measured program exited before its time."""


def _tail(prog: PtyProgram) -> str:
    return bytes(prog.output[-600:]).decode(errors="replace")


def drain_all(progs: Mapping[str, PtyProgram], seconds: float) -> None:
    """Read every program's terminal for `seconds`, so none is ever blocked on a full pty.

    Like any terminal, answer the cursor position report (ESC [ 6 n): blessed,
    pg_activity's terminal library, sends one after each of its start-up probes
    and waits 5 s for it before giving up (no other query is answered).
    """
    end = time.perf_counter() + seconds
    while (left := end - time.perf_counter()) > 0:
        by_fd = {p.fd: (name, p) for name, p in progs.items()}
        ready, _, _ = select.select(list(by_fd), [], [], min(0.05, left))
        for fd in ready:
            name, prog = by_fd[fd]
            got = prog.pump(0)
            if got == 0:  # readable yet nothing: the program is gone
                raise Ended(f"{name} ended; its last output:\n{_tail(prog)}")
            # a query that ends in this chunk starts at most len(CPR) - 1 bytes before it
            for _ in range(bytes(prog.output[-(got + len(CPR) - 1):]).count(CPR)):
                prog.send(CPR_ANSWER)


def wait_all(progs: Mapping[str, PtyProgram], marks: Mapping[str, bytes],
             timeout: float) -> dict[str, float]:
    """Seconds until each program's mark shows (reading all of them meanwhile)."""
    start = time.perf_counter()
    for prog in progs.values():
        prog.output.clear()
    seen: dict[str, float] = {}
    while len(seen) < len(progs):
        if time.perf_counter() - start > timeout:
            late = [name for name in progs if name not in seen]
            raise TimeoutError(f"no first data within {timeout:g} s from {', '.join(late)}: "
                               + "; ".join(f"{n}: {_tail(progs[n])!r}" for n in late))
        drain_all(progs, 0.05)
        for name, prog in progs.items():
            if name not in seen and marks[name] in prog.output:
                seen[name] = time.perf_counter() - start
    return seen


def measure_all(progs: Mapping[str, PtyProgram], seconds: float) -> dict[str, Window]:
    """Each program's CPU, terminal bytes and RSS over the same `seconds`."""
    before = {name: (cpu_seconds(p.pid), p.total) for name, p in progs.items()}
    start = time.perf_counter()
    drain_all(progs, seconds)
    elapsed = time.perf_counter() - start
    return {name: Window(elapsed, cpu_seconds(p.pid) - before[name][0],
                         p.total - before[name][1], rss_mb(p.pid))
            for name, p in progs.items()}


@contextlib.contextmanager
def running(programs: Mapping[str, PtyProgram]) -> Iterator[dict[str, PtyProgram]]:
    """Start them all; stop every one that started, whatever happens."""
    started: dict[str, PtyProgram] = {}
    try:
        for name, prog in programs.items():
            started[name] = prog.start()
        yield started
    finally:
        for prog in started.values():
            prog.stop()


def _figures(window: Window) -> dict[str, float]:
    return {"cpu_pct": round(window.cpu_pct, 2), "kb_per_s": round(window.bytes_per_s / 1000, 2),
            "rss_mb": round(window.rss_mb, 1)}


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 2) if theirs else None


def measure(seconds: int = 60, *, settle: float = 10.0, idle: int = 300, busy: int = 20,
            long: int = 5) -> dict[str, Any]:
    """pg_activity and luckytui's DB pane, side by side on one server under traffic.

    With `long` > 0, measuring starts once the first long query is past
    luckytui's one-minute long-running mark (so ~65 s after the sessions
    open, whatever `settle` says), for its table to have rows then.
    """
    venv = peer_venv()
    version = pg_activity_version(venv)
    home = Path(tempfile.mkdtemp(prefix="luckytui-peer-"))
    home.chmod(0o755)  # pg_activity as nobody looks for its configuration there
    try:
        with (on_signals_cleanup(),
              bench_cluster(max_connections=max(400, idle + busy + 50)) as cluster,
              Traffic(cluster.dsn(DATABASE), idle=idle, busy=busy, long=long) as traffic):
            env = isolated_env(home)
            argv = {"pg_activity": pg_activity_argv(venv, cluster)}
            if os.geteuid() == 0:  # another user, who cannot read the server's files
                argv["pg_activity_no_sys"] = [*AS_NOBODY, *pg_activity_argv(venv, cluster)]
            argv["luckytui"] = luckytui_argv(cluster, "db", home / "db.sqlite3")
            argv["luckytui_db_slow"] = luckytui_argv(cluster, "db,slow", home / "db-slow.sqlite3")
            programs = {name: PtyProgram(args, COLS, ROWS, env=env) for name, args in argv.items()}
            marks = {name: PGA_MARK if name.startswith("pg_activity") else LUCKYTUI_MARK
                     for name in programs}
            with running(programs) as progs:
                first = wait_all(progs, marks, timeout=60)
                if long:
                    since = time.monotonic() - traffic.started_at
                    settle = max(settle, LONG_RUNNING_S + REFRESH + 3 - since)
                drain_all(progs, settle)
                windows = measure_all(progs, seconds)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    result: dict[str, Any] = {}
    for name, window in windows.items():
        entry: dict[str, Any] = _figures(window)
        entry["first_data_s"] = round(first[name], 2)
        if name.startswith("pg_activity"):
            entry["version"] = version
        else:
            entry["panes"] = "db" if name == "luckytui" else "db,slow"
        entry["argv"] = [a.replace(str(ROOT) + "/", "") for a in argv[name]]
        result[name] = entry
    lucky, pga = windows["luckytui"], windows["pg_activity"]
    result["ratio_cpu"] = _ratio(lucky.cpu_pct, pga.cpu_pct)
    result["ratio_bytes"] = _ratio(lucky.bytes_per_s, pga.bytes_per_s)
    if "pg_activity_no_sys" in windows:
        nosys = windows["pg_activity_no_sys"]
        result["ratio_cpu_no_sys"] = _ratio(lucky.cpu_pct, nosys.cpu_pct)
        result["ratio_bytes_no_sys"] = _ratio(lucky.bytes_per_s, nosys.bytes_per_s)
    result["connections"] = {"idle": idle, "busy": busy, "long": long}
    result["settled_s"] = round(settle, 1)
    result["size"] = f"{COLS}x{ROWS}"
    result["refresh_s"] = REFRESH
    result["seconds"] = round(lucky.seconds, 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="the measured stretch")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument("--idle", type=int, default=300, help="idle sessions")
    parser.add_argument("--busy", type=int, default=20, help="sessions running queries")
    parser.add_argument("--long", type=int, default=5,
                        help="of the busy sessions, how many run long queries (70-150 s)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON alone")
    args = parser.parse_args()
    try:
        result = measure(args.seconds, settle=args.settle, idle=args.idle, busy=args.busy,
                         long=args.long)
    except KeyboardInterrupt:
        print("interrupted; the server and the programs are stopped", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['size']}, refresh {result['refresh_s']} s, "
          f"{result['connections']['idle']} idle + {result['connections']['busy']} busy "
          f"sessions ({result['connections']['long']} of them in long queries), "
          f"measured over {result['seconds']} s after {result['settled_s']} s")
    for name in ("pg_activity", "pg_activity_no_sys", "luckytui", "luckytui_db_slow"):
        if name not in result:
            continue
        r = result[name]
        print(f"  {name:<19} {r['cpu_pct']:5.2f} % CPU  {r['kb_per_s']:6.2f} KB/s  "
              f"{r['rss_mb']:5.1f} MB RSS  (first data {r['first_data_s']:.1f} s)")
        print(f"  {'':<19} {' '.join(r['argv'])}")
    print(f"luckytui (db) / pg_activity: CPU x{result['ratio_cpu']}, "
          f"bytes x{result['ratio_bytes']}")
    if "ratio_cpu_no_sys" in result:
        print(f"luckytui (db) / pg_activity without system counters: "
              f"CPU x{result['ratio_cpu_no_sys']}, bytes x{result['ratio_bytes_no_sys']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
