"""What luckytui's database pane costs a PostgreSQL server with 1,000 connections.

    .venv/bin/python bench/pg_overhead.py [--connections 1000] [--refreshes 50]

Starts a private PostgreSQL cluster (the integration tests' `PgCluster`, with
pg_stat_statements tracking planning too), opens `--connections` idle
sessions plus a few active ones (pg_sleep) and lock waiters, fills
pg_stat_statements with `--statements` distinct entries, then runs
`PostgresSource.fetch()` `--refreshes` times and reports:

- server time per refresh: the growth of total_exec_time + total_plan_time of
  the statements luckytui sends (they start with its `/* luckytui */` mark),
  divided by the number of refreshes, read from pg_stat_statements; once with
  the top statements read on every refresh (the worst case), once with the
  scan alone (the statements are read every 10 s by default);
- client time per fetch (wall clock) and the CPU the process spent on it;
- for scale, the server time of one bare `SELECT count(*) FROM pg_stat_activity`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from luckytui.snapshots import DbSnapshot  # noqa: E402
from luckytui.sources.postgres import SQL_MARK, PostgresSource  # noqa: E402
from tests.integration.pg import DATABASE, PgCluster, private_cluster  # noqa: E402

OURS = f"""/* bench */ SELECT sum(calls)::int8, sum(total_exec_time + total_plan_time)
FROM pg_stat_statements WHERE query LIKE '{SQL_MARK}%%'"""
PER_STATEMENT = f"""/* bench */ SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60),
       calls, total_exec_time + total_plan_time, total_plan_time
FROM pg_stat_statements WHERE query LIKE '{SQL_MARK}%%' ORDER BY 3 DESC"""
REFERENCE = "/* bench-ref */ SELECT count(*) FROM pg_stat_activity"
REFERENCE_STATS = """/* bench */ SELECT calls, total_exec_time + total_plan_time
FROM pg_stat_statements WHERE query LIKE '/* bench-ref */%'"""


async def open_sessions(cluster: PgCluster, count: int,
                        parallel: int = 32) -> list[psycopg.AsyncConnection[Any]]:
    gate = asyncio.Semaphore(parallel)

    async def one(i: int) -> psycopg.AsyncConnection[Any]:
        async with gate:
            conn = await psycopg.AsyncConnection.connect(
                cluster.dsn(DATABASE), autocommit=True, application_name=f"app-{i % 20}")
            await conn.execute("SELECT 1")
            return conn

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def measure(source: PostgresSource, admin: psycopg.AsyncConnection[Any],
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


async def run(args: argparse.Namespace, cluster: PgCluster) -> None:
    started = time.perf_counter()
    idle = await open_sessions(cluster, args.connections)
    busy = await open_sessions(cluster, args.active + args.waiting + 1)
    tasks = []
    for conn in busy[: args.active]:
        tasks.append(asyncio.create_task(conn.execute("SELECT pg_sleep(3600)")))
    blocker, waiters = busy[args.active], busy[args.active + 1:]
    await blocker.execute("BEGIN")
    await blocker.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
    for conn in waiters:
        tasks.append(asyncio.create_task(
            conn.execute("UPDATE accounts SET balance = balance - 1 WHERE id = 1")))
    admin = await psycopg.AsyncConnection.connect(cluster.dsn(DATABASE), autocommit=True)
    for i in range(1, args.statements + 1):  # distinct shapes: distinct queryids
        await admin.execute("SELECT " + ", ".join(["1"] * i))
    await asyncio.sleep(0.5)
    print(f"{len(idle) + len(busy) + 1} sessions ({args.active} in pg_sleep, {args.waiting} "
          f"waiting on a lock) and {args.statements} extra statements "
          f"in {time.perf_counter() - started:.1f} s")

    n = args.refreshes
    print(f"\n{n} refreshes each; server time = growth of total_exec_time + total_plan_time "
          f"of the statements marked {SQL_MARK} in pg_stat_statements, per refresh")
    for label, interval in (("scan + top statements every refresh (worst case)", 0.0),
                            ("scan only (top statements every 10 s: the default)", 3600.0)):
        source = PostgresSource(cluster.dsn(DATABASE), "bench", timeout=10.0,
                                statements_interval=interval)
        server, statements, wall, cpu, snap = await measure(source, admin, args)
        await source.aclose()
        wall.sort()
        print(f"\n{label}:\n"
              f"  server time per refresh: {server:.2f} ms ({statements:g} statements a refresh)\n"
              f"  client time per fetch: median {statistics.median(wall):.2f} ms, "
              f"p95 {wall[int(0.95 * (len(wall) - 1))]:.2f} ms; "
              f"CPU {statistics.mean(cpu):.2f} ms a fetch")
    print(f"\nsnapshot: {snap.total} client sessions of max_connections {snap.max_connections}, "
          f"counts {snap.counts}, {len(snap.long_running)} long-running, "
          f"{len(snap.statements)} top statements")

    for _ in range(n):
        await admin.execute(REFERENCE)
    ref = await (await admin.execute(REFERENCE_STATS)).fetchone() or (1, 0.0)
    print(f"for scale, one bare SELECT count(*) FROM pg_stat_activity: "
          f"{ref[1] / max(1, ref[0]):.2f} ms")
    print("luckytui's statements (all runs, warm-ups included):")
    for query, calls, total, plan in await (await admin.execute(PER_STATEMENT)).fetchall():
        print(f"  {total / calls:7.3f} ms mean (plan {plan / calls:.3f}) x{calls:<4} {query}")

    for conn in busy:
        await conn.cancel_safe()
    await asyncio.gather(*tasks, return_exceptions=True)
    for conn in [*idle, *busy, admin]:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=1000, help="idle sessions")
    parser.add_argument("--active", type=int, default=5, help="sessions in pg_sleep")
    parser.add_argument("--waiting", type=int, default=3, help="sessions waiting on a lock")
    parser.add_argument("--statements", type=int, default=500,
                        help="distinct statements put in pg_stat_statements first")
    parser.add_argument("--refreshes", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between refreshes")
    args = parser.parse_args()
    need = args.connections + args.active + args.waiting + 10
    with private_cluster(max_connections=max(1100, need), track_planning=True) as cluster:
        asyncio.run(run(args, cluster))
    return 0


if __name__ == "__main__":
    sys.exit(main())
