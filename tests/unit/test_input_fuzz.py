"""Every parser of outside input, fed whatever hypothesis can think of: it answers with a
value or one clear line (a usage error exits 2), never a traceback.

`make test` runs a quick pass; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) runs ten thousand
examples a parser.
"""

from __future__ import annotations

import contextlib
import io
import os
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luckytui.cli import main
from luckytui.config import (
    ConfigError,
    Settings,
    parse_config_text,
    parse_settings,
    read_config_bytes,
)
from luckytui.runbooks import load_runbooks

pytestmark = pytest.mark.fuzz

# what TOML can hold
scalars = st.one_of(
    st.text(max_size=30), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(), st.booleans(), st.dates(), st.times(),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.just("http://127.0.0.1:9/x"), st.just("P1"))
TOP_KEYS = ["refresh", "log", "read_only", "utc", "panes", "kubernetes", "prometheus",
            "databases", "login", "endpoints", "max_replicas", "emergency_scale",
            "runbooks", "cache", "commands"]
INNER_KEYS = ["name", "url", "group", "method", "expect_status", "auth", "timeout",
              "slow_ms", "verify_tls", "body", "dsn", "api_url", "sim_url", "email", "password_env",
              "password_file", "kubeconfig", "context", "namespace", "cpu_query", "argv",
              "summary", "params", "kind", "timeout_s"]
keys = st.one_of(st.sampled_from(TOP_KEYS + INNER_KEYS), st.text(max_size=12))
values: st.SearchStrategy[Any] = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(keys, inner, max_size=5)),
    max_leaves=20)
documents = st.dictionaries(keys, values, max_size=8)


def _one_line(exc: Exception) -> None:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text


@given(documents)
def test_any_config_document_gives_settings_or_one_line(doc: dict[str, Any]) -> None:
    try:
        settings = parse_settings(doc, "fuzz.toml")
    except ConfigError as exc:
        _one_line(exc)
    else:
        assert isinstance(settings, Settings)


@given(st.one_of(st.binary(max_size=400),
                 st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
                 st.lists(st.sampled_from(["[", "]", "{", "}", "a", "=", "\"", "'", "1",
                                           "\n", ".", ",", "0001-01-01", "nan", "inf",
                                           "[[endpoints]]", "\x00", "\\u0000"]),
                          max_size=300).map(lambda p: "".join(p).encode())))
def test_any_config_bytes_give_a_document_or_one_line(data: bytes) -> None:
    try:
        doc = parse_config_text(data, "fuzz.toml")
        parse_settings(doc, "fuzz.toml")
    except ConfigError as exc:
        _one_line(exc)


def test_deep_nesting_binary_and_special_files_are_one_line(tmp_path: Path) -> None:
    cases = {
        b"a = " + b"[" * 5000 + b"]" * 5000: "nested too deeply",
        b"\xff\xfe\x00garbage": "not UTF-8 text (byte 0 is 0xff)",
        b"panes = [1]": "pane names are strings",
        b"refresh = 0001-01-01": "refresh: must be float, not date",
        b"[[endpoints]]\nname='a'\nurl='http://h/'\ntimeout = inf\n": "timeout: must be above 0",
        b"[[endpoints]]\nname='a'\nurl='http://h/'\ntimeout = nan\n": "timeout: must be above 0",
        b"[[endpoints]]\nname='a'\nurl='http://h/'\ntimeout = 1e300\n": "at most 300 seconds",
        b"[[endpoints]]\nname=''\nurl='http://h/'\n": "name: is empty",
        b"[[endpoints]]\nname=\"a\\nb\"\nurl='http://h/'\n": "control character (U+000A)",
        b"[[endpoints]]\nname=\"a\\u001b[2J\"\nurl='http://h/'\n": "control character (U+001B)",
        b"[[endpoints]]\nname='a'\nurl='http://h/'\nslow_ms=-5\n": "slow_ms: must be above 0",
        b"[[endpoints]]\nname='a'\nurl='http://h a/'\n": "has a space in it",
        b"[[endpoints]]\nname='a'\nurl='http://h:99999/'\n": "not a valid URL",
        b"[[endpoints]]\nname='a'\nurl='http://h/'\nmethod='POST'\nbody={d=0001-01-01}\n":
            "body: holds a date",
        b"databases = [1]": "databases[0]: must be a table",
    }
    for data, expected in cases.items():
        path = tmp_path / "c.toml"
        path.write_bytes(data)
        with pytest.raises(ConfigError) as caught:
            parse_settings(parse_config_text(read_config_bytes(path), str(path)), str(path))
        _one_line(caught.value)
        assert expected in str(caught.value), (data, str(caught.value))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # a reader that waited for a writer would block the start forever
    with pytest.raises(ConfigError, match="not a regular file"):
        read_config_bytes(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_config_bytes("/dev/zero")
    with pytest.raises(ConfigError, match="is a directory"):
        read_config_bytes(tmp_path)
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (1024 * 1024))
    with pytest.raises(ConfigError, match="a config file is at most"):
        read_config_bytes(big)


runbook_docs = st.fixed_dictionaries({"runbook": st.one_of(values, st.lists(
    st.fixed_dictionaries({"id": values, "title": values}, optional={
        "alert": values, "steps": st.one_of(values, st.lists(st.dictionaries(
            st.sampled_from(["text", "pane", "action", "args", "note"]), values)))}),
    max_size=3))})


def _toml(value: Any) -> str:
    """A minimal TOML writer for the generated runbook files."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                             for c in value if ord(c) < 0x10000 and not 0xD800 <= ord(c)
                             < 0xE000) + '"'
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value > 0 else "-inf") \
            if value in (float("inf"), float("-inf")) else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml(str(k))} = {_toml(v)}" for k, v in value.items()) + "}"


@given(runbook_docs)
def test_any_runbook_file_gives_runbooks_or_one_line(doc: dict[str, Any]) -> None:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"luckytui-fuzz-runbooks-{os.getpid()}.toml"
    path.write_text("\n".join(f"{_toml(k)} = {_toml(v)}" for k, v in doc.items()),
                    encoding="utf-8")
    try:
        books = load_runbooks(path)
    except ConfigError as exc:
        _one_line(exc)
    else:
        for book in books:
            assert book.id.strip() and book.steps
            assert all(isinstance(s.text, str) and s.text.isprintable() for s in book.steps)
    finally:
        path.unlink(missing_ok=True)


# --- the command line -------------------------------------------------------------------

WORDS = ["--title", "--severity", "--started-at", "--detected-at", "--component", "--drill",
         "--json", "--tick", "--month", "--utc", "-o", "--force", "--author", "--incident",
         "--format", "--as", "--refresh", "--panes", "--timeout", "--seed", "--config",
         "P1", "P5", "Identified", "IC", "0001-01-01T00:00:00", "9999-12-31T23:59:59+14:00",
         "2026-13-01", "0001-01", "9999-12", "٣", "1e300", "nan", "inf", "-1", "0", "99",
         "INC-2026-12-05-001", "\x1b[2J", "", "--", "-"]
COMMANDS = [["incident", "declare"], ["incident", "list"], ["incident", "show"],
            ["incident", "ack"], ["incident", "resolve"], ["incident", "severity"],
            ["incident", "status"], ["incident", "role"], ["incident", "note"],
            ["report"], ["postmortem"], ["log", "verify"], ["log", "export"],
            ["config", "check"]]


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("LUCKYTUI_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@given(command=st.sampled_from(COMMANDS),
       rest=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=15)), max_size=8))
def test_any_command_line_answers_with_an_exit_code_and_one_line(
        cli_home: Path, command: list[str], rest: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = [*command, *rest, "--log", str(cli_home / "log.sqlite3")]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exc:  # --help and --version exit 0 through argparse
        code = exc.code if isinstance(exc.code, int) else 2
        assert code == 0, err.getvalue()
    assert code in (0, 1, 2), (argv, code)
    problems = err.getvalue().strip()
    assert "Traceback" not in problems and "Traceback" not in out.getvalue()
    if problems:
        assert all(line.startswith("luckytui: ") for line in problems.splitlines()), problems


@pytest.mark.parametrize(("when", "expected"), [
    ("0001-01-01T00:00:00", "not an ISO 8601 time"),  # year 1, local: before UTC's year 1
    ("0001-01-01T00:00:00+00:00", "more than 366 days ago"),
    ("2026-13-01T00:00:00", "not an ISO 8601 time"),
    ("9999-12-31T23:59:59-14:00", "not an ISO 8601 time"),
])
def test_declare_times_out_of_range_are_usage_errors(
        cli_home: Path, capsys: pytest.CaptureFixture[str], when: str, expected: str) -> None:
    code = main(["incident", "declare", "--title", "db down", "--severity", "P1",
                 "--started-at", when, "--log", str(cli_home / "log.sqlite3")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("luckytui: --started-at: ") and expected in err, err
