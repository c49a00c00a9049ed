"""The LuckyGas HTTP API, served from the simulation model.

Each request advances the model to its clock, asks it what this endpoint
answers right now (status and latency), waits that latency for real, and
answers a small JSON body. Login hands out bearer tokens that expire, so a
client has to renew them as it would against production.

Latency draws come from this app's own generator, seeded from the model's
seed, so serving requests never disturbs the model's sequence of draws.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from luckytui.sim.metrics import exposition
from luckytui.sim.model import DATABASE, Production, SimEndpoint

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TOKEN_TTL_S = 900.0  # 15 minutes, as the LuckyGas backend issues them


def _error(status: int, detail: str, **headers: str) -> web.Response:
    return web.json_response({"detail": detail}, status=status, headers=headers or None)


class _Api:
    """The state behind one served API: tokens, draws, order ids."""

    def __init__(self, model: Production, email: str, password: str, token_ttl_s: float,
                 latency_scale: float) -> None:
        self.model = model
        self.email = email
        self.password = password
        self.token_ttl_s = token_ttl_s
        self.latency_scale = latency_scale
        self.rng = random.Random(f"luckygas-api/{model.seed}")
        self.tokens: dict[str, float] = {}  # token -> expiry, model clock seconds
        self.next_order_id = 100_000

    # --- helpers ----------------------------------------------------------------

    def backend_up(self) -> bool:
        now = self.model.now
        return any(p.deployment == "luckygas-backend" and p.ready(now)
                   for p in self.model.pods.values())

    def authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        expiry = self.tokens.get(token.strip())
        if expiry is None:
            return False
        if self.model.clock() >= expiry:
            del self.tokens[token.strip()]
            return False
        return True

    def issue_token(self) -> str:
        now = self.model.clock()
        for tok in [t for t, exp in self.tokens.items() if exp <= now]:
            del self.tokens[tok]
        token = secrets.token_urlsafe(32)
        self.tokens[token] = now + self.token_ttl_s
        return token

    async def answer(self, ep: SimEndpoint) -> tuple[int, float]:
        """Sync the model, draw this request's answer and wait its latency."""
        self.model.sync()
        status, latency_ms = self.model.endpoint_response(ep, self.rng.random())
        await asyncio.sleep(max(0.0, latency_ms) * self.latency_scale / 1000.0)
        return status, latency_ms

    @staticmethod
    async def json_body(request: web.Request) -> tuple[Any, web.Response | None]:
        """The request's JSON body, or the 400 answer to send instead."""
        raw = await request.read()
        if not raw.strip():
            return None, None
        try:
            return json.loads(raw), None
        except (ValueError, UnicodeDecodeError):
            return None, _error(400, "request body is not valid JSON")

    # --- handlers ---------------------------------------------------------------

    def handler(self, ep: SimEndpoint) -> Handler:
        if ep.group == "site":
            return self.make_health(ep)
        if ep.group == "login":
            return self.make_login(ep)
        if ep.group == "orders":
            return self.make_orders(ep)
        return self.make_read(ep)

    def make_health(self, ep: SimEndpoint) -> Handler:
        async def health(request: web.Request) -> web.StreamResponse:
            await self.answer(ep)
            return web.json_response({"status": "ok"})
        return health

    def make_login(self, ep: SimEndpoint) -> Handler:
        async def login(request: web.Request) -> web.StreamResponse:
            status, _ = await self.answer(ep)
            if not self.backend_up():
                return _error(503, "no healthy upstream")
            if status >= 400:
                return _error(status, "login is unavailable")
            body, bad = await self.json_body(request)
            if bad is not None:
                return bad
            if not isinstance(body, dict):
                return _error(422, "expected a JSON object with email and password")
            source = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
            if source in self.model.logins.blocked:
                return _error(403, "source address blocked")
            email, password = body.get("email"), body.get("password")
            if not isinstance(email, str) or not isinstance(password, str):
                return _error(422, "email and password are required strings")
            if not (secrets.compare_digest(email.encode(), self.email.encode())
                    and secrets.compare_digest(password.encode(), self.password.encode())):
                return _error(401, "Incorrect email or password",
                              **{"WWW-Authenticate": "Bearer"})
            return web.json_response({
                "access_token": self.issue_token(),
                "token_type": "bearer",
                "expires_in": int(self.token_ttl_s),
            })
        return login

    def make_orders(self, ep: SimEndpoint) -> Handler:
        async def orders(request: web.Request) -> web.StreamResponse:
            self.model.sync()
            if not self.backend_up():
                await self.answer(ep)
                return _error(503, "no healthy upstream")
            if not self.authorised(request):
                return _error(401, "Not authenticated", **{"WWW-Authenticate": "Bearer"})
            body, bad = await self.json_body(request)
            if bad is not None:
                return bad
            if body is not None and not isinstance(body, dict):
                return _error(422, "expected a JSON object")
            status, _ = await self.answer(ep)
            if status >= 400:
                self.model.orders_failed += 1
                if DATABASE in self.model.read_only_databases:
                    return _error(status, "cannot execute INSERT in a read-only transaction")
                return _error(status, "orders are unavailable")
            self.model.orders_created += 1
            self.next_order_id += 1
            return web.json_response({"id": self.next_order_id, "status": "pending"},
                                     status=201)
        return orders

    def make_read(self, ep: SimEndpoint) -> Handler:
        resource = ep.name.rpartition("/")[2]

        async def read(request: web.Request) -> web.StreamResponse:
            self.model.sync()
            if not self.backend_up():
                await self.answer(ep)
                return _error(503, "no healthy upstream")
            if not self.authorised(request):
                return _error(401, "Not authenticated", **{"WWW-Authenticate": "Bearer"})
            status, latency_ms = await self.answer(ep)
            if status >= 400:
                return _error(status, f"{resource} is unavailable")
            if ep.group == "analytics":
                return web.json_response({
                    "report": resource,
                    "took_ms": round(latency_ms, 1),
                    "orders_created": self.model.orders_created,
                    "series": [round(self.rng.uniform(80, 120), 1) for _ in range(6)],
                })
            return web.json_response({"items": [], "total": 0, "resource": resource})
        return read


def make_api_app(model: Production, email: str, password: str, *,
                 token_ttl_s: float = TOKEN_TTL_S,
                 latency_scale: float = 1.0) -> web.Application:
    """The LuckyGas API over `model`.

    `email` and `password` are the one account that can log in; tokens live
    `token_ttl_s` seconds of the model's clock. `latency_scale` multiplies the
    time actually waited (tests use a small one; 1.0 is the modelled latency).
    """
    api = _Api(model, email, password, token_ttl_s, latency_scale)

    async def metrics(request: web.Request) -> web.StreamResponse:
        return web.Response(text=exposition(model),
                            content_type="text/plain", charset="utf-8",
                            headers={"X-Format": "prometheus text 0.0.4"})

    async def block_ip(request: web.Request) -> web.StreamResponse:
        """The blocklist the API enforces: that address's logins stop."""
        if not api.authorised(request):
            return _error(401, "Not authenticated", **{"WWW-Authenticate": "Bearer"})
        body, bad = await api.json_body(request)
        if bad is not None:
            return bad
        ip = body.get("ip") if isinstance(body, dict) else None
        try:
            ip = str(ipaddress.ip_address(ip if isinstance(ip, str) else ""))
        except ValueError:
            return _error(422, "ip must be an IP address")
        model.sync()
        new = model.logins.block(ip)
        model.event("Normal", "Blocked", "Service", "luckygas-backend", f"blocked {ip}")
        return web.json_response({"ip": ip, "blocked": True, "new": new})

    async def rotate_secret(request: web.Request) -> web.StreamResponse:
        """A new login secret: every token issued before it stops working."""
        if not api.authorised(request):
            return _error(401, "Not authenticated", **{"WWW-Authenticate": "Bearer"})
        model.sync()
        version = model.logins.rotate()
        api.tokens.clear()
        model.event("Normal", "SecretRotated", "Secret", "luckygas-login",
                    f"login secret rotated to version {version}")
        return web.json_response({"secret_version": version})

    app = web.Application()
    app.router.add_post("/api/v1/admin/blocklist", block_ip)
    app.router.add_post("/api/v1/admin/rotate-secret", rotate_secret)
    for ep in model.endpoints:
        app.router.add_route(ep.method, ep.path, api.handler(ep))
    app.router.add_get("/metrics", metrics)
    return app
