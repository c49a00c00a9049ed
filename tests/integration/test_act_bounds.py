"""`luckytui act` refuses malformed and out-of-bounds numbers before anything is sent:
one line, exit code 2, a `mitigation.refused` record, and not one request to the API."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import web

from luckytui.act import REFUSED
from luckytui.store import EventLog
from tests.conftest import serve
from tests.integration.conftest_kube import write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]


def counting_api(seen: list[str]) -> web.Application:
    """A Kubernetes API that records every request and answers none of them usefully."""

    async def any_request(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path_qs}")
        return web.json_response({"kind": "Status", "code": 500, "message": "no"}, status=500)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", any_request)
    return app


async def act(config: Path, log: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "luckytui", "act", "--config", str(config), "--log", str(log),
        "--as", "amy", *args, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def write_config(tmp_path: Path, url: str, limits: str) -> Path:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url)
    config = tmp_path / "config.toml"
    config.write_text(f'max_replicas = 10\n[kubernetes]\nkubeconfig = "{kubeconfig}"\n'
                      f'namespace = "luckygas"\n{limits}')
    return config


async def test_force_never_lifts_the_replica_ceiling(tmp_path: Path) -> None:
    seen: list[str] = []
    async with serve(counting_api(seen)) as url:
        config = write_config(tmp_path, url, "[limits]\nmax_replicas = 30\n")
        log = tmp_path / "log.sqlite3"
        bad = {
            "1e9": "replicas must be a whole number from 0 to 30, not '1e9'",
            "1000000000": "replicas must be between 0 and 30 ([limits] max_replicas, "
                          "which no flag lifts), not 1000000000",
            "31": "replicas must be between 0 and 30 ([limits] max_replicas, which no "
                  "flag lifts), not 31",
            "nan": "replicas must be a whole number from 0 to 30, not 'nan'",
            "inf": "replicas must be a whole number from 0 to 30, not 'inf'",
            "-1": "replicas must be a whole number from 0 to 30, not '-1'",
            "+5": "replicas must be a whole number from 0 to 30, not '+5'",
            "5.0": "replicas must be a whole number from 0 to 30, not '5.0'",
            "\u0663": "replicas must be a whole number from 0 to 30, not '\u0663'",
            "\uff15": "replicas must be a whole number from 0 to 30, not '\uff15'",
            "1_0": "replicas must be a whole number from 0 to 30, not '1_0'",
        }
        for value, reason in bad.items():
            code, out, err = await act(config, log, "scale", "luckygas-backend", value,
                                       "--force", "--yes")
            assert (code, out, err) == (2, "", f"luckytui: refused: {reason}\n"), value
        assert seen == []  # not one request reached the API
        async with await EventLog.open(log) as opened:
            records = await opened.records()
        assert [r.kind for r in records] == [REFUSED] * len(bad)
        assert [r.data["args"][-1] for r in records] == list(bad)
        assert [r.data["reason"] for r in records] == list(bad.values())

        # without --force the everyday bound applies, and says how far --force goes
        code, _, err = await act(config, log, "scale", "luckygas-backend", "11", "--yes")
        assert code == 2 and err == ("luckytui: refused: replicas must be between 0 and 10 "
                                     "(max_replicas); --force to go up to 30, not 11\n")
        assert seen == []
        # within the ceiling, --force goes on to the API (which fails here: exit 1)
        code, out, _ = await act(config, log, "scale", "luckygas-backend", "30", "--force",
                                 "--yes")
        assert code == 1 and "refused:" in out
        assert seen and seen[0].startswith("GET /apis/apps/v1/namespaces/luckygas/"
                                           "deployments/luckygas-backend")


async def test_other_numeric_arguments_are_strict(tmp_path: Path) -> None:
    """The database remedies' PIDs and ages: ASCII digits, bounded, before any query."""
    seen: list[str] = []
    async with serve(counting_api(seen)) as url:
        config = tmp_path / "config.toml"
        config.write_text(f'[[databases]]\nname = "db"\nsim_url = "{url}/databases/db/activity"'
                          "\n")
        log = tmp_path / "log.sqlite3"
        cases = [
            (("cancel", "\u0661\u0662"), "PID must be a whole number from 1 to 2147483647"),
            (("terminate", "0"), "PID must be between 1 and 2147483647, not 0"),
            (("terminate", "99999999999"), "PID must be between 1 and 2147483647"),
            (("terminate-long", "1e9"), "'1e9' is not an age"),
            (("terminate-idle", "99999999h"), "'99999999h' is longer than 30 days"),
            (("terminate-idle", "\u0665m"), "is not an age"),
        ]
        for args, reason in cases:
            code, out, err = await act(config, log, *args, "--yes")
            assert code == 2 and out == "" and reason in err, (args, err)
            assert err.count("\n") == 1
        assert seen == []
        async with await EventLog.open(log) as opened:
            assert [r.kind for r in await opened.records()] == [REFUSED] * len(cases)


async def test_set_env_values_are_one_printable_line(tmp_path: Path) -> None:
    """A line break in an environment value would be a second variable in a shell's
    eyes and a garbled line on every screen: refused before the API is asked."""
    seen: list[str] = []
    async with serve(counting_api(seen)) as url:
        config = write_config(tmp_path, url, "")
        log = tmp_path / "log.sqlite3"
        for value in ("300\nEVIL=1", "300\x1b[2J", "x" * 5000):
            code, out, err = await act(config, log, "set-env", "luckygas-backend",
                                       f"CACHE_TTL={value}", "--yes")
            assert code == 2 and out == "", value
            assert "printable text on one line" in err and err.count("\n") == 1, err
            assert "\x1b" not in err
        assert seen == []
