"""The war room as it was during an incident: the dashboard, read-only, with a time
scrubber under the banner.

←/→ step a frame, shift+←/→ a minute; space plays and pauses, + and - change the
speed (1x, 2x, 5x, 10x); [ and ] jump to the previous and next timeline event, e
picks one from a list. Every move shows the panes, the banner and the timeline as of
the new time (the app's `on_move`). No incident step or remedy is offered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from luckytui.replay import ReplayClock
from luckytui.text import visible
from screens.dashboard import DashboardScreen
from widgets.banner import Banner
from widgets.guard import contained
from widgets.scrubber import Scrubber
from widgets.timeline import TimelineItem

PLAY_TICK_S = 0.25
# the replay's keys, and of the dashboard's own only the panes and help
OFFERED = frozenset({"step", "shift", "play", "speed", "event", "events", "show_pane",
                     "cycle", "help", "quit"})


class ReplayScreen(DashboardScreen):
    BINDINGS: ClassVar[list[BindingType]] = [  # with the dashboard's (inherited)
        Binding("left", "step(-1)", "Frame back", id="replay-back", priority=True,
                tooltip="The previous recorded frame"),
        Binding("right", "step(1)", "Frame on", id="replay-on", priority=True,
                tooltip="The next recorded frame"),
        Binding("shift+left", "shift(-60)", "Minute back", id="replay-minute-back",
                priority=True, show=False, tooltip="One minute earlier"),
        Binding("shift+right", "shift(60)", "Minute on", id="replay-minute-on",
                priority=True, show=False, tooltip="One minute later"),
        Binding("space", "play", "Play/pause", id="replay-play", priority=True,
                tooltip="Play the incident at the speed shown, or pause"),
        Binding("plus", "speed(1)", "Faster", id="replay-faster", show=False,
                tooltip="Play faster: 1x, 2x, 5x, 10x"),
        Binding("minus", "speed(-1)", "Slower", id="replay-slower", show=False,
                tooltip="Play slower"),
        Binding("left_square_bracket", "event(-1)", "Previous event", id="replay-prev-event",
                show=False, tooltip="The timeline's previous event"),
        Binding("right_square_bracket", "event(1)", "Next event", id="replay-next-event",
                show=False, tooltip="The timeline's next event"),
        Binding("e", "events", "Events", id="replay-events",
                tooltip="Pick a timeline event to jump to"),
    ]

    def __init__(self, panes: Sequence[str], *, clock: ReplayClock,
                 on_move: Callable[[], Awaitable[None]],
                 describe: Callable[[Any], TimelineItem], utc: bool = False) -> None:
        super().__init__(panes, utc=utc, read_only=True, clock=clock)
        self.replay = clock
        self.on_move = on_move
        self.describe = describe  # a log record as the timeline shows it
        self._event_text = ""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield widget
            if isinstance(widget, Banner):  # the scrubber right under the banner
                yield Scrubber(utc=self.utc, id="scrubber")

    def on_mount(self) -> None:
        super().on_mount()
        self.show_time()
        self.set_interval(PLAY_TICK_S, self._play_tick)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only moving in time, the panes and help: the past is not changed here."""
        return action in OFFERED

    def show_time(self) -> None:
        c = self.replay
        self.query_one(Scrubber).show(
            start=c.start, end=c.end, now=c.now, events=[r.ts for r in c.events],
            frame=(c.frame, len(c.times)), playing=c.playing, speed=c.speed,
            event_text=self._event_text)

    async def _moved(self) -> None:
        self.show_time()
        await self.on_move()

    async def action_step(self, frames: int) -> None:
        self.replay.playing = False
        self.replay.step(frames)
        self._event_text = ""
        await self._moved()

    async def action_shift(self, seconds: float) -> None:
        self.replay.shift(seconds)
        self._event_text = ""
        await self._moved()

    def action_play(self) -> None:
        self.replay.toggle()
        self.show_time()

    def action_speed(self, step: int) -> None:
        self.replay.faster(step)
        self.show_time()

    async def action_event(self, direction: int) -> None:
        record = self.replay.jump_event(direction)
        if record is None:
            self.notify("no earlier event" if direction < 0 else "no later event",
                        timeout=2)
            return
        self._event_text = self.describe(record).text
        await self._moved()

    def action_events(self) -> None:
        items = [self.describe(r) for r in self.replay.events]
        if not items:
            self.notify("no timeline event within the recording", timeout=3)
            return
        self.app.push_screen(EventsScreen(items, utc=self.utc), self._picked)

    async def _picked(self, index: int | None) -> None:
        if index is None:
            return
        record = self.replay.events[index]
        self.replay.seek(record.ts)
        self._event_text = self.describe(record).text
        await self._moved()

    @contained("Playing the replay")
    async def _play_tick(self) -> None:
        if not self.replay.playing:
            return
        if self.replay.advance(PLAY_TICK_S):
            await self._moved()
        else:
            self.show_time()


class EventsScreen(ModalScreen[int | None]):
    """The incident's timeline events: Enter jumps to the one chosen, Esc goes back."""

    DEFAULT_CSS = """
    EventsScreen { align: center middle; }
    EventsScreen > Vertical { width: 90%; height: 80%; border: thick $accent;
                              background: $surface; }
    EventsScreen OptionList { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Back", id="replay-events-back")]

    def __init__(self, items: Sequence[TimelineItem], *, utc: bool) -> None:
        super().__init__()
        self.items = items
        self.utc = utc

    def compose(self) -> ComposeResult:
        tz = UTC if self.utc else None
        with Vertical():
            yield Label("Jump to a timeline event (Enter), Esc to go back")
            yield OptionList(*[Option(Text(visible(f"{i.ts.astimezone(tz):%H:%M:%S}  {i.text}")))
                               for i in self.items])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
