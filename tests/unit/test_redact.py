"""Secrets never reach the log, the debug log, exports or the screen: redaction happens
before anything is written, because an append-only, hash-chained log cannot forget."""

from __future__ import annotations

import logging
import sqlite3
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luckytui.config import ConfigError, apply_overrides, parse_settings
from luckytui.config import Settings as Cfg
from luckytui.redact import REDACTED, redact_argv, redact_data, redact_text
from luckytui.store import EventLog

SECRET = "hunter2Zq9"
SHAPES = [
    "ALTER ROLE app PASSWORD '{s}'",
    "ALTER ROLE app WITH ENCRYPTED PASSWORD E'{s}\\'x'",
    "alter role app password $${s}$$",
    "CREATE ROLE app LOGIN PASSWORD $pw${s}$pw$ VALID UNTIL 'infinity'",
    "host=db password = {s} dbname=luckygas_prod",
    "host=db password='{s} with spaces' dbname=x",
    "postgresql://app:{s}@db:5432/luckygas_prod",
    "GET http://ops:{s}@api.internal/health",
    "token: {s}",
    "the deploy token={s}, rotated",
    "Authorization: Bearer {s}.abc",
    "curl -H 'authorization: basic {s}'",
    "aws_secret_access_key = {s}",
    "DB_PASSWORD={s} ./migrate",
    "mysql --password {s} -h db",
    "tool --api-key={s}",
    "kubectl create secret generic db-creds --from-literal=password={s}",
    '{{"password": "{s}", "user": "app"}}',
    "-----BEGIN OPENSSH PRIVATE KEY-----\n{s}\n-----END OPENSSH PRIVATE KEY-----",
]


@pytest.mark.parametrize("shape", SHAPES)
def test_each_secret_shape_is_hidden(shape: str) -> None:
    text = shape.format(s=SECRET)
    shown = redact_text(text)
    assert SECRET not in shown
    assert REDACTED in shown


def test_well_known_token_formats_are_hidden() -> None:
    for token in ("AKIAIOSFODNN7EXAMPLE", "ghp_" + "a1" * 18, "glpat-" + "x" * 20,
                  "xoxb-1234567890-abcdef", "sk-" + "Z" * 24,
                  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"):
        assert redact_text(f"found {token} in the env") == f"found {REDACTED} in the env"


def test_what_only_names_a_secret_is_kept() -> None:
    for text in ("Author: Jane Doe", "password_env = DB_PASS", "--password-file /etc/pw",
                 "SELECT * FROM orders WHERE token_count > 5", "kubectl get secret db-creds",
                 "https://api.luckygas.com.tw/api/v1/orders"):
        assert redact_text(text) == text
    assert redact_data({"password_env": "DB_PASS", "secret_name": "db-creds"}) == {
        "password_env": "DB_PASS", "secret_name": "db-creds"}


def test_a_command_line_hides_the_word_after_a_secret_option() -> None:
    argv = ["rotate-secret", "--password", SECRET, "--user", "app", "--token=" + SECRET]
    assert redact_argv(argv) == ["rotate-secret", "--password", REDACTED, "--user", "app",
                                 "--token=***"]
    # inside a record, any list of words is read as a command line
    assert SECRET not in str(redact_data({"argv": argv, "output": f"new password={SECRET}"}))


@given(secret=st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd")),
                      min_size=8, max_size=40),
       shape=st.sampled_from(SHAPES))
def test_any_secret_in_any_shape_is_hidden(secret: str, shape: str) -> None:
    assert secret not in redact_text(shape.format(s=secret))


async def test_the_log_file_never_holds_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    async with await EventLog.open(path) as log:
        await log.append("mitigation.intent", {
            "action": "pg-terminate", "target": "pid 4242",
            "session": {"query": f"ALTER ROLE app PASSWORD '{SECRET}'"}}, actor="ops")
        await log.append("incident.note", {"text": f"rotated: token: {SECRET}"}, actor="ops")
        await log.append("mitigation.intent", {
            "action": "rotate-secret", "argv": ["rotate", "--password", SECRET]}, actor="ops")
        assert (await log.verify()).ok
    _assert_not_stored(tmp_path, path)


def _assert_not_stored(folder: Path, path: Path) -> None:
    raw = b"".join(p.read_bytes() for p in folder.iterdir())  # the database, WAL and all
    assert SECRET.encode() not in raw
    rows = sqlite3.connect(path).execute("SELECT data FROM events").fetchall()
    assert len(rows) == 3 and all(REDACTED in row[0] for row in rows)


def test_a_dsn_with_a_spaced_password_and_a_flag_url_with_credentials_are_refused() -> None:
    with pytest.raises(ConfigError, match="has a password in it"):
        parse_settings({"databases": [{"name": "prod",
                                       "dsn": f"host=db password = {SECRET}"}]}, "c.toml")
    with pytest.raises(ConfigError, match="credentials in a URL"):
        apply_overrides(Cfg(), endpoints=[f"http://ops:{SECRET}@api/health"])
    with pytest.raises(ConfigError, match="has a password in it"):
        apply_overrides(Cfg(), dsns=[f"postgresql://db/x?password={SECRET}"])


def test_the_debug_log_is_private_redacted_and_free_of_sql_parameters(
        tmp_path: Path) -> None:
    from luckytui.cli import _setup_debug_log

    path = tmp_path / "debug.log"
    path.write_text("")
    path.chmod(0o644)  # an existing, world-readable file is made private
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        _setup_debug_log(str(path))
        logging.getLogger("luckytui.sources").debug("connect failed: %s",
                                                   f"postgresql://app:{SECRET}@db/x")
        logging.getLogger("aiosqlite").debug("executing INSERT ... ('%s',)", SECRET)
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in root.handlers[len(before[0]):]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(before[1])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "connect failed: postgresql://app:***@db/x" in text
    assert SECRET not in text and "executing" not in text
