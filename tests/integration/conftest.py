"""Fixtures shared by the tests that run the real kubectl against the simulation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest_kube import Cluster, kubectl_binary, running_cluster


@pytest.fixture(scope="session")
def kube_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kubectl_binary()  # fail early, with a clear message, when kubectl is missing
    return tmp_path_factory.mktemp("kubectl-cache")


@pytest.fixture
def cluster(tmp_path: Path, kube_cache: Path) -> Iterator[Cluster]:
    """A simulated cluster on loopback, its clock moved only by the test."""
    with running_cluster(tmp_path, kube_cache) as c:
        yield c
