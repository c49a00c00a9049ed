"""Shared fixtures: a controllable clock for the simulation and the UI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

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
