"""`luckytui log verify` and `log export` on real files: they create nothing, say what is
wrong with a file that is not a sound log, and a checkpoint kept elsewhere anchors the chain
(a cut tail, a rewound copy and a recomputed chain all verify alone, and fail against it)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from luckytui.cli import main
from luckytui.store import EventLog
from luckytui.store.chain import GENESIS_HASH, canonical, record_hash


def fill(path: Path, count: int, start: int = 0) -> None:
    async def go() -> None:
        async with await EventLog.open(path) as log:
            for i in range(start, start + count):
                await log.append("note", {"n": i, "text": f"note {i}"}, actor="ic")

    asyncio.run(go())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def verify(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> tuple[int, str]:
    code, out, err = run(capsys, "log", "verify", "--log", str(path), *extra)
    text = out + err
    assert text.count("\n") == 1, text  # always one line
    return code, text.strip()


def checkpoint(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    code, line = verify(capsys, path, "--checkpoint")
    assert code == 0, line
    return line


def rewrite(path: Path, *statements: str, params: tuple[object, ...] = ()) -> None:
    """Change the file behind the log's back, as someone with sqlite3 would."""
    conn = sqlite3.connect(path)
    try:
        for trigger in ("events_no_update", "events_no_delete", "head_forward_only"):
            conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())
        conn.commit()
    finally:
        conn.close()


def recompute_chain(path: Path) -> None:
    """Rehash every record and the head, as a careful forger would after an edit."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute("DROP TRIGGER IF EXISTS head_forward_only")
        prev = GENESIS_HASH
        rows = conn.execute("SELECT id, ts, kind, actor, incident, dedupe, data FROM events "
                            "ORDER BY id").fetchall()
        for rec_id, ts, kind, actor, incident, dedupe, data in rows:
            digest = record_hash(prev, rec_id, ts, kind, actor, incident, dedupe,
                                 json.loads(data))
            conn.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE id = ?",
                         (prev, digest, rec_id))
            prev = digest
        conn.execute("UPDATE head SET last_hash = ?", (prev,))
        conn.commit()
    finally:
        conn.close()


# --------------------------------------------------------------------------- not a log


def test_a_missing_log_is_one_line_and_nothing_is_created(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "log.sqlite3"
    assert verify(capsys, missing) == (1, f"luckytui: {missing}: no event log here (no such "
                                          "file)")
    in_missing_dir = tmp_path / "typo" / "log.sqlite3"
    code, line = verify(capsys, in_missing_dir)
    assert code == 1 and line.endswith(f"no such directory: {tmp_path / 'typo'}")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_or_truncated_file_is_named_and_left_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    assert verify(capsys, empty) == (1, f"luckytui: {empty}: an empty file, not a luckytui "
                                        "event log (truncated?)")
    assert empty.read_bytes() == b""  # not turned into a fresh, "intact" log

    log = tmp_path / "log.sqlite3"
    fill(log, 400)
    whole = log.stat().st_size
    with open(log, "r+b") as f:
        f.truncate(whole // 2)
    code, line = verify(capsys, log)
    assert code == 1
    assert line.startswith(f"luckytui: {log}: damaged event log (truncated or overwritten)")
    assert log.stat().st_size == whole // 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.sqlite3", "log.sqlite3"]

    short = tmp_path / "short.sqlite3"
    short.write_bytes(b"SQLite format 3\x00" + b"\x10" * 20)
    assert verify(capsys, short) == (1, f"luckytui: {short}: damaged event log: truncated to "
                                        "36 bytes")


def test_corrupt_and_foreign_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.sqlite3"
    fill(log, 6)
    raw = log.read_bytes()
    assert raw.count(b"note 3") == 1
    log.write_bytes(raw.replace(b"note 3", b"nite 3"))  # a flipped byte inside a record
    assert verify(capsys, log) == (1, "event log broken at record 4: its content does not "
                                      "match its hash")

    pages = tmp_path / "pages.sqlite3"
    fill(pages, 400)
    data = bytearray(pages.read_bytes())
    data[4096 * 3:4096 * 5] = bytes(8192)  # two pages of the table zeroed
    pages.write_bytes(bytes(data))
    code, line = verify(capsys, pages)
    assert code == 1 and "damaged event log (truncated or overwritten)" in line

    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert verify(capsys, other) == (1, f"luckytui: {other}: not a luckytui event log (an "
                                        "SQLite database of something else)")
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database at all" * 10)
    assert verify(capsys, text) == (1, f"luckytui: {text}: not a luckytui event log (not an "
                                       "SQLite database)")


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_line_is_stable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.sqlite3"
    fill(log, 3)
    conn = sqlite3.connect(log)
    head = conn.execute("SELECT hash FROM events WHERE id = 3").fetchone()[0]
    conn.close()
    assert checkpoint(capsys, log) == f"luckytui-log-checkpoint v1 count=3 head=sha256:{head}"
    fill(tmp_path / "empty.sqlite3", 0)
    assert checkpoint(capsys, tmp_path / "empty.sqlite3") == (
        f"luckytui-log-checkpoint v1 count=0 head=sha256:{GENESIS_HASH}")


def test_records_appended_after_the_checkpoint_are_fine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.sqlite3"
    fill(log, 10)
    line = checkpoint(capsys, log)
    fill(log, 3, start=10)
    assert verify(capsys, log, "--against", line) == (
        0, "event log intact: 13 records, last id 13; it holds checkpoint record 10 unchanged")
    kept = tmp_path / "checkpoint.txt"
    kept.write_text(line + "\n")
    assert verify(capsys, log, "--against", str(kept))[0] == 0


def test_a_cut_tail_verifies_alone_but_not_against_the_checkpoint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.sqlite3"
    fill(log, 10)
    line = checkpoint(capsys, log)
    rewrite(log, "DELETE FROM events WHERE id > 8",
            "UPDATE head SET last_id = 8, last_hash = (SELECT hash FROM events WHERE id = 8)")
    assert verify(capsys, log) == (0, "event log intact: 8 records, last id 8")
    assert verify(capsys, log, "--against", line) == (
        1, "event log does not match the checkpoint: it has 8 records, the checkpoint 10: "
           "records were cut from the end, or this is an older copy")


def test_a_rewound_copy_is_detected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.sqlite3"
    fill(log, 5)
    shutil.copy(log, tmp_path / "old.sqlite3")
    fill(log, 5, start=5)
    line = checkpoint(capsys, log)
    shutil.copy(tmp_path / "old.sqlite3", log)  # back to the older head
    assert verify(capsys, log)[0] == 0
    code, text = verify(capsys, log, "--against", line)
    assert code == 1 and "it has 5 records, the checkpoint 10" in text
    fill(log, 7, start=100)  # rewound, then written past the checkpoint's length
    assert verify(capsys, log)[0] == 0
    assert verify(capsys, log, "--against", line) == (
        1, "event log does not match the checkpoint: record 10 is not the one checkpointed: "
           "history was rewritten (or rewound and appended to)")


def test_a_recomputed_chain_is_detected(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.sqlite3"
    fill(log, 10)
    line = checkpoint(capsys, log)
    edited = canonical({"n": 3, "text": "nothing happened at 03:10"})
    rewrite(log, "UPDATE events SET data = ? WHERE id = 4", params=(edited,))
    assert verify(capsys, log) == (1, "event log broken at record 4: its content does not "
                                      "match its hash")
    recompute_chain(log)
    assert verify(capsys, log) == (0, "event log intact: 10 records, last id 10")  # alone: fooled
    code, text = verify(capsys, log, "--against", line)
    assert code == 1 and "record 10 is not the one checkpointed" in text


def test_a_malformed_checkpoint_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.sqlite3"
    fill(log, 2)
    for bad in ("luckytui-log-checkpoint v1 count=2 head=sha256:abc",
                "luckytui-log-checkpoint v1 count=\u0662 head=sha256:" + "0" * 64,
                str(tmp_path / "no-such-checkpoint")):
        code, out, err = run(capsys, "log", "verify", "--log", str(log), "--against", bad)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert err.startswith("luckytui: --against: ")


# --------------------------------------------------------------------------- export


def test_export_creates_no_folder_and_no_log(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "log", "export", "--log", str(tmp_path / "typo" / "log"))
    assert (code, out) == (2, "")
    assert err == (f"luckytui: --log {tmp_path / 'typo' / 'log'}: no such directory: "
                   f"{tmp_path / 'typo'}\n")
    code, _, err = run(capsys, "log", "export", "--log", str(tmp_path / "log"))
    assert code == 1 and "no event log here" in err
    assert list(tmp_path.iterdir()) == []

    log = tmp_path / "log.sqlite3"
    fill(log, 2)
    target = tmp_path / "missing" / "out.jsonl"
    code, _, err = run(capsys, "log", "export", "--log", str(log), "-o", str(target))
    assert code == 2 and err == (f"luckytui: --output {target}: no such directory: "
                                 f"{target.parent}\n")
    assert not target.parent.exists()
    out_file = tmp_path / "out.jsonl"
    assert run(capsys, "log", "export", "--log", str(log), "-o", str(out_file))[0] == 0
    assert [json.loads(x)["n"] for x in out_file.read_text().splitlines()] == [0, 1]
    code, _, err = run(capsys, "log", "export", "--log", str(log), "-o", str(out_file))
    assert code == 2 and "exists (--force to replace it)" in err
    fill(log, 1, start=2)
    assert run(capsys, "log", "export", "--log", str(log), "-o", str(out_file),
               "--force")[0] == 0
    assert len(out_file.read_text().splitlines()) == 3
