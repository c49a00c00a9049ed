"""`kubectl describe`, the essentials an incident needs, as lines of text.

A pod: where it runs, each container's image, requests and limits, env (secret
values masked), restarts and the last termination (reason, exit code, when), the
conditions, then its events, newest last. A deployment: replicas desired, ready
and updated, the strategy, its ReplicaSets by revision, conditions, events.

Every value is outside text: the screen shows it through `visible`; secrets are
hidden here (:func:`luckytui.redact.is_secret_key` for env names,
:func:`luckytui.redact.redact_text` for every value).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from luckytui.durations import format_duration
from luckytui.redact import REDACTED, is_secret_key, redact_text
from luckytui.timeparse import parse_time

Json = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
EVENTS_SHOWN = 50
ENV_SHOWN = 60


def _d(value: object) -> Json:
    return value if isinstance(value, dict) else {}


def _l(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: object) -> str:
    return redact_text(str(value)) if value is not None else ""


def ago(stamp: object, now: datetime) -> str:
    """"2026-12-06T04:59:22Z" → "2026-12-06T04:59:22Z (3m ago)"; "" when none."""
    when = parse_time(stamp)
    if when is None:
        return _s(stamp)
    return f"{_s(stamp)} ({format_duration((now - when).total_seconds(), 'kube')} ago)"


def last_exit(status: Json) -> str:
    """A container's last exit in a few words ("OOMKilled (137)", "Error (1)"), from
    its containerStatus; "" when it has not exited."""
    last = _d(_d(status.get("lastState")).get("terminated")) or \
        _d(_d(status.get("state")).get("terminated"))
    if not last:
        return ""
    reason = _s(last.get("reason") or "Terminated")
    code = last.get("exitCode")
    return f"{reason} ({code})" if isinstance(code, int) and not isinstance(code, bool) \
        else reason


def _resources(container: Json) -> list[str]:
    res = _d(container.get("resources"))
    out = []
    for kind in ("requests", "limits"):
        values = _d(res.get(kind))
        text = ", ".join(f"{_s(k)} {_s(v)}" for k, v in sorted(values.items()))
        out.append(f"    {kind.capitalize()}: {text or '<none>'}")
    return out


def _env(container: Json) -> list[str]:
    env = [_d(e) for e in _l(container.get("env"))]
    if not env:
        return ["    Environment: <none>"]
    out = ["    Environment:"]
    for e in env[:ENV_SHOWN]:
        name = str(e.get("name") or "?")
        ref = _d(e.get("valueFrom"))
        if ref:
            kind, what = next(iter(ref.items()))
            what = _d(what)
            value = f"<from {kind} {_s(what.get('name') or what.get('fieldPath') or '')}" \
                f"{' key ' + _s(what['key']) if what.get('key') else ''}>"
        elif is_secret_key(name):
            value = REDACTED
        else:
            value = _s(e.get("value", ""))
        out.append(f"      {_s(name)}={value}")
    if len(env) > ENV_SHOWN:
        out.append(f"      … {len(env) - ENV_SHOWN} more")
    return out


def _conditions(conditions: Sequence[Any]) -> list[str]:
    out = ["Conditions:"]
    for c in (_d(c) for c in conditions):
        extra = " ".join(x for x in (_s(c.get("reason") or ""), _s(c.get("message") or ""))
                         if x)
        out.append(f"  {_s(c.get('type'))}: {_s(c.get('status'))}"
                   + (f"  {extra}" if extra else ""))
    if len(out) == 1:
        out.append("  <none>")
    return out


def events_lines(events: Sequence[Json], now: datetime) -> list[str]:
    """The events, oldest first (the newest last), each on one line."""
    out = ["Events:"]
    shown = list(events)[-EVENTS_SHOWN:]
    if len(events) > len(shown):
        out.append(f"  … {len(events) - len(shown)} older not shown")
    for e in shown:
        stamp = e.get("lastTimestamp") or e.get("eventTime") or \
            _d(e.get("metadata")).get("creationTimestamp")
        when = parse_time(stamp)
        age = format_duration((now - when).total_seconds(), "kube") if when else "?"
        count = e.get("count")
        times = f" (x{count})" if isinstance(count, int) and count > 1 else ""
        out.append(f"  {age:>5} ago  {_s(e.get('type'))}  {_s(e.get('reason'))}{times}: "
                   f"{_s(e.get('message'))}")
    if not shown:
        out.append("  <none>")
    return out


def pod_lines(pod: Json, events: Sequence[Json], now: datetime) -> list[str]:
    meta, spec, status = (_d(pod.get(k)) for k in ("metadata", "spec", "status"))
    owners = ", ".join(f"{_s(o.get('kind'))}/{_s(o.get('name'))}"
                       for o in map(_d, _l(meta.get("ownerReferences"))))
    out = [f"Pod {_s(meta.get('name'))} in {_s(meta.get('namespace'))}",
           f"  Node: {_s(spec.get('nodeName') or '<none>')}",
           f"  IP: {_s(status.get('podIP') or '<none>')}",
           f"  Status: {_s(status.get('phase') or 'Unknown')}"
           + (" (terminating)" if meta.get("deletionTimestamp") else ""),
           f"  Started: {ago(status.get('startTime'), now) or '<not yet>'}",
           f"  Controlled by: {owners or '<none>'}",
           "Containers:"]
    statuses = {str(_d(cs).get("name")): _d(cs) for cs in _l(status.get("containerStatuses"))}
    for c in map(_d, _l(spec.get("containers"))):
        cs = statuses.get(str(c.get("name")), {})
        out.append(f"  {_s(c.get('name'))}:")
        out.append(f"    Image: {_s(c.get('image'))}")
        state = _d(cs.get("state"))
        now_state = next(iter(state), "unknown")
        reason = _d(state.get(now_state)).get("reason")
        out.append(f"    State: {now_state.capitalize()}" + (f" ({_s(reason)})" if reason else ""))
        out.append(f"    Ready: {cs.get('ready') is True}   "
                   f"Restart count: {_s(cs.get('restartCount', 0))}")
        last = _d(_d(cs.get("lastState")).get("terminated"))
        if last:
            out.append(f"    Last termination: {last_exit(cs)}, finished "
                       f"{ago(last.get('finishedAt'), now) or '?'}")
            if last.get("message"):
                out.append(f"      {_s(last['message'])}")
        out += _resources(c)
        out += _env(c)
    out += _conditions(_l(status.get("conditions")))
    out += events_lines(events, now)
    return out


def deployment_lines(dep: Json, replicasets: Sequence[Json], events: Sequence[Json],
                     now: datetime) -> list[str]:
    meta, spec, status = (_d(dep.get(k)) for k in ("metadata", "spec", "status"))
    strategy = _d(spec.get("strategy"))
    rolling = _d(strategy.get("rollingUpdate"))
    how = _s(strategy.get("type") or "RollingUpdate")
    if rolling:
        how += (f" (max unavailable {_s(rolling.get('maxUnavailable', '25%'))}, "
                f"max surge {_s(rolling.get('maxSurge', '25%'))})")
    out = [f"Deployment {_s(meta.get('name'))} in {_s(meta.get('namespace'))}",
           f"  Replicas: {_s(spec.get('replicas', 1))} desired, "
           f"{_s(status.get('readyReplicas', 0))} ready, "
           f"{_s(status.get('updatedReplicas', 0))} updated, "
           f"{_s(status.get('availableReplicas', 0))} available",
           f"  Strategy: {how}",
           f"  Revision: {_s(_d(meta.get('annotations')).get(REVISION, '?'))}",
           "ReplicaSets (newest revision first):"]

    def revision(rs: Json) -> int:
        value = _d(_d(rs.get("metadata")).get("annotations")).get(REVISION, "0")
        return int(value) if str(value).isdigit() else 0

    for rs in sorted(replicasets, key=revision, reverse=True):
        rs_spec, rs_status = _d(rs.get("spec")), _d(rs.get("status"))
        out.append(f"  revision {revision(rs)}: {_s(_d(rs.get('metadata')).get('name'))}  "
                   f"{_s(rs_status.get('readyReplicas', 0))}/{_s(rs_spec.get('replicas', 0))}"
                   " ready")
    if not replicasets:
        out.append("  <none>")
    out += _conditions(_l(status.get("conditions")))
    out += events_lines(events, now)
    return out
