"""A real Prometheus server for the tests, scraping a test exporter on loopback.

The exporter serves what luckytui reads from a production Prometheus: cAdvisor's
`container_cpu_usage_seconds_total{namespace,pod,container}` counters growing at
rates the test sets, and the LuckyGas gauges and counters that drive the plan's
four alert rules. Prometheus (the Debian package's binary, 2.42) runs as a
plain process on a free loopback port with a 1 s scrape and evaluation
interval, so rates over a few seconds and `for: 2s` alerts settle in seconds.
A new server's first scrape comes ~5 s after it is ready (its service discovery
hands over targets on a fixed 5 s tick), hence one server for the session.

Fixtures (import the `*_fixture` functions into the test module that uses them;
they register under the names below):
- `exporter`: session-scoped; its gauges start healthy.
- `prometheus`: session-scoped server scraping it, with the plan's rules loaded.
- `fresh_prometheus`: a server of the test's own, to kill, stop or restart.

When the `prometheus` binary is missing or the server does not come up, the
test fails and says how to fix it; it never skips.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest_kube import free_port

INSTALL_HINT = "install it with: apt-get install -y --no-install-recommends prometheus"
READY_WITHIN_S = 20.0
JOB = "luckygas"

# The plan's alerts, names as the plan writes them; `for:` is seconds here, not minutes.
PLAN_RULES = """\
groups:
  - name: luckygas-plan
    interval: 1s
    rules:
      - alert: HighAPIResponseTime
        expr: luckygas_api_p95_seconds > 2
        for: 2s
        labels:
          severity: warning
        annotations:
          summary: API p95 response time is above 2 s
      - alert: AnalyticsEndpointDown
        expr: luckygas_analytics_endpoint_up == 0
        for: 2s
        labels:
          severity: critical
        annotations:
          summary: Analytics endpoint {{ $labels.endpoint }} is down
      - alert: NoOrdersProcessed
        expr: rate(luckygas_orders_processed_total[3s]) == 0
        for: 2s
        labels:
          severity: critical
        annotations:
          summary: No orders processed recently
      - alert: DatabaseConnectionPoolExhausted
        expr: luckygas_db_connections / luckygas_db_max_connections > 0.9
        for: 2s
        labels:
          severity: critical
        annotations:
          summary: Database connections above 90% of max_connections
"""
PLAN_ALERTS = ("HighAPIResponseTime", "AnalyticsEndpointDown", "NoOrdersProcessed",
               "DatabaseConnectionPoolExhausted")
ANALYTICS_ENDPOINTS = ("executive", "operations", "financial", "performance")

Labels = tuple[tuple[str, str], ...]


def _labels(labels: dict[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass
class _Counter:
    value: float  # at `since`
    per_s: float
    since: float

    def at(self, now: float) -> float:
        return self.value + self.per_s * (now - self.since)


class Exporter:
    """A /metrics endpoint whose values the test sets, served from a thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gauges: dict[tuple[str, Labels], float] = {}
        self._counters: dict[tuple[str, Labels], _Counter] = {}
        self.started: dict[tuple[str, Labels], float] = {}  # when each was first scraped
        self.scrapes = 0
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- controls -------------------------------------------------------------------

    def set_gauge(self, name: str, value: float, **labels: str) -> None:
        key = (name, _labels(labels))
        with self._lock:
            self._gauges[key] = value

    def set_rate(self, name: str, per_s: float, **labels: str) -> None:
        """A counter that grows by `per_s` a second from now on (continuous, never reset)."""
        key = (name, _labels(labels))
        now = time.time()
        with self._lock:
            old = self._counters.get(key)
            start = old.at(now) if old is not None else 1000.0
            self._counters[key] = _Counter(start, per_s, now)

    def set_pod_cpu(self, pod: str, cores: float, namespace: str = "luckygas",
                    container: str = "app") -> None:
        """A pod using `cores` CPU: its container's counter, and the pod-level cgroup
        series (container="") that cAdvisor also exposes and queries must leave out."""
        for c in (container, ""):
            self.set_rate("container_cpu_usage_seconds_total", cores, namespace=namespace,
                          pod=pod, container=c)

    def remove(self, name: str, **labels: str) -> None:
        """Stop serving every series of `name` whose labels include `labels`."""
        want = set(labels.items())
        with self._lock:
            for table in (self._gauges, self._counters):
                for key in [k for k in table if k[0] == name and want <= set(k[1])]:
                    del table[key]
                    self.started.pop(key, None)

    def series_age(self, name: str, **labels: str) -> float:
        """Seconds since the youngest series of `name` matching `labels` was first
        scraped (0 while one has not been)."""
        want = set(labels.items())
        with self._lock:
            keys = [k for k in (*self._gauges, *self._counters)
                    if k[0] == name and want <= set(k[1])]
            times = [self.started.get(k) for k in keys]
        if not times or None in times:
            return 0.0
        return time.time() - max(t for t in times if t is not None)

    def healthy(self) -> None:
        """The plan's signals at healthy values: no plan alert should be active."""
        self.set_gauge("luckygas_api_p95_seconds", 0.35)
        for endpoint in ANALYTICS_ENDPOINTS:
            self.set_gauge("luckygas_analytics_endpoint_up", 1, endpoint=endpoint)
        self.set_rate("luckygas_orders_processed_total", 4.0)
        self.set_gauge("luckygas_db_connections", 42)
        self.set_gauge("luckygas_db_max_connections", 100)

    def render(self) -> str:
        """The exposition text (format 0.0.4) as of now."""
        now = time.time()
        with self._lock:
            self.scrapes += 1
            rows = [(name, "gauge", labels, value)
                    for (name, labels), value in self._gauges.items()]
            rows += [(name, "counter", labels, c.at(now))
                     for (name, labels), c in self._counters.items()]
            for name, _, labels, _ in rows:
                self.started.setdefault((name, labels), now)
        lines: list[str] = []
        typed: set[str] = set()
        for name, kind, labels, value in sorted(rows):
            if name not in typed:
                typed.add(name)
                lines.append(f"# TYPE {name} {kind}")
            inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            lines.append(f"{name}{{{inner}}} {value!r}" if inner else f"{name} {value!r}")
        return "\n".join(lines) + "\n"


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        pytest.fail(f"the prometheus binary is not on PATH: {INSTALL_HINT}")
    return found


def _get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class PrometheusServer:
    """One Prometheus process on loopback, scraping `exporter`, the plan's rules loaded.

    `start()` again after `stop()` or `kill()` reuses the port and the data.
    """

    def __init__(self, workdir: Path, exporter: Exporter, port: int | None = None) -> None:
        self.binary = prometheus_binary()
        self.workdir = workdir
        self.exporter = exporter
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = workdir / "prometheus.yml"
        self.rules = workdir / "rules.yml"
        self.log = workdir / "prometheus.log"
        self.rules.write_text(PLAN_RULES)
        self.config.write_text(json.dumps({  # JSON is YAML
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": [str(self.rules)],
            "scrape_configs": [{"job_name": JOB,
                                "static_configs": [{"targets": [exporter.target]}]}],
        }, indent=2))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("Prometheus is not running")
        return self.proc.pid

    def set_gauge(self, name: str, value: float, **labels: str) -> None:
        self.exporter.set_gauge(name, value, **labels)

    # --- process control -------------------------------------------------------------

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        cmd = [self.binary, f"--config.file={self.config}",
               f"--storage.tsdb.path={self.workdir / 'data'}",
               f"--web.listen-address=127.0.0.1:{self.port}",
               "--storage.tsdb.retention.time=1h", "--log.level=info"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN_S
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                pytest.fail(f"Prometheus exited ({self.proc and self.proc.returncode}) "
                            f"before it was ready:\n{self.log_tail()}")
            try:
                status, _ = _get(f"{self.url}/-/ready", timeout=1.0)
            except OSError:
                status = 0
            if status == 200:
                return
            time.sleep(0.02)
        pytest.fail(f"Prometheus was not ready within {READY_WITHIN_S:g} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    # --- the HTTP API, read directly (the judge of what luckytui shows) --------------

    def api(self, path: str, **params: str) -> Any:
        status, body = _get(f"{self.url}{path}?{urllib.parse.urlencode(params)}")
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise AssertionError(f"{path} {params} answered {status}: {body[:300]!r}")
        return doc["data"]

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": promql}
        if at is not None:
            params["time"] = f"{at:.3f}"
        result: list[dict[str, Any]] = self.api("/api/v1/query", **params)["result"]
        return result

    def wait_until(self, what: str, check: Callable[[], bool], within_s: float = 20.0,
                   every_s: float = 0.1) -> None:
        deadline = time.monotonic() + within_s
        while not check():
            if time.monotonic() > deadline:
                pytest.fail(f"not within {within_s:g} s: {what}\n{self.log_tail(5)}")
            time.sleep(every_s)

    def wait_scraped(self) -> None:
        """Until the exporter target is up (its first scrape landed)."""
        def up() -> bool:
            return any(math.isclose(float(s["value"][1]), 1.0)
                       for s in self.query(f'up{{job="{JOB}"}}'))
        self.wait_until(f"Prometheus scrapes the exporter at {self.exporter.target}", up)

    def check_config(self) -> None:
        """promtool's verdict on the config and the rules, as a clear failure."""
        promtool = shutil.which("promtool")
        if promtool is None:
            pytest.fail(f"promtool is not on PATH: {INSTALL_HINT}")
        done = subprocess.run([promtool, "check", "config", str(self.config)],
                              capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            pytest.fail(f"promtool rejects the test config:\n{done.stdout}{done.stderr}")


@pytest.fixture(scope="session", name="exporter")
def exporter_fixture() -> Iterator[Exporter]:
    exp = Exporter()
    exp.healthy()
    exp.start()
    try:
        yield exp
    finally:
        exp.stop()


@pytest.fixture(scope="session", name="prometheus")
def prometheus_fixture(exporter: Exporter,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), exporter)
    server.check_config()
    server.start()
    try:
        server.wait_scraped()
        yield server
    finally:
        server.stop()


@pytest.fixture(name="fresh_prometheus")
def fresh_prometheus_fixture(exporter: Exporter,
                             tmp_path: Path) -> Iterator[PrometheusServer]:
    """A server of this test's own, to kill, stop or restart."""
    (tmp_path / "prometheus").mkdir()
    server = PrometheusServer(tmp_path / "prometheus", exporter)
    server.start()
    try:
        yield server
    finally:
        server.stop()
