"""The simulated database's activity, served over HTTP.

The app and the simulation run in separate processes, so the simulated
PostgreSQL is read through this small JSON API instead of a wire protocol.
One request gives what one refresh of the database pane needs: the rows a
scan of `pg_stat_activity` would return (with `pg_blocking_pids` folded in
as `blocked_by`), the server's `max_connections`, and the rows of
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


def make_pg_app(model: Production) -> web.Application:
    """`GET /databases/{datname}/activity` over `model`; 404 for another database."""

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

    app = web.Application()
    app.router.add_get("/databases/{datname}/activity", activity)
    return app
