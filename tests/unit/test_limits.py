"""The `[limits]` table: hard ceilings read from the config file only."""

from __future__ import annotations

import tomllib

import pytest

from luckytui.config import ConfigError, LimitSettings, parse_settings


def settings(text: str):  # type: ignore[no-untyped-def]
    return parse_settings(tomllib.loads(text), "c.toml")


def test_defaults_and_values() -> None:
    assert settings("").limits == LimitSettings(50, 8.0, 1024.0, 10.0)
    lim = settings("[limits]\nmax_replicas = 30\nmax_body_mib = 2\nmax_probe_kib = 64\n"
                   "max_answer_s = 4.5\n").limits
    assert (lim.max_replicas, lim.max_body_bytes, lim.max_probe_bytes, lim.max_answer_s) == (
        30, 2 * 1024 * 1024, 64 * 1024, 4.5)


@pytest.mark.parametrize(("text", "message"), [
    ("[limits]\nmax_replicas = 1e9\n", "c.toml: limits.max_replicas: must be int, not float"),
    ("[limits]\nmax_replicas = 0\n", "c.toml: limits.max_replicas: must be between 1 and 10000"),
    ("[limits]\nmax_answer_s = nan\n", "c.toml: limits.max_answer_s: must be between 0.5 and "
     "3600"),
    ("[limits]\nmax_body_mib = inf\n", "c.toml: limits.max_body_mib: must be between 0.001 and "
     "1024"),
    ("[limits]\nmax_body_mib = -1\n", "c.toml: limits.max_body_mib: must be between"),
    ("[limits]\nmax_replica = 5\n", "c.toml: limits.max_replica: unknown key"),
    ("max_replicas = 60\n", "c.toml: max_replicas: must be between 1 and 50 ([limits] "
     "max_replicas"),
    ("max_replicas = 40\n[limits]\nmax_replicas = 30\n", "c.toml: max_replicas: must be "
     "between 1 and 30"),
    ('[emergency_scale]\nweb = 25\n', "c.toml: emergency_scale.web: must be a replica count "
     "between 0 and 20"),
])
def test_bad_limits_are_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings(text)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
