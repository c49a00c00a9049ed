"""Reading one TOML table with errors that name the file and the key.

Shared by the settings (config.py) and the custom commands' own table
(mitigations/custom.py), so neither has to import the other's module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from luckytui.text import visible

SECRET_KEYS = ("password", "token", "secret", "api_key")
MAX_TEXT = 4096  # any string in the config
MAX_NAME = 100  # names shown on screen: endpoints, groups, databases
MULTILINE_KEYS = frozenset({"cpu_query"})  # may span lines (PromQL)


class ConfigError(Exception):
    """A configuration problem, worded as one line for the operator."""


class Reader:
    """Typed access to one TOML table, with errors naming the file and key."""

    def __init__(self, where: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.where, self.table, self.prefix = where, table, prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.prefix}{visible(key)}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None,
            *, required: bool = False) -> Any:
        if key not in self.table:
            if required:
                raise self.fail(key, "is required")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(key, f"must be {names}, not {type(value).__name__}")
        if isinstance(value, str):
            self._check_text(key, value)
        return value

    def _check_text(self, key: str, value: str) -> None:
        if len(value) > MAX_TEXT:
            raise self.fail(key, f"is longer than {MAX_TEXT:,} characters")
        allowed = "\n\t" if key in MULTILINE_KEYS else ""
        bad = next((c for c in value if not c.isprintable() and c not in allowed
                    and c != " "), None)
        if bad is not None:
            raise self.fail(key, f"contains a control character (U+{ord(bad):04X})")

    def name(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        """A name shown on screen: printable, not empty, at most MAX_NAME characters."""
        value = self.get(key, str, default, required=required)
        if value is not None and not value.strip():
            raise self.fail(key, "is empty")
        if value is not None and len(value) > MAX_NAME:
            raise self.fail(key, f"is longer than {MAX_NAME} characters")
        return value

    def number(self, key: str, default: float, low: float, high: float, *,
               low_open: bool = False, unit: str = "") -> float:
        """A finite number within [low, high] (or (low, high] with low_open)."""
        value: float = self.get(key, float, default)
        below = value <= low if low_open else value < low
        if not math.isfinite(value) or below or value > high:
            span = (f"above {low:g} and at most {high:g}" if low_open
                    else f"between {low:g} and {high:g}")
            raise self.fail(key, f"must be {span}{unit}, not {value!r}")
        return value

    def check_keys(self, allowed: set[str]) -> None:
        for key, value in self.table.items():
            if key.lower() in SECRET_KEYS or (key.lower().startswith("password")
                                              and key not in allowed):
                raise self.fail(key, "secrets are not written in the config file; use "
                                "password_env = \"VAR\" or password_file = \"PATH\"")
            if key not in allowed:
                raise self.fail(key, f"unknown key (known: {', '.join(sorted(allowed))})")
            del value


def read_keys(top: Reader) -> dict[str, str]:
    """[keys]: binding id -> a key or a list of keys ("ctrl+d", ["j", "down"]), as
    Textual writes them, comma-joined. Which ids exist and which keys clash is
    checked by the app, which knows its bindings."""
    table = top.get("keys", dict, {})
    r = Reader(top.where, table, "keys.")
    keys: dict[str, str] = {}
    for binding_id in table:
        value = r.get(binding_id, (str, list))
        given = value.split(",") if isinstance(value, str) else value
        if not given or not all(isinstance(k, str) and k.strip() and k.isprintable()
                                and not any(c.isspace() for c in k.strip())
                                and len(k) <= 40 for k in given):
            raise r.fail(binding_id, 'must be a key such as "ctrl+d" or a list of keys')
        keys[binding_id] = ",".join(k.strip() for k in given)
    return keys
