"""Prometheus's HTTP API, the part luckytui reads, served from the simulation.

`GET /api/v1/alerts` answers exactly as Prometheus does
(`{"status": "success", "data": {"alerts": [...]}}`, each alert with labels,
annotations, state, activeAt and value), so the alerts source reads the
simulation and a real server through the same code.
"""

from __future__ import annotations

import re

from aiohttp import web

from luckytui.sim.model import Production, SimPod

BUILD_INFO = {
    "version": "2.42.0",
    "revision": "225c61122d88b01d1f0eaaee0e05b6f3e0567ac0",
    "branch": "HEAD",
    "buildUser": "luckytui@simulation",
    "buildDate": "20230131-12:00:00",
    "goVersion": "go1.19.5",
}


TOPK = re.compile(r"^topk\s*\(\s*(\d+)\s*,")


def _bad(message: str) -> web.Response:
    return web.json_response({"status": "error", "errorType": "bad_data", "error": message},
                             status=400)


def _cpu_only(promql: str) -> web.Response | None:
    """The simulation evaluates one query: pod CPU, as the war room asks for it."""
    if "container_cpu_usage_seconds_total" not in promql:
        return _bad("the simulated Prometheus answers only pod CPU queries "
                    "(container_cpu_usage_seconds_total)")
    return None


async def _params(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.method == "POST":
        params.update({k: str(v) for k, v in (await request.post()).items()})
    return params


def _cpu_at(model: Production, pod: SimPod, at: float) -> float:
    """The pod's CPU (millicores) at time `at`, from its trail of the last minutes."""
    back = int(model.now - at)
    if back <= 0 or not pod.cpu_trail:
        return pod.cpu_m
    trail = pod.cpu_trail
    return trail[max(0, len(trail) - 1 - back)]


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

    async def query(request: web.Request) -> web.StreamResponse:
        params = await _params(request)
        error = _cpu_only(params.get("query", ""))
        if error:
            return error
        model.sync()
        at = float(params.get("time") or model.now)
        cpu = [(p, _cpu_at(model, p, at)) for p in model.every_pod().values()]
        top = TOPK.match(params.get("query", "").strip())
        if top:  # topk(N, ...): the N highest, as Prometheus answers it
            cpu = sorted(cpu, key=lambda pc: -pc[1])[:int(top.group(1))]
        result = [{"metric": {"pod": p.name, "namespace": model.namespace},
                   "value": [at, f"{m / 1000:.6f}"]} for p, m in cpu]
        return web.json_response({"status": "success",
                                  "data": {"resultType": "vector", "result": result}})

    async def query_range(request: web.Request) -> web.StreamResponse:
        params = await _params(request)
        error = _cpu_only(params.get("query", ""))
        if error:
            return error
        model.sync()
        try:
            start, end = float(params["start"]), float(params["end"])
            step = max(1.0, float(params["step"]))
        except (KeyError, ValueError):
            return _bad("start, end and step are required numbers")
        times = [start + i * step for i in range(int((end - start) / step) + 1)][-11000:]
        result = []
        for p in model.every_pod().values():
            values = [[t, f"{_cpu_at(model, p, t) / 1000:.6f}"] for t in times
                      if t >= p.created]
            result.append({"metric": {"pod": p.name, "namespace": model.namespace},
                           "values": values})
        return web.json_response({"status": "success",
                                  "data": {"resultType": "matrix", "result": result}})

    app = web.Application()
    for method in ("GET", "POST"):
        app.router.add_route(method, "/api/v1/query", query)
        app.router.add_route(method, "/api/v1/query_range", query_range)
    app.router.add_get("/api/v1/alerts", alerts)
    app.router.add_get("/-/ready", ready)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/api/v1/status/buildinfo", buildinfo)
    return app
