"""Deployment revisions, bad config rollouts and crash loops, and what pods log.

Each pod template a deployment has had is a revision (a ReplicaSet named
`<deployment>-<template_hash>`); going back to an old template renumbers its
revision to the newest, as Kubernetes does. A template whose env carries a bad
config makes its pods start, pass readiness, then exit with the config's
message and restart with the kubelet's doubling back-off (CrashLoopBackOff).

Logs are ordinary request chatter drawn from a generator seeded by the pod's
name and the second, plus the lines the model was told to say
(:meth:`Production.say`), and a crashed container's last words.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, cast

from luckytui.sim.resources import SimDeployment, SimPod, SimRevision, _h, iso
from luckytui.text import visible

if TYPE_CHECKING:
    from luckytui.sim.model import Production

REVISION_HISTORY_LIMIT = 10  # old ReplicaSets kept, besides the current one
CRASH_AFTER_S = 20.0  # a bad config's pods pass readiness, then exit this much later
BACKOFF_MAX_S = 300.0
SAID_MAX = 500  # lines kept per deployment
LOG_WINDOW_S = 3600.0  # chatter is drawn back this far at most


class Workloads:
    """What Production offers the drills and the Kubernetes API about its workloads:
    bad config rollouts and their undo, lines the services say, pods deleted."""

    def _model(self) -> Production:
        return cast("Production", self)

    def say(self, deployment: str, line: str, level: str = "ERROR", *,
            verbatim: bool = False) -> None:
        """Append a line, stamped now, to what the logs of `deployment`'s live pods show
        (the last 500 lines a deployment (or a CronJob's pods) are kept). Control
        characters are shown (kubectl prints a log as it is) unless `verbatim`: then
        the line is served byte for byte, as a real process may write it."""
        say(self._model(), deployment, line, level, verbatim)

    def rollout_bad_config(self, deployment: str, env: dict[str, str], message: str) -> None:
        """Roll out a new revision whose env is a bad config: its pods start, then exit
        with `message` and crash-loop; the rolling update replaces every old pod first."""
        m = self._model()
        m.deployments[deployment].bad_configs.append((dict(env), message))
        m.patch_template(deployment, {}, dict[str, str | None](env))

    def rollout_undo(self, deployment: str, to_revision: int | None = None) -> int:
        """Go back to the previous (or the given) revision's template; its pods roll in.
        Returns the revision gone back to, as the history numbered it before the undo
        (it becomes the newest revision). Raises LookupError without such a revision."""
        m = self._model()
        d = m.deployments[deployment]
        rev = find_revision(d, to_revision)
        number = rev.number
        m.patch_template(deployment, changes(d.annotations, rev.annotations),
                         changes(d.env, rev.env))
        return number

    def every_pod(self) -> dict[str, SimPod]:
        """The deployments' pods and the others (the cache's `redis-0`, the jobs')."""
        m = self._model()
        return {**m.pods, **m.extra_pods}

    def delete_pod(self, name: str) -> SimPod:
        """Delete (or evict) a pod: it terminates, and its deployment starts another."""
        m = self._model()
        p = m.pods[name]
        if p.terminating_at is None:
            m.terminate(p)
        return p


def record_revision(model: Production, d: SimDeployment) -> SimRevision:
    """The deployment's current template as its newest revision (a new ReplicaSet, or
    an old one brought back under the next number)."""
    h = d.template_hash
    rev = d.history.get(h)
    if rev is not None and rev.number == d.revision:
        return rev
    number = d.revision + 1 if d.history else 1
    if rev is None:
        rev = SimRevision(number, h, dict(d.env), dict(d.annotations), model.now)
        d.history[h] = rev
    else:
        rev.number = number
    old = sorted(d.history.values(), key=lambda r: r.number)[:-1]
    for r in old[: max(0, len(old) - REVISION_HISTORY_LIMIT)]:
        del d.history[r.template_hash]
    return rev


def find_revision(d: SimDeployment, to_revision: int | None) -> SimRevision:
    """The revision an undo goes back to: the given one, or the one before the current."""
    by_number = sorted(d.history.values(), key=lambda r: r.number)
    if to_revision is None or to_revision == 0:
        if len(by_number) < 2:
            raise LookupError(f'no rollout history found for deployment "{d.name}"')
        return by_number[-2]
    for r in by_number:
        if r.number == to_revision:
            return r
    raise LookupError(f"unable to find specified revision {to_revision} in history")


def changes(old: dict[str, str], new: dict[str, str]) -> dict[str, str | None]:
    """What turns `old` into `new`: keys to set, and keys to remove (None)."""
    out: dict[str, str | None] = {k: None for k in old if k not in new}
    out.update({k: v for k, v in new.items() if old.get(k) != v})
    return out


def start_crashing(pod: SimPod, message: str | None) -> None:
    """A new pod of a bad template: it will exit `CRASH_AFTER_S` after it is ready."""
    if message is not None:
        pod.crash_message = message
        pod.crash_at = pod.next_restart_at = pod.ready_at + CRASH_AFTER_S


def step_crash(model: Production, p: SimPod) -> None:
    """A crashed container restarts when its back-off ends, and exits again."""
    now = model.now
    if not p.crashed(now) or p.terminating_at is not None or now < p.next_restart_at:
        return
    p.restarts += 1
    p.exited_at = now  # restarted, and out again at once: the newest lastState
    p.next_restart_at = now + p.backoff_s
    p.backoff_s = min(BACKOFF_MAX_S, p.backoff_s * 2)
    p.resource_version = model.next_rv()
    message = f"Back-off restarting failed container {p.deployment} in pod {p.name}"
    for e in reversed(model.events):  # the kubelet counts a repeated event
        if e.object_name == p.name and e.reason == "BackOff":
            e.count, e.ts = e.count + 1, now
            return
    model.event("Warning", "BackOff", "Pod", p.name, message)


# --- logs -----------------------------------------------------------------------------

_CHATTER: dict[str, tuple[str, ...]] = {
    "luckygas-backend": (
        "GET /api/v1/orders?customer_id={n} 200 {ms}ms",
        "POST /api/v1/orders 201 {ms}ms",
        "GET /api/v1/analytics/executive 200 {ms}ms",
        "POST /api/v1/auth/login 200 {ms}ms",
        "GET /health 200 2ms",
    ),
    "luckygas-frontend": (
        '10.8.{a}.{b} - - "GET / HTTP/1.1" 200 {ms}',
        '10.8.{a}.{b} - - "GET /static/app.js HTTP/1.1" 200 {ms}',
        '10.8.{a}.{b} - - "GET /orders HTTP/1.1" 200 {ms}',
    ),
    "order-worker": (
        "picked {a} pending orders",
        "order {n} processed in {ms}ms",
        "order {n} delivered to dispatch",
    ),
    "analytics-aggregation": (
        "aggregated region {a}: {n} orders",
        "refreshed analytics_daily partition {a} in {ms}ms",
    ),
}
_DEFAULT_CHATTER = ("GET /health 200 {a}ms", "handled request in {ms}ms")


def _chatter(pod: SimPod, start: float, end: float) -> list[tuple[float, str, str]]:
    """Request lines drawn for every second in [start, end): the same for a pod and a
    second whoever asks."""
    templates = _CHATTER.get(pod.deployment, _DEFAULT_CHATTER)
    out: list[tuple[float, str, str]] = []
    t = float(int(start))
    while t < end:
        h = _h(pod.name, t)
        if int(h[:2], 16) < 100:  # ~40 % of the seconds carry a line
            text = templates[int(h[2:4], 16) % len(templates)].format(
                n=80000 + int(h[4:8], 16) % 20000, ms=3 + int(h[8:10], 16) % 180,
                a=1 + int(h[10:12], 16) % 40, b=int(h[12:14], 16) % 250)
            out.append((t, "INFO", text))
        t += 1
    return out


def say(model: Production, deployment: str, line: str, level: str,
        verbatim: bool = False) -> None:
    if deployment not in model.deployments and deployment not in model.cronjobs:
        raise KeyError(deployment)
    lines = model.said.get(deployment)
    if lines is None:
        lines = model.said[deployment] = deque(maxlen=SAID_MAX)
    lines.append((model.now, visible(level), line if verbatim else visible(line)))


def pod_log(model: Production, pod: SimPod, tail: int | None = None) -> list[str]:
    """The pod's log lines, oldest first: chatter while it served, the lines said to
    its deployment while it lived, and a crashed container's message last."""
    now = model.now
    if now < pod.ready_at:
        return []
    end = pod.crash_at if pod.crash_at is not None and pod.crash_at < now else now
    if pod.finished_at is not None:
        end = min(end, pod.finished_at)
    if pod.terminating_at is not None:
        end = min(end, pod.terminating_at)
    start = pod.ready_at
    if tail is not None:  # enough seconds back for the tail, not the pod's whole life
        start = max(start, end - max(30.0, tail * 4.0))
    start = max(start, end - LOG_WINDOW_S)
    lines = _chatter(pod, start, end)
    lines += [s for s in model.said.get(pod.deployment, ()) if s[0] >= pod.created]
    lines.sort(key=lambda x: x[0])
    if pod.crash_message is not None and pod.crashed(now):
        lines.append((pod.exited_at or end, "FATAL", visible(pod.crash_message)))
    text = [f"{iso(ts)} {level:<5} {msg}" for ts, level, msg in lines]
    return text[len(text) - tail:] if tail is not None and 0 <= tail < len(text) else text
