"""A drill scenario: a data file (TOML) a team can write for its own drills.

The metadata every part of a drill reads is here: what the scenario is called,
the severity the plan's triage tree should reach, and which of luckytui's
remedies are right (they recover production) or harmful (they make it worse or
hide it). What happens to the simulated production, and when, is the `[[fault]]`
list that the simulation reads (luckytui/sim/drill.py).

    name = "database-failure"            # the file's stem, for `luckytui drill NAME`
    title = "Database failure"
    summary = "one line for `luckytui drill --list`"
    expected_severity = "P1"
    right = ["terminate-long", "terminate-idle", "restart order-worker"]
    harmful = ["read-only luckygas_prod on"]

A remedy rule is an action name (`luckytui act --list`) and, after it, the first
arguments it must have: "scale luckygas-backend" matches `scale luckygas-backend 10`.

Each `[[fault]]` table is one thing that goes wrong: `kind`, `at` (seconds after
the drill starts, default 0), the kind's own keys, and `say` (lines the pods of
`say_from`, by default the kind's deployment, log when it starts):

    [[fault]]
    kind = "connection_leak"
    at = 10
    every = 1      # an idle-in-transaction order-worker session a second
    count = 60     # attempts (0: until order-worker's pods are retired)
    say = ["QueuePool limit of size 4 overflow 0 reached"]

Kinds and their keys (luckytui/sim/drill.py `KINDS` checks them, defaults in
brackets): surge (factor [2.3] over ramp [30 s]), analytics_down, connection_leak
(every [2 s], count [0]), long_queries (count [3], age [400 s]), lock_pileup
(waiters [3], age [120 s]), failed_logins (ips, rate [2/s], success_after [0:
never]), bad_rollout (deployment, env, message). An unknown kind or key, a wrong
type or a value out of range is one ConfigError line naming the file and key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luckytui.configread import ConfigError, Reader

BUILT_IN = Path(__file__).parent / "scenarios"
SEVERITIES = ("P1", "P2", "P3", "P4")
MAX_FILE = 256 * 1024


@dataclass(frozen=True, slots=True)
class RemedyRule:
    """An action and the first arguments it must be given to match."""

    action: str
    args: tuple[str, ...] = ()

    def matches(self, action: str, args: Sequence[str]) -> bool:
        return action == self.action and tuple(args[: len(self.args)]) == self.args

    def __str__(self) -> str:
        return " ".join((self.action, *self.args))


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    summary: str
    expected_severity: str
    right: tuple[RemedyRule, ...]
    harmful: tuple[RemedyRule, ...] = ()
    faults: tuple[Mapping[str, Any], ...] = ()  # read and checked by the simulation
    source: str = ""  # the file it was read from
    extra: Mapping[str, Any] = field(default_factory=dict)  # other top-level tables

    def is_right(self, action: str, args: Sequence[str]) -> bool:
        return any(r.matches(action, args) for r in self.right)

    def is_harmful(self, action: str, args: Sequence[str]) -> bool:
        return any(r.matches(action, args) for r in self.harmful)


def _rules(r: Reader, key: str, *, required: bool) -> tuple[RemedyRule, ...]:
    value = r.get(key, list, [] if not required else None, required=required)
    out: list[RemedyRule] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.split():
            raise r.fail(f"{key}[{i}]", "must be an action and its first arguments, "
                         "e.g. \"scale luckygas-backend\"")
        Reader(r.where, {f"{key}[{i}]": item}, r.prefix).get(f"{key}[{i}]", str)
        words = item.split()
        out.append(RemedyRule(words[0], tuple(words[1:])))
    if required and not out:
        raise r.fail(key, "names no remedy: a drill needs at least one right remedy")
    return tuple(out)


KNOWN_KEYS = {"name", "title", "summary", "expected_severity", "right", "harmful", "fault"}


def parse_scenario(data: Mapping[str, Any], where: str, *,
                   extra_keys: frozenset[str] = frozenset()) -> Scenario:
    """A scenario from a parsed TOML document; ConfigError names what is wrong."""
    r = Reader(where, data)
    r.check_keys(KNOWN_KEYS | set(extra_keys))
    name = r.name("name", required=True)
    if not all(c.isalnum() or c in "-_" for c in name):
        raise r.fail("name", "letters, digits, - and _ only")
    severity = r.get("expected_severity", str, required=True)
    if severity not in SEVERITIES:
        raise r.fail("expected_severity", f"must be one of {', '.join(SEVERITIES)}, "
                     f"not {severity!r}")
    faults = r.get("fault", list, [])
    for i, f in enumerate(faults):
        if not isinstance(f, dict):
            raise r.fail(f"fault[{i}]", "must be a table ([[fault]])")
    return Scenario(
        name=name, title=r.name("title", required=True),
        summary=r.get("summary", str, required=True),
        expected_severity=severity, right=_rules(r, "right", required=True),
        harmful=_rules(r, "harmful", required=False), faults=tuple(faults), source=where,
        extra={k: v for k, v in data.items() if k in extra_keys})


def load_scenario(path: Path) -> Scenario:
    """Read one scenario file; ConfigError (one line naming the file) when it is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE:
        raise ConfigError(f"{path}: larger than {MAX_FILE // 1024} KiB")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_scenario(data, str(path))


def built_in() -> dict[str, Scenario]:
    """The plan's four drills, by name, in the plan's order (first to fourth Monday)."""
    order = ("database-failure", "api-degradation", "security-incident", "complete-outage")
    found = {p.stem: load_scenario(p) for p in BUILT_IN.glob("*.toml")}
    return {n: found[n] for n in order if n in found} | {
        n: s for n, s in sorted(found.items()) if n not in order}


def find_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name, or a scenario file by path."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return load_scenario(Path(name_or_path))
    scenarios = built_in()
    if name_or_path not in scenarios:
        raise ConfigError(f"no drill named {name_or_path!r} (known: {', '.join(scenarios)}; "
                          "or give a scenario file's path)")
    return scenarios[name_or_path]
