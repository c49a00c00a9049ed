"""Label and field selectors, as the API server parses them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from luckytui.sim.kube.common import bad_request


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_SET_REQ = re.compile(r"^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$")
_EQ_REQ = re.compile(r"^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$")
_KEY_REQ = re.compile(r"^(!?)\s*([\w./-]+)$")

@dataclass(frozen=True, slots=True)
class Requirement:
    """One term of a label selector."""

    key: str
    op: str  # in, notin, =, !=, exists, !exists
    values: frozenset[str] = frozenset()

    def __call__(self, labels: dict[str, str]) -> bool:
        value = labels.get(self.key)
        if self.op in ("in", "="):
            return value in self.values
        if self.op in ("notin", "!="):
            return value not in self.values
        return (value is not None) == (self.op == "exists")


def parse_label_selector(text: str) -> list[Requirement]:
    out: list[Requirement] = []
    for req in _split_top(text):
        if m := _SET_REQ.match(req):
            values = frozenset(v.strip() for v in m[3].split(",") if v.strip())
            out.append(Requirement(m[1], m[2], values))
        elif m := _EQ_REQ.match(req):
            out.append(Requirement(m[1], "!=" if m[2] == "!=" else "=", frozenset((m[3],))))
        elif m := _KEY_REQ.match(req):
            out.append(Requirement(m[2], "!exists" if m[1] else "exists"))
        else:
            raise bad_request(f"unable to parse requirement: {req!r}")
    return out


def parse_field_selector(text: str, allowed: Iterable[str]) -> list[tuple[str, bool, str]]:
    """[(field, equal, value)]; unknown fields are a 400 as on a real server."""
    ok = set(allowed)
    out = []
    for req in _split_top(text):
        if "!=" in req:
            key, value = req.split("!=", 1)
            equal = False
        elif "==" in req:
            key, value = req.split("==", 1)
            equal = True
        elif "=" in req:
            key, value = req.split("=", 1)
            equal = True
        else:
            raise bad_request(f"invalid selector: {req!r}; can't understand {req!r}")
        key = key.strip()
        if key not in ok:
            raise bad_request(f'field label not supported: {key}')
        out.append((key, equal, value.strip()))
    return out


# --- patches --------------------------------------------------------------------

