"""The plan's runbooks ship as data, and every remedy they name exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from luckytui.config import PANES, ConfigError
from luckytui.runbooks import for_alert, load_runbooks

ACTIONS = {"scale", "restart", "cordon", "uncordon", "set-env", "run-job", "emergency-scale",
           "cancel", "terminate", "terminate-long", "terminate-idle", "read-only",
           "cache-clear"}


def test_the_plans_runbooks_and_procedures() -> None:
    books = load_runbooks()
    assert {b.id for b in books} == {
        "api-response-time", "analytics-endpoint-down", "order-processing-failure",
        "db-pool-exhausted", "complete-outage", "database-issues",
        "performance-degradation", "security-incident"}
    for alert in ("HighAPIResponseTime", "AnalyticsEndpointDown", "NoOrdersProcessed",
                  "DatabaseConnectionPoolExhausted"):
        assert for_alert(books, alert) is not None
    for book in books:
        for step in book.steps:
            assert step.action is None or step.action in ACTIONS, step
            assert step.pane is None or step.pane in PANES


def test_override_file_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "rb.toml"
    path.write_text('[[runbook]]\nid = "x"\ntitle = "X"\nsteps = [{ text = "a", pane = "cpu" }]\n')
    with pytest.raises(ConfigError, match=r"runbook\[0\].steps\[0\].pane: unknown pane 'cpu'"):
        load_runbooks(path)
    path.write_text('[[runbook]]\nid = "x"\ntitle = "X"\n'
                    'steps = [{ text = "look", pane = "db" }]\n')
    assert load_runbooks(path)[0].steps[0].kind == "check"
