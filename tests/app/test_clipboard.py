"""Copying the status update says what really happened to the clipboard.

Inside tmux, OSC 52 reaches the clipboard only with `set-clipboard on`; a real tmux
server on a private socket answers the war room's question here. Not copied: the
operator is told so and may save the text to a new file (mode 0600, never over an
existing one). The text is recorded as sent either way.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from luckytui.app import LuckyApp
from screens.composer import ComposerScreen, clipboard_reachable
from screens.steps import ChoiceScreen
from tests.app.test_actions_flow import until
from tests.app.test_snapshots import all_loaded, frozen_app


@pytest.fixture
def tmux_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A private tmux server: its socket and the TMUX value a client inside it has."""
    assert shutil.which("tmux"), "tmux is needed"
    sock = tmp_path / "tmux.sock"
    tmux = ["tmux", "-S", str(sock)]
    subprocess.run([*tmux, "new-session", "-d", "-s", "war", "-x", "80", "-y", "24"],
                   check=True, timeout=10)
    pid = subprocess.run([*tmux, "display", "-p", "#{pid}"], check=True, timeout=10,
                         capture_output=True, text=True).stdout.strip()
    try:
        yield sock, f"{sock},{pid},0"
    finally:
        subprocess.run([*tmux, "kill-server"], timeout=10, check=False)


def set_clipboard(sock: Path, value: str) -> None:
    subprocess.run(["tmux", "-S", str(sock), "set", "-g", "set-clipboard", value],
                   check=True, timeout=10)


def notes(app: LuckyApp) -> list[str]:
    return [n.message for n in app._notifications]


async def send_status_update(app: LuckyApp, pilot: object) -> str:
    await pilot.press("U")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, ComposerScreen))  # type: ignore[arg-type]
    await pilot.pause(0.1)  # type: ignore[attr-defined]
    text: str = app.screen.query_one("TextArea").text  # type: ignore[attr-defined]
    await pilot.press("ctrl+s")  # type: ignore[attr-defined]
    return text


async def test_outside_tmux_nothing_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    assert await clipboard_reachable() is None


async def test_tmux_says_whether_the_copy_goes_through(tmux_server: tuple[Path, str]) -> None:
    sock, tmux_env = tmux_server
    set_clipboard(sock, "external")
    why = await clipboard_reachable({"TMUX": tmux_env, "PATH": "/usr/bin:/bin"})
    assert why is not None and "set-clipboard is external" in why
    set_clipboard(sock, "on")
    assert await clipboard_reachable({"TMUX": tmux_env, "PATH": "/usr/bin:/bin"}) is None
    gone = await clipboard_reachable({"TMUX": f"{sock}.gone,1,0", "PATH": "/usr/bin:/bin"})
    assert gone is not None  # no answer is no proof: not said to be copied


async def test_not_copied_inside_tmux_is_said_and_saved_to_a_new_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        tmux_server: tuple[Path, str]) -> None:
    sock, tmux_env = tmux_server
    set_clipboard(sock, "external")  # tmux's default: applications' copies dropped
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("TMUX", tmux_env)
    app = frozen_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await all_loaded(pilot)
        assert app.incidents is not None
        inc = await app.incidents.declare("Orders failing", "P2")
        await app._follow_log()
        taken = workdir / f"{inc.number}-status-update.txt"
        taken.write_text("someone else's notes\n")

        text = await send_status_update(app, pilot)
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        question = app.screen
        assert isinstance(question, ChoiceScreen)
        assert "NOT copied" in question.title_text and "set-clipboard is external" in \
            question.title_text
        assert not any("copied to the clipboard" in n for n in notes(app))
        # recorded as sent before anything else: the record is about sending
        assert app.active_incident is not None and len(app.active_incident.updates_sent) == 1
        await pilot.press("enter")  # "save", the first choice
        saved = workdir / f"{inc.number}-status-update-2.txt"
        await until(pilot, saved.exists)
        assert saved.read_text() == text + "\n"
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert taken.read_text() == "someone else's notes\n"  # never written over
        await until(pilot, lambda: any(str(saved) in n for n in notes(app)))

        # set-clipboard on: the copy goes through, and says so
        set_clipboard(sock, "on")
        await send_status_update(app, pilot)
        await until(pilot, lambda: any("copied to the clipboard" in n for n in notes(app)))
        assert not isinstance(app.screen, ChoiceScreen)
        assert app.active_incident is not None and len(app.active_incident.updates_sent) == 2
    assert {p.name for p in workdir.iterdir()} == {taken.name, saved.name}
