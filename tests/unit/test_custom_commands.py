"""Configured commands: strict parsing, checked placeholders, and real runs without a shell."""

from __future__ import annotations

import asyncio
import os
import stat
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from luckytui.config import ConfigError
from luckytui.mitigations.base import ActionError
from luckytui.mitigations.custom import (
    CustomAction,
    CustomCommand,
    check_value,
    custom_actions,
    parse_custom_commands,
)

ROOT = Path(__file__).resolve().parents[2]
WHERE = "luckytui.toml"


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def parse(toml: str) -> tuple[CustomCommand, ...]:
    return parse_custom_commands(tomllib.loads(toml).get("commands"), WHERE)


def refused(toml: str) -> str:
    with pytest.raises(ConfigError) as err:
        parse(toml)
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{WHERE}: ")
    return text


# --- parsing ------------------------------------------------------------------------------


def test_good_commands_parse_with_defaults_and_placeholders() -> None:
    commands = parse("""
[[commands]]
name = "block-ip"
summary = "Block a suspicious address"
argv = ["gcloud", "compute", "firewall-rules", "create", "block-{NAME}",
        "--source-ranges={IP}"]
placeholders = { IP = "ip", NAME = "name" }
timeout = 5
bulk = true

[[commands]]
name = "validate"
summary = "Run the validation suite"
argv = ["./deploy/post-deploy-validation.sh"]
mutating = false
""")
    block, validate = commands
    assert block.argv[-1] == "--source-ranges={IP}"
    assert block.placeholders == {"IP": "ip", "NAME": "name"}
    assert block.order == ("NAME", "IP")  # the order argv first uses them
    assert (block.timeout_s, block.bulk, block.mutating) == (5.0, True, True)
    assert (validate.timeout_s, validate.bulk, validate.mutating) == (60.0, False, False)
    assert parse_custom_commands(None, WHERE) == ()


def test_the_example_snippet_parses() -> None:
    data = tomllib.loads((ROOT / "examples" / "commands.toml").read_text())
    commands = {c.name: c for c in parse_custom_commands(data["commands"], "commands.toml")}
    assert commands["emergency-failover"].bulk
    assert commands["block-ip"].placeholders == {"IP": "ip"}
    assert not commands["validate"].mutating
    assert set(commands) == {"emergency-failover", "block-ip", "validate", "test-order"}


@pytest.mark.parametrize(("body", "key", "problem"), [
    ('summary = "s"\nargv = ["true"]', "commands[0].name", "is required"),
    ('name = "Bad Name"\nsummary = "s"\nargv = ["true"]', "commands[0].name", "lower-case"),
    ('name = "x"\nargv = ["true"]', "commands[0].summary", "is required"),
    ('name = "x"\nsummary = ""\nargv = ["true"]', "commands[0].summary", "one non-empty line"),
    ('name = "x"\nsummary = "s"', "commands[0].argv", "is required"),
    ('name = "x"\nsummary = "s"\nargv = []', "commands[0].argv", "must not be empty"),
    ('name = "x"\nsummary = "s"\nargv = "true"', "commands[0].argv", "must be list"),
    ('name = "x"\nsummary = "s"\nargv = ["true", 3]', "commands[0].argv", "item 1"),
    ('name = "x"\nsummary = "s"\nargv = ["sh", "-c", "echo hi"]', "commands[0].argv",
     "without a shell"),
    ('name = "x"\nsummary = "s"\nargv = ["/usr/bin/env", "bash", "-ec", "x"]',
     "commands[0].argv", "without a shell"),
    ('name = "x"\nsummary = "s"\nargv = ["kubectl get pods"]', "commands[0].argv",
     "without a shell"),
    ('name = "x"\nsummary = "s"\nargv = ["{P}"]\nplaceholders = { P = "text" }',
     "commands[0].argv", "not a placeholder"),
    ('name = "x"\nsummary = "s"\nargv = ["echo", "{IP}"]', "commands[0].argv",
     "uses {IP} but placeholders does not declare it"),
    ('name = "x"\nsummary = "s"\nargv = ["echo"]\nplaceholders = { IP = "ip" }',
     "commands[0].placeholders.IP", "argv never uses {IP}"),
    ('name = "x"\nsummary = "s"\nargv = ["echo", "{IP}"]\nplaceholders = { IP = "addr" }',
     "commands[0].placeholders.IP", "kind must be one of ip, name, int, text"),
    ('name = "x"\nsummary = "s"\nargv = ["echo"]\nmutating = "no"', "commands[0].mutating",
     "must be bool"),
    ('name = "x"\nsummary = "s"\nargv = ["echo"]\ntimeout = 0', "commands[0].timeout",
     "above 0"),
    ('name = "x"\nsummary = "s"\nargv = ["echo"]\nshell = true', "commands[0].shell",
     "unknown key"),
])
def test_each_bad_command_is_one_line_naming_the_key(body: str, key: str, problem: str) -> None:
    text = refused("[[commands]]\n" + body)
    assert f"{WHERE}: {key}: " in text
    assert problem in text


def test_duplicate_names_and_wrong_shapes_are_refused() -> None:
    one = '[[commands]]\nname = "x"\nsummary = "s"\nargv = ["echo"]\n'
    assert "commands[1].name: 'x' is used twice" in refused(one + one)
    assert "commands: must be an array of tables" in refused('commands = "echo"')
    assert "commands[0]: must be a table" in refused('commands = ["echo"]')


def test_a_script_taking_its_own_c_option_is_not_a_shell_form() -> None:
    (cmd,) = parse('[[commands]]\nname = "x"\nsummary = "s"\n'
                   'argv = ["bash", "./run.sh", "-c", "conf"]')
    assert cmd.argv[0] == "bash"


# --- checking values ----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value"), [
    ("ip", "203.0.113.7"), ("ip", "10.0.0.0/8"), ("ip", "2001:db8::1"),
    ("ip", "2001:db8::/32"), ("name", "luckygas-backend"), ("int", "42"), ("int", "-1"),
    ("text", "Payments degraded, see #incidents"),
])
def test_good_values(kind: str, value: str) -> None:
    assert check_value(kind, value) is None


@pytest.mark.parametrize(("kind", "value", "problem"), [
    ("ip", "1.2.3.4; rm -rf /", "not an IP address"),
    ("ip", "1.2.3.4 ", "not an IP address"),
    ("ip", "fe80::1%eth0", "not an IP address"),
    ("ip", "999.1.1.1", "not an IP address"),
    ("ip", "10.0.0.1/8", "host bits"),
    ("ip", "", "is empty"),
    ("name", "Backend", "not a valid name"),
    ("name", "a" * 64, "not a valid name"),
    ("int", "1_000", "whole number"),
    ("int", "3.5", "whole number"),
    ("text", "line\nbreak", "control characters"),
    ("text", "\x1b[31mred", "control characters"),
    ("text", "x" * 201, "longer than 200"),
])
def test_bad_values(kind: str, value: str, problem: str) -> None:
    assert problem in (check_value(kind, value) or "")


async def test_plan_refuses_a_bad_value_in_one_line_naming_it() -> None:
    action = CustomAction(CustomCommand("block-ip", "Block", ("echo", "--source-ranges={IP}"),
                                        placeholders={"IP": "ip"}))
    with pytest.raises(ActionError) as err:
        await action.plan("1.2.3.4; rm -rf /")
    assert "\n" not in str(err.value)
    assert "IP '1.2.3.4; rm -rf /' is not an IP address" in str(err.value)
    with pytest.raises(ActionError, match=r"usage: block-ip IP"):
        await action.plan()


async def test_a_value_that_would_become_an_option_is_refused() -> None:
    action = CustomAction(CustomCommand("note", "Note", ("echo", "{MSG}"),
                                        placeholders={"MSG": "text"}))
    with pytest.raises(ActionError, match="would be read as an option"):
        await action.plan("--output=/etc/passwd")


# --- planning -----------------------------------------------------------------------------


async def test_plan_fills_resolves_and_asks_typed_confirmation_when_bulk(
        tmp_path: Path) -> None:
    prog = script(tmp_path, "block.sh", "echo blocked\n")
    cmd = CustomCommand("block-ip", "Block an address", (str(prog), "--source-ranges={IP}"),
                        placeholders={"IP": "ip"}, bulk=True)
    (action,) = custom_actions([cmd])
    assert (action.name, action.usage, action.summary, action.mutating) == (
        "block-ip", "IP", "Block an address", True)
    plan = await action.plan("10.0.0.0/8")
    assert plan.command == f"{prog} --source-ranges=10.0.0.0/8"
    assert [(c.what, c.before, c.after) for c in plan.changes] == [
        ("runs", "-", plan.command)]
    assert plan.dry_run is None
    assert plan.typed_confirmation == "block-ip"
    assert plan.args["argv"] == [str(prog), "--source-ranges=10.0.0.0/8"]


async def test_plan_quotes_the_equivalent_command_and_finds_relative_programs(
        tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    script(tmp_path / "scripts", "note.sh", "echo \"$1\"\n")
    cmd = CustomCommand("note", "Note", ("./scripts/note.sh", "{MSG}"),
                        placeholders={"MSG": "text"}, cwd=str(tmp_path), mutating=False)
    action = CustomAction(cmd)
    assert action.mutating is False
    plan = await action.plan("it's down")
    assert plan.command == "./scripts/note.sh 'it'\"'\"'s down'"
    assert plan.typed_confirmation is None
    assert plan.args["program"] == str(tmp_path / "scripts" / "note.sh")


async def test_a_missing_program_is_refused_at_plan_time(tmp_path: Path) -> None:
    missing = CustomAction(CustomCommand("x", "s", ("luckytui-no-such-program-here",)))
    with pytest.raises(ActionError, match="not found on PATH"):
        await missing.plan()
    gone = CustomAction(CustomCommand("y", "s", (str(tmp_path / "gone.sh"),)))
    with pytest.raises(ActionError, match="not found"):
        await gone.plan()


# --- running ------------------------------------------------------------------------------


async def run(cmd: CustomCommand, *args: str) -> Any:
    action = CustomAction(cmd)
    return await action.execute(await action.plan(*args))


async def test_exit_zero_is_ok_with_the_output_and_argv_passed_as_given(tmp_path: Path) -> None:
    prog = script(tmp_path, "ok.sh", 'echo "args: $#"\nfor a in "$@"; do echo "[$a]"; done\n'
                  'echo "to stderr" >&2\n')
    out = await run(CustomCommand("ok", "s", (str(prog), "a b", "--ip={IP}"),
                                  placeholders={"IP": "ip"}), "203.0.113.7")
    assert out.ok, out
    assert out.detail == "ok finished (exit status 0): to stderr"
    assert out.changed["output"].splitlines() == [
        "args: 2", "[a b]", "[--ip=203.0.113.7]", "to stderr"]
    assert out.changed["exit_status"] == 0


async def test_non_zero_exit_fails_with_the_last_line(tmp_path: Path) -> None:
    prog = script(tmp_path, "fail.sh", 'i=0\nwhile [ $i -lt 30 ]; do echo "line $i"; '
                  'i=$((i+1)); done\necho "replica lag too high" >&2\nexit 3\n')
    out = await run(CustomCommand("fail", "s", (str(prog),)))
    assert out.status == "failed"
    assert out.detail == "exit status 3: replica lag too high"
    lines = out.changed["output"].splitlines()
    assert len(lines) == 20 and lines[-1] == "replica lag too high"
    assert out.changed["exit_status"] == 3


async def test_only_the_last_64_kib_of_output_is_kept(tmp_path: Path) -> None:
    prog = script(tmp_path, "loud.sh", "head -c 300000 /dev/zero | tr '\\0' 'x'\n"
                  "echo\necho done\n")
    out = await run(CustomCommand("loud", "s", (str(prog),)))
    assert out.ok and out.detail.endswith(": done")
    assert len(out.changed["output"]) <= 64 * 1024


async def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    prog = script(tmp_path, "hang.sh", f'echo started\nsleep 30 &\necho $! > {pidfile}\n'
                  'wait\n')
    action = CustomAction(CustomCommand("hang", "s", (str(prog),), timeout_s=0.5))
    plan = await action.plan()
    started = time.monotonic()
    out = await action.execute(plan)
    elapsed = time.monotonic() - started
    assert out.status == "failed"
    assert out.detail.startswith("timed out after 0.5 s")
    assert elapsed < 2.0
    child = int(pidfile.read_text())
    for _ in range(50):  # the reaper may need a moment to collect the orphan
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if _zombie(child):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail(f"sleep {child} outlived the timeout")


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True


async def test_a_plain_sleep_times_out_within_a_second() -> None:
    action = CustomAction(CustomCommand("sleep", "s", ("sleep", "30"), timeout_s=0.5))
    started = time.monotonic()
    out = await action.execute(await action.plan())
    assert out.status == "failed" and out.detail == "timed out after 0.5 s"
    assert time.monotonic() - started < 1.5


async def test_no_shell_substitution_reaches_the_program_literally(tmp_path: Path) -> None:
    prog = script(tmp_path, "echo.sh", 'printf "%s\\n" "$1"\n')
    out = await run(CustomCommand("say", "s", (str(prog), "{MSG}"), cwd=str(tmp_path),
                                  placeholders={"MSG": "text"}), "$(touch x) `touch y`")
    assert out.ok
    assert out.changed["output"] == "$(touch x) `touch y`"
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


async def test_stdin_is_closed_and_the_program_leads_its_own_group(tmp_path: Path) -> None:
    prog = script(tmp_path, "who.sh", 'cat\necho "pgid=$(cut -d" " -f5 /proc/$$/stat)"\n'
                  'echo "pid=$$"\n')
    out = await run(CustomCommand("who", "s", (str(prog),), timeout_s=5))
    assert out.ok, out
    values = dict(line.split("=", 1) for line in out.changed["output"].splitlines())
    assert values["pgid"] == values["pid"]


async def test_a_program_removed_after_the_plan_is_refused(tmp_path: Path) -> None:
    prog = script(tmp_path, "once.sh", "echo hi\n")
    action = CustomAction(CustomCommand("once", "s", (str(prog),)))
    plan = await action.plan()
    prog.unlink()
    with pytest.raises(ActionError, match="gone"):
        await action.execute(plan)
