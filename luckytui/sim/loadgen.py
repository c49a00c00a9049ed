"""The storyline's database side, played on a real PostgreSQL server.

`LoadGenerator` creates the `luckygas_prod` database (customers, orders,
deliveries; pg_stat_statements) and then keeps the sessions the simulated
production would have, following the model's clock and storyline:

- the backend's connection pool: mostly idle sessions running the workload's
  statements now and then (more often during the surge), one of them
  deliberately slow, so pg_stat_statements has slow statements to show; two
  spare sessions stay idle all along;
- from the start, an order-worker session that forgot its transaction holding
  a row lock, and two sessions waiting on it (a lock pile-up);
- an analytics report (metabase) whose query runs for many minutes;
- from the leak chapter on, one more order-worker session every two seconds
  left idle in transaction, piling up toward max_connections
  (DatabaseConnectionPoolExhausted), until order-worker is rolled out again.

It reacts to the remedies as production would: a terminated session is gone
(the leak keeps opening new ones at its pace while it lasts), a pool session
reconnects a little later, the waiters go on once the lock holder is gone.
A drill with database faults keeps the pool and the report, and plays its
own faults instead of the story's pile-up and leak (pgdrill.py).
The generator connects as the application's roles, never as the superuser
the war room uses, so its statements are not hidden as luckytui's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from luckytui.sim.model import DATABASE, LEAK_QUERY, Production

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from luckytui.sim.pgdrill import DrillSessions, ServerView

log = logging.getLogger(__name__)

APP_ROLE = "luckygas_app"
ANALYTICS_ROLE = "analytics"
LOCKED_ORDER = 88123
POOL_SIZE = 8
POOL_SPARE = 2  # pool sessions that stay idle (terminate-idle's targets after 5 minutes)
TICK_S = 0.25
RECONNECT_S = 5.0
SETUP_SQL = (
    "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, region text NOT NULL)",
    "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, product_id int NOT NULL,"
    " quantity int NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL)",
    "CREATE TABLE deliveries (id int PRIMARY KEY, order_id int NOT NULL, driver text NOT NULL,"
    " delivered_at timestamptz NOT NULL)",
    "INSERT INTO customers SELECT i, 'customer ' || i,"
    " (ARRAY['Taipei','Taichung','Kaohsiung','Tainan','Hsinchu'])[1 + i % 5]"
    " FROM generate_series(1, 2000) AS i",
    "INSERT INTO orders SELECT i, 1 + i % 2000, 20 + i % 7, 1 + i % 3,"
    " (ARRAY['delivered','delivered','delivered','pending'])[1 + i % 4],"
    " now() - (i % 90) * interval '1 day'"
    f" FROM generate_series(1, {LOCKED_ORDER + 2000}) AS i",
    "INSERT INTO deliveries SELECT i, i, 'driver ' || (i % 40),"
    " now() - (i % 72) * interval '1 hour' FROM generate_series(1, 20000) AS i",
    "CREATE SEQUENCE order_ids START 200000",
    "ANALYZE",
)
# the backend's statements: (sql, weight); the last is the slow pricing lookup
WORKLOAD = (
    ("SELECT o.id, o.status, c.name FROM orders AS o JOIN customers AS c"
     " ON c.id = o.customer_id WHERE o.customer_id = %s ORDER BY o.created_at DESC LIMIT 20",
     5),
    ("SELECT c.region, count(*), sum(o.quantity) FROM orders AS o JOIN customers AS c"
     " ON c.id = o.customer_id WHERE o.created_at > now() - interval '30 days'"
     " GROUP BY c.region", 1),
    ("SELECT driver, count(*) FROM deliveries WHERE delivered_at > now() - interval '1 day'"
     " GROUP BY driver", 2),
    ("INSERT INTO orders SELECT nextval('order_ids'), %s, 20, 1, 'pending', now()", 3),
    ("SELECT pg_sleep(0.4), count(*) FROM orders WHERE status = 'pending' AND product_id = %s",
     1),
)
REPORT_SQL = ("SELECT c.region, sum(o.quantity) FROM orders AS o JOIN customers AS c"
              " ON c.id = o.customer_id, pg_sleep(3600) GROUP BY c.region")


def alive(conn: AsyncConnection[Any]) -> bool:
    """The server has not ended this idle session (reads what it sent, never blocks)."""
    if conn.closed:
        return False
    try:
        conn.pgconn.consume_input()
    except Exception:
        return False
    return bool(conn.pgconn.status == 0)  # CONNECTION_OK


class LoadGenerator:
    """The database sessions of the simulated production, on a real server.

    `dsn(database, user)` gives a libpq URL for a role on the server; the
    model is the simulation's, read (and synced) on the same event loop.
    """

    def __init__(self, dsn: Callable[[str, str], str], model: Production,
                 max_connections: int, *, seed: int = 7) -> None:
        self.dsn = dsn
        self.model = model
        self.leak_cap = max_connections - 4  # the superuser's reserved slots stay free
        self.rng = random.Random(seed)
        self.leaked: list[AsyncConnection[Any]] = []
        self.leaks_opened = 0
        self.sessions = 0  # the generator's open connections
        self._tasks: list[asyncio.Task[None]] = []
        self._psycopg: Any = None
        self.drill: DrillSessions | None = None  # a drill's database faults, when played

    async def _connect(self, user: str, app: str, *, autocommit: bool = True,
                       ) -> AsyncConnection[Any]:
        conn: AsyncConnection[Any] = await self._psycopg.AsyncConnection.connect(
            self.dsn(DATABASE, user), autocommit=autocommit, application_name=app,
            connect_timeout=5)
        return conn

    async def setup(self) -> None:
        """Roles, the database, its tables and pg_stat_statements (as the superuser)."""
        import psycopg

        self._psycopg = psycopg
        async with await psycopg.AsyncConnection.connect(
                self.dsn("postgres", "postgres"), autocommit=True) as admin:
            await admin.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
            await admin.execute(f"CREATE ROLE {ANALYTICS_ROLE} LOGIN")
            await admin.execute(f"CREATE DATABASE {DATABASE} OWNER {APP_ROLE}")
        async with await psycopg.AsyncConnection.connect(
                self.dsn(DATABASE, "postgres"), autocommit=True) as admin:
            await admin.execute("CREATE EXTENSION pg_stat_statements")
            await admin.execute(f"SET ROLE {APP_ROLE}")
            for sql in SETUP_SQL:
                await admin.execute(sql)
            await admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ANALYTICS_ROLE}")
            await admin.execute("RESET ROLE")
            await admin.execute("SELECT pg_stat_statements_reset()")  # the workload's alone

    @property
    def psycopg(self) -> Any:
        return self._psycopg

    async def connect(self, app: str, *, autocommit: bool = True) -> AsyncConnection[Any]:
        """A session of the application's role, named `app`."""
        return await self._connect(APP_ROLE, app, autocommit=autocommit)

    def start(self, drill: ServerView | None = None) -> None:
        """The storyline's sessions; with `drill`, the backend's pool and the report, and
        the drill's database faults played for real (pgdrill.py) instead of the story's."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._pool_session(i)) for i in range(POOL_SIZE)]
        self._tasks.append(loop.create_task(self._report()))
        if drill is None:
            self._tasks += [loop.create_task(self._lock_pile_up()),
                            loop.create_task(self._leak())]
            return
        from luckytui.sim.pgdrill import DrillSessions

        self.drill = DrillSessions(self, self.model, drill)
        self._tasks.append(loop.create_task(self.drill.run(TICK_S)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()
        if self.drill is not None:
            await self.drill.stop()
        for conn in self.leaked:
            with contextlib.suppress(Exception):
                await conn.close()
        self.leaked.clear()

    # --- the sessions -------------------------------------------------------------

    async def _pool_session(self, n: int) -> None:
        """A pooled backend connection: idle mostly, a statement now and then."""
        queries = [q for q, _ in WORKLOAD]
        weights = [w for _, w in WORKLOAD]
        await asyncio.sleep(n * 0.1)
        while True:
            try:
                async with await self._connect(APP_ROLE, "luckygas-backend") as conn:
                    self.sessions += 1
                    try:
                        while n >= POOL_SIZE - POOL_SPARE and alive(conn):  # noqa: ASYNC110
                            await asyncio.sleep(1.0)  # a spare: idle until someone ends it
                        while True:
                            self.model.sync()
                            # ~2.5 statements a second over the pool, more in the surge
                            pause = POOL_SIZE / (2.5 * max(0.2, self.model.load_factor()))
                            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * pause)
                            sql = self.rng.choices(queries, weights)[0]
                            params = (self.rng.randint(1, 2000),) if "%s" in sql else ()
                            await conn.execute(sql, params)
                    finally:
                        self.sessions -= 1
            except self._psycopg.Error as exc:
                log.debug("pool session %d: %s", n, exc)
            await asyncio.sleep(RECONNECT_S)  # the pool opens a new one later

    async def _lock_pile_up(self) -> None:
        """order-worker forgot a transaction holding order 88123's row; two wait on it."""
        holder = await self._connect(APP_ROLE, "order-worker", autocommit=False)
        self.sessions += 1
        try:
            await holder.execute(
                f"UPDATE orders SET status = 'processing' WHERE id = {LOCKED_ORDER}")
            waiters = [asyncio.create_task(self._waiter()) for _ in range(2)]
            try:
                while alive(holder):  # idle in transaction until someone ends it  # noqa: ASYNC110
                    await asyncio.sleep(TICK_S)
                await asyncio.gather(*waiters, return_exceptions=True)
            finally:
                for w in waiters:
                    w.cancel()
        finally:
            self.sessions -= 1
            with contextlib.suppress(Exception):
                await holder.close()

    async def _waiter(self) -> None:
        try:
            async with await self._connect(APP_ROLE, "order-worker") as conn:
                self.sessions += 1
                try:
                    await conn.execute(
                        f"UPDATE orders SET status = 'delivered' WHERE id = {LOCKED_ORDER}")
                    await asyncio.Event().wait()  # done: it stays in the pool, idle
                finally:
                    self.sessions -= 1
        except self._psycopg.Error as exc:
            log.debug("lock waiter: %s", exc)

    async def _report(self) -> None:
        """The analytics report that runs for an hour (the plan's long query)."""
        try:
            async with await self._connect(ANALYTICS_ROLE, "metabase") as conn:
                self.sessions += 1
                try:
                    await conn.execute(REPORT_SQL)
                finally:
                    self.sessions -= 1
        except self._psycopg.Error as exc:
            log.debug("analytics report: %s", exc)

    async def _leak(self) -> None:
        """One more idle-in-transaction order-worker session every 2 s of the leak."""
        while True:
            await asyncio.sleep(TICK_S)
            self.model.sync()
            ended = [c for c in self.leaked if not alive(c)]
            for conn in ended:  # terminated: gone for good
                self.leaked.remove(conn)
                self.sessions -= 1
                with contextlib.suppress(Exception):
                    await conn.close()
            if not self.model.leak_active:
                if self.leaks_opened and self.leaked:  # fresh pods: the leaking ones retire
                    for conn in self.leaked:
                        with contextlib.suppress(Exception):
                            await conn.close()
                    self.sessions -= len(self.leaked)
                    self.leaked.clear()
                continue
            due = int((self.model.elapsed - self.model.leak_since) / self.model.leak_every) + 1
            if self.model.leak_left is not None:
                due = min(due, self.leaks_opened + self.model.leak_left + 1)
            while self.leaks_opened < due and self.sessions < self.leak_cap:
                self.leaks_opened += 1
                try:
                    conn = await self._connect(APP_ROLE, "order-worker", autocommit=False)
                    await conn.execute(LEAK_QUERY)
                except self._psycopg.Error as exc:
                    log.debug("leak: %s", exc)
                    break
                self.leaked.append(conn)
                self.sessions += 1
