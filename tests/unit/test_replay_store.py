"""The replay store: snapshots round-trip through their dict form and the file, unchanged
content is stored once, the size bound drops the oldest incident's oldest frames first,
and secrets in query texts never reach the file."""

from __future__ import annotations

import dataclasses
import sqlite3
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from luckytui.snapshots import (
    Alert,
    AlertsSnapshot,
    Backend,
    DbSnapshot,
    KubeWarning,
    PodsSnapshot,
    Statement,
    from_dict,
    to_dict,
)
from luckytui.store.replay import Replay, ReplayRecorder, ReplayStore, encode, replay_path
from tests.app.frozen import snapshots_after

T0 = datetime(2026, 11, 26, 3, 0, 0, tzinfo=UTC)
SECRET = "hunter2-Sup3r"


@pytest.fixture(scope="module")
def frozen() -> dict[str, Any]:
    data = snapshots_after(40)
    kube: PodsSnapshot = data["kube"]
    # the optional parts the simulation leaves empty: a warning and a metric-less pod
    data["kube"] = dataclasses.replace(
        kube, warnings=(KubeWarning("BackOff", "pod/x", "back-off restarting", T0, 3),),
        pods=(*kube.pods, dataclasses.replace(kube.pods[0], name="no-metrics", cpu_m=None,
                                              started_at=None)))
    return data


@pytest.mark.parametrize("name", ["kube", "db", "endpoints", "alerts"])
def test_each_snapshot_type_round_trips_through_its_dict_form(
        frozen: dict[str, Any], name: str) -> None:
    snapshot = frozen[name]
    assert from_dict(type(snapshot), to_dict(snapshot)) == snapshot


@pytest.mark.parametrize("name", ["kube", "db", "endpoints", "alerts"])
def test_each_snapshot_type_round_trips_through_the_file(
        frozen: dict[str, Any], name: str, tmp_path: Path) -> None:
    snapshot = frozen[name]
    store = ReplayStore(tmp_path / "r.sqlite3")
    store.write([("INC-1", name, snapshot.taken_at, *encode(snapshot))])
    [frame] = store.frames("INC-1")
    assert frame.ts == snapshot.taken_at
    assert store.snapshot(frame) == snapshot
    store.close()


def test_a_wrongly_typed_field_is_refused(frozen: dict[str, Any]) -> None:
    data = to_dict(frozen["db"])
    data["total"] = "many"
    with pytest.raises(ValueError, match="expected int"):
        from_dict(DbSnapshot, data)


def alerts(n: int, at: datetime, summary: str = "s") -> AlertsSnapshot:
    return AlertsSnapshot(at, tuple(Alert(f"Alert{i}", "firing", "critical", T0, summary)
                                    for i in range(n)))


def test_unchanged_snapshots_are_stored_once_and_read_back_at_each_time(
        tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3.replay.sqlite3"
    rec = ReplayRecorder(path, max_bytes=10 << 20)
    for i in range(10):  # the same two alerts ten times, then three
        rec.add("INC-1", "alerts", T0 + timedelta(seconds=2 * i), alerts(2, T0))
    rec.add("INC-1", "alerts", T0 + timedelta(seconds=20), alerts(3, T0))
    rec.flush()
    assert rec.problem is None
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM frames").fetchone() == (11,)
    assert db.execute("SELECT count(*) FROM blobs").fetchone() == (2,)  # two contents
    db.close()
    replay = Replay(ReplayStore(path, create=False), "INC-1")
    assert len(replay.times) == 11
    at5 = replay.snapshot_at("alerts", T0 + timedelta(seconds=11))
    assert len(at5.alerts) == 2 and at5.taken_at == T0 + timedelta(seconds=10)
    assert len(replay.snapshot_at("alerts", T0 + timedelta(minutes=5)).alerts) == 3
    assert replay.snapshot_at("alerts", T0 - timedelta(seconds=1)) is None


def test_over_the_bound_the_oldest_incidents_oldest_frames_go_first(tmp_path: Path) -> None:
    store = ReplayStore(tmp_path / "r.sqlite3")

    def frames(incident: str, start: datetime, n: int) -> list[Any]:
        # every frame a content of its own (i alerts), so each costs its own bytes
        return [(incident, "alerts", start + timedelta(seconds=i),
                 *encode(alerts(i + 1, start, incident))) for i in range(n)]

    store.write(frames("INC-OLD", T0, 40))
    store.write(frames("INC-NEW", T0 + timedelta(hours=1), 40))
    full = store.size()
    bound = full * 2 // 3  # needs more than the old incident's small early frames
    dropped = store.prune(bound)
    assert dropped > 0 and store.size() <= bound
    old, new = store.frames("INC-OLD"), store.frames("INC-NEW")
    assert len(new) == 40, "the newer incident keeps every frame while the older has some"
    assert old, "the old incident's later frames survive a bound it can meet"
    # what is left of the old incident is its newest frames, without a gap
    assert [f.ts for f in old] == [T0 + timedelta(seconds=i) for i in range(40 - len(old), 40)]
    store.prune(store.size() // 4)  # now the old one goes entirely, then the new one's oldest
    assert store.frames("INC-OLD") == []
    remaining = store.frames("INC-NEW")
    assert 0 < len(remaining) < 40 and remaining[-1].ts == T0 + timedelta(hours=1, seconds=39)


def test_a_password_in_a_query_text_never_reaches_the_file(
        frozen: dict[str, Any], tmp_path: Path) -> None:
    db: DbSnapshot = frozen["db"]
    query = f"ALTER ROLE app PASSWORD '{SECRET}'"
    backend = Backend(4242, "luckygas", "admin", "psql", "active", None, None, T0, T0, 3.0,
                      query)
    snapshot = dataclasses.replace(
        db, long_running=(backend, *db.long_running),
        statements=(Statement("1", f"select * from t where token = '{SECRET}'", 1, 1.0,
                              1.0, 1), *db.statements))
    path = tmp_path / "r.sqlite3"
    rec = ReplayRecorder(path, max_bytes=10 << 20)
    rec.add("INC-1", "db", T0, snapshot)
    rec.close()
    raw = b"".join(path.parent.joinpath(n).read_bytes() for n in
                   (path.name, path.name + "-wal") if path.parent.joinpath(n).exists())
    db_file = sqlite3.connect(path)
    contents = [zlib.decompress(r[0]) for r in db_file.execute("SELECT data FROM blobs")]
    db_file.close()
    assert contents and all(SECRET.encode() not in c for c in contents)
    assert SECRET.encode() not in raw
    shown = Replay(ReplayStore(path, create=False), "INC-1").snapshot_at("db", T0)
    assert shown.long_running[0].pid == 4242
    assert SECRET not in shown.long_running[0].query and "ALTER ROLE" in \
        shown.long_running[0].query
    assert SECRET not in shown.statements[0].query


def test_a_failing_store_stops_recording_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-db").write_text("this is not SQLite\n")
    rec = ReplayRecorder(tmp_path / "not-a-db", max_bytes=1 << 20)
    rec.add("INC-1", "alerts", T0, alerts(1, T0))
    rec.flush()  # does not raise
    assert rec.problem is not None and "\n" not in rec.problem
    rec.add("INC-1", "alerts", T0, alerts(1, T0))
    assert not rec.pending  # nothing more is collected once it failed


def test_the_replay_file_sits_beside_the_log(tmp_path: Path) -> None:
    assert replay_path(tmp_path / "log.sqlite3") == tmp_path / "log.sqlite3.replay.sqlite3"
