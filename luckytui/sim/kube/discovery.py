"""Discovery (the resources served, by group and version) and the columns of
the meta.k8s.io/v1 Table that `kubectl get` asks for."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from luckytui.sim.kube.common import Json


@dataclass(frozen=True, slots=True)
class _Res:
    name: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    short: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    group: str | None = None
    version: str | None = None

    def discovery(self) -> Json:
        sub = "/" in self.name
        out: Json = {"name": self.name, "singularName": "" if sub else self.kind.lower(),
                     "namespaced": self.namespaced, "kind": self.kind, "verbs": list(self.verbs)}
        if self.group is not None:
            out["group"] = self.group
        if self.version is not None:
            out["version"] = self.version
        if self.short:
            out["shortNames"] = list(self.short)
        if self.categories:
            out["categories"] = list(self.categories)
        return out


_READ = ("get", "list")
DISCOVERY: dict[str, tuple[_Res, ...]] = {
    "v1": (
        _Res("events", "Event", True, _READ, ("ev",)),
        _Res("namespaces", "Namespace", False, _READ, ("ns",)),
        _Res("nodes", "Node", False, (*_READ, "patch"), ("no",)),
        _Res("pods", "Pod", True, _READ, ("po",), ("all",)),
    ),
    "apps/v1": (
        _Res("deployments", "Deployment", True, (*_READ, "patch"), ("deploy",), ("all",)),
        _Res("deployments/scale", "Scale", True, ("get", "patch"), group="autoscaling",
             version="v1"),
    ),
    "batch/v1": (
        _Res("cronjobs", "CronJob", True, _READ, ("cj",), ("all",)),
        _Res("jobs", "Job", True, (*_READ, "create"), (), ("all",)),
    ),
    "metrics.k8s.io/v1beta1": (
        _Res("nodes", "NodeMetrics", False, _READ),
        _Res("pods", "PodMetrics", True, _READ),
    ),
    "authorization.k8s.io/v1": (
        _Res("selfsubjectaccessreviews", "SelfSubjectAccessReview", False, ("create",)),
    ),
}


def _group_list() -> Json:
    groups = []
    for gv in DISCOVERY:
        if "/" not in gv:
            continue
        group, version = gv.split("/")
        entry = {"groupVersion": gv, "version": version}
        groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


# --- selectors ------------------------------------------------------------------



# --- tables ---------------------------------------------------------------------


def _col(name: str, type_: str = "string", priority: int = 0, fmt: str = "") -> Json:
    return {"name": name, "type": type_, "format": fmt, "description": name, "priority": priority}


COLUMNS: dict[str, list[Json]] = {
    "pods": [_col("Name", fmt="name"), _col("Ready"), _col("Status"), _col("Restarts"),
             _col("Age"), _col("IP", priority=1), _col("Node", priority=1),
             _col("Nominated Node", priority=1), _col("Readiness Gates", priority=1)],
    "deployments": [_col("Name", fmt="name"), _col("Ready"), _col("Up-to-date", "integer"),
                    _col("Available", "integer"), _col("Age"), _col("Containers", priority=1),
                    _col("Images", priority=1), _col("Selector", priority=1)],
    "nodes": [_col("Name", fmt="name"), _col("Status"), _col("Roles"), _col("Age"),
              _col("Version"), _col("Internal-IP", priority=1),
              _col("External-IP", priority=1), _col("OS-Image", priority=1),
              _col("Kernel-Version", priority=1), _col("Container-Runtime", priority=1)],
    "events": [_col("Last Seen"), _col("Type"), _col("Reason"), _col("Object"),
               _col("Message"), _col("Source", priority=1), _col("First Seen", priority=1),
               _col("Count", "integer", priority=1), _col("Name", priority=1, fmt="name")],
    "cronjobs": [_col("Name", fmt="name"), _col("Schedule"), _col("Timezone"), _col("Suspend"),
                 _col("Active", "integer"), _col("Last Schedule"), _col("Age"),
                 _col("Containers", priority=1), _col("Images", priority=1),
                 _col("Selector", priority=1)],
    "jobs": [_col("Name", fmt="name"), _col("Status"), _col("Completions"), _col("Duration"),
             _col("Age")],
    "namespaces": [_col("Name", fmt="name"), _col("Status"), _col("Age")],
}
DEFAULT_COLUMNS = [_col("Name", fmt="name"), _col("Created At", "date")]
POD_FIELDS = ("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase",
              "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
              "status.podIP", "status.nominatedNodeName")
EVENT_FIELDS = ("metadata.name", "metadata.namespace", "type", "reason", "source",
                "reportingComponent", "involvedObject.kind", "involvedObject.name",
                "involvedObject.namespace", "involvedObject.uid", "involvedObject.apiVersion",
                "involvedObject.resourceVersion", "involvedObject.fieldPath")


def _wants_table(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


# --- the API --------------------------------------------------------------------



def _resource_list(gv: str) -> Json:
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [r.discovery() for r in DISCOVERY[gv]]}
