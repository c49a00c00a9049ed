"""The plan's Kubernetes remedies: scale, rollout restart, cordon, set env, run a job,
roll back a deployment (rollout undo).

Each plan freezes its target (uid and generation: a spec that changed, or an
object that was recreated, aborts the action), checks the local bounds and the
API's permission (SelfSubjectAccessReview), and passes a server-side dry run
whose answer the confirmation shows.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from luckytui.mitigations.base import (
    ActionError,
    BadArgument,
    Change,
    Outcome,
    Plan,
    whole_number,
)
from luckytui.redact import REDACTED, is_secret_key, redact_text
from luckytui.systems.kubernetes import KubeOps, KubeOpsError

T = TypeVar("T")
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


@dataclass
class KubeContext:
    """What the Kubernetes actions share: one client, the namespace, the bounds.

    `max_replicas` is the everyday bound, which --force lifts; `ceiling` is the config's
    [limits] max_replicas, which nothing on the command line lifts."""

    ops: KubeOps
    namespace: str
    max_replicas: int = 20
    force: bool = False
    ceiling: int = 50

    def replicas(self, text: str) -> int:
        """A replica count the bounds allow, or BadArgument saying which bound."""
        if self.force or self.max_replicas >= self.ceiling:
            top, hint = self.ceiling, " ([limits] max_replicas, which no flag lifts)"
        else:
            top, hint = self.max_replicas, f" (max_replicas); --force to go up to {self.ceiling}"
        return whole_number(text, "replicas", 0, top, hint)

    def within_ceiling(self, name: str, replicas: int) -> int:
        if isinstance(replicas, bool) or not isinstance(replicas, int) or not (
                0 <= replicas <= self.ceiling):
            raise BadArgument(f"{name}: {replicas!r} replicas is outside 0..{self.ceiling} "
                              "([limits] max_replicas)")
        return replicas

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except KubeOpsError as exc:
            raise ActionError(str(exc)) from None

    async def permitted(self, verb: str, resource: str, *, group: str = "",
                        subresource: str = "", name: str = "") -> None:
        allowed = await self.call(self.ops.can_i, verb, resource, group=group,
                                  subresource=subresource, name=name)
        if not allowed:
            what = f"{resource}/{subresource}" if subresource else resource
            raise ActionError(f"not permitted: you may not {verb} {what} in {self.namespace}")

    def kubectl(self, *args: str) -> str:
        return shlex.join(["kubectl", "-n", self.namespace, *args])


def _name(value: str, what: str) -> str:
    if not NAME.fullmatch(value) or len(value) > 253:
        raise BadArgument(f"{value!r} is not a valid {what} name")
    return value


def _identity(obj: dict[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata") or {}
    return {"uid": str(meta.get("uid", "")), "generation": str(meta.get("generation", "")),
            "resourceVersion": str(meta.get("resourceVersion", ""))}


def _unchanged(plan: Plan, obj: dict[str, Any]) -> None:
    now = _identity(obj)
    if now["uid"] != plan.identity.get("uid"):
        raise ActionError(f"{plan.target} was deleted and recreated since the plan: "
                          "look again before acting")
    if plan.identity.get("generation") and now["generation"] != plan.identity["generation"]:
        raise ActionError(f"{plan.target} was changed by someone else since the plan "
                          f"(generation {plan.identity['generation']} → {now['generation']}): "
                          "look again before acting")


class ScaleDeployment:
    name = "scale"
    summary = "Scale a deployment to N replicas"
    usage = "DEPLOYMENT REPLICAS"

    def __init__(self, ctx: KubeContext) -> None:
        self.ctx = ctx

    async def plan(self, *args: str) -> Plan:
        if len(args) != 2:
            raise BadArgument(f"usage: scale {self.usage}")
        name = _name(args[0], "deployment")
        replicas = self.ctx.replicas(args[1])
        dep = await self.ctx.call(self.ctx.ops.deployment, name)
        before = int((dep.get("spec") or {}).get("replicas", 0))
        await self.ctx.permitted("patch", "deployments", group="apps", subresource="scale",
                                 name=name)
        answer = await self.ctx.call(self.ctx.ops.scale, name, replicas, dry_run=True)
        would = (answer.get("spec") or {}).get("replicas")
        return Plan(
            action=self.name, title=f"Scale deployment {name}",
            target=f"deployment/{name}", identity=_identity(dep),
            changes=(Change("replicas", str(before), str(replicas)),),
            command=self.ctx.kubectl("scale", "deployment", name, f"--replicas={replicas}"),
            args={"deployment": name, "replicas": replicas},
            dry_run=f"accepted: replicas would be {would}",
            undo={"action": self.name, "args": [name, str(before)]})

    async def execute(self, plan: Plan) -> Outcome:
        name = plan.args["deployment"]
        replicas = self.ctx.within_ceiling(name, plan.args["replicas"])
        _unchanged(plan, await self.ctx.call(self.ctx.ops.deployment, name))
        answer = await self.ctx.call(self.ctx.ops.scale, name, replicas, dry_run=False)
        now = (answer.get("spec") or {}).get("replicas")
        return Outcome("ok", f"deployment.apps/{name} scaled to {now}",
                       changed={"replicas": now})


class RestartDeployment:
    name = "restart"
    summary = "Rollout restart a deployment (new pods replace the old ones)"
    usage = "DEPLOYMENT"

    def __init__(self, ctx: KubeContext) -> None:
        self.ctx = ctx

    async def plan(self, *args: str) -> Plan:
        if len(args) != 1:
            raise BadArgument(f"usage: restart {self.usage}")
        name = _name(args[0], "deployment")
        dep = await self.ctx.call(self.ctx.ops.deployment, name)
        await self.ctx.permitted("patch", "deployments", group="apps", name=name)
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await self.ctx.call(self.ctx.ops.restart, name, at, dry_run=True)
        replicas = (dep.get("spec") or {}).get("replicas", 0)
        return Plan(
            action=self.name, title=f"Rollout restart deployment {name}",
            target=f"deployment/{name}", identity=_identity(dep),
            changes=(Change("pods", f"{replicas} running", f"{replicas} new, rolled one "
                            "batch at a time"),),
            command=self.ctx.kubectl("rollout", "restart", "deployment", name),
            args={"deployment": name}, dry_run="accepted")

    async def execute(self, plan: Plan) -> Outcome:
        name = plan.args["deployment"]
        _unchanged(plan, await self.ctx.call(self.ctx.ops.deployment, name))
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await self.ctx.call(self.ctx.ops.restart, name, at, dry_run=False)
        return Outcome("ok", f"deployment.apps/{name} restarted at {at}",
                       changed={"restartedAt": at})


class CordonNode:
    usage = "NODE"

    def __init__(self, ctx: KubeContext, *, cordon: bool) -> None:
        self.ctx = ctx
        self.cordon = cordon
        self.name = "cordon" if cordon else "uncordon"
        self.summary = ("Cordon a node: no new pods are scheduled on it" if cordon
                        else "Uncordon a node: pods may be scheduled on it again")

    async def plan(self, *args: str) -> Plan:
        if len(args) != 1:
            raise BadArgument(f"usage: {self.name} {self.usage}")
        name = _name(args[0], "node")
        node = await self.ctx.call(self.ctx.ops.node, name)
        before = bool((node.get("spec") or {}).get("unschedulable"))
        if before == self.cordon:
            raise ActionError(f"node {name} is already "
                              f"{'cordoned' if before else 'schedulable'}")
        await self.ctx.permitted("patch", "nodes", name=name)
        await self.ctx.call(self.ctx.ops.cordon, name, self.cordon, dry_run=True)
        label = {True: "cordoned (SchedulingDisabled)", False: "schedulable"}
        return Plan(
            action=self.name, title=f"{self.name.capitalize()} node {name}",
            target=f"node/{name}", identity={"uid": _identity(node)["uid"]},
            changes=(Change("scheduling", label[before], label[self.cordon]),),
            command=shlex.join(["kubectl", self.name, name]), args={"node": name},
            dry_run="accepted",
            undo={"action": "uncordon" if self.cordon else "cordon", "args": [name]})

    async def execute(self, plan: Plan) -> Outcome:
        name = plan.args["node"]
        _unchanged(plan, await self.ctx.call(self.ctx.ops.node, name))
        await self.ctx.call(self.ctx.ops.cordon, name, self.cordon, dry_run=False)
        return Outcome("ok", f"node/{name} {self.name}ed",
                       changed={"unschedulable": self.cordon})


MAX_ENV_VALUE = 4096


class SetEnv:
    name = "set-env"
    summary = "Set an environment variable on a deployment (rolls its pods)"
    usage = "DEPLOYMENT KEY=VALUE"

    def __init__(self, ctx: KubeContext) -> None:
        self.ctx = ctx

    async def plan(self, *args: str) -> Plan:
        if len(args) != 2 or "=" not in args[1]:
            raise BadArgument(f"usage: set-env {self.usage}")
        name = _name(args[0], "deployment")
        key, value = args[1].split("=", 1)
        if not ENV_KEY.fullmatch(key):
            raise ActionError(f"{key!r} is not a valid environment variable name")
        if len(value) > MAX_ENV_VALUE or not all(c.isprintable() for c in value):
            raise BadArgument(f"the value of {key} must be printable text on one line, at "
                              f"most {MAX_ENV_VALUE} characters (no line breaks or control "
                              "characters)")
        dep = await self.ctx.call(self.ctx.ops.deployment, name)
        containers = ((dep.get("spec") or {}).get("template") or {}).get("spec", {}).get(
            "containers") or []
        if not containers:
            raise ActionError(f"deployment {name} has no containers")
        container = containers[0]
        before = next((e.get("value") for e in container.get("env") or []
                       if e.get("name") == key), None)
        await self.ctx.permitted("patch", "deployments", group="apps", name=name)
        await self.ctx.call(self.ctx.ops.set_env, name, container["name"], key, value,
                            dry_run=True)
        return Plan(
            action=self.name, title=f"Set {key} on deployment {name}",
            target=f"deployment/{name}", identity=_identity(dep),
            changes=(Change(f"{container['name']}: {key}",
                            "(unset)" if before is None else str(before), value),),
            command=self.ctx.kubectl("set", "env", f"deployment/{name}", f"{key}={value}"),
            args={"deployment": name, "container": container["name"], "key": key,
                  "value": value},
            dry_run="accepted",
            undo={"action": self.name, "args": [name, f"{key}={before}"]}
            if before is not None else None)

    async def execute(self, plan: Plan) -> Outcome:
        a = plan.args
        _unchanged(plan, await self.ctx.call(self.ctx.ops.deployment, a["deployment"]))
        await self.ctx.call(self.ctx.ops.set_env, a["deployment"], a["container"], a["key"],
                            a["value"], dry_run=False)
        return Outcome("ok", f"deployment.apps/{a['deployment']} env {a['key']}={a['value']}",
                       changed={a["key"]: a["value"]})


class RunJob:
    name = "run-job"
    summary = "Create a Job from a CronJob now (the plan's manual analytics aggregation)"
    usage = "CRONJOB"

    def __init__(self, ctx: KubeContext, clock: Callable[[], datetime] | None = None) -> None:
        self.ctx = ctx
        self.clock = clock or (lambda: datetime.now(UTC))

    async def plan(self, *args: str) -> Plan:
        if len(args) != 1:
            raise BadArgument(f"usage: run-job {self.usage}")
        cron = _name(args[0], "cronjob")
        obj = await self.ctx.call(self.ctx.ops.cronjob, cron)
        job = f"{cron}-manual-{self.clock():%m%d%H%M%S}"[:63]
        await self.ctx.permitted("create", "jobs", group="batch")
        await self.ctx.call(self.ctx.ops.job_from_cronjob, cron, job, dry_run=True)
        return Plan(
            action=self.name, title=f"Run cronjob {cron} now, as job {job}",
            target=f"cronjob/{cron}", identity={"uid": _identity(obj)["uid"]},
            changes=(Change("jobs", "none", job),),
            command=self.ctx.kubectl("create", "job", job, f"--from=cronjob/{cron}"),
            args={"cronjob": cron, "job": job}, dry_run="accepted")

    async def execute(self, plan: Plan) -> Outcome:
        a = plan.args
        _unchanged(plan, await self.ctx.call(self.ctx.ops.cronjob, a["cronjob"]))
        await self.ctx.call(self.ctx.ops.job_from_cronjob, a["cronjob"], a["job"],
                            dry_run=False)
        return Outcome("ok", f"job.batch/{a['job']} created", changed={"job": a["job"]})


REVISION = "deployment.kubernetes.io/revision"
TEMPLATE_HASH = "pod-template-hash"


def _revision(obj: dict[str, Any]) -> int:
    value = str(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, ""))
    return int(value) if value.isdigit() else 0


def _env(template: dict[str, Any]) -> dict[str, str]:
    containers = (template.get("spec") or {}).get("containers") or [{}]
    return {str(e.get("name")): str(e.get("value", "")) for e in containers[0].get("env") or []
            if isinstance(e, dict)}


def _shown(key: str, value: str | None) -> str:
    if value is None:
        return "(unset)"
    return REDACTED if is_secret_key(key) else redact_text(value)


class RollbackDeployment:
    """The plan's recovery from a bad rollout: `kubectl rollout undo`."""

    name = "rollout-undo"
    summary = "Roll a deployment back to its previous (or a given) revision"
    usage = "DEPLOYMENT [REVISION]"

    def __init__(self, ctx: KubeContext) -> None:
        self.ctx = ctx

    async def _revisions(self, dep: dict[str, Any]) -> dict[int, dict[str, Any]]:
        """The deployment's ReplicaSets by revision (those it owns, by its selector)."""
        labels = ((dep.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        uid = _identity(dep)["uid"]
        out = {}
        for rs in await self.ctx.call(self.ctx.ops.replicasets, selector):
            owners = (rs.get("metadata") or {}).get("ownerReferences") or []
            if any(o.get("uid") == uid and o.get("controller") for o in owners):
                out[_revision(rs)] = rs
        return out

    @staticmethod
    def _template(rs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The ReplicaSet's pod template as the deployment's (without the hash label), and
        that hash."""
        template = dict((rs.get("spec") or {}).get("template") or {})
        meta = dict(template.get("metadata") or {})
        labels = dict(meta.get("labels") or {})
        template_hash = str(labels.pop(TEMPLATE_HASH, ""))
        meta["labels"] = labels
        template["metadata"] = meta
        return template, template_hash

    async def plan(self, *args: str) -> Plan:
        if len(args) not in (1, 2):
            raise BadArgument(f"usage: rollout-undo {self.usage}")
        name = _name(args[0], "deployment")
        wanted = whole_number(args[1], "revision", 1, 1_000_000) if len(args) == 2 else None
        dep = await self.ctx.call(self.ctx.ops.deployment, name)
        current = _revision(dep)
        revisions = await self._revisions(dep)
        older = sorted(r for r in revisions if r != current)
        if wanted is None:
            if not older:
                raise ActionError(f"deployment {name} has no earlier revision to go back to")
            wanted = older[-1]
        elif wanted == current:
            raise ActionError(f"deployment {name} is already at revision {current}")
        elif wanted not in revisions:
            raise ActionError(f"deployment {name} has no revision {wanted} (it has "
                              f"{', '.join(map(str, sorted(revisions))) or 'none'})")
        template, template_hash = self._template(revisions[wanted])
        await self.ctx.permitted("patch", "deployments", group="apps", name=name)
        await self.ctx.call(self.ctx.ops.rollback, name, template, dry_run=True)
        now_template = (dep.get("spec") or {}).get("template") or {}
        before, after = _env(now_template), _env(template)
        changes = [Change(f"env {k}", _shown(k, before.get(k)), _shown(k, after.get(k)))
                   for k in sorted(before.keys() | after.keys()) if before.get(k) != after.get(k)]
        ann_before = (now_template.get("metadata") or {}).get("annotations") or {}
        ann_after = (template.get("metadata") or {}).get("annotations") or {}
        changes += [Change(f"annotation {k}", str(ann_before.get(k, "(unset)")),
                           str(ann_after.get(k, "(unset)")))
                    for k in sorted(ann_before.keys() | ann_after.keys())
                    if ann_before.get(k) != ann_after.get(k)]
        return Plan(
            action=self.name, title=f"Roll back deployment {name} to revision {wanted}",
            target=f"deployment/{name}", identity=_identity(dep),
            changes=(Change("revision", str(current), f"{wanted} (template {template_hash})"),
                     *changes),
            command=self.ctx.kubectl("rollout", "undo", f"deployment/{name}",
                                     f"--to-revision={wanted}"),
            args={"deployment": name, "revision": wanted, "template_hash": template_hash},
            dry_run="accepted", undo={"action": self.name, "args": [name, str(current)]})

    async def execute(self, plan: Plan) -> Outcome:
        a = plan.args
        dep = await self.ctx.call(self.ctx.ops.deployment, a["deployment"])
        _unchanged(plan, dep)
        rs = (await self._revisions(dep)).get(a["revision"])
        if rs is None or self._template(rs)[1] != a["template_hash"]:
            raise ActionError(f"revision {a['revision']} of deployment {a['deployment']} is no "
                              "longer the template the plan showed: look again before acting")
        await self.ctx.call(self.ctx.ops.rollback, a["deployment"], self._template(rs)[0],
                            dry_run=False)
        return Outcome("ok", f"deployment.apps/{a['deployment']} rolled back to revision "
                       f"{a['revision']}", changed={"revision": a["revision"]})


class EmergencyScale:
    """The plan's "scale up everything" step, as one confirmed action."""

    name = "emergency-scale"
    usage = ""

    def __init__(self, ctx: KubeContext, preset: dict[str, int]) -> None:
        self.ctx = ctx
        self.preset = dict(preset)
        self.summary = "Scale up everything (the plan's complete-outage step): " + ", ".join(
            f"{d} {n}" for d, n in self.preset.items())

    async def plan(self, *args: str) -> Plan:
        if args:
            raise ActionError("emergency-scale takes no arguments (its targets are configured)")
        identity: dict[str, str] = {}
        changes, touches = [], []
        for name, replicas in self.preset.items():
            self.ctx.within_ceiling(name, replicas)
            dep = await self.ctx.call(self.ctx.ops.deployment, name)
            before = int((dep.get("spec") or {}).get("replicas", 0))
            await self.ctx.permitted("patch", "deployments", group="apps",
                                     subresource="scale", name=name)
            await self.ctx.call(self.ctx.ops.scale, name, replicas, dry_run=True)
            ident = _identity(dep)
            identity[f"{name}.uid"], identity[f"{name}.generation"] = (ident["uid"],
                                                                        ident["generation"])
            changes.append(Change(f"{name} replicas", str(before), str(replicas)))
            touches.append(f"deployment/{name}: {before} → {replicas} replicas")
        commands = " && ".join(
            self.ctx.kubectl("scale", "deployment", n, f"--replicas={r}")
            for n, r in self.preset.items())
        return Plan(action=self.name, title="Emergency scale-up of " + ", ".join(self.preset),
                    target=f"namespace/{self.ctx.namespace}", identity=identity,
                    changes=tuple(changes), command=commands, args=dict(self.preset),
                    dry_run="accepted for every deployment",
                    typed_confirmation=self.ctx.namespace, touches=tuple(touches))

    async def execute(self, plan: Plan) -> Outcome:
        done: dict[str, Any] = {}
        for name, replicas in plan.args.items():
            dep = await self.ctx.call(self.ctx.ops.deployment, name)
            ident = _identity(dep)
            if (ident["uid"] != plan.identity.get(f"{name}.uid")
                    or ident["generation"] != plan.identity.get(f"{name}.generation")):
                raise ActionError(f"deployment/{name} changed since the plan; scaled so far: "
                                  f"{done or 'nothing'}")
            answer = await self.ctx.call(self.ctx.ops.scale, name,
                                         self.ctx.within_ceiling(name, replicas),
                                         dry_run=False)
            done[name] = (answer.get("spec") or {}).get("replicas")
        return Outcome("ok", "scaled " + ", ".join(f"{n} to {r}" for n, r in done.items()),
                       changed=done)


def kube_actions(ctx: KubeContext, emergency: dict[str, int] | None = None) -> list[Any]:
    actions: list[Any] = [ScaleDeployment(ctx), RestartDeployment(ctx),
                          CordonNode(ctx, cordon=True), CordonNode(ctx, cordon=False),
                          SetEnv(ctx), RunJob(ctx), RollbackDeployment(ctx)]
    if emergency:
        actions.append(EmergencyScale(ctx, emergency))
    return actions
