"""Serve the simulated production on loopback and describe it in files.

`start_simulation` builds the model, serves each protocol on its own free
port (Kubernetes API, LuckyGas API, Prometheus, database activity), and writes
`kubeconfig`, `config.toml` and the login password (mode 0600) into a folder,
so any luckytui process can watch it with `--config DIR/config.toml`.

With `postgres=True` (at the small scale: a thousand real sessions are more than
a demo should fork) the database is a real PostgreSQL server (pgserver.py)
with the storyline's sessions on it (loadgen.py), and the config names it by
`dsn`, so the war room reads and acts on it as it would in production; a drill
with database faults plays them there, and the model reads the server back
(pgdrill.py). When no
such server can start, `Simulation.note` says why in one line and the config
points at the simulated database's HTTP API instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from luckytui.store import EventLog

from luckytui.drills.records import DrillRecorder
from luckytui.drills.scenario import Scenario
from luckytui.sim import pgserver
from luckytui.sim.api import make_api_app
from luckytui.sim.drill import DATABASE_KINDS
from luckytui.sim.kube import KUBE_API, make_kube_app
from luckytui.sim.kube.rbac import READ_ONLY_PREFIX, READONLY
from luckytui.sim.loadgen import LoadGenerator
from luckytui.sim.metrics import RULES
from luckytui.sim.model import DATABASE, Production, Scale
from luckytui.sim.pgapi import make_pg_app
from luckytui.sim.pgdrill import ServerView
from luckytui.sim.pgtwin import register as register_pg_twin
from luckytui.sim.promapi import make_prometheus_app

LOGIN_EMAIL = "oncall@luckygas.com.tw"
CONTEXT = "luckygas-sim"
READONLY_CONTEXT = "luckygas-sim-readonly"


@dataclass
class Simulation:
    """A running simulation: its model, its addresses and its files."""

    model: Production
    directory: Path
    kube_url: str
    api_url: str
    prometheus_url: str
    pg_url: str
    runners: list[web.AppRunner] = field(default_factory=list)
    dsn: str | None = None  # the embedded PostgreSQL server, when it runs
    note: str | None = None  # why it does not, in one line
    postgres: pgserver.EmbeddedPostgres | None = None
    load: LoadGenerator | None = None
    recorder: DrillRecorder | None = None  # a drill's records for the shared log
    log_path: Path = Path()  # DIR/log.sqlite3 unless given
    readonly_token: str = ""  # the read-only user's, in its kubeconfig context

    def __post_init__(self) -> None:
        if self.log_path == Path():
            self.log_path = self.directory / "log.sqlite3"

    @property
    def config_path(self) -> Path:
        return self.directory / "config.toml"

    @property
    def kubeconfig_path(self) -> Path:
        return self.directory / "kubeconfig"

    async def stop(self) -> None:
        load, self.load = self.load, None
        if load is not None:
            await load.stop()
        server, self.postgres = self.postgres, None
        if server is not None:
            await asyncio.to_thread(server.stop)
        for runner in self.runners:
            await runner.cleanup()
        self.runners.clear()


def _listen(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def _serve(app: web.Application, host: str, runners: list[web.AppRunner]) -> str:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = _listen(host)
    site = web.SockSite(runner, sock)
    await site.start()
    runners.append(runner)
    port = sock.getsockname()[1]
    return f"http://{host}:{port}"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _toml(value: object) -> str:
    return json.dumps(value)  # TOML basic strings, numbers, bools and arrays read as JSON does


def write_files(sim: Simulation, password: str) -> None:
    """kubeconfig, the password file and a luckytui config pointing at the simulation."""
    d = sim.directory
    d.mkdir(parents=True, exist_ok=True)
    _write_private(d / "login-password", password + "\n")
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        # over http kubectl sends no token: the read-only context's server is the same one
        # under the path prefix that means "the read-only user"
        "clusters": [{"name": CONTEXT, "cluster": {"server": sim.kube_url}},
                     {"name": READONLY_CONTEXT,
                      "cluster": {"server": sim.kube_url + READ_ONLY_PREFIX}}],
        "users": [{"name": "oncall", "user": {"token": secrets.token_hex(16)}},
                  {"name": "readonly", "user": {"token": sim.readonly_token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "oncall",
                                                   "namespace": sim.model.namespace}},
                     {"name": READONLY_CONTEXT, "context": {
                         "cluster": READONLY_CONTEXT, "user": "readonly",
                         "namespace": sim.model.namespace}}],
        "current-context": CONTEXT,
    }
    _write_private(sim.kubeconfig_path, json.dumps(kubeconfig, indent=2) + "\n")
    lines = [
        "# luckytui configuration for the simulated LuckyGas production.",
        "# Written by `luckytui sim`; valid while that process runs.",
        "refresh = 2.0",
        *([f"log = {_toml(str(sim.log_path))}"] if sim.recorder is not None else []),
        "",
        "[kubernetes]",
        f"kubeconfig = {_toml(str(sim.kubeconfig_path))}",
        f"context = {_toml(CONTEXT)}",
        f"namespace = {_toml(sim.model.namespace)}",
        "",
        "[prometheus]",
        f"url = {_toml(sim.prometheus_url)}",
        "",
        "[[databases]]",
        f"name = {_toml(DATABASE)}",
        (f"dsn = {_toml(sim.dsn)}" if sim.dsn else
         f"api_url = {_toml(f'{sim.pg_url}/databases/{DATABASE}/activity')}"),
        "",
        "[login]",
        f"url = {_toml(sim.api_url + '/api/v1/auth/login')}",
        f"email = {_toml(LOGIN_EMAIL)}",
        f"password_file = {_toml(str(d / 'login-password'))}",
    ]
    for ep in sim.model.endpoints:
        if ep.group == "login":
            continue  # the login flow is probed through [login]
        lines += ["", "[[endpoints]]", f"name = {_toml(ep.name)}", f"group = {_toml(ep.group)}",
                  f"method = {_toml(ep.method)}", f"url = {_toml(sim.api_url + ep.path)}"]
        if ep.group in ("analytics", "api"):
            lines.append("auth = true")
        if ep.method == "POST":
            lines += ["expect_status = [201]", "auth = true",
                      'body = { customer_id = 1, product_id = 20, quantity = 1, probe = true }']
    admin = [sys.executable, "-m", "luckytui.sim.admin", "--dir", str(d)]
    (d / "api-url").write_text(sim.api_url + "\n")
    lines += ["", "# the security drill's response, against the simulated API",
              "[[commands]]", 'name = "block-ip"',
              'summary = "Block a source address at the LuckyGas API (its logins stop)"',
              f"argv = {_toml([*admin, 'block-ip', '{IP}'])}", 'placeholders = { IP = "ip" }',
              "", "[[commands]]", 'name = "rotate-secret"',
              'summary = "Rotate the LuckyGas login secret (every issued token stops working)"',
              f"argv = {_toml([*admin, 'rotate-secret'])}"]
    _write_private(sim.config_path, "\n".join(lines) + "\n")
    # for trying production mode with a real Prometheus scraping the simulation
    (d / "rules.yml").write_text(RULES)
    target = sim.api_url.split("://", 1)[1]
    (d / "prometheus.yml").write_text(
        "# prometheus --config.file=prometheus.yml scrapes the simulated production\n"
        "global: {scrape_interval: 5s, evaluation_interval: 5s}\n"
        f"rule_files: [{_toml(str(d / 'rules.yml'))}]\n"
        "scrape_configs:\n"
        f"  - job_name: luckygas-sim\n    static_configs: [{{targets: [{_toml(target)}]}}]\n")


async def start_simulation(
    directory: Path,
    *,
    seed: int = 7,
    scale: Scale = "small",
    host: str = "127.0.0.1",
    clock: Callable[[], float] | None = None,
    postgres: bool = False,
    scenario: Scenario | None = None,
    speed: float = 1.0,
) -> Simulation:
    """With a scenario (a drill), its faults instead of the demo's story, `speed` times
    faster than the wall clock, and the drill's records kept for the shared log."""
    if clock is None and speed != 1.0:
        origin = time.time()
        clock = lambda: origin + (time.time() - origin) * speed  # noqa: E731
    model = Production(seed=seed, scale=scale, clock=clock or time.time, scenario=scenario)
    password = secrets.token_urlsafe(18)
    runners: list[web.AppRunner] = []
    kube_app = make_kube_app(model)
    kube_url = await _serve(kube_app, host, runners)
    api_url = await _serve(make_api_app(model, LOGIN_EMAIL, password), host, runners)
    prom_url = await _serve(make_prometheus_app(model), host, runners)
    pg_url = await _serve(make_pg_app(model), host, runners)
    sim = Simulation(model, directory, kube_url, api_url, prom_url, pg_url, runners)
    if scenario is not None:
        sim.recorder = DrillRecorder(scenario, speed)
        model.drill.on_started = sim.recorder.started
        model.drill.on_recovered = sim.recorder.recovered
    sim.readonly_token = secrets.token_hex(16)
    kube_app[KUBE_API].tokens[sim.readonly_token] = READONLY
    if postgres and scale == "large":
        sim.note = "at --scale large the demo's database is simulated (1,000 connections)"
    elif postgres and scenario is not None and not any(
            f.kind in DATABASE_KINDS for f in model.drill.faults):
        sim.note = f"the {scenario.name} drill has no database fault: its database is simulated"
    elif postgres:
        try:
            await _start_postgres(sim, host, seed, drill=scenario is not None)
        except BaseException:
            await sim.stop()
            raise
    write_files(sim, password)
    register_pg_twin()  # this process reads and acts on the simulated database too
    return sim


async def _start_postgres(sim: Simulation, host: str, seed: int, *, drill: bool) -> None:
    """The embedded server and the storyline's sessions on it (a drill's database faults,
    with `drill`: the model then reads the server, see pgdrill.py); on failure, `sim.note`."""
    server = pgserver.EmbeddedPostgres(sim.directory, host=host)
    sim.postgres = server
    try:
        # on this (the main) thread: the server is told to quit when its starter dies,
        # and a worker thread may end before the process does
        pgserver.clean_stale()
        server.start()
        load = LoadGenerator(server.dsn, sim.model, server.max_connections, seed=seed)
        await load.setup()
    except Exception as exc:
        sim.postgres = None
        await asyncio.to_thread(server.stop)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sim.note = (f"no embedded PostgreSQL ({reason[:160]}): " +
                    ("the drill's database is simulated: its faults run on the model"
                     if drill else "the demo's database is simulated"))
        return
    view = ServerView(server.max_connections) if drill else None
    sim.model.server = view
    load.start(view)
    sim.load = load
    sim.dsn = server.dsn(DATABASE)


async def run_forever(directory: Path, *, seed: int, scale: Scale, host: str,
                      exit_on_stdin_eof: bool = False, frozen: bool = False,
                      postgres: bool = True, scenario: Scenario | None = None,
                      speed: float = 1.0, log: Path | None = None) -> None:
    """`luckytui sim`: serve until SIGINT, SIGTERM or SIGHUP (or stdin closing, for the demo).
    Frozen, the model's clock stands still: every request sees the same production
    (and the database is the simulated one: a real server's sessions move). A drill with
    database faults plays them on the real server when one can start."""
    standstill = time.time()
    sim = await start_simulation(directory, seed=seed, scale=scale, host=host,
                                 clock=(lambda: standstill) if frozen else None,
                                 postgres=postgres and not frozen,
                                 scenario=scenario, speed=speed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: its terminal closed
        loop.add_signal_handler(sig, stop.set)
    if exit_on_stdin_eof:
        loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not os.read(
            sys.stdin.fileno(), 4096) else None)
    print(f"kubeconfig {sim.kubeconfig_path}", flush=True)
    print(f"config {sim.config_path}", flush=True)
    if sim.dsn:
        print(f"dsn {sim.dsn}", flush=True)
    if sim.note:
        print(f"note {sim.note}", flush=True)
    if log is not None:
        sim.log_path = log
    event_log = await _open_log(sim)
    print("ready", flush=True)
    try:
        while not stop.is_set():
            sim.model.sync()  # keep time moving even when nobody asks
            if event_log is not None and sim.recorder is not None:
                await sim.recorder.flush(event_log)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0 / max(1.0, speed))
    finally:
        await sim.stop()
        if event_log is not None and sim.recorder is not None:
            sim.recorder.stopped()
            await sim.recorder.flush(event_log)
            await event_log.close()


async def _open_log(sim: Simulation) -> EventLog | None:
    """The drill's shared log (DIR/log.sqlite3), which the config written names."""
    if sim.recorder is None:
        return None
    from luckytui.store import EventLog

    return await EventLog.open(sim.log_path)
