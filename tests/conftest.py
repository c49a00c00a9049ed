"""Shared fixtures: a controllable clock for the simulation and the UI."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from luckytui.sim.runner import Simulation, start_simulation

FROZEN = datetime(2026, 11, 26, 3, 4, 5, tzinfo=UTC)


class ManualClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, start: float = FROZEN.timestamp()) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def frozen_now() -> Callable[[], datetime]:
    return lambda: FROZEN


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulation]:
    """The simulated production served on loopback, in this test's event loop."""
    simulation = await start_simulation(tmp_path / "sim", seed=7)
    try:
        yield simulation
    finally:
        await simulation.stop()


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# Property-based tests: a quick pass in `make test`, ten thousand examples a parser with
# HYPOTHESIS_PROFILE=fuzz (`make fuzz`).
hypothesis_settings.register_profile(
    "default", max_examples=150, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
hypothesis_settings.register_profile(
    "fuzz", max_examples=10_000, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much])
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
