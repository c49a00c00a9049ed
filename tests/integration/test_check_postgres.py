"""`luckytui check --json` against a real PostgreSQL: its numbers are pg_stat_activity's."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.integration.pg import DATABASE, PgCluster, postgres  # noqa: F401
from tests.integration.test_postgres import client_pids, direct, sessions, until

ROOT = Path(__file__).resolve().parents[2]


async def test_check_json_equals_pg_stat_activity(postgres: PgCluster) -> None:  # noqa: F811
    async with sessions(postgres) as made:
        checker = await made.connect()

        async def quiet() -> bool:
            return not await client_pids(checker)
        await until(quiet, "earlier sessions to end")
        for conn in [await made.connect() for _ in range(3)]:
            await conn.execute("SELECT 1")
        sleeper, in_tx, blocker, waiter = [await made.connect() for _ in range(4)]
        made.start(sleeper, "SELECT pg_sleep(600)")
        await in_tx.execute("BEGIN")
        await in_tx.execute("SELECT 1")
        await blocker.execute("BEGIN")
        await blocker.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        made.start(waiter, "UPDATE accounts SET balance = balance - 1 WHERE id = 1")

        async def parked() -> bool:
            states = await client_pids(checker)
            return (states.get(waiter.info.backend_pid, (None, None))[1] == "Lock"
                    and states.get(sleeper.info.backend_pid, (None,))[0] == "active")
        await until(parked, "the sleeper to run and the waiter to wait")

        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "luckytui", "check", "--json", "--dsn",
            postgres.dsn(DATABASE), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        expected = await direct(checker, None)  # the checker counts, as an idle session

    assert proc.returncode == 0, err.decode()
    pg = json.loads(out)["sources"]["postgresql"]
    assert pg["ok"] is True and pg["database"] == DATABASE
    assert pg["max_connections"] == expected.max_connections
    counts = {k: v for k, v in pg["connections"].items() if k != "total"}
    assert counts == expected.counts
    assert pg["connections"]["total"] == expected.total
    assert expected.counts["waiting"] == 1 and expected.counts["idle in transaction"] == 2
