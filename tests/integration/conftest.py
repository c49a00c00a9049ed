"""Fixtures shared by the tests that talk to the simulation's Kubernetes API (with the
real kubectl, or with luckytui's adapter)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from luckytui.systems.kubernetes import KubeOps
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


@pytest.fixture
def ops(cluster: Cluster) -> Iterator[KubeOps]:
    """luckytui's Kubernetes adapter on that cluster."""
    client = KubeOps(str(cluster.kubectl.kubeconfig), None, "luckygas", timeout=5.0)
    try:
        yield client
    finally:
        client.close()
