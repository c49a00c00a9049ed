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


_READ = ("get", "list", "watch")
DISCOVERY: dict[str, tuple[_Res, ...]] = {
    "v1": (
        _Res("configmaps", "ConfigMap", True, (*_READ, "patch"), ("cm",)),
        _Res("endpoints", "Endpoints", True, _READ, ("ep",)),
        _Res("events", "Event", True, _READ, ("ev",)),
        _Res("namespaces", "Namespace", False, _READ, ("ns",)),
        _Res("nodes", "Node", False, (*_READ, "patch"), ("no",)),
        _Res("pods", "Pod", True, (*_READ, "patch", "delete"), ("po",), ("all",)),
        _Res("pods/eviction", "Eviction", True, ("create",), group="policy", version="v1"),
        _Res("pods/exec", "PodExecOptions", True, ("create", "get")),
        _Res("pods/log", "Pod", True, ("get",)),
        _Res("secrets", "Secret", True, (*_READ, "create", "delete")),
        _Res("services", "Service", True, _READ, ("svc",), ("all",)),
    ),
    "apps/v1": (
        _Res("deployments", "Deployment", True, (*_READ, "patch"), ("deploy",), ("all",)),
        _Res("deployments/scale", "Scale", True, ("get", "patch"), group="autoscaling",
             version="v1"),
        _Res("replicasets", "ReplicaSet", True, _READ, ("rs",), ("all",)),
        _Res("statefulsets", "StatefulSet", True, _READ, ("sts",), ("all",)),
    ),
    "discovery.k8s.io/v1": (
        _Res("endpointslices", "EndpointSlice", True, _READ),
    ),
    "networking.k8s.io/v1": (
        _Res("ingresses", "Ingress", True, _READ, ("ing",)),
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
    "replicasets": [_col("Name", fmt="name"), _col("Desired", "integer"),
                    _col("Current", "integer"), _col("Ready", "integer"), _col("Age"),
                    _col("Containers", priority=1), _col("Images", priority=1),
                    _col("Selector", priority=1)],
    "statefulsets": [_col("Name", fmt="name"), _col("Ready"), _col("Age"),
                     _col("Containers", priority=1), _col("Images", priority=1)],
    "services": [_col("Name", fmt="name"), _col("Type"), _col("Cluster-IP"),
                 _col("External-IP"), _col("Port(s)"), _col("Age"), _col("Selector", priority=1)],
    "endpoints": [_col("Name", fmt="name"), _col("Endpoints"), _col("Age")],
    "ingresses": [_col("Name", fmt="name"), _col("Class"), _col("Hosts"), _col("Address"),
                  _col("Ports"), _col("Age")],
    "configmaps": [_col("Name", fmt="name"), _col("Data", "integer"), _col("Age")],
    "secrets": [_col("Name", fmt="name"), _col("Type"), _col("Data", "integer"), _col("Age")],
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


# --- OpenAPI v3 (what kubectl reads to know the server validates fields itself) ---------


def _api_path(gv: str) -> str:
    return "api/v1" if gv == "v1" else f"apis/{gv}"


def openapi_root() -> Json:
    return {"paths": {_api_path(gv): {"serverRelativeURL": f"/openapi/v3/{_api_path(gv)}"}
                      for gv in DISCOVERY}}


def openapi_document(gv: str) -> Json:
    """The PATCH operations of one group version, each with the `fieldValidation` query
    parameter and its kind (kubectl's `edit` looks for exactly that, and validates
    nothing itself when it finds it)."""
    group, _, version = gv.rpartition("/")
    paths: Json = {}
    for r in DISCOVERY[gv]:
        if "patch" not in r.verbs or "/" in r.name:
            continue
        where = f"/namespaces/{{namespace}}/{r.name}/{{name}}" if r.namespaced \
            else f"/{r.name}/{{name}}"
        paths[f"/{_api_path(gv)}{where}"] = {"patch": {
            "x-kubernetes-group-version-kind": {"group": group, "version": version,
                                                "kind": r.kind},
            "parameters": [{"name": "fieldValidation", "in": "query",
                            "schema": {"type": "string", "uniqueItems": True}}],
            "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.4"},
            "paths": paths}
