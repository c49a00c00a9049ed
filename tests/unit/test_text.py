"""Outside text never reaches a terminal as anything but visible characters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luckytui.text import is_safe, visible

pytestmark = pytest.mark.fuzz

# what a terminal would act on: C0 and C1 controls, DEL, and the invisible reorderers
FORBIDDEN_ONE_LINE = {chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]} | {
    "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029", "\u061c"}
FORBIDDEN_MULTI = FORBIDDEN_ONE_LINE - {"\n", "\t"}


def test_clear_screen_in_a_note_is_shown_not_obeyed() -> None:
    assert visible("deploy done\x1b[2J\x1b[H") == "deploy done␛[2J␛[H"


def test_osc52_clipboard_write_and_carriage_return_are_shown() -> None:
    shown = visible("pod\x1b]52;c;ZXZpbA==\x07-1\rroot")
    assert shown == "pod␛]52;c;ZXZpbA==␇-1␍root"


def test_bidi_override_is_named_by_its_code_point() -> None:
    assert visible("invoice\u202egpj.exe") == "invoice\ufffdgpj.exe"
    assert visible("\x9b2J") == "\ufffd2J"


def test_line_breaks_on_one_line_and_on_several() -> None:
    assert visible("a\tb\nc") == "a b⏎c"
    assert visible("a\tb\r\nc\rd", multiline=True) == "a\tb␍\nc␍d"


def test_plain_and_non_ascii_text_is_kept_as_it_is() -> None:
    for text in ("SELECT * FROM orders WHERE id = $1", "登入 訂單 數據分析", "p95 3.2 s ✓", ""):
        assert visible(text) == text
        assert is_safe(text)
    assert not is_safe("x\x1by")
    assert visible(42) == "42"


@given(st.text())
def test_nothing_interpretable_survives_on_one_line(text: str) -> None:
    shown = visible(text)
    assert not FORBIDDEN_ONE_LINE & set(shown)
    assert len(shown) == len(text)  # one for one: styles over the text stay in place
    assert visible(shown) == shown  # idempotent: safe text is left alone


@given(st.text())
def test_nothing_interpretable_survives_on_several_lines(text: str) -> None:
    shown = visible(text, multiline=True)
    assert not FORBIDDEN_MULTI & set(shown)
    assert shown.count("\n") == text.count("\n")
    assert len(shown) == len(text)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp"))))
def test_printable_text_is_unchanged(text: str) -> None:
    # whatever is not a control or format character is the sender's text: kept
    assert visible(text) == text


def test_safe_stream_shows_escapes_and_keeps_layout() -> None:
    import io

    from luckytui.text import SafeStream

    raw = io.StringIO()
    out = SafeStream(raw)
    print("INC-1\tnote: \x1b[2Jwiped", file=out)
    print("line two", file=out)
    assert raw.getvalue() == "INC-1\tnote: ␛[2Jwiped\nline two\n"
