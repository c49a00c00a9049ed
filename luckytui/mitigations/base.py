"""What every remedy is made of: a plan shown before, an outcome recorded after.

An action turns its arguments into a `Plan` (the frozen target, each change as
before → after, the equivalent command line, the server's dry-run answer),
which the operator confirms; `Mitigator.run` then records the intent durably,
executes, and records the outcome. Nothing here knows about the screen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# ASCII digits only: int() would also take full-width or Arabic-Indic digits, "1_000",
# " 5" and "+5"
_WHOLE = re.compile(r"[0-9]{1,12}", re.ASCII)


class ActionError(Exception):
    """The action cannot go ahead; one line saying why (bounds, permission, target)."""


class BadArgument(ActionError):
    """An argument is malformed or outside its bounds: a usage error, refused before
    anything is sent to the system it names."""


def whole_number(text: str, what: str, low: int, high: int, hint: str = "") -> int:
    """`text` as a whole number in low..high, written in ASCII digits and nothing else
    (no sign, exponent, fraction, nan/inf, space or other script's digits)."""
    if not isinstance(text, str) or _WHOLE.fullmatch(text) is None:
        raise BadArgument(f"{what} must be a whole number from {low} to {high}, "
                          f"not {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise BadArgument(f"{what} must be between {low} and {high}{hint}, not {value}")
    return value


@dataclass(frozen=True, slots=True)
class Change:
    what: str  # e.g. "replicas"
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the confirmation shows, and everything execute needs."""

    action: str  # the action's name, e.g. "scale"
    title: str  # e.g. "Scale deployment luckygas-backend"
    target: str  # e.g. "deployment/luckygas-backend"
    identity: Mapping[str, str]  # what must not have changed by execute: uid, resourceVersion…
    changes: tuple[Change, ...]
    command: str  # the equivalent kubectl / SQL / command line
    args: Mapping[str, Any]  # the arguments execute uses
    dry_run: str | None = None  # what the server's dry run answered
    typed_confirmation: str | None = None  # bulk actions: the name the operator must type
    touches: tuple[str, ...] = ()  # bulk actions: everything they will touch
    undo: Mapping[str, Any] | None = None  # {"action": name, "args": {...}} to go back

    def describe(self) -> str:
        lines = [self.title]
        lines += [f"  {c.what}: {c.before} → {c.after}" for c in self.changes]
        lines.append(f"  equivalent: {self.command}")
        if self.dry_run:
            lines.append(f"  server dry run: {self.dry_run}")
        if self.touches:
            lines.append(f"  touches {len(self.touches)}:")
            lines += [f"    {t}" for t in self.touches]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # ok, failed, refused
    detail: str  # one line: what happened
    duration_s: float = 0.0
    changed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Action(Protocol):
    name: str
    summary: str  # one line for `luckytui act --list` and the palette
    usage: str  # e.g. "DEPLOYMENT REPLICAS"

    async def plan(self, *args: str) -> Plan:
        """Freeze the target, check bounds and permission, dry-run; ActionError if not."""
        ...

    async def execute(self, plan: Plan) -> Outcome:
        """Apply the plan if its target is unchanged; ActionError if it changed."""
        ...
