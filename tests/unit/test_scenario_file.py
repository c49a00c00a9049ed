"""Drill scenario files: the four built-in ones load; a wrong file is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from luckytui.configread import ConfigError
from luckytui.drills.scenario import RemedyRule, built_in, find_scenario, load_scenario


def test_the_plans_four_drills_in_the_plans_order() -> None:
    scenarios = built_in()
    assert list(scenarios)[:4] == ["database-failure", "api-degradation",
                                   "security-incident", "complete-outage"]
    db = scenarios["database-failure"]
    assert db.expected_severity == "P2"  # the plan: orders not processing
    assert db.is_right("restart", ["order-worker"])
    assert not db.is_right("restart", ["luckygas-backend"])
    assert db.is_harmful("read-only", ["luckygas_prod", "on"])
    assert not db.is_harmful("read-only", ["luckygas_prod", "off"])


def test_a_rule_matches_its_action_and_first_arguments() -> None:
    rule = RemedyRule("scale", ("luckygas-backend",))
    assert rule.matches("scale", ["luckygas-backend", "10"])
    assert not rule.matches("scale", ["order-worker", "10"])
    assert not rule.matches("scale", [])
    assert str(rule) == "scale luckygas-backend"


@pytest.mark.parametrize(("body", "problem"), [
    ('title = "x"\nsummary = "y"\nexpected_severity = "P1"\nright = ["scale"]\n',
     "name: is required"),
    ('name = "x"\ntitle = "x"\nsummary = "y"\nexpected_severity = "P9"\nright = ["scale"]\n',
     "expected_severity: must be one of P1, P2, P3, P4, not 'P9'"),
    ('name = "x"\ntitle = "x"\nsummary = "y"\nexpected_severity = "P1"\nright = []\n',
     "right: names no remedy"),
    ('name = "x"\ntitle = "x"\nsummary = "y"\nexpected_severity = "P1"\nright = ["scale"]\n'
     'colour = "red"\n', "colour: unknown key"),
    ('name = "x"\ntitle = "x\\u001b[2J"\nsummary = "y"\nexpected_severity = "P1"\n'
     'right = ["scale"]\n', "title: contains a control character (U+001B)"),
    ("name = [", "not valid TOML"),
])
def test_a_wrong_file_is_one_line_naming_file_and_key(tmp_path: Path, body: str,
                                                      problem: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    message = str(err.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_an_unknown_drill_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"no drill named 'fire'.*database-failure"):
        find_scenario("fire")
