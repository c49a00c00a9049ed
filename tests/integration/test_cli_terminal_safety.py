"""The command line's human output never carries a terminal escape from a record, and
its machine output (JSON) keeps the record exactly, escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luckytui.cli import main

HOSTILE = "\x1b[2J\x1b]52;c;ZXZpbA==\x07\u202egpj\r\x9b31m"
FORBIDDEN = {chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]} - {"\n", "\t"} | {
    "\u202e"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_records_are_shown_not_obeyed(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    log = str(tmp_path / "log.sqlite3")
    code, _, _ = run(capsys, "incident", "declare", "--title", f"db down {HOSTILE}",
                          "--severity", "P1", "--component", f"orders{HOSTILE}", "--log", log)
    assert code == 0
    assert run(capsys, "incident", "note", f"rolled back {HOSTILE}", "--log", log)[0] == 0
    pm = tmp_path / "pm.md"
    for argv in (("incident", "list"), ("incident", "show"), ("postmortem",),
                 ("postmortem", "-o", str(pm)), ("report",)):
        code, out, err = run(capsys, *argv, "--log", log)
        assert code == 0, (argv, err)
        assert not FORBIDDEN & set(out + err), argv
    assert "␛[2J" in run(capsys, "incident", "show", "--log", log)[1]
    text = pm.read_text(encoding="utf-8")
    assert not FORBIDDEN & set(text) and "rolled back ␛[2J" in text
    # the export is the record, exactly: JSON escapes what a terminal would obey
    code, out, _ = run(capsys, "log", "export", "--log", log)
    assert code == 0 and out.isascii() and not FORBIDDEN & set(out)
    notes = [json.loads(line) for line in out.splitlines()
             if json.loads(line)["kind"] == "incident.note"]
    assert notes[0]["text"] == f"rolled back {HOSTILE}"
