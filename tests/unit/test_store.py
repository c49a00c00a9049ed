"""The event log, on real SQLite files."""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import random
import sqlite3
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from luckytui.store import (
    GENESIS_HASH,
    REDACTED,
    SCHEMA_VERSION,
    EventLog,
    LogError,
    LogRecord,
    default_log_path,
    redact,
)

REPO = Path(__file__).resolve().parents[2]
TAIPEI = timezone(timedelta(hours=8))


def stepping_clock(
    start: datetime, step: timedelta = timedelta(seconds=1)
) -> Callable[[], datetime]:
    ticks: Iterator[int] = iter(range(1_000_000))

    def clock() -> datetime:
        return start + step * next(ticks)

    return clock


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "log.sqlite3"


async def fill(log: EventLog, count: int, incident: str | None = "INC-1") -> list[LogRecord]:
    out = []
    for i in range(count):
        record = await log.append(
            "note", {"n": i, "text": f"note {i}"}, actor="ic", incident=incident
        )
        assert record is not None
        out.append(record)
    return out


def tamper(path: Path, *statements: str) -> None:
    """Change the file behind the log's back, the way someone with sqlite3 would."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
        conn.execute("DROP TRIGGER IF EXISTS head_forward_only")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


# --------------------------------------------------------------------------- round trip


async def test_append_and_read_back_in_utc(log_path: Path) -> None:
    start = datetime(2025, 3, 4, 9, 30, 15, 123456, tzinfo=TAIPEI)
    async with await EventLog.open(log_path, clock=stepping_clock(start)) as log:
        assert await log.last_id() == 0
        assert await log.records() == []
        first = await log.append(
            "incident.declared",
            {"severity": "P1", "title": "site down"},
            actor="alice",
            incident="INC-1",
        )
        second = await log.append(
            "alert.fired", {"alert": "HighAPIResponseTime"}, actor="prometheus"
        )
        third = await log.append("note", {"text": "scaling"}, actor="bob", incident="INC-1")
        assert first is not None and second is not None and third is not None

        assert first.id == 1 and second.id == 2 and third.id == 3
        assert first.prev_hash == GENESIS_HASH
        assert second.prev_hash == first.hash and third.prev_hash == second.hash
        assert first.ts == start
        assert first.ts.utcoffset() == timedelta(0)
        assert first.ts.tzinfo is UTC
        assert first.ts.hour == 1  # 09:30 in Taipei is 01:30 UTC
        assert second.ts - first.ts == timedelta(seconds=1)
        assert first.data == {"severity": "P1", "title": "site down"}
        assert first.incident == "INC-1" and second.incident is None

        stored = await log.records()
        assert stored == [first, second, third]
        assert all(r.ts.tzinfo is UTC for r in stored)
        assert await log.last_id() == 3
        assert [r.id for r in await log.records(after_id=1)] == [2, 3]
        assert [r.id for r in await log.records(incident="INC-1")] == [1, 3]
        assert [r.id for r in await log.records(kinds={"note", "alert.fired"})] == [2, 3]
        assert [r.id for r in await log.records(kinds="note")] == [3]
        assert await log.records(kinds=[]) == []
        assert [r.id for r in await log.records(limit=2)] == [1, 2]
        assert [r.id for r in await log.records(after_id=1, incident="INC-1", limit=5)] == [3]

    # Reopened, the same records come back.
    async with await EventLog.open(log_path) as log:
        assert await log.records() == [first, second, third]


async def test_records_keep_nested_json(log_path: Path) -> None:
    data = {
        "pids": [101, 202],
        "target": {"pod": "api-1", "uid": "u-1"},
        "ratio": 0.5,
        "ok": True,
        "none": None,
        "text": "服務異常",
        "tuple": (1, 2),
    }
    async with await EventLog.open(log_path) as log:
        record = await log.append("mitigation.intent", data, actor="alice", fsync=True)
        assert record is not None
        [stored] = await log.records()
    expected = {**data, "tuple": [1, 2]}
    assert record.data == expected
    assert stored.data == expected


# --------------------------------------------------------------------------- the chain


async def test_verify_accepts_an_intact_chain(log_path: Path) -> None:
    async with await EventLog.open(log_path) as log:
        empty = await log.verify()
        assert empty.ok and empty.checked == 0 and empty.last_id == 0
        await fill(log, 20)
        result = await log.verify()
    assert result.ok
    assert result.checked == 20 and result.last_id == 20
    assert result.first_bad_id is None and result.reason is None
    assert "intact" in str(result) and result.describe() == str(result)


async def test_the_log_refuses_updates_and_deletes(log_path: Path) -> None:
    async with await EventLog.open(log_path) as log:
        await fill(log, 3)
    conn = sqlite3.connect(log_path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE events SET data = '{}' WHERE id = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events WHERE id = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE head SET last_id = 1")
    finally:
        conn.close()
    async with await EventLog.open(log_path) as log:
        assert (await log.verify()).ok


@pytest.mark.parametrize(
    ("statements", "bad_id", "reason"),
    [
        pytest.param(
            ["""UPDATE events SET data = '{"n":3,"text":"nothing happened"}' WHERE id = 4"""],
            4,
            "hash",
            id="edited-data",
        ),
        pytest.param(
            ["UPDATE events SET actor = 'mallory' WHERE id = 2"], 2, "hash", id="edited-actor"
        ),
        pytest.param(
            ["UPDATE events SET ts = '2020-01-01T00:00:00.000000Z' WHERE id = 5"],
            5,
            "hash",
            id="edited-time",
        ),
        pytest.param(
            ["""UPDATE events SET data = '{"text": "note 2", "n": 2}' WHERE id = 3"""],
            3,
            "rewritten",
            id="reformatted-data",
        ),
        pytest.param(["DELETE FROM events WHERE id = 3"], 3, "missing", id="deleted-middle-row"),
        pytest.param(
            ["DELETE FROM events WHERE id IN (1, 2)"], 1, "missing", id="deleted-first-rows"
        ),
        pytest.param(
            ["DELETE FROM events WHERE id >= 5"], 5, "missing from the end", id="truncated-tail"
        ),
        pytest.param(
            ["DELETE FROM events WHERE id >= 5", "UPDATE head SET last_id = 4"],
            4,
            "chain head",
            id="truncated-tail-and-head-id",
        ),
        pytest.param(
            ["UPDATE events SET id = 10 WHERE id = 6"],
            6,
            "missing",
            id="renumbered",
        ),
    ],
)
async def test_verify_reports_the_first_broken_record(
    log_path: Path, statements: list[str], bad_id: int, reason: str
) -> None:
    async with await EventLog.open(log_path) as log:
        await fill(log, 6)
    tamper(log_path, *statements)
    async with await EventLog.open(log_path) as log:
        result = await log.verify()
    assert not result.ok
    assert result.first_bad_id == bad_id
    assert result.reason is not None and reason in result.reason
    assert f"record {bad_id}" in str(result)


async def test_a_rehashed_record_still_breaks_the_next_link(log_path: Path) -> None:
    async with await EventLog.open(log_path) as log:
        await fill(log, 4)
    tamper(log_path, "UPDATE events SET hash = CASE WHEN hash LIKE 'f%' THEN 'e' ELSE 'f' END"
           " || substr(hash, 2) WHERE id = 2")
    async with await EventLog.open(log_path) as log:
        result = await log.verify()
    # The edited row fails its own hash; the chain is reported at its first break.
    assert result.first_bad_id == 2


async def test_appends_after_a_truncated_tail_keep_the_gap_visible(log_path: Path) -> None:
    async with await EventLog.open(log_path) as log:
        await fill(log, 5)
    tamper(log_path, "DELETE FROM events WHERE id = 5")
    async with await EventLog.open(log_path) as log:
        record = await log.append("note", {"text": "after"}, actor="ic")
        assert record is not None and record.id == 6
        result = await log.verify()
    assert not result.ok and result.first_bad_id == 5


# --------------------------------------------------------------------------- dedupe


async def test_dedupe_across_two_instances_on_one_file(log_path: Path) -> None:
    async with await EventLog.open(log_path) as one, await EventLog.open(log_path) as two:
        first = await one.append("alert.fired", {"alert": "A"}, actor="p", dedupe="alert:A:1")
        assert first is not None
        assert (
            await two.append("alert.fired", {"alert": "A"}, actor="p", dedupe="alert:A:1") is None
        )
        assert (
            await one.append("alert.fired", {"alert": "A"}, actor="p", dedupe="alert:A:1") is None
        )
        other = await two.append("alert.fired", {"alert": "A"}, actor="p", dedupe="alert:A:2")
        assert other is not None and other.id == 2 and other.prev_hash == first.hash
        # Records without a key are never deduplicated.
        assert await two.append("note", {}, actor="p") is not None
        assert await one.append("note", {}, actor="p") is not None
        assert [r.dedupe for r in await one.records()] == ["alert:A:1", "alert:A:2", None, None]
        assert (await two.verify()).ok


async def test_concurrent_appends_in_one_process(log_path: Path) -> None:
    async with await EventLog.open(log_path) as one, await EventLog.open(log_path) as two:
        jobs = [
            log.append("tick", {"who": name, "i": i}, actor=name, dedupe=f"k{i % 30}")
            for i in range(40)
            for name, log in (("one", one), ("two", two))
        ]
        results = await asyncio.gather(*jobs)
        assert sum(r is not None for r in results) == 30
        assert await one.last_id() == 30
        assert (await one.verify()).ok


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from luckytui.store import EventLog

    async def main(path: str, name: str, count: int) -> None:
        async with await EventLog.open(Path(path)) as log:
            print("ready", flush=True)
            sys.stdin.readline()
            for i in range(count):
                await log.append("tick", {"proc": name, "i": i}, actor=name, fsync=i % 10 == 0)
                await log.append("shared", {"i": i}, actor=name, dedupe=f"shared-{i}")

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


def test_concurrent_appends_from_several_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "log.sqlite3"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    names = ["pane-a", "pane-b", "pane-c"]
    count = 60
    children = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), name, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in names
    ]
    try:
        # All of them opened (and raced to create) the file; now let them write at once.
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready", child.communicate(timeout=10)
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            _, err = child.communicate(timeout=60)
            assert child.returncode == 0, err
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()

    async def check() -> None:
        async with await EventLog.open(path) as log:
            result = await log.verify()
            assert result.ok, str(result)
            records = await log.records()
        ticks = [r for r in records if r.kind == "tick"]
        shared = [r for r in records if r.kind == "shared"]
        assert sorted((r.data["proc"], r.data["i"]) for r in ticks) == sorted(
            (name, i) for name in names for i in range(count)
        )
        # Each process's own records stay in its order.
        for name in names:
            assert [r.data["i"] for r in ticks if r.actor == name] == list(range(count))
        assert sorted(r.data["i"] for r in shared) == list(range(count))
        assert [r.id for r in records] == list(range(1, len(ticks) + count + 1))

    asyncio.run(check())


async def test_an_append_completes_when_its_caller_is_cancelled(log_path: Path) -> None:
    log = await EventLog.open(log_path)
    task = asyncio.create_task(log.append("mitigation.intent", {"pid": 1}, actor="ic"))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await log.close()
    async with await EventLog.open(log_path) as log:
        assert [r.kind for r in await log.records()] == ["mitigation.intent"]
        assert (await log.verify()).ok


# --------------------------------------------------------------------------- export


async def test_export_jsonl(log_path: Path) -> None:
    start = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    async with await EventLog.open(log_path, clock=stepping_clock(start)) as log:
        await log.append(
            "incident.declared",
            {"severity": "P2", "title": "orders stuck"},
            actor="alice",
            incident="INC-7",
        )
        await log.append("alert.fired", {"alert": "NoOrdersProcessed"}, actor="prometheus")
        await log.append(
            "note",
            {"kind": "clash", "id": 99, "data": [1], "text": "hi"},
            actor="bob",
            incident="INC-7",
            dedupe="note-1",
        )
        out = io.StringIO()
        assert await log.export_jsonl(out) == 3
        only = io.StringIO()
        assert await log.export_jsonl(only, incident="INC-7") == 2
        records = await log.records()

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3
    first, second, third = lines
    assert first == {
        "id": 1,
        "ts": "2025-06-01T12:00:00.000000Z",
        "kind": "incident.declared",
        "actor": "alice",
        "incident": "INC-7",
        "severity": "P2",
        "title": "orders stuck",
        "hash": records[0].hash,
        "prev_hash": GENESIS_HASH,
    }
    assert list(first)[:5] == ["id", "ts", "kind", "actor", "incident"]
    assert datetime.fromisoformat(second["ts"]) == start + timedelta(seconds=1)
    assert second["incident"] is None and second["alert"] == "NoOrdersProcessed"
    # Data fields never override the core keys.
    assert third["id"] == 3 and third["kind"] == "note" and third["text"] == "hi"
    assert third["data"] == {"kind": "clash", "id": 99, "data": [1]}
    assert third["dedupe"] == "note-1"
    assert [line["id"] for line in map(json.loads, only.getvalue().splitlines())] == [1, 3]
    assert records[2].to_json() == third


# --------------------------------------------------------------------------- redaction


def test_redact() -> None:
    data = {
        "password": "hunter2",
        "DB_PASSWORD": "x",
        "api-key": "k",
        "Authorization": "Bearer abcdefghijkl",
        "token": 12345,
        "client_secret": {"nested": "value"},
        "secret_name": "db-credentials",
        "token_count": 3,
        "empty_token": None,
        "dsn": "postgresql://app:s3cr3t@db.internal:5432/luckygas",
        "url": "https://grafana.luckygas.com.tw/d/overview",
        "command": "PGPASSWORD=hunter2 psql 'host=db password=s3cr3t dbname=x'",
        "curl": 'curl -H "Authorization: Bearer eyJhbGciOi.abc.def" https://api',
        "nested": [{"passwd": "p"}, "redis://:pw@cache:6379/0", ("token=abc", 1)],
        "note": "rotate the secret named db-creds",
    }
    clean = redact(data)
    assert clean["password"] == REDACTED
    assert clean["DB_PASSWORD"] == REDACTED
    assert clean["api-key"] == REDACTED
    assert clean["Authorization"] == REDACTED
    assert clean["token"] == REDACTED
    assert clean["client_secret"] == REDACTED
    assert clean["secret_name"] == "db-credentials"
    assert clean["token_count"] == 3
    assert clean["empty_token"] is None
    assert clean["dsn"] == "postgresql://app:***@db.internal:5432/luckygas"
    assert clean["url"] == data["url"]
    assert clean["command"] == "PGPASSWORD=*** psql 'host=db password=*** dbname=x'"
    assert clean["curl"] == 'curl -H "Authorization: Bearer ***" https://api'
    assert clean["nested"] == [{"passwd": REDACTED}, "redis://:***@cache:6379/0", ["token=***", 1]]
    assert clean["note"] == data["note"]
    assert data["password"] == "hunter2"  # the input is left alone


async def test_append_stores_and_exports_redacted_data(log_path: Path) -> None:
    secrets = ["hunter2", "s3cr3t", "tok-123456", "pw-in-url"]
    async with await EventLog.open(log_path) as log:
        record = await log.append(
            "source.configured",
            {
                "password": "hunter2",
                "dsn": "postgresql://luckygas:pw-in-url@db:5432/luckygas_prod",
                "headers": {"Authorization": "Bearer tok-123456"},
                "options": {"token": "tok-123456", "timeout": 5},
                "note": "connected with password=s3cr3t",
            },
            actor="alice",
        )
        assert record is not None
        assert record.data["password"] == REDACTED
        assert record.data["dsn"] == "postgresql://luckygas:***@db:5432/luckygas_prod"
        assert record.data["options"] == {"token": REDACTED, "timeout": 5}
        out = io.StringIO()
        await log.export_jsonl(out)
        assert (await log.verify()).ok
    exported = out.getvalue()
    raw = b"".join(read_bytes(f) for f in log_path.parent.glob(log_path.name + "*"))
    conn = sqlite3.connect(log_path)
    try:
        stored = conn.execute("SELECT data FROM events").fetchone()[0]
    finally:
        conn.close()
    for secret in secrets:
        assert secret not in exported
        assert secret not in stored
        assert secret.encode() not in raw
    assert json.loads(exported)["dsn"] == "postgresql://luckygas:***@db:5432/luckygas_prod"


# --------------------------------------------------------------------------- opening


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


def write_bytes(path: Path, content: bytes) -> None:
    path.write_bytes(content)


def assert_one_line(error: LogError) -> str:
    message = str(error)
    assert message and "\n" not in message
    return message


async def test_refuses_an_sqlite_file_of_something_else(log_path: Path) -> None:
    conn = sqlite3.connect(log_path)
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT)")
    conn.execute("INSERT INTO orders (customer) VALUES ('x')")
    conn.commit()
    conn.close()
    before = read_bytes(log_path)
    with pytest.raises(LogError) as caught:
        await EventLog.open(log_path)
    message = assert_one_line(caught.value)
    assert "not a luckytui event log" in message and str(log_path) in message
    assert read_bytes(log_path) == before  # not converted to WAL, not touched


@pytest.mark.parametrize(
    "content",
    [
        b"this is a text file\n" * 10,
        b"\x00" * 4096,
        random.Random(7).randbytes(2048),
        b"SQLite format 3\x00" + b"\xff" * 200,
    ],
    ids=["text", "zeros", "random", "bad-header-page"],
)
async def test_refuses_a_garbage_file(log_path: Path, content: bytes) -> None:
    write_bytes(log_path, content)
    with pytest.raises(LogError) as caught:
        await EventLog.open(log_path)
    message = assert_one_line(caught.value)
    assert str(log_path) in message
    assert read_bytes(log_path) == content


async def test_refuses_a_newer_schema(log_path: Path) -> None:
    async with await EventLog.open(log_path) as log:
        await fill(log, 2)
    conn = sqlite3.connect(log_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(LogError) as caught:
        await EventLog.open(log_path)
    message = assert_one_line(caught.value)
    assert "newer" in message and str(SCHEMA_VERSION + 1) in message


async def test_refuses_a_path_it_cannot_create(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LogError) as caught:
        await EventLog.open(blocker / "log.sqlite3")
    assert_one_line(caught.value)


async def test_file_modes(tmp_path: Path) -> None:
    path = tmp_path / "data" / "luckytui" / "log.sqlite3"
    async with await EventLog.open(path) as log:
        await log.append("note", {}, actor="ic")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        wal = path.with_name(path.name + "-wal")
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


async def test_an_empty_file_becomes_a_log(log_path: Path) -> None:
    write_bytes(log_path, b"")
    async with await EventLog.open(log_path) as log:
        assert await log.append("note", {}, actor="ic") is not None


def test_default_log_path() -> None:
    path = default_log_path()
    assert path.name == "log.sqlite3"
    assert "luckytui" in path.parts


# --------------------------------------------------------------------------- bad input


class Opaque:
    pass


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"when": datetime(2025, 1, 1, tzinfo=UTC)}, "'when'"),
        ({"pids": {1, 2}}, "'pids'"),
        ({"target": {"pod": Opaque()}}, "target.pod"),
        ({"list": [1, b"bytes"]}, r"list\[1\]"),
        ({"ratio": math.nan}, "'ratio'"),
        ({"ratio": math.inf}, "'ratio'"),
        ({"map": {1: "x"}}, "'map'"),
        ({"text": "\ud800"}, "'text'"),
    ],
)
async def test_rejects_data_that_is_not_json(
    log_path: Path, data: dict[str, Any], named: str
) -> None:
    async with await EventLog.open(log_path) as log:
        with pytest.raises(ValueError, match=named):
            await log.append("note", data, actor="ic")
        assert await log.last_id() == 0


async def test_rejects_bad_arguments(log_path: Path) -> None:
    async with await EventLog.open(log_path) as log:
        with pytest.raises(ValueError, match="kind"):
            await log.append("", {}, actor="ic")
        with pytest.raises(ValueError, match="actor"):
            await log.append("note", {}, actor="")
        with pytest.raises(ValueError, match="mapping"):
            await log.append("note", [1, 2], actor="ic")  # type: ignore[arg-type]
        assert await log.last_id() == 0
    with pytest.raises(LogError, match="closed"):
        await log.append("note", {}, actor="ic")


async def test_rejects_a_naive_clock(log_path: Path) -> None:
    async with await EventLog.open(log_path, clock=lambda: datetime(2025, 1, 1)) as log:
        with pytest.raises(ValueError, match="naive"):
            await log.append("note", {}, actor="ic")
        assert await log.last_id() == 0
        assert (await log.verify()).ok
