"""`luckytui sim` as a user runs it: a process, its files, kubectl and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx

from luckytui.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_sim_serves_kubectl_and_writes_a_working_config(tmp_path: Path) -> None:
    simdir = tmp_path / "sim"
    proc = subprocess.Popen([sys.executable, "-m", "luckytui", "sim", "--dir", str(simdir),
                             "--seed", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line.strip())
            if line.strip() == "ready":
                break
        assert lines[-1] == "ready", lines
        for name in ("kubeconfig", "config.toml", "login-password"):
            mode = stat.S_IMODE((simdir / name).stat().st_mode)
            assert mode == 0o600, (name, oct(mode))
        with open(simdir / "config.toml", "rb") as f:
            tomllib.load(f)
        settings = load_settings(simdir / "config.toml")
        assert settings.kube is not None and settings.prometheus is not None
        password = (simdir / "login-password").read_text().strip()
        assert password not in (simdir / "config.toml").read_text()

        env = {**os.environ, "KUBECONFIG": str(simdir / "kubeconfig")}
        out = subprocess.run(["kubectl", "--cache-dir", str(tmp_path / "kcache"), "get",
                              "deployments", "-o", "json"], capture_output=True, text=True,
                             env=env, timeout=60, check=True).stdout
        names = {d["metadata"]["name"] for d in json.loads(out)["items"]}
        assert {"luckygas-backend", "luckygas-frontend", "order-worker"} <= names
        readonly = ["kubectl", "--cache-dir", str(tmp_path / "kcache"), "--context",
                    "luckygas-sim-readonly"]
        denied = subprocess.run([*readonly, "scale", "deployment", "order-worker",
                                 "--replicas=5"], capture_output=True, text=True, env=env,
                                timeout=60, check=False)
        assert denied.returncode == 1 and 'User "luckygas-readonly" cannot patch resource ' \
            '"deployments/scale" in API group "apps" in the namespace "luckygas"' in denied.stderr
        can_i = subprocess.run([*readonly, "auth", "can-i", "get", "pods"], capture_output=True,
                               text=True, env=env, timeout=60, check=False)
        assert can_i.stdout.strip() == "yes"

        alerts = httpx.get(settings.prometheus.url + "/api/v1/alerts", timeout=5).json()
        assert alerts["status"] == "success"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
