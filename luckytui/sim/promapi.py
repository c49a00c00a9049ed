"""Prometheus's HTTP API, the part luckytui reads, served from the simulation.

`GET /api/v1/alerts` answers exactly as Prometheus does
(`{"status": "success", "data": {"alerts": [...]}}`, each alert with labels,
annotations, state, activeAt and value), so the alerts source reads the
simulation and a real server through the same code.
"""

from __future__ import annotations

from aiohttp import web

from luckytui.sim.model import Production

BUILD_INFO = {
    "version": "2.42.0",
    "revision": "225c61122d88b01d1f0eaaee0e05b6f3e0567ac0",
    "branch": "HEAD",
    "buildUser": "luckytui@simulation",
    "buildDate": "20230131-12:00:00",
    "goVersion": "go1.19.5",
}


def make_prometheus_app(model: Production) -> web.Application:
    """Prometheus's alerts, readiness and build info endpoints over `model`."""

    async def alerts(request: web.Request) -> web.StreamResponse:
        model.sync()
        return web.json_response({"status": "success", "data": {"alerts": model.alerts()}})

    async def ready(request: web.Request) -> web.StreamResponse:
        return web.Response(text="Prometheus Server is Ready.\n")

    async def healthy(request: web.Request) -> web.StreamResponse:
        return web.Response(text="Prometheus Server is Healthy.\n")

    async def buildinfo(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "success", "data": BUILD_INFO})

    app = web.Application()
    app.router.add_get("/api/v1/alerts", alerts)
    app.router.add_get("/-/ready", ready)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/api/v1/status/buildinfo", buildinfo)
    return app
