"""The war room's remedies: the pod keys (scale, restart, cordon, emergency
scale-up), the DB keys (cancel, terminate), any remedy by name, undo, and the
runbooks whose steps run remedies.

The dashboard binds the keys and answers what is selected; `RemedyFlow` asks
for the arguments, and the controller (luckytui/controller.py) plans, confirms
with the modal given here, records and runs.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any, Protocol

from textual.app import App
from textual.worker import Worker, WorkerError

from luckytui.controller import ActionResult, Controller
from luckytui.mitigations.base import Plan
from luckytui.mitigations.runner import OUTCOME
from luckytui.runbooks import RUNBOOK_STEP, Runbook, for_alert
from luckytui.snapshots import Backend, PodInfo, PodsSnapshot
from screens.confirm import AskScreen, ConfirmScreen
from screens.runbook import ActionPicker, RunbookPicker, RunbookScreen
from widgets.guard import guarded


class Room(Protocol):
    """What the remedies read from the war room."""

    controller: Controller
    runbooks: tuple[Runbook, ...]

    async def follow_log(self) -> None: ...

    def poll_now(self) -> None: ...

    def show_pane(self, name: str) -> None: ...


class RemedyFlow:
    """The remedies' forms, on the war room's app, over its controller."""

    def __init__(self, app: App[Any], room: Room, *, read_only: bool = False) -> None:
        self.app = app
        self.room = room
        self.read_only = read_only

    @property
    def controller(self) -> Controller:
        return self.room.controller

    def notify(self, message: str, **kwargs: Any) -> None:
        self.app.notify(message, **kwargs)

    def _no_log(self) -> bool:
        """Every remedy is recorded before it runs: without the log, say so."""
        if self.controller.mitigator is not None:
            return False
        self.notify(self.controller.problem or "The local log is not open yet; nothing can "
                    "be recorded.", severity="warning")
        return True

    # --- the keys -----------------------------------------------------------------

    def act(self, name: str, pod: PodInfo | None, pods: PodsSnapshot | None) -> None:
        """A pod key: ``pod`` is the Pods pane's selection, ``pods`` what it shows."""
        if self._no_log():
            return
        if name == "emergency-scale":  # its targets are configured, not selected
            self.start(name, [])
            return
        if pod is None:
            self.notify("Select a pod in the Pods pane (1) first.", timeout=4)
            return
        if name == "cordon":
            node = next((n for n in (pods.nodes if pods else ()) if n.name == pod.node), None)
            self.start("uncordon" if node is not None and node.unschedulable else "cordon",
                       [pod.node])
            return
        if not pod.deployment:
            self.notify(f"{pod.name} belongs to no deployment.", timeout=4)
            return
        if name == "scale":
            deployment = pod.deployment
            current = next((d.desired for d in (pods.deployments if pods else ())
                            if d.name == deployment), 0)

            def replicas(answer: str | None) -> None:
                if answer:
                    self.start("scale", [deployment, answer])

            self.app.push_screen(AskScreen(f"Scale deployment {deployment} to how many "
                                           f"replicas? (now {current})", str(current)),
                                 guarded(self.app, "Scale", replicas))
            return
        self.start(name, [pod.deployment])

    def act_db(self, name: str, backend: Backend | None) -> None:
        """Cancel or terminate ``backend``, the DB connections pane's selection."""
        from luckytui.mitigations.pg import iso

        if backend is None:
            self.notify("Select a backend in the DB connections pane (2) first.", timeout=4)
            return
        args = [str(backend.pid)]
        if backend.backend_start is not None:
            args.append(iso(backend.backend_start))  # the frozen identity of that session
        self.start(name, args)

    def remedies(self) -> None:
        """Any remedy by name, with its arguments typed as for `luckytui act`."""
        actions = self.controller.actions
        if not actions:
            self.notify("No remedies here (read-only, or nothing configured).", timeout=4)
            return

        def picked(name: str | None) -> None:
            action = actions.get(name or "")
            if action is None:
                return
            if not action.usage:
                self.start(action.name, [])
                return

            def typed(answer: str | None) -> None:
                if answer is not None:
                    self.start(action.name, shlex.split(answer))

            hint = (" · the plan's presets: CACHE_TTL=300, QUERY_CACHE_TTL=300, "
                    "DB_POOL_SIZE=150" if action.name == "set-env" else "")
            self.app.push_screen(AskScreen(f"{action.name} {action.usage}{hint}", "",
                                           placeholder=action.usage),
                                 guarded(self.app, f"Remedy {action.name}", typed))

        self.app.push_screen(ActionPicker([(a.name, a.usage, a.summary)
                                           for a in actions.values()]),
                             guarded(self.app, "Remedies", picked))

    def undo(self) -> None:
        self.app.run_worker(self._undo(), group="action", exclusive=True,
                            exit_on_error=False)

    async def _undo(self) -> None:
        """Offer the undo of the newest successful remedy that has one; the undo's records
        and its timeline line name the remedy it undoes."""
        if self.controller.log is None:
            return
        def announce(undone: str) -> None:
            self.notify(f"Undo of: {undone}", timeout=4)

        await self._after(await self.controller.undo(self._confirm, announce))

    # --- planning, confirming, running -------------------------------------------

    def start(self, name: str, args: list[str]) -> Worker[None] | None:
        """Run the remedy ``name`` in a worker (one at a time): plan, confirm, run."""
        if self._no_log():
            return None
        if name not in self.controller.actions:
            self.notify(f"{name}: not available here (configure [kubernetes] and "
                        "[[databases]])", severity="warning")
            return None
        return self.app.run_worker(self._run(name, args), name=f"Remedy {name}",
                                   group="action", exclusive=True, exit_on_error=False)

    async def _confirm(self, plan: Plan) -> bool:
        confirmed: bool = await self.app.push_screen_wait(ConfirmScreen(plan))
        return confirmed

    async def _run(self, action: Any, args: list[str]) -> None:
        await self._after(await self.controller.act(action, args, self._confirm))

    async def _after(self, result: ActionResult) -> None:
        """Say what became of it; show what it changed and what was recorded."""
        self._say(result)
        if result.ran:
            self.room.poll_now()  # the affected pane shows the change at once
        if result.ran or result.status == "refused":
            await self.room.follow_log()

    def _say(self, result: ActionResult) -> None:
        if result.status == "cancelled":
            self.notify("Cancelled: nothing was changed.", timeout=3)
        elif result.status == "refused" and not result.ran:
            self.notify(f"{result.action} refused: {result.detail}", severity="error",
                        timeout=8)
        elif result.status == "unavailable":
            self.notify(result.detail, severity="warning")
        elif result.status == "nothing":
            self.notify(result.detail, timeout=4)
        elif result.ran:
            self.notify(f"{'✓' if result.ok else '✖'} {result.detail}",
                        severity="information" if result.ok else "error", timeout=8)

    # --- runbooks -----------------------------------------------------------------

    def runbooks(self, firing: set[str]) -> None:
        """The runbook picker, the runbooks of the ``firing`` alerts first."""
        def chosen(runbook_id: str | None) -> None:
            book = next((r for r in self.room.runbooks if r.id == runbook_id), None)
            if book is not None:
                self.app.run_worker(self.open_runbook(book), name="Runbook", group="runbook",
                                    exit_on_error=False)

        self.app.push_screen(RunbookPicker(self.room.runbooks, firing),
                             guarded(self.app, "Runbooks", chosen))

    def runbook_for(self, alert: str) -> None:
        book = for_alert(self.room.runbooks, alert)
        if book is None:
            self.notify("No runbook for this alert; b lists every runbook.", timeout=4)
            return
        self.app.run_worker(self.open_runbook(book), name="Runbook", group="runbook",
                            exit_on_error=False)

    async def open_runbook(self, book: Runbook) -> None:
        log = self.controller.log
        incident = self.controller.incident_number
        actor = self.controller.actor
        ticked: dict[int, bool] = {}
        if log is not None:
            for r in await log.records(kinds=(RUNBOOK_STEP,), incident=incident):
                if r.incident == incident and r.data.get("runbook") == book.id:
                    ticked[int(r.data.get("step", -1))] = bool(r.data.get("ticked"))

        def record_tick(step: int, now: bool, **extra: Any) -> Any:
            assert log is not None
            return log.append(RUNBOOK_STEP, {
                "runbook": book.id, "title": book.title, "step": step,
                "text": book.steps[step].text, "ticked": now, **extra}, actor=actor,
                incident=incident)

        def tick(step: int, now: bool) -> None:
            if log is not None:
                self.app.run_worker(record_tick(step, now), name="Runbook step", group="log",
                                    exit_on_error=False)

        screen = RunbookScreen(book, {i for i, t in ticked.items() if t},
                               guarded(self.app, "Runbook step", tick),
                               remedies=not self.read_only)
        choice: Sequence[str] | None = await self.app.push_screen_wait(screen)
        if not choice:
            return
        if choice[0] == "pane":
            self.room.show_pane(choice[1])
        elif choice[0] == "act":
            step = screen.chosen
            since = await log.last_id() if log is not None else 0
            worker = self.start(choice[1], list(choice[2:]))
            if worker is None or step is None or log is None:
                return
            try:
                await worker.wait()
            except WorkerError:
                return  # cancelled or failed: said by the worker's handler
            # the remedy of this step succeeded: the step is done, ticked like by hand
            done = [r for r in await log.records(kinds=(OUTCOME,), after_id=since)
                    if r.data.get("action") == choice[1] and r.data.get("status") == "ok"
                    and r.actor == actor]
            if done and step not in screen.ticked:
                await record_tick(step, True, remedy=done[-1].data.get("intent"))
                await self.room.follow_log()

