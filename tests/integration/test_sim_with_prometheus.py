"""Production mode against a real Prometheus that scrapes the simulated production.

This is the README's "try it with a real Prometheus" path, as a test: `luckytui sim`
writes prometheus.yml and the plan's rules; the real server loads them (promtool agrees)
and scrapes the simulation; `luckytui check` then reads pod CPU through PromQL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.prom import prometheus_binary

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sim_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "sim"
    proc = subprocess.Popen([sys.executable, "-m", "luckytui", "sim", "--dir", str(d)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "ready":
            break
    else:
        pytest.fail(f"luckytui sim did not start: {proc.stderr.read() if proc.stderr else ''}")
    try:
        yield d
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def query(url: str, promql: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{url}/api/v1/query?" + urllib.parse.urlencode(
            {"query": promql}), timeout=5) as r:
        doc = json.loads(r.read())
    assert doc["status"] == "success"
    return list(doc["data"]["result"])


def test_real_prometheus_scrapes_the_simulation(sim_dir: Path, tmp_path: Path) -> None:
    binary = prometheus_binary()
    promtool = Path(binary).with_name("promtool")
    check = subprocess.run([str(promtool), "check", "config", str(sim_dir / "prometheus.yml")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    # the plan's four, and the security drill's SuspiciousLoginActivity
    assert "5 rules found" in check.stdout + check.stderr

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    prom = subprocess.Popen([binary, f"--config.file={sim_dir / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        cpu = 'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="luckygas"}[1m]))'
        deadline = time.monotonic() + 45
        rates: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            try:
                rates = query(url, cpu)
            except OSError:
                rates = []
            if len(rates) >= 7:
                break
            time.sleep(0.5)
        assert len(rates) >= 7, "Prometheus never had two scrapes of every pod"
        rules = json.loads(urllib.request.urlopen(f"{url}/api/v1/rules", timeout=5).read())
        names = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
        assert names == {"HighAPIResponseTime", "AnalyticsEndpointDown", "NoOrdersProcessed",
                         "DatabaseConnectionPoolExhausted", "SuspiciousLoginActivity"}

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-m", "luckytui", "check", "--json", "--config",
             str(sim_dir / "config.toml"), "--prometheus", url], capture_output=True,
            text=True, timeout=60, env=env, cwd=ROOT)
        doc = json.loads(out.stdout)
        pods = doc["sources"]["kubernetes"]["pods"]
        by_pod = {str(r["metric"]["pod"]): float(r["value"][1]) * 1000  # type: ignore[index]
                  for r in rates}
        for p in pods:
            assert p["cpu_millicores"] is not None, p
            assert p["name"] in by_pod
            assert p["cpu_millicores"] > 0
        assert doc["sources"]["prometheus"]["ok"] is True
    finally:
        prom.send_signal(signal.SIGTERM)
        prom.wait(10)
