"""The rollout-undo remedy end to end: `luckytui act` against the simulated production
after a bad config rollout, through the Kubernetes adapter (python client), with its
plan, server dry run, two records and refusals."""

from __future__ import annotations

import json
from pathlib import Path

from luckytui.mitigations.runner import INTENT, OUTCOME
from luckytui.sim.runner import Simulation
from tests.integration.test_act import act, records

BAD_ENV = {"DATABASE_URL": "postgres://app:hunter2@db-replica:5433/luckygas",
           "FEATURE_NEW_PRICING": "on"}
CRASH = "FATAL: password authentication failed for user \"app\""


async def test_dry_run_names_the_revision_and_the_env_it_takes_back(sim: Simulation,
                                                                    tmp_path: Path) -> None:
    sim.model.rollout_bad_config("luckygas-backend", BAD_ENV, CRASH)
    code, out, err = await act(sim, tmp_path / "log", "rollout-undo", "luckygas-backend",
                               "--dry-run")
    assert code == 0, err
    assert "Roll back deployment luckygas-backend to revision 1" in out
    d = sim.model.deployments["luckygas-backend"]
    first = next(r for r in d.history.values() if r.number == 1)
    assert f"revision: 2 → 1 (template {first.template_hash})" in out
    assert "env DATABASE_URL: postgres://app:***@db-replica:5433/luckygas → (unset)" in out
    assert "env FEATURE_NEW_PRICING: on → (unset)" in out
    assert "env DB_POOL_SIZE" not in out  # the same in both templates
    assert "hunter2" not in out + err
    assert ("kubectl -n luckygas rollout undo deployment/luckygas-backend --to-revision=1"
            in out)
    assert "server dry run: accepted" in out
    assert d.env["FEATURE_NEW_PRICING"] == "on" and d.revision == 2
    assert await records(tmp_path / "log") == []


async def test_undo_rolls_the_good_template_back_and_records_both_sides(
        sim: Simulation, tmp_path: Path) -> None:
    log = tmp_path / "log"
    sim.model.rollout_bad_config("luckygas-backend", BAD_ENV, CRASH)
    code, out, err = await act(sim, log, "rollout-undo", "luckygas-backend", "--yes", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "ok" and doc["changed"] == {"revision": 1}
    d = sim.model.deployments["luckygas-backend"]
    assert not set(BAD_ENV) & set(d.env) and d.revision == 3
    assert d.history[d.template_hash].number == 3  # revision 1's template, renumbered
    (k1, intent), (k2, outcome) = await records(log)
    assert (k1, k2) == (INTENT, OUTCOME) and outcome["status"] == "ok"
    assert intent["undo"] == {"action": "rollout-undo", "args": ["luckygas-backend", "2"]}
    assert "hunter2" not in json.dumps([intent, outcome])
    # the undo of the undo goes forward to the bad revision again, by its number
    code, out, err = await act(sim, log, "rollout-undo", "luckygas-backend", "2", "--dry-run")
    assert code == 0, err
    assert "env FEATURE_NEW_PRICING: (unset) → on" in out


async def test_refusals(sim: Simulation, tmp_path: Path) -> None:
    log = tmp_path / "log"
    code, out, _ = await act(sim, log, "rollout-undo", "order-worker", "--yes")
    assert code == 1 and "deployment order-worker has no earlier revision" in out
    sim.model.rollout_bad_config("order-worker", {"QUEUE": "nowhere"}, "queue not found")
    code, out, _ = await act(sim, log, "rollout-undo", "order-worker", "9", "--yes")
    assert code == 1 and "deployment order-worker has no revision 9 (it has 1, 2)" in out
    code, out, _ = await act(sim, log, "rollout-undo", "order-worker", "2", "--yes")
    assert code == 1 and "already at revision 2" in out
    code, _, err = await act(sim, log, "--read-only", "rollout-undo", "order-worker", "--yes")
    assert code == 2 and "read-only" in err
    assert sim.model.deployments["order-worker"].env["QUEUE"] == "nowhere"
    code, out, _ = await act(sim, log, "--list")
    assert "rollout-undo DEPLOYMENT [REVISION]" in out
