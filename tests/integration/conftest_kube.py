"""Serve aiohttp apps on loopback from a background thread, and run the real kubectl.

A background thread with its own event loop lets synchronous callers (kubectl
in a subprocess, the sync kubernetes client) and async tests alike talk to the
simulation's Kubernetes API.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from luckytui.sim.kube import KUBE_API, make_kube_app
from luckytui.sim.kube.rbac import READ_ONLY_PREFIX, READONLY
from luckytui.sim.model import Production

START = 1_764_126_245.0  # 2025-11-26 03:04:05 UTC
TOKEN = "sim-bearer-7c1d5e0f"  # must never appear in an error message
READONLY_TOKEN = "sim-readonly-3f9a0c2e"
READONLY_CONTEXT = "luckygas-sim-readonly"


class ServedApp:
    """An aiohttp application on 127.0.0.1, a free port, in its own thread."""

    def __init__(self, app: web.Application, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._stopped = False
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    async def _start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        """Close the listener and the loop (a second call does nothing)."""
        if self._stopped:
            return
        self._stopped = True
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextmanager
def serve(app: web.Application, port: int = 0) -> Iterator[ServedApp]:
    served = ServedApp(app, port)
    served.start()
    try:
        yield served
    finally:
        served.stop()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_kubeconfig(path: Path, server: str, namespace: str = "luckygas",
                     token: str = TOKEN) -> Path:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "sim",
        "clusters": [{"name": "sim", "cluster": {"server": server}},
                     {"name": "sim-readonly", "cluster": {"server": server + READ_ONLY_PREFIX}}],
        "users": [{"name": "sim", "user": {"token": token}},
                  {"name": "readonly", "user": {"token": READONLY_TOKEN}}],
        "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "sim",
                                                  "namespace": namespace}},
                     {"name": READONLY_CONTEXT, "context": {
                         "cluster": "sim-readonly", "user": "readonly", "namespace": namespace}}],
    }
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path


def kubectl_binary() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl is not on PATH: the Kubernetes API tests need the real kubectl")
    return found


class Kubectl:
    """Runs the real kubectl against one server, with its own discovery cache."""

    def __init__(self, kubeconfig: Path, cache_dir: Path) -> None:
        self.binary = kubectl_binary()
        self.kubeconfig = kubeconfig
        self.cache_dir = cache_dir
        self.env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [self.binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir",
               str(self.cache_dir), "--request-timeout", "20s", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=60,
                              check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done

    def out(self, *args: str) -> str:
        return self.run(*args).stdout


class Cluster:
    """A simulated cluster with a clock the test moves, served on loopback."""

    def __init__(self, model: Production, clock: list[float], served: ServedApp,
                 kubectl: Kubectl) -> None:
        self.model = model
        self.clock = clock
        self.served = served
        self.kubectl = kubectl
        self.requests: list[str] = []

    def step(self, seconds: float) -> None:
        """Move the clock; the model catches up on the next request (or `sync`)."""
        self.clock[0] += seconds

    def sync(self) -> None:
        self.model.sync()


def record_requests(app: web.Application, log: list[str]) -> None:
    """Append "METHOD path?query" of every request to `log`."""
    @web.middleware
    async def recorder(request: web.Request, handler: Handler) -> web.StreamResponse:
        log.append(f"{request.method} {request.path_qs}")
        return await handler(request)

    app.middlewares.insert(0, recorder)


@contextmanager
def running_cluster(tmp_path: Path, cache_dir: Path, scale: str = "small",
                    seed: int = 7) -> Iterator[Cluster]:
    clock = [START]
    model = Production(seed=seed, scale="large" if scale == "large" else "small",
                       clock=lambda: clock[0])
    app = make_kube_app(model)
    app[KUBE_API].tokens[READONLY_TOKEN] = READONLY
    requests: list[str] = []
    record_requests(app, requests)
    with serve(app) as served:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", served.url)
        cluster = Cluster(model, clock, served, Kubectl(kubeconfig, cache_dir))
        cluster.requests = requests
        yield cluster
