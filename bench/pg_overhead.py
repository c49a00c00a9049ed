"""What luckytui's database pane costs a PostgreSQL server with 1,000 connections.

    .venv/bin/python bench/pg_overhead.py [--connections 1000] [--refreshes 50]

Starts a private PostgreSQL cluster (bench/pgserver.py: the integration tests'
`PgCluster`, with pg_stat_statements tracking planning too), opens `--connections` idle
sessions plus a few active ones (pg_sleep) and lock waiters, fills
pg_stat_statements with `--statements` distinct entries, then runs
`PostgresSource.fetch()` `--refreshes` times and reports:

- server time per refresh: the growth of total_exec_time + total_plan_time of
  the statements luckytui sends (they carry its `/* luckytui */` mark after their first word),
  divided by the number of refreshes, read from pg_stat_statements; once with
  the top statements read on every refresh (the worst case), once with the
  scan alone (the statements are read every 10 s by default);
- client time per fetch (wall clock) and the CPU the process spent on it;
- for scale, the server time of one bare `SELECT count(*) FROM pg_stat_activity`;
- the same server time per refresh for pg_activity (from its own virtualenv,
  see bench/peer.py), run on the same server and sessions in a pty for
  `--pga-refreshes` refreshes at `--pga-refresh` s. It logs in as a role of
  its own (`pga_bench`, a superuser like luckytui's `postgres`), so its
  statements are the ones whose pg_stat_statements `userid` is that role's;
  its refreshes are counted by the calls of its most called statement (each
  of the statements it sends every refresh is called once a refresh), its
  start-up statements left out (counted from its third refresh on). With its
  defaults it reads pg_stat_activity three times a refresh: its session
  counts (with pg_stat_database's totals), its list, and pg_stat_replication.

`measure()` returns the figures as a dict (what `bench/run.py` reads).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from peer import PGA_MARK, drain_all, peer_venv, pg_activity_argv, pg_activity_version, wait_all  # noqa: E402
from pgserver import (  # noqa: E402
    DATABASE,
    PgCluster,
    bench_cluster,
    on_signals_cleanup,
)
from ptyrun import PtyProgram  # noqa: E402

from luckytui.snapshots import DbSnapshot  # noqa: E402
from luckytui.sources.postgres import SQL_MARK, PostgresSource  # noqa: E402

OURS = f"""/* bench */ SELECT sum(calls)::int8, sum(total_exec_time + total_plan_time)
FROM pg_stat_statements WHERE query LIKE '%%{SQL_MARK}%%'"""
PER_STATEMENT = f"""/* bench */ SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60),
       calls, total_exec_time + total_plan_time, total_plan_time
FROM pg_stat_statements WHERE query LIKE '%%{SQL_MARK}%%' ORDER BY 3 DESC"""
REFERENCE = "/* bench-ref */ SELECT count(*) FROM pg_stat_activity"
REFERENCE_STATS = """/* bench */ SELECT calls, total_exec_time + total_plan_time
FROM pg_stat_statements WHERE query LIKE '/* bench-ref */%'"""
DEFAULT_REFRESH_S, DEFAULT_STATEMENTS_S = 2.0, 10.0  # luckytui's refresh, statements_interval
PGA_ROLE = "pga_bench"  # pg_activity's own role: its statements are this userid's
PGA_STATS = f"""/* bench */ SELECT coalesce(max(calls), 0)::int8,
       coalesce(sum(total_exec_time + total_plan_time), 0)::float8
FROM pg_stat_statements WHERE userid = '{PGA_ROLE}'::regrole"""
PGA_PER_STATEMENT = f"""/* bench */ SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60),
       calls, total_exec_time + total_plan_time, total_plan_time
FROM pg_stat_statements WHERE userid = '{PGA_ROLE}'::regrole ORDER BY 3 DESC"""


async def open_sessions(cluster: PgCluster, count: int,
                        parallel: int = 32) -> list[psycopg.AsyncConnection[Any]]:
    from pgserver import open_sessions as open_many

    return await open_many(cluster.dsn(DATABASE), count, parallel=parallel)


def measure_pg_activity(cluster: PgCluster, refreshes: int, refresh: float, warmup: int = 2,
                        cancel: threading.Event | None = None) -> dict[str, Any]:
    """pg_activity's server ms and statements per refresh (blocking: run it in a thread).

    `cancel`, once set, stops it within a quarter of a second (KeyboardInterrupt).
    """

    def until(done: Callable[[], bool], timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while not done() and time.perf_counter() < deadline:
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt("cancelled")
            drain_all(progs, 0.25)  # and look at pg_stat_statements 4 times a second

    venv = peer_venv()
    argv = pg_activity_argv(venv, cluster, user=PGA_ROLE, refresh=refresh)
    with psycopg.connect(cluster.dsn(DATABASE), autocommit=True) as admin:

        def stats() -> tuple[int, float]:
            row = admin.execute(PGA_STATS).fetchone()
            return (int(row[0]), float(row[1])) if row else (0, 0.0)

        def statements() -> int:
            row = admin.execute(f"/* bench */ SELECT count(*) FROM pg_stat_statements "
                                f"WHERE userid = '{PGA_ROLE}'::regrole").fetchone()
            return int(row[0]) if row else 0

        with PtyProgram(argv, 160, 48) as prog:
            progs = {"pg_activity": prog}
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt("cancelled")
            wait_all(progs, {"pg_activity": PGA_MARK}, timeout=60)
            until(lambda: stats()[0] > warmup, 30 + warmup * refresh * 3)
            calls0, server0 = stats()
            kinds0 = statements()
            until(lambda: stats()[0] >= calls0 + refreshes, 30 + refreshes * refresh * 3)
            calls1, server1 = stats()
            kinds1 = statements()
        per_statement = admin.execute(PGA_PER_STATEMENT).fetchall()
    done = max(1, calls1 - calls0)
    return {"ms_per_refresh": (server1 - server0) / done, "refreshes": calls1 - calls0,
            "new_statements": kinds1 - kinds0, "version": pg_activity_version(venv),
            "argv": argv, "per_statement": per_statement}


async def measure_source(source: PostgresSource, admin: psycopg.AsyncConnection[Any],
                  args: argparse.Namespace) -> tuple[float, float, list[float], list[float],
                                                     DbSnapshot]:
    """Server ms and statements per refresh, client wall and CPU ms per fetch."""
    for _ in range(args.warmup):  # connect; read the statement texts once
        snap = await source.fetch()
    calls0, server0 = await (await admin.execute(OURS)).fetchone() or (0, 0.0)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(args.refreshes):
        c0, w0 = time.process_time(), time.perf_counter()
        snap = await source.fetch()
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        await asyncio.sleep(args.pause)
    calls1, server1 = await (await admin.execute(OURS)).fetchone() or (0, 0.0)
    n = args.refreshes
    return (server1 - server0) / n, (calls1 - calls0) / n, wall, cpu, snap


async def run(args: argparse.Namespace, cluster: PgCluster,
              say: Callable[[str], None] = print) -> dict[str, Any]:
    started = time.perf_counter()
    idle = await open_sessions(cluster, args.connections)
    busy = await open_sessions(cluster, args.active + args.waiting + 1)
    admin = await psycopg.AsyncConnection.connect(cluster.dsn(DATABASE), autocommit=True)
    tasks = []
    cancel = threading.Event()  # tells pg_activity's measuring thread to give up
    try:
        for conn in busy[: args.active]:
            tasks.append(asyncio.create_task(conn.execute("SELECT pg_sleep(3600)")))
        blocker, waiters = busy[args.active], busy[args.active + 1:]
        await blocker.execute("BEGIN")
        await blocker.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        for conn in waiters:
            tasks.append(asyncio.create_task(
                conn.execute("UPDATE accounts SET balance = balance - 1 WHERE id = 1")))
        for i in range(1, args.statements + 1):  # distinct shapes: distinct queryids
            await admin.execute("SELECT " + ", ".join(["1"] * i))
        await asyncio.sleep(0.5)
        sessions = len(idle) + len(busy) + 1
        say(f"{sessions} sessions ({args.active} in pg_sleep, {args.waiting} "
            f"waiting on a lock) and {args.statements} extra statements "
            f"in {time.perf_counter() - started:.1f} s")

        n = args.refreshes
        say(f"\n{n} refreshes each; server time = growth of total_exec_time + total_plan_time "
            f"of the statements marked {SQL_MARK} in pg_stat_statements, per refresh")
        luckytui: dict[str, Any] = {}
        for key, label, interval in (
                ("with_statements", "scan + top statements every refresh (worst case)", 0.0),
                ("scan", "scan only (top statements every 10 s: the default)", 3600.0)):
            source = PostgresSource(cluster.dsn(DATABASE), "bench", timeout=10.0,
                                    statements_interval=interval)
            server, statements, wall, cpu, snap = await measure_source(source, admin, args)
            await source.aclose()
            wall.sort()
            luckytui[key] = {"server_ms": server, "statements": statements,
                             "client_ms_median": statistics.median(wall),
                             "client_cpu_ms": statistics.mean(cpu)}
            say(f"\n{label}:\n"
                f"  server time per refresh: {server:.2f} ms ({statements:g} statements a "
                f"refresh)\n"
                f"  client time per fetch: median {statistics.median(wall):.2f} ms, "
                f"p95 {wall[int(0.95 * (len(wall) - 1))]:.2f} ms; "
                f"CPU {statistics.mean(cpu):.2f} ms a fetch")
        say(f"\nsnapshot: {snap.total} client sessions of max_connections "
            f"{snap.max_connections}, counts {snap.counts}, {len(snap.long_running)} "
            f"long-running, {len(snap.statements)} top statements")

        for _ in range(n):
            await admin.execute(REFERENCE)
        ref = await (await admin.execute(REFERENCE_STATS)).fetchone() or (1, 0.0)
        reference_ms = ref[1] / max(1, ref[0])
        say(f"for scale, one bare SELECT count(*) FROM pg_stat_activity: {reference_ms:.2f} ms")
        say("luckytui's statements (all runs, warm-ups included):")
        for query, calls, total, plan in await (await admin.execute(PER_STATEMENT)).fetchall():
            say(f"  {total / calls:7.3f} ms mean (plan {plan / calls:.3f}) x{calls:<4} {query}")

        say(f"\npg_activity, same server and sessions, as the role {PGA_ROLE}, "
            f"{args.pga_refreshes} refreshes at {args.pga_refresh:g} s:")
        try:
            pga = await asyncio.to_thread(measure_pg_activity, cluster, args.pga_refreshes,
                                          args.pga_refresh, cancel=cancel)
        finally:
            cancel.set()
        say(f"  {' '.join(pga['argv']).replace(str(ROOT) + '/', '')}")
        say(f"  server time per refresh: {pga['ms_per_refresh']:.2f} ms over "
            f"{pga['refreshes']} refreshes (pg_activity {pga['version']}; "
            f"{pga['new_statements']} statements new meanwhile)")
        say("  its statements (start-up included):")
        for query, calls, total, plan in pga["per_statement"]:
            say(f"  {total / calls:7.3f} ms mean (plan {plan / calls:.3f}) x{calls:<4} {query}")
    finally:
        cancel.set()
        for conn in busy:
            with contextlib.suppress(Exception):
                await conn.cancel_safe(timeout=5)
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in [*idle, *busy, admin]:
            with contextlib.suppress(Exception):
                await conn.close()

    # luckytui reads the top statements every 10 s: at a 2 s refresh, one refresh in five
    scan, worst = luckytui["scan"]["server_ms"], luckytui["with_statements"]["server_ms"]
    default = scan + (worst - scan) * DEFAULT_REFRESH_S / DEFAULT_STATEMENTS_S
    say(f"\nper refresh: luckytui {scan:.2f} ms (scan), {default:.2f} ms with the top "
        f"statements every {DEFAULT_STATEMENTS_S:g} s at a {DEFAULT_REFRESH_S:g} s refresh, "
        f"{worst:.2f} ms with them every refresh; pg_activity {pga['ms_per_refresh']:.2f} ms")
    return {
        "connections": sessions,
        "luckytui_ms_per_refresh": round(scan, 3),
        "luckytui_default_ms_per_refresh": round(default, 3),
        "luckytui_worst_ms_per_refresh": round(worst, 3),
        "pg_activity_ms_per_refresh": round(pga["ms_per_refresh"], 3),
        "count_pg_stat_activity_ms": round(reference_ms, 3),
        "luckytui": {"server_ms": round(scan, 3), "server_ms_default": round(default, 3),
                     "server_ms_worst": round(worst, 3), "refreshes": n,
                     "statements_per_refresh": luckytui["scan"]["statements"],
                     "client_ms_median": round(luckytui["scan"]["client_ms_median"], 3)},
        "pg_activity": {"server_ms": round(pga["ms_per_refresh"], 3),
                        "refreshes": pga["refreshes"], "refresh_s": args.pga_refresh,
                        "version": pga["version"], "role": PGA_ROLE,
                        "statements": [{"query": q, "calls": c, "mean_ms": round(t / c, 3)}
                                       for q, c, t, _ in pga["per_statement"]]},
    }


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=1000, help="idle sessions")
    parser.add_argument("--active", type=int, default=5, help="sessions in pg_sleep")
    parser.add_argument("--waiting", type=int, default=3, help="sessions waiting on a lock")
    parser.add_argument("--statements", type=int, default=500,
                        help="distinct statements put in pg_stat_statements first")
    parser.add_argument("--refreshes", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between refreshes")
    parser.add_argument("--pga-refreshes", type=int, default=30,
                        help="pg_activity's refreshes measured")
    parser.add_argument("--pga-refresh", type=float, default=1.0,
                        help="pg_activity's --refresh (0.5, 1, 2, 3, 4 or 5)")
    return parser


def measure(connections: int = 1000, refreshes: int = 50, pga_refreshes: int = 30,
            quiet: bool = True) -> dict[str, Any]:
    """Server ms per refresh of luckytui's and pg_activity's queries, one server."""
    args = parser().parse_args([])
    args.connections, args.refreshes, args.pga_refreshes = connections, refreshes, pga_refreshes
    return _measure(args, (lambda _: None) if quiet else print)


def _measure(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    peer_venv()  # made first, if need be: not while a thousand sessions wait
    need = args.connections + args.active + args.waiting + 10
    with on_signals_cleanup(), bench_cluster(max_connections=max(1100, need), track_planning=True,
                                             roles=(PGA_ROLE,)) as cluster:
        return asyncio.run(run(args, cluster, say))


def main() -> int:
    args = parser().parse_args()
    try:
        _measure(args, print)
    except KeyboardInterrupt:
        print("interrupted; the server is stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
