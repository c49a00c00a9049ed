"""The composition root: the only engine module that knows Textual.

It builds the sources from Settings, runs one poller per source as a worker,
turns each poll into a `SourceUpdated` message handled on the main thread,
follows the local log for the timeline, and starts the simulation's process
in demo mode, all after the first frame is on screen.

The incident and the remedies belong to the controller (luckytui/controller.py);
their keys are bound on the dashboard, whose forms (screens/incident_flow.py,
screens/remedy_flow.py) call it. Here: what they read (snapshots, the log's
timeline), and the war room's containment (every action and worker that fails is
reported in one line), read-only hiding and notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.worker import Worker, WorkerState

from luckytui.config import Settings
from luckytui.controller import Controller
from luckytui.events import DRILL_SCORED, DRILL_STARTED, DRILL_STOPPED
from luckytui.incident.model import INCIDENT_KINDS, Incident
from luckytui.incident.service import Incidents
from luckytui.mitigations.runner import INTENT, OUTCOME, Mitigator, unfinished
from luckytui.redact import redact_text
from luckytui.replay import ReplayClock
from luckytui.runbooks import Runbook, load_runbooks
from luckytui.signals import (
    EndpointChange,
    EndpointWatch,
    Signal,
    alert_signals,
    describe,
    logged_endpoints_down,
)
from luckytui.sim.launcher import SimProcess
from luckytui.snapshots import (
    AlertsSnapshot,
    EndpointsSnapshot,
    SourceState,
    SourceStatus,
)
from luckytui.sources.base import Poller, Source, Update, one_line, staleness, utcnow
from luckytui.store.replay import ReplayRecorder, replay_path
from luckytui.systems.http import api_limit
from luckytui.systems.kubernetes import KubeOps, PodReads
from luckytui.text import visible
from screens.dashboard import TITLES, DashboardScreen
from screens.help import HelpScreen
from screens.incident_flow import IncidentFlow
from screens.incidents import incident_title
from screens.keymap import check_look
from screens.palette import ActionsProvider
from screens.remedy_flow import RemedyFlow
from screens.replay import ReplayScreen
from widgets.banner import Banner
from widgets.guard import contained, report
from widgets.timeline import TimelineItem

log = logging.getLogger(__name__)
TIMELINE_KEEP = 300
LOG_FORCED_READ_S = 3.0  # the longest a write the log's signature missed waits
REPLAY_FLUSH_S = 2.0  # the recorded frames are written this often, in a thread
REPLAY_REFRESH_S = 3600.0  # a replay's panes change when the scrubber moves, not on a timer


class LuckyApp(App[int]):
    """The war room."""

    TITLE = "luckytui"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS = [
        # also on the dashboard (first in its footer); here for the other screens
        Binding("q", "quit", "Quit", id="quit", show=False, tooltip="Leave the war room"),
        Binding("question_mark", "help", "Keys", id="help", show=False,
                tooltip="Show every key"),
        Binding("I", "incidents", "Incidents", id="incidents", show=False,
                tooltip="Every incident, resolved ones too: its timeline and post-mortem"),
    ]
    # changes to production bound to the app (the DB pane's cancel and terminate): with
    # --read-only none is offered (key, footer, help, palette)
    MUTATING = frozenset({"act_db"})

    class SourceUpdated(Message):
        """A source finished a poll (successful or not)."""

        def __init__(self, update: Update[Any]) -> None:
            super().__init__()
            self.update = update

    def __init__(
        self,
        settings: Settings,
        *,
        sim: SimProcess | None = None,
        sources: Sequence[Source[Any]] | None = None,
        clock: Callable[[], datetime] = utcnow,
        log_path: Path | None = None,
        actor: str | None = None,
        replay: ReplayClock | None = None,
    ) -> None:
        super().__init__()
        self.set_keymap(check_look(settings, type(self)))  # [keys] and theme, checked
        # a replay: the incident's recorded frames, read-only, moved by the scrubber
        self.replay = replay
        if replay is not None:
            settings = settings.with_overrides(read_only=True, refresh=REPLAY_REFRESH_S)
        self.settings = settings
        self.recorder: ReplayRecorder | None = None  # while an incident is active
        self._recording_since: datetime | None = None  # when the recorder started
        self._seen: dict[str, Any] = {}  # each source's last snapshot, for a replay's start
        self._framed: set[str] = set()  # incidents whose replay has its first frames
        self._sim = sim
        self._pod_reads: KubeOps | None = None
        self.clock = clock
        self._given_sources = sources
        self._log_path = log_path
        self.pollers: dict[str, Poller[Any]] = {}
        self.states: dict[str, SourceState] = {}
        self.event_log: Any = None
        self._last_record = 0
        self._log_signature: tuple[int, ...] = ()
        self._log_read_at = 0.0  # monotonic time of the last read of the log
        self.drill_running: str | None = None  # the title of the drill the log runs now
        self._last_alerts: AlertsSnapshot | None = None
        self._last_endpoints: EndpointsSnapshot | None = None
        self._endpoint_watch: EndpointWatch | None = None  # once the log says what is down
        # what the timeline shows, by record id (in id order): a record is there once
        self._shown: dict[int, tuple[str | None, TimelineItem]] = {}
        self._follow_lock = asyncio.Lock()  # one reader of the log at a time
        self.runbooks: tuple[Runbook, ...] = load_runbooks(settings.runbooks)
        self._unknown: set[int] = set()
        self.log_problem: str | None = None  # why the local log cannot be used, if so
        self._actor = actor or f"{getpass.getuser()}@{socket.gethostname()}"
        self.actor = self._actor
        # the incident and the remedies: their flows, without Textual
        self.controller = Controller(self._actor, read_only=settings.read_only)
        self.utc = settings.utc
        self._tz = UTC if settings.utc else None
        self.incident_flow = IncidentFlow(self, self)
        self.remedy_flow = RemedyFlow(self, self, read_only=settings.read_only)
        self.dashboard: DashboardScreen = ReplayScreen(
            settings.panes, clock=replay, on_move=self._replay_moved,
            describe=self.timeline_item, utc=settings.utc) if replay is not None \
            else DashboardScreen(
                settings.panes, utc=settings.utc, read_only=settings.read_only, clock=clock,
                incidents=self.incident_flow, remedies=self.remedy_flow,
                harmless_commands=any(not c.mutating for c in settings.commands),
                # the demo's and a drill's cluster is known once the simulation has started
                pod_reads=self.pod_reads if settings.kube is not None or sim is not None
                else None,
                db_idle=self.show_idle_sessions)

    # --- what the controller holds, for the screens -------------------------------

    @property
    def incidents(self) -> Incidents | None:
        return self.controller.incidents

    @property
    def mitigator(self) -> Mitigator | None:
        return self.controller.mitigator

    @property
    def actions(self) -> dict[str, Any]:
        return self.controller.actions

    @property
    def active_incident(self) -> Incident | None:
        return self.controller.active

    @property
    def customer_names(self) -> Mapping[str, str]:
        return self.settings.customer_names

    def pod_reads(self) -> PodReads | None:
        """The cluster's reads for logs and describe, made on first use."""
        if self._pod_reads is None and (k := self.settings.kube) is not None:
            limit = api_limit(self.settings.limits)
            self._pod_reads = KubeOps(k.kubeconfig, k.context, k.namespace, limit=limit)
        return self._pod_reads

    # --- start-up ---------------------------------------------------------------

    def on_mount(self) -> None:
        if self.settings.theme is not None:
            self.theme = self.settings.theme
        self.push_screen(self.dashboard)
        # the first frame first; sources, imports and the simulation after it
        self.call_after_refresh(self._boot_later)

    @contained("Start-up")
    def _boot_later(self) -> None:
        log.debug("first frame drawn; starting sources")
        self.run_worker(self._boot(), name="Start-up", group="boot", exit_on_error=False)

    async def _boot(self) -> None:
        if self.replay is None:  # a replay reads its records, given, and writes nothing
            await self._open_log()  # before any source, so no signal goes unrecorded
        settings = self.settings
        if self._sim is not None:
            from luckytui.sources.factory import preload_clients

            sim = self._sim
            self.dashboard.set_note(
                f"starting the simulated production (seed {sim.seed}, {sim.scale})…")
            # import the Kubernetes client while the simulation finishes booting
            self.run_worker(partial(preload_clients, ("kube",)), thread=True, name="preload",
                            group="preload", exit_on_error=False)
            sim_settings = await sim.start()
            from luckytui.sim.pgtwin import register  # the simulated database's twin

            register()
            log.debug("simulation ready")
            settings = sim_settings.with_overrides(
                refresh=self.settings.refresh, panes=self.settings.panes,
                log=self.settings.log, read_only=self.settings.read_only,
                utc=self.settings.utc)
            self.settings = settings
            # the log's problem first; else why the demo's database is simulated
            self.dashboard.set_note(self.log_problem or sim.note)
            if sim.drill_title:
                self.title = f"DRILL: {sim.drill_title}"
                self.dashboard.query_one(Banner).set_drill(visible(sim.drill_title))
        if self._given_sources is not None:
            sources = list(self._given_sources)
        else:
            from luckytui.sources.factory import build_sources

            sources = build_sources(settings)
        from luckytui.mitigations.registry import build_actions

        self.controller.actions = build_actions(settings)
        # read-only: "remedies" stays offered for configured commands that change nothing
        self.dashboard.harmless_commands = any(not c.mutating for c in settings.commands)
        self.dashboard.refresh_bindings()
        names = {s.name for s in sources}
        for name in ("kube", "db", "endpoints", "alerts"):
            if name not in names:
                self.states[name] = SourceState(name, SourceStatus.OFF)
        for source in sources:
            timeout = max(10.0, settings.refresh * 3, getattr(source, "max_fetch_s", 0.0))
            poller: Poller[Any] = Poller(source, self._publish, interval=settings.refresh,
                                         timeout=timeout, clock=self.clock)
            self.pollers[source.name] = poller
            self.states[source.name] = poller.state
            self.run_worker(poller.run(), name=f"poll {source.name}", group="sources",
                            exit_on_error=False)
        self.dashboard.show_states(list(self.states.values()), self.clock())
        self.set_interval(1.0, self._tick)
        if self.replay is not None:
            self._show_replay()

    async def _open_log(self) -> None:
        from luckytui.store import EventLog, default_log_path

        path = self._log_path or (Path(self.settings.log) if self.settings.log
                                  else default_log_path())
        try:
            self.event_log = await EventLog.open(path, clock=self.clock)
            await self._read_log_start()
        except Exception as exc:  # a corrupt, unreadable or full log: the room still shows
            log.debug("the local log cannot be used", exc_info=True)
            await self._without_log(one_line(exc))
            return
        self.set_interval(0.5, self._follow_log_later)
        self.recorder = ReplayRecorder(replay_path(path),
                                       int(self.settings.replay_max_mib * 1024 * 1024))
        self._recording_since = self.clock()
        self.set_interval(REPLAY_FLUSH_S, self._flush_frames)

    async def _read_log_start(self) -> None:
        assert self.event_log is not None
        self.controller.attach(self.event_log)
        # the timeline starts with the latest records, not the log's first ones
        self._last_record = max(0, await self.event_log.last_id() - TIMELINE_KEEP)
        # intents from before this start that never got an outcome: effect unknown
        self._unknown = {r.id for r in unfinished(
            await self.event_log.records(kinds=(INTENT, OUTCOME)))}
        # an outage already on the log is not reported again; its end will be
        self._endpoint_watch = EndpointWatch(known_down=await logged_endpoints_down(
            self.event_log))
        self.incident_flow.scores_after = await self.event_log.last_id()
        await self._follow_log()

    async def _without_log(self, reason: str) -> None:
        """No log: the panes go on showing live data; nothing that must be recorded (a
        remedy, an incident step) is offered, and the banner line says why."""
        if self.event_log is not None:
            with contextlib.suppress(Exception):
                await self.event_log.close()
        self.event_log = None
        self.log_problem = (f"⚠ LOCAL LOG UNAVAILABLE ({reason}): actions and incident "
                            "steps are refused, because nothing could be recorded")
        self.controller.detach(self.log_problem)
        self.dashboard.set_note(self.log_problem)
        self.notify(self.log_problem, severity="error", timeout=15)

    # --- data flow --------------------------------------------------------------

    def _publish(self, update: Update[Any]) -> None:
        self.post_message(self.SourceUpdated(update))

    @property
    def _showing(self) -> bool:
        """False once shutting down: late poll results then have nowhere to go."""
        return self.is_running and self.dashboard.is_attached

    def on_lucky_app_source_updated(self, message: SourceUpdated) -> None:
        """Show the update, and record the signals in it: each contained apart, so that
        neither a display error stops the log nor a bad signal the panes."""
        if not self._showing:
            return
        update = message.update
        if update.source not in self.states or self.states[update.source].last_ok is None:
            log.debug("first answer from %s: %s", update.source, update.state.status)
        self.states[update.source] = update.state
        self._show_update(update)
        self._record_signals(update)
        self._record_frame(update)

    @contained("Showing a source's update")
    def _show_update(self, update: Update[Any]) -> None:
        now = self.clock()
        self.dashboard.apply(update, now)  # each pane contains its own drawing errors
        self.dashboard.show_states(list(self.states.values()), now)

    @contained("Recording signals")
    def _record_signals(self, update: Update[Any]) -> None:
        if isinstance(update.snapshot, EndpointsSnapshot):
            self._last_endpoints = update.snapshot
            changes = self._endpoint_watch.feed(update.snapshot) if self._endpoint_watch \
                else []
            if changes and self.event_log is not None:
                self.run_worker(self._record_endpoints(changes), name="Recording endpoints",
                                group="log", exit_on_error=False)
        if isinstance(update.snapshot, AlertsSnapshot):
            signals = alert_signals(self._last_alerts, update.snapshot)
            self._last_alerts = update.snapshot
            if signals and self.event_log is not None:
                self.run_worker(self._record(signals), name="Recording alerts", group="log",
                                exit_on_error=False)

    async def _record_endpoints(self, changes: Sequence[EndpointChange]) -> None:
        await self.controller.record_endpoint_changes(changes)
        await self._follow_log()

    async def _record(self, signals: Sequence[Signal]) -> None:
        await self.controller.record_signals(signals)
        await self._follow_log()

    @contained("Recording the replay")
    def _record_frame(self, update: Update[Any]) -> None:
        """While an incident is active, what the pane shows is kept for its replay.

        An incident's first frames are what every pane showed when it was declared
        (or when this room started recording, if later): the replay opens on data."""
        inc = self.active_incident
        if self.recorder is not None and inc is not None:
            if inc.number not in self._framed:
                self._framed.add(inc.number)
                since = max(inc.declared_at, self._recording_since or inc.declared_at)
                for source, snapshot in self._seen.items():
                    self.recorder.add(inc.number, source, since, snapshot)
            if update.snapshot is not None:
                self.recorder.add(inc.number, update.source, self.clock(), update.snapshot)
        if update.snapshot is not None:
            self._seen[update.source] = update.snapshot

    @contained("Recording the replay")
    def _flush_frames(self) -> None:
        """Every few seconds: the frames collected, written in a thread (the recorder
        writes one batch at a time). A failed store stops recording and says so once."""
        rec = self.recorder
        if rec is None:
            return
        if rec.problem is not None:
            self.recorder = None
            if self.log_problem is None:
                self.dashboard.set_note(f"⚠ replay not recorded ({rec.problem})")
            return
        if rec.pending:
            self.run_worker(rec.flush, thread=True, name="Recording the replay",
                            group="replay", exit_on_error=False)

    async def _replay_moved(self) -> None:
        """The scrubber moved: every pane, the banner and the timeline as of its time."""
        for poller in list(self.pollers.values()):
            await poller.poll_once()
        self._show_replay()

    @contained("Showing the replay")
    def _show_replay(self) -> None:
        assert self.replay is not None
        self.dashboard.show_timeline([self.timeline_item(r) for r in self.replay.records()],
                                     self.replay.data.incident.number)
        self._show_banner(self.clock())

    @contained("Clock tick")
    def _tick(self) -> None:
        """Once a second: age and staleness on screen (cheap; panes skip fresh data)."""
        if not self._showing:
            return
        now = self.clock()
        states = []
        for name, state in self.states.items():
            poller = self.pollers.get(name)
            states.append(staleness(state, now, poller.interval) if poller else state)
        self.dashboard.tick(states, now)
        self._show_incident(now)

    def _show_incident(self, now: datetime) -> None:
        self._show_banner(now)
        self._record_clocks(now)

    @contained("Showing the incident")
    def _show_banner(self, now: datetime) -> None:
        as_of = self.replay.incident() if self.replay is not None else None
        self.dashboard.show_incident(*self.incident_flow.banner(now, as_of))

    @contained("Recording the incident's clocks")
    def _record_clocks(self, now: datetime) -> None:
        self.incident_flow.record_clocks_if_due(now)

    def snapshots(self) -> tuple[EndpointsSnapshot | None, AlertsSnapshot | None]:
        """The latest endpoint checks and alerts (the decision tree and resolve read them)."""
        return self._last_endpoints, self._last_alerts

    def poll_now(self) -> None:
        """Every source polls now (after a remedy: the affected pane shows the change)."""
        for poller in self.pollers.values():
            poller.poll_now()

    def show_idle_sessions(self, on: bool) -> None:
        """The activity view's idle toggle: the database's next poll, now, sends them."""
        poller = self.pollers.get("db")
        if poller is not None and hasattr(poller.source, "include_idle"):
            poller.source.include_idle = on
            poller.poll_now()

    def show_pane(self, name: str) -> None:
        self.dashboard.action_show_pane(list(TITLES).index(name))

    async def follow_log(self) -> None:
        """Show what the log got since the last record shown (see `_follow_log`)."""
        await self._follow_log()

    @property
    def _timeline(self) -> list[tuple[str | None, TimelineItem]]:
        """(incident, item) of every record the timeline holds, oldest first."""
        return list(self._shown.values())

    @contained("Following the log")
    def _follow_log_later(self) -> None:
        """Twice a second: read the log if some process wrote to it, and every few
        seconds whatever the signature says. A read under way set the signature before
        it read, so a write after it is seen next time; the forced read covers a write
        the file's size and time cannot show (a write-ahead log reused at the same size
        within one tick of the file system's clock)."""
        if self.event_log is None or self._follow_lock.locked():
            return
        if (self.event_log.signature() == self._log_signature
                and time.monotonic() - self._log_read_at < LOG_FORCED_READ_S):
            return
        self.run_worker(self._follow_log(), name="Following the log", group="log-follow",
                        exit_on_error=False)

    async def _follow_log(self) -> None:
        """Show what the log got since the last record shown.

        The one way the log is read for the timeline: the timer and every step that
        wrote to the log await it. Callers take turns (a lock), each reads strictly
        after the last id seen, and the timeline holds records by id, so a record is
        never read or shown twice."""
        if self.event_log is None:
            return
        async with self._follow_lock:
            await self._read_new_records(self.event_log)

    async def _read_new_records(self, event_log: Any) -> None:
        self._log_signature = event_log.signature()  # before reading: nothing missed
        self._log_read_at = time.monotonic()
        records = [r for r in await event_log.records(after_id=self._last_record, limit=500)
                   if r.id > self._last_record]
        if not records:
            return
        if len(records) == 500:
            self._log_signature = ()  # more to read at the next tick
        self._last_record = records[-1].id
        for r in records:
            self._shown[r.id] = (r.incident, self.timeline_item(r))
            if r.kind == DRILL_STARTED:  # whoever declares now declares a drill
                self.drill_running = visible(str(r.data.get("title") or r.data.get("scenario")))
            elif r.kind in (DRILL_SCORED, DRILL_STOPPED):
                self.drill_running = None
        for old in list(self._shown)[:-TIMELINE_KEEP]:
            del self._shown[old]
        if any(r.kind in INCIDENT_KINDS for r in records) and self.incidents is not None:
            await self.controller.refresh()
        if self._showing:
            self._show_timeline()
            self._show_incident(self.clock())
            self.incident_flow.show_drill_scores(records)

    def timeline_item(self, r: Any) -> TimelineItem:
        """A log record as a timeline line (what another process wrote included)."""
        try:
            text = describe(r.kind, dict(r.data), tz=self._tz)
        except Exception as exc:  # a record this version cannot read: say so, go on
            log.debug("record %s (%s) not described", r.id, r.kind, exc_info=exc)
            text = f"{r.kind} (not readable here: {one_line(exc)})"
        if r.id in self._unknown:
            text = "⚠ OUTCOME UNKNOWN (luckytui stopped before it finished): " + text
        return TimelineItem(r.id, r.ts, r.kind, r.actor, text)

    def timeline_items(self) -> tuple[list[TimelineItem], str]:
        """The active incident's events; without one, the signals seen since."""
        inc = self.active_incident
        number = inc.number if inc else None
        title = incident_title(inc) if inc else ""
        # with the signals that led to it: those recorded since the impact started
        since = min(inc.started_at, inc.detected) if inc else None
        return [item for n, item in self._shown.values()
                if n == number or (since is not None and n is None and item.ts >= since)], title

    def _show_timeline(self) -> None:
        items, _ = self.timeline_items()
        self.dashboard.show_timeline(items, self.active_incident.number
                                     if self.active_incident else None)
        self.incident_flow.show_timeline_screen()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker: one error line naming the work; the traceback to the debug log."""
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            report(self, worker.name or worker.group, worker.error)

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notification quotes outside text (names, errors, a command's output):
        never markup, secrets hidden, control characters shown."""
        super().notify(visible(redact_text(message), multiline=True), title=visible(title),
                       severity=severity, timeout=timeout, markup=markup)

    async def run_action(self, action: Any, default_namespace: Any = None,
                         namespaces: Any = None) -> bool:
        """Every key, palette entry and click runs its action through here: an action that
        raises is reported in one line naming it, and the war room goes on."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as exc:
            name = action if isinstance(action, str) else action[1]
            report(self, f"Action {name.removeprefix('app.')}", exc)
            return True

    # --- actions ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: the DB pane's remedies are not offered at all (keys, footer, help,
        palette); the dashboard hides its own."""
        if self.replay is not None and action == "incidents":
            return False  # a replay shows one incident, from records it was given
        return not (self.settings.read_only and action in self.MUTATING)

    def action_act_db(self, name: str) -> None:
        """The DB connections pane's cancel and terminate keys: the dashboard's remedies."""
        self.dashboard.action_act_db(name)

    def action_incidents(self) -> None:
        """Every incident, resolved ones too (a key on every screen)."""
        self.incident_flow.incidents()

    def action_help(self) -> None:
        own: dict[str, list[str]] = {}  # the war room's keys first, then the tables'
        other: dict[str, list[str]] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if binding.description:
                group = other if (binding.id or "table-").startswith("table-") else own
                group.setdefault(binding.description, []).append(self.get_key_display(binding))
        keys = [(" / ".join(k), d) for d, k in own.items()]
        keys += [(" / ".join(k), d) for d, k in other.items()]
        self.push_screen(HelpScreen(keys))

    async def on_unmount(self) -> None:
        for worker in list(self.workers):
            worker.cancel()
        await asyncio.sleep(0)
        if self._sim is not None:
            await self._sim.stop()
        from luckytui.mitigations.registry import close_actions

        close_actions(self.actions)
        if self._pod_reads is not None:
            self._pod_reads.close()
        if self.recorder is not None:  # the last frames collected
            await asyncio.to_thread(self.recorder.close)
        if self.event_log is not None:
            await self.event_log.close()


def check_look_settings(settings: Settings) -> None:
    """[keys] and theme against the war room's bindings and Textual's themes (for
    `luckytui config check`); a ConfigError when they do not fit."""
    check_look(settings, LuckyApp)


def run_app(settings: Settings, *, sim: SimProcess | None = None) -> int:
    app = LuckyApp(settings, sim=sim)
    app.run()
    return app.return_code or 0
