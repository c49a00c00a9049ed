"""Config files: valid ones load, bad ones get one line naming file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from luckytui.config import ConfigError, load_settings, parse_panes

GOOD = """
refresh = 1.5
[kubernetes]
context = "prod"
namespace = "luckygas"
[prometheus]
url = "http://127.0.0.1:9090"
[[databases]]
name = "luckygas_prod"
dsn = "host=db.internal dbname=luckygas_prod user=monitor"
[login]
url = "https://api.example.test/api/v1/auth/login"
email = "probe@example.test"
password_env = "PROBE_PASSWORD"
[[endpoints]]
name = "executive"
group = "analytics"
url = "https://api.example.test/api/v1/analytics/executive"
auth = true
expect_status = 200
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, GOOD))
    assert s.refresh == 1.5
    assert s.kube is not None and s.kube.context == "prod"
    assert s.prometheus is not None and s.prometheus.url == "http://127.0.0.1:9090"
    assert s.databases[0].name == "luckygas_prod"
    assert s.endpoints[0].expect_status == (200,) and s.endpoints[0].auth
    assert s.replay_max_mib == 64
    assert load_settings(write(tmp_path, "[replay]\nmax_mib = 8")).replay_max_mib == 8


@pytest.mark.parametrize("key", ["api_url", "sim_url"])
def test_a_database_served_over_http(tmp_path: Path, key: str) -> None:
    """`api_url` (or its older name `sim_url`) names a database served over HTTP."""
    url = "http://127.0.0.1:8081/databases/luckygas_prod/activity"
    s = load_settings(write(tmp_path, f"[[databases]]\nname = 'prod'\n{key} = '{url}'\n"))
    assert s.databases[0].api_url == url and s.databases[0].dsn is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("refresh = 'fast'", "refresh: must be float, not str"),
        ("refresh = 0", "refresh: must be between"),
        ("colour = 1", "colour: unknown key"),
        ("[prometheus]\nurl = 'prometheus:9090'", "prometheus.url: must be an http"),
        ("[login]\nurl='http://x/l'\nemail='a'\npassword='hunter2'",
         "login.password: secrets are not written in the config file"),
        ("[[databases]]\nname='p'\ndsn='postgresql://u:hunter2@h/db'",
         "databases[0].dsn: has a password in it"),
        ("[[endpoints]]\nname='a'\nurl='http://x/a'\nauth=true",
         "endpoints[0].auth: needs a [login] table"),
        ("[[endpoints]]\nname='a'\nurl='http://x/a'\nexpect_status=[999]",
         "endpoints[0].expect_status: must be HTTP status codes"),
        ("refresh = = 2", "not valid TOML"),
        ("[[databases]]\nname='p'\napi_url='http://h/a'\nsim_url='http://h/b'",
         "databases[0].sim_url: is another name for api_url"),
        ("[[databases]]\nname='p'", "databases[0].dsn: is required (or api_url"),
        ("[[databases]]\nname='p'\napi_url='h:1/a'", "databases[0].api_url: must be an http"),
        ("[replay]\nmax_mib = 0", "replay.max_mib: must be between 1 and"),
        ("[replay]\nmax_gib = 1", "replay.max_gib: unknown key"),
    ],
)
def test_bad_file_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message and expected in message
    assert "\n" not in message and "hunter2" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.toml")


def test_password_reference_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings(write(tmp_path, GOOD))
    assert s.login is not None
    monkeypatch.delenv("PROBE_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="PROBE_PASSWORD is not set"):
        s.login.password()
    monkeypatch.setenv("PROBE_PASSWORD", "s3cret")
    assert s.login.password() == "s3cret"


def test_panes() -> None:
    assert parse_panes("endpoints,timeline") == ("endpoints", "timeline")
    with pytest.raises(ConfigError, match="unknown pane cpu"):
        parse_panes("endpoints,cpu")


def test_the_readme_example_config_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    s = load_settings(write(tmp_path, block))
    assert s.kube is not None and s.kube.namespace == "luckygas"
    assert s.login is not None and s.login.password_env == "LUCKYGAS_PROBE_PASSWORD"
    assert s.endpoints[0].auth


def test_the_production_example_is_valid() -> None:
    s = load_settings(Path(__file__).resolve().parents[2] / "examples" / "luckygas.toml")
    assert s.kube is not None and s.kube.namespace == "luckygas"
    assert s.databases[0].dsn is not None and "luckygas_prod" in s.databases[0].dsn
    assert {e.name for e in s.endpoints if e.group == "analytics"} == {
        "executive", "operations", "financial", "performance"}
    assert all(e.auth for e in s.endpoints if e.group == "analytics")
