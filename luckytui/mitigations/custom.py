"""The team's own runbook commands, declared in the config and run as confirmed actions.

A command is an argv list, never a shell line: `{NAME}` placeholders (upper case)
are filled from the operator's arguments, each value checked against its kind
first, and the program runs without a shell in its own process group, with a
timeout that kills the whole group. Only the tail of its output is kept.

    [[commands]]
    name = "block-ip"
    summary = "Block a suspicious source address at the firewall"
    argv = ["gcloud", "compute", "firewall-rules", "create", "block-suspicious",
            "--deny=tcp", "--source-ranges={IP}"]
    placeholders = { IP = "ip" }
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import re
import shlex
import shutil
import signal
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luckytui.configread import ConfigError, Reader
from luckytui.mitigations.base import ActionError, BadArgument, Change, Outcome, Plan

KINDS = ("ip", "name", "int", "text")
PLACEHOLDER = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")
PLACEHOLDER_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
COMMAND_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
INTEGER = re.compile(r"^-?[0-9]{1,18}$")
IP_CHARS = re.compile(r"^[0-9A-Fa-f:./]+$")
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh",
                    "busybox"})
ARGV0_FORBIDDEN = re.compile(r"[\s;|&$`<>(){}*?!]")
ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)")
OUTPUT_LIMIT = 64 * 1024
TAIL_LINES = 20
MAX_TIMEOUT_S = 3600.0
KILL_GRACE_S = 0.5
DRAIN_S = 0.5


@dataclass(frozen=True, slots=True)
class CustomCommand:
    """One `[[commands]]` entry, validated."""

    name: str
    summary: str
    argv: tuple[str, ...]
    mutating: bool = True  # False: changes nothing, may run in read-only mode
    timeout_s: float = 60.0
    placeholders: Mapping[str, str] = field(default_factory=dict)  # NAME -> kind
    bulk: bool = False  # the operator types the command's name to confirm
    cwd: str | None = None  # where it runs; a relative argv[0] is found from here

    @property
    def order(self) -> tuple[str, ...]:
        """The placeholders in the order argv first uses them."""
        seen: list[str] = []
        for item in self.argv:
            for name in PLACEHOLDER.findall(item):
                if name not in seen:
                    seen.append(name)
        return tuple(seen)


# --- checking one value -------------------------------------------------------------------


def _has_control(value: str) -> bool:
    return any(unicodedata.category(c).startswith("C") or unicodedata.category(c) in ("Zl", "Zp")
               for c in value)


def check_value(kind: str, value: str) -> str | None:
    """Why `value` is not a valid `kind`, or None when it is."""
    if not value:
        return "is empty"
    if kind == "ip":
        if not IP_CHARS.fullmatch(value):
            return "is not an IP address or CIDR range"
        try:
            if "/" in value:
                ipaddress.ip_network(value, strict=True)
            else:
                ipaddress.ip_address(value)
        except ValueError as exc:
            if "host bits" in str(exc):
                return "has host bits set (give the network address of the range)"
            return "is not an IP address or CIDR range"
        return None
    if kind == "name":
        if len(value) > 63 or not DNS_LABEL.fullmatch(value):
            return "is not a valid name (lower-case letters, digits and '-', at most 63)"
        return None
    if kind == "int":
        return None if INTEGER.fullmatch(value) else "is not a whole number"
    if kind == "text":
        if len(value) > 200:
            return "is longer than 200 characters"
        if _has_control(value):
            return "contains control characters"
        return None
    return f"has an unknown kind {kind!r}"


# --- parsing the config -------------------------------------------------------------------


def _shell_form(argv: Sequence[str]) -> bool:
    """A shell given a command string (`sh -c`, `bash -ec`, `env bash --command`)."""
    for i, item in enumerate(argv):
        if os.path.basename(item) not in SHELLS:
            continue
        for opt in argv[i + 1:]:
            if not opt.startswith("-") or opt == "--":
                break  # the script's own arguments start here
            if opt == "--command" or (not opt.startswith("--") and "c" in opt[1:]):
                return True
    return False


def parse_custom_commands(data: object, where: str) -> tuple[CustomCommand, ...]:
    """Validate the top-level `commands` array of tables; one-line ConfigError if bad."""
    if data is None:
        return ()
    if not isinstance(data, list):
        raise ConfigError(f"{where}: commands: must be an array of tables "
                                  "([[commands]])")
    commands: list[CustomCommand] = []
    names: set[str] = set()
    for i, table in enumerate(data):
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: commands[{i}]: must be a table")
        command = _parse_one(Reader(where, table, f"commands[{i}]."))
        if command.name in names:
            raise ConfigError(f"{where}: commands[{i}].name: {command.name!r} is "
                                      "used twice")
        names.add(command.name)
        commands.append(command)
    return tuple(commands)


def _parse_one(r: Reader) -> CustomCommand:
    r.check_keys({"name", "summary", "argv", "mutating", "timeout", "placeholders", "bulk",
                  "cwd"})
    name: str = r.get("name", str, required=True)
    if len(name) > 63 or not COMMAND_NAME.match(name):
        raise r.fail("name", f"{name!r} must be lower-case letters, digits and '-' "
                     "(at most 63)")
    summary: str = r.get("summary", str, required=True).strip()
    if not summary or "\n" in summary or _has_control(summary):
        raise r.fail("summary", "must be one non-empty line")
    argv = _parse_argv(r)
    placeholders = _parse_placeholders(r, argv)
    timeout: float = r.get("timeout", float, 60.0)
    if not 0 < timeout <= MAX_TIMEOUT_S:
        raise r.fail("timeout", f"must be above 0 and at most {MAX_TIMEOUT_S:g} seconds")
    cwd: str | None = r.get("cwd", str)
    if cwd is not None and not cwd.strip():
        raise r.fail("cwd", "must be a directory, not empty")
    return CustomCommand(name=name, summary=summary, argv=argv,
                         mutating=r.get("mutating", bool, True), timeout_s=timeout,
                         placeholders=placeholders, bulk=r.get("bulk", bool, False), cwd=cwd)


def _parse_argv(r: Reader) -> tuple[str, ...]:
    raw = r.get("argv", list, required=True)
    if not raw:
        raise r.fail("argv", "must not be empty (the program, then its arguments)")
    for j, item in enumerate(raw):
        if not isinstance(item, str):
            raise r.fail("argv", f"item {j} must be a string, not {type(item).__name__}")
        if "\x00" in item:
            raise r.fail("argv", f"item {j} contains a NUL character")
    argv = tuple(raw)
    program = argv[0]
    if not program:
        raise r.fail("argv", "argv[0] must be a program name or path, not empty")
    if PLACEHOLDER.search(program):
        raise r.fail("argv", "argv[0] must be a fixed program, not a placeholder")
    if ARGV0_FORBIDDEN.search(program):
        raise r.fail("argv", f"argv[0] {program!r} must be one program name or path; argv "
                     "runs without a shell, so put each argument in its own list item")
    if _shell_form(argv):
        raise r.fail("argv", "argv runs without a shell; a shell with -c is refused: list "
                     "the program and its arguments, or put the pipeline in a script")
    return argv


def _parse_placeholders(r: Reader, argv: tuple[str, ...]) -> dict[str, str]:
    table: dict[str, Any] = r.get("placeholders", dict, {})
    for key, kind in table.items():
        if not PLACEHOLDER_NAME.match(key):
            raise r.fail(f"placeholders.{key}", "a placeholder name is upper-case letters, "
                         "digits and '_', starting with a letter")
        if kind not in KINDS:
            raise r.fail(f"placeholders.{key}", f"kind must be one of {', '.join(KINDS)}, "
                         f"not {kind!r}")
    used = {n for item in argv for n in PLACEHOLDER.findall(item)}
    if missing := sorted(used - set(table)):
        raise r.fail("argv", f"uses {{{missing[0]}}} but placeholders does not declare it "
                     f"(add {missing[0]} = \"text\" or another kind)")
    if unused := sorted(set(table) - used):
        raise r.fail(f"placeholders.{unused[0]}",
                     f"is declared but argv never uses {{{unused[0]}}}")
    return {k: str(v) for k, v in table.items()}


# --- the action ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    text = ANSI.sub("", text)
    return "".join(c for c in text if c in "\t\n" or not unicodedata.category(c).startswith("C"))


def _tail(buffer: bytes | bytearray) -> list[str]:
    text = _clean(bytes(buffer).decode("utf-8", errors="replace").replace("\r\n", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return [line for line in lines if line.strip()][-TAIL_LINES:]


def _short(line: str, limit: int = 160) -> str:
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _runnable(program: str) -> bool:
    return os.path.isfile(program) and os.access(program, os.X_OK)


class CustomAction:
    """Runs one configured command: plan fills and checks it, execute runs it."""

    def __init__(self, command: CustomCommand) -> None:
        self.command = command
        self.name = command.name
        self.summary = command.summary
        self.usage = " ".join(command.order)
        self.mutating = command.mutating

    def fill(self, *args: str) -> tuple[str, ...]:
        """argv with each placeholder replaced by its checked value."""
        order = self.command.order
        if len(args) != len(order):
            raise BadArgument(f"usage: {self.name} {self.usage}".rstrip())
        values: dict[str, str] = {}
        for placeholder, value in zip(order, args, strict=True):
            kind = self.command.placeholders[placeholder]
            problem = check_value(kind, value)
            if problem:
                raise BadArgument(f"{placeholder} {_short(repr(value), 80)} {problem}")
            values[placeholder] = value
        filled: list[str] = []
        for item in self.command.argv:
            new = PLACEHOLDER.sub(lambda m: values[m.group(1)], item)
            if new.startswith("-") and not item.startswith("-"):
                raise ActionError(f"{_short(repr(new), 80)} would be read as an option by "
                                  f"{self.command.argv[0]}; a value may not start with '-'")
            filled.append(new)
        return tuple(filled)

    def _cwd(self) -> str | None:
        cwd = self.command.cwd
        if cwd is None:
            return None
        path = Path(cwd).expanduser()
        if not path.is_dir():
            raise ActionError(f"{self.name}: working directory {cwd} does not exist")
        return str(path)

    def _program(self, cwd: str | None) -> str:
        program = self.command.argv[0]
        candidate = program
        if cwd is not None and "/" in program and not os.path.isabs(program):
            candidate = os.path.join(cwd, program)
        found = shutil.which(os.path.expanduser(candidate))
        if found is None:
            where = "" if "/" in program else " on PATH"
            raise ActionError(f"{self.name}: program {program} not found{where} "
                              "(or not executable)")
        return os.path.abspath(found)

    async def plan(self, *args: str) -> Plan:
        argv = self.fill(*args)
        cwd = self._cwd()
        program = self._program(cwd)
        line = shlex.join(argv)
        order = self.command.order
        values = dict(zip(order, args, strict=True))
        subject = " ".join(values.values())
        return Plan(
            action=self.name,
            title=f"Run {self.name}" + (f" {subject}" if subject else "") + f": {self.summary}",
            target=f"command/{self.name}", identity={"program": program},
            changes=(Change("runs", "-", line),), command=line,
            args={"argv": list(argv), "program": program, "cwd": cwd, "values": values,
                  "timeout_s": self.command.timeout_s},
            dry_run=None, typed_confirmation=self.name if self.command.bulk else None)

    async def execute(self, plan: Plan) -> Outcome:
        argv = [str(a) for a in plan.args["argv"]]
        program = str(plan.args["program"])
        cwd = plan.args.get("cwd")
        timeout = float(plan.args.get("timeout_s", self.command.timeout_s))
        if not _runnable(program):
            raise ActionError(f"{self.name}: program {program} is gone or no longer "
                              "executable since the plan")
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                program, *argv[1:], stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                cwd=cwd, start_new_session=True)
        except OSError as exc:
            raise ActionError(f"{self.name}: cannot start {program}: "
                              f"{exc.strerror or exc}") from None
        buffer = bytearray()
        reader = asyncio.create_task(self._read(proc, buffer))
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            timed_out = True
            await self._kill_group(proc)
        except BaseException:
            await self._kill_group(proc)
            reader.cancel()
            raise
        # a child that outlives the program may keep the pipe open: stop reading soon
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader, DRAIN_S)
        tail = _tail(buffer)
        last = _short(tail[-1]) if tail else ""
        changed: dict[str, Any] = {"output": "\n".join(tail), "exit_status": proc.returncode,
                                   "command": plan.command}
        duration = round(time.monotonic() - started, 3)
        if timed_out:
            changed["exit_status"] = None
            return Outcome("failed", f"timed out after {timeout:g} s"
                           + (f": {last}" if last else ""), duration, changed)
        if proc.returncode == 0:
            return Outcome("ok", f"{self.name} finished (exit status 0)"
                           + (f": {last}" if last else ""), duration, changed)
        status = proc.returncode
        what = (f"killed by signal {-status}" if status is not None and status < 0
                else f"exit status {status}")
        return Outcome("failed", what + (f": {last}" if last else ""), duration, changed)

    @staticmethod
    async def _read(proc: asyncio.subprocess.Process, buffer: bytearray) -> None:
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(8192):
            buffer.extend(chunk)
            if len(buffer) > OUTPUT_LIMIT:
                del buffer[:-OUTPUT_LIMIT]

    @staticmethod
    async def _kill_group(proc: asyncio.subprocess.Process) -> None:
        """TERM the program's process group, then KILL whatever is left of it."""
        pgid = proc.pid  # start_new_session: the program leads its own group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), KILL_GRACE_S)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        await proc.wait()


def custom_actions(commands: Sequence[CustomCommand]) -> list[CustomAction]:
    return [CustomAction(c) for c in commands]
