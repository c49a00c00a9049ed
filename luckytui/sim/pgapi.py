"""The simulated database's activity, served over HTTP.

The app and the simulation run in separate processes, so the simulated
PostgreSQL is read through this small JSON API instead of a wire protocol.
One request gives what one refresh of the database pane needs: the rows a
scan of `pg_stat_activity` would return (with `pg_blocking_pids` folded in
as `blocked_by` and, for a session waiting on a lock, `pg_locks`' mode and
relation as `lock`), the server's `max_connections`, and the rows of
`pg_stat_statements`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from luckytui.sim.model import DATABASE, Production, SimConnection, SimStatement


def _ts(ts: float | None) -> str | None:
    """A timestamptz as ISO 8601 UTC with microseconds, or None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def activity_row(c: SimConnection) -> dict[str, object]:
    """One row shaped like `pg_stat_activity` plus `blocked_by`."""
    client = c.backend_type == "client backend"
    return {
        "pid": c.pid,
        "datname": c.datname,
        "usename": c.usename or None,
        "application_name": c.application_name,
        "client_addr": c.client_addr,
        "backend_start": _ts(c.backend_start),
        "xact_start": _ts(c.xact_start),
        "query_start": _ts(c.query_start),
        "state_change": _ts(c.state_change) if client else None,
        "wait_event_type": c.wait_event_type,
        "wait_event": c.wait_event,
        "state": c.state,
        "backend_type": c.backend_type,
        "query": c.query,
        "blocked_by": list(c.blocked_by),
        "lock": None if c.lock is None else dict(zip(("mode", "locktype", "relation"), c.lock,
                                                    strict=True)),
    }


def statement_row(s: SimStatement) -> dict[str, object]:
    """One row shaped like `pg_stat_statements` (times in milliseconds)."""
    return {
        "queryid": s.queryid,
        "query": s.query,
        "calls": s.calls,
        "total_exec_time": s.total_exec_time,
        "mean_exec_time": s.mean_exec_time,
        "rows": s.rows,
    }


def _same_start(c: SimConnection, backend_start: object) -> bool:
    """Whether `backend_start` (ISO 8601 text) is this connection's start, to the microsecond."""
    if not isinstance(backend_start, str):
        return False
    try:
        given = datetime.fromisoformat(backend_start.replace("Z", "+00:00"))
    except ValueError:
        return False
    if given.tzinfo is None:
        given = given.replace(tzinfo=UTC)
    started = datetime.fromtimestamp(c.backend_start, UTC)
    return abs((given - started).total_seconds()) < 1e-6


def _no_database(datname: str) -> web.Response:
    return web.json_response({"error": f'database "{datname}" does not exist'}, status=404)


def make_pg_app(model: Production) -> web.Application:
    """The simulated database's API over `model`; 404 for another database.

    - `GET /databases/{datname}/activity`: what the database pane reads;
    - `POST /databases/{datname}/backends/{pid}/cancel` and `.../terminate`, with
      the JSON body `{"backend_start": iso}`: 404 when that pid is gone or is now
      another session (its backend_start differs), else `{"done": bool}`;
    - `GET` / `POST /databases/{datname}/read-only` (`{"read_only": bool}`): the
      database's default_transaction_read_only for new sessions.
    """

    async def activity(request: web.Request) -> web.StreamResponse:
        datname = request.match_info["datname"]
        if datname != DATABASE:
            return web.json_response(
                {"error": f'database "{datname}" does not exist'}, status=404)
        model.sync()
        return web.json_response({
            "max_connections": model.max_connections,
            "now": _ts(model.now),
            "read_only": datname in model.read_only_databases,
            "activity": [activity_row(c) for c in model.connections.values()],
            "statements": [statement_row(s) for s in model.statements],
        })

    async def signal_backend(request: web.Request) -> web.StreamResponse:
        datname = request.match_info["datname"]
        if datname != DATABASE:
            return _no_database(datname)
        try:
            pid = int(request.match_info["pid"])
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "expected a pid and a JSON body"}, status=400)
        if not isinstance(body, dict) or "backend_start" not in body:
            return web.json_response({"error": "backend_start is required"}, status=400)
        model.sync()
        conn = model.connections.get(pid)
        if conn is None or not _same_start(conn, body["backend_start"]):
            return web.json_response({"error": f"no backend {pid} started at "
                                      f"{body['backend_start']}"}, status=404)
        if request.match_info["signal"] == "cancel":
            done = model.cancel_backend(pid)
        else:
            done = model.terminate_backend(pid)
        return web.json_response({"done": done})

    async def read_only(request: web.Request) -> web.StreamResponse:
        datname = request.match_info["datname"]
        if datname != DATABASE:
            return _no_database(datname)
        if request.method == "POST":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("read_only"), bool):
                return web.json_response({"error": "expected {\"read_only\": true|false}"},
                                         status=400)
            model.set_read_only(datname, body["read_only"])
        return web.json_response({"read_only": datname in model.read_only_databases})

    app = web.Application()
    app.router.add_get("/databases/{datname}/activity", activity)
    app.router.add_post(r"/databases/{datname}/backends/{pid}/{signal:cancel|terminate}",
                        signal_backend)
    app.router.add_get("/databases/{datname}/read-only", read_only)
    app.router.add_post("/databases/{datname}/read-only", read_only)
    return app
