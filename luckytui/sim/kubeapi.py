"""A subset of the Kubernetes API, served over the simulation model.

Enough of the API for the real `kubectl` (v1.32) and the official python
client to work against the simulated cluster: version and legacy discovery,
namespaces, pods, nodes, events, deployments (with the `scale` subresource),
cronjobs, jobs, the metrics API and SelfSubjectAccessReview.

Reads answer JSON, or a meta.k8s.io/v1 Table when the client asks for one (as
`kubectl get` does). Lists are sorted by name and honour `limit` with a
`continue` token, label and field selectors. PATCH accepts strategic merge,
JSON merge and JSON patch bodies on the same paths; `?dryRun=All` validates
and answers the would-be object without touching the model. Errors are Status
objects with the code and reason a real API server would give.

POSTs take JSON, and also the protobuf kubectl sends for `create job` and
`auth can-i` (answered in JSON, which kubectl accepts). Watches are refused
with 405.

Every request first brings the model up to its clock. A pod whose served
state changes as time passes (it becomes ready) gets a new resourceVersion
from the model's counter, as a kubelet's status update would give it, so a
client may trust "same version, same object". Each pod's JSON is cached on
that state: a full list of 2,030 pods is mostly a join of cached bytes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from luckytui.sim.model import (
    Production,
    SimCronJob,
    SimDeployment,
    SimEvent,
    SimJob,
    SimNode,
    SimPod,
)

Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SERVER_VERSION: Json = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "59526cd4867447956156ae3a602fcbac5fb2ef85",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T16:02:27Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}
KUBELET_VERSION = "v1.32.4-gke.1106000"
REGISTRY = "gcr.io/luckygas-prod"
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
WATCH_MAX_S = 1800.0  # the longest watch served; clients resume from the last version
WATCH_TICK_S = 0.5  # how often a watch looks for changes
WATCH_BOOKMARK_S = 10.0  # a quiet watch sends a bookmark this often (if asked)
DELETION_JOURNAL = 5000  # deletions kept for watches that resume from an older version

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


def _uid(*parts: object) -> str:
    h = hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _iso(ts: float) -> str:
    """RFC 3339 UTC, as the model's `iso` but about twice as fast."""
    t = time.gmtime(ts)
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}Z")


def cpu_quantity(millis: int) -> str:
    """Millicores as the API server writes them: "500m", "1", "2"."""
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def human_duration(seconds: float) -> str:
    """An age as `kubectl get` shows it: 45s, 5m12s, 3h20m, 12d."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = divmod(hours // 24, 365)
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{hours // 24 // 365}y"


def _ip(uid: str, first: int) -> str:
    return f"10.{first + int(uid[0:2], 16) % 16}.{int(uid[2:4], 16)}.{int(uid[4:6], 16) % 253 + 2}"


# --- errors -------------------------------------------------------------------


class ApiError(Exception):
    """An error the API answers with a Status object."""

    def __init__(self, code: int, reason: str, message: str,
                 details: Json | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> Json:
        body: Json = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                      "status": "Failure", "message": self.message, "reason": self.reason,
                      "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    qualified = f"{resource}.{group}" if group else resource
    return ApiError(404, "NotFound", f'{qualified} "{name}" not found',
                    {"name": name, "group": group, "kind": resource})


def invalid(kind: str, name: str, field: str, value: object, why: str) -> ApiError:
    shown = json.dumps(value) if isinstance(value, str) else value
    return ApiError(422, "Invalid",
                    f'{kind} "{name}" is invalid: {field}: Invalid value: {shown}: {why}',
                    {"name": name, "kind": kind.split(".")[0].lower(),
                     "causes": [{"reason": "FieldValueInvalid", "field": field,
                                 "message": f"Invalid value: {shown}: {why}"}]})


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


# --- discovery ------------------------------------------------------------------


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


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_SET_REQ = re.compile(r"^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$")
_EQ_REQ = re.compile(r"^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$")
_KEY_REQ = re.compile(r"^(!?)\s*([\w./-]+)$")

@dataclass(frozen=True, slots=True)
class Requirement:
    """One term of a label selector."""

    key: str
    op: str  # in, notin, =, !=, exists, !exists
    values: frozenset[str] = frozenset()

    def __call__(self, labels: dict[str, str]) -> bool:
        value = labels.get(self.key)
        if self.op in ("in", "="):
            return value in self.values
        if self.op in ("notin", "!="):
            return value not in self.values
        return (value is not None) == (self.op == "exists")


def parse_label_selector(text: str) -> list[Requirement]:
    out: list[Requirement] = []
    for req in _split_top(text):
        if m := _SET_REQ.match(req):
            values = frozenset(v.strip() for v in m[3].split(",") if v.strip())
            out.append(Requirement(m[1], m[2], values))
        elif m := _EQ_REQ.match(req):
            out.append(Requirement(m[1], "!=" if m[2] == "!=" else "=", frozenset((m[3],))))
        elif m := _KEY_REQ.match(req):
            out.append(Requirement(m[2], "!exists" if m[1] else "exists"))
        else:
            raise bad_request(f"unable to parse requirement: {req!r}")
    return out


def parse_field_selector(text: str, allowed: Iterable[str]) -> list[tuple[str, bool, str]]:
    """[(field, equal, value)]; unknown fields are a 400 as on a real server."""
    ok = set(allowed)
    out = []
    for req in _split_top(text):
        if "!=" in req:
            key, value = req.split("!=", 1)
            equal = False
        elif "==" in req:
            key, value = req.split("==", 1)
            equal = True
        elif "=" in req:
            key, value = req.split("=", 1)
            equal = True
        else:
            raise bad_request(f"invalid selector: {req!r}; can't understand {req!r}")
        key = key.strip()
        if key not in ok:
            raise bad_request(f'field label not supported: {key}')
        out.append((key, equal, value.strip()))
    return out


# --- patches --------------------------------------------------------------------

MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
    "volumeMounts": "mountPath", "ports": "containerPort", "imagePullSecrets": "name",
    "ownerReferences": "uid", "conditions": "type", "addresses": "type",
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strategic_merge(target: Any, patch: Any, field: str = "") -> Any:
    """Strategic merge as the API server applies it to built-in types.

    Lists with a merge key (containers and env by name, ...) merge item by
    item; `$patch: delete` / `$patch: replace` directives are honoured; the
    ordering directives are accepted and ignored; other lists replace.
    """
    if isinstance(patch, list):
        return _merge_list(target, patch, MERGE_KEYS.get(field))
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if patch.get("$patch") == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
        else:
            merged = strategic_merge(out.get(k), v, k)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
    return out


def _merge_list(target: Any, patch: list[Any], key: str | None) -> list[Any]:
    if any(isinstance(x, dict) and x.get("$patch") == "replace" and len(x) == 1 for x in patch):
        return [strip_directives(x) for x in patch if not isinstance(x, dict) or "$patch" not in x]
    if key is None or not isinstance(target, list):
        return [strip_directives(x) for x in patch if not _is_delete(x)]
    items = [copy.deepcopy(x) for x in target]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            continue
        idx = next((i for i, x in enumerate(items)
                    if isinstance(x, dict) and x.get(key) == item[key]), None)
        if _is_delete(item):
            if idx is not None:
                del items[idx]
        elif idx is None:
            items.append(strip_directives(item))
        else:
            items[idx] = strategic_merge(items[idx], item)
    return items


def _is_delete(item: Any) -> bool:
    return isinstance(item, dict) and item.get("$patch") == "delete"


def strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_directives(v) for k, v in value.items()
                if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [strip_directives(v) for v in value]
    return value


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for p in parts:
        if isinstance(doc, dict) and p in doc:
            doc = doc[p]
        elif isinstance(doc, list) and p.isdigit() and int(p) < len(doc):
            doc = doc[int(p)]
        else:
            raise ApiError(422, "Invalid", f"path not found: /{'/'.join(parts)}")
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 over a copy of `doc`."""
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"invalid JSON patch operation: {op!r}")
        kind, parts = op["op"], _pointer(op["path"])
        if kind in ("add", "replace", "test") and "value" not in op:
            raise bad_request(f"JSON patch {kind} operation needs a value")
        if kind == "test":
            if _walk(doc, parts) != op["value"]:
                raise ApiError(422, "Invalid", f"test operation failed at {op['path']}")
            continue
        if kind in ("move", "copy"):
            src = _pointer(str(op.get("from", "")))
            value = copy.deepcopy(_walk(doc, src))
            if kind == "move":
                doc = _remove(doc, src)
            doc = _add(doc, parts, value, replace=False)
        elif kind == "remove":
            doc = _remove(doc, parts)
        elif kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op["value"]), replace=False)
        elif kind == "replace":
            _walk(doc, parts)
            doc = _add(doc, parts, copy.deepcopy(op["value"]), replace=True)
        else:
            raise bad_request(f"unknown JSON patch operation: {kind!r}")
    return doc


def _add(doc: Any, parts: list[str], value: Any, replace: bool) -> Any:
    if not parts:
        return value
    parent, last = _walk(doc, parts[:-1]), parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise ApiError(422, "Invalid", f"index out of range: /{'/'.join(parts)}")
    else:
        raise ApiError(422, "Invalid", f"path not found: /{'/'.join(parts)}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise ApiError(422, "Invalid", "cannot remove the whole document")
    parent, last = _walk(doc, parts[:-1]), parts[-1]
    _walk(parent, [last])
    if isinstance(parent, dict):
        del parent[last]
    else:
        del parent[int(last)]
    return doc


PATCH_TYPES = ("application/strategic-merge-patch+json", "application/merge-patch+json",
               "application/json-patch+json")


async def apply_patch(request: web.Request, current: Json) -> Json:
    """The object after the request's patch, whatever the patch type."""
    ctype = request.content_type
    if ctype not in PATCH_TYPES:
        raise ApiError(415, "UnsupportedMediaType",
                       f"the body of the request was in an unknown format - accepted media "
                       f"types include: {', '.join(PATCH_TYPES)}")
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError as e:
        raise bad_request(f"error decoding patch: {e}") from None
    if ctype == "application/json-patch+json":
        result = json_patch(current, body)
    elif not isinstance(body, dict):
        raise bad_request("patch body must be a JSON object")
    elif ctype == "application/merge-patch+json":
        result = merge_patch(current, body)
    else:
        result = strategic_merge(current, body)
    if not isinstance(result, dict):
        raise ApiError(422, "Invalid", "the patched object is not an object")
    rv = (result.get("metadata") or {}).get("resourceVersion")
    want = current["metadata"]["resourceVersion"]
    if rv is not None and str(rv) != want:
        raise ApiError(409, "Conflict", "Operation cannot be fulfilled: the object has been "
                       "modified; please apply your changes to the latest version and try again")
    return result


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for v in values:
        if v != "All":
            raise bad_request(f'Invalid dryRun value: "{v}"; the only valid value is "All"')
    return bool(values)


def _dig(obj: Any, *path: str | int) -> Any:
    for p in path:
        if isinstance(p, int):
            if not isinstance(obj, list) or p >= len(obj):
                return None
        elif not isinstance(obj, dict):
            return None
        obj = obj[p] if isinstance(p, int) else obj.get(p)
    return obj


# --- protobuf request bodies ------------------------------------------------------
# kubectl posts some objects as protobuf (`create job`, `auth can-i`) while
# accepting JSON back. Only the fields this API acts on are read.

PROTOBUF = "application/vnd.kubernetes.protobuf"
_PB_MAGIC = b"k8s\x00"
PbFields = dict[int, list[Any]]


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def pb_fields(buf: bytes) -> PbFields:
    """Protobuf wire format → {field number: [values]} (bytes or ints)."""
    out: PbFields = {}
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i:i + size], i + size
            if i > len(buf):
                raise ValueError("truncated field")
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _pb_str(f: PbFields, n: int) -> str:
    values = f.get(n)
    return values[-1].decode() if values else ""


def _pb_strs(f: PbFields, n: int) -> list[str]:
    return [v.decode() for v in f.get(n, [])]


def _pb_msg(f: PbFields, n: int) -> PbFields:
    values = f.get(n)
    return pb_fields(values[-1]) if values else {}


def _pb_map(f: PbFields, n: int) -> dict[str, str]:
    out = {}
    for entry in f.get(n, []):
        kv = pb_fields(entry)
        out[_pb_str(kv, 1)] = _pb_str(kv, 2)
    return out


def _pb_object_meta(f: PbFields) -> Json:
    meta: Json = {k: v for k, v in (("name", _pb_str(f, 1)), ("generateName", _pb_str(f, 2)),
                                    ("namespace", _pb_str(f, 3))) if v}
    for key, n in (("labels", 11), ("annotations", 12)):
        if f.get(n):
            meta[key] = _pb_map(f, n)
    refs = []
    for raw in f.get(13, []):
        r = pb_fields(raw)
        ref: Json = {"apiVersion": _pb_str(r, 5), "kind": _pb_str(r, 1), "name": _pb_str(r, 3),
                     "uid": _pb_str(r, 4)}
        if r.get(6):
            ref["controller"] = bool(r[6][-1])
        if r.get(7):
            ref["blockOwnerDeletion"] = bool(r[7][-1])
        refs.append(ref)
    if refs:
        meta["ownerReferences"] = refs
    return meta


def _pb_job(f: PbFields) -> Json:
    spec_f = _pb_msg(f, 2)
    template = _pb_msg(spec_f, 6)
    pod = _pb_msg(template, 2)
    containers = []
    for raw in pod.get(2, []):
        c = pb_fields(raw)
        container: Json = {"name": _pb_str(c, 1)}
        for key, n in (("image", 2),):
            if _pb_str(c, n):
                container[key] = _pb_str(c, n)
        for key, n in (("command", 3), ("args", 4)):
            if c.get(n):
                container[key] = _pb_strs(c, n)
        containers.append(container)
    spec: Json = {"template": {"metadata": _pb_object_meta(_pb_msg(template, 1)),
                               "spec": {"containers": containers}}}
    if _pb_str(pod, 3):
        spec["template"]["spec"]["restartPolicy"] = _pb_str(pod, 3)
    if spec_f.get(7):
        spec["backoffLimit"] = spec_f[7][-1]
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": _pb_object_meta(_pb_msg(f, 1)), "spec": spec}


def _pb_access_review(f: PbFields) -> Json:
    spec_f = _pb_msg(f, 2)
    spec: Json = {}
    if spec_f.get(1):
        r = _pb_msg(spec_f, 1)
        names = ("namespace", "verb", "group", "version", "resource", "subresource", "name")
        spec["resourceAttributes"] = {k: _pb_str(r, i + 1) for i, k in enumerate(names)
                                      if _pb_str(r, i + 1)}
    if spec_f.get(2):
        r = _pb_msg(spec_f, 2)
        spec["nonResourceAttributes"] = {"path": _pb_str(r, 1), "verb": _pb_str(r, 2)}
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": spec}


def decode_protobuf(body: bytes) -> Json:
    """A Job or SelfSubjectAccessReview posted as protobuf, as the JSON it stands for."""
    if not body.startswith(_PB_MAGIC):
        raise bad_request("protobuf body without the k8s envelope")
    envelope = pb_fields(body[len(_PB_MAGIC):])
    type_meta = _pb_msg(envelope, 1)
    kind = _pb_str(type_meta, 2)
    raw = envelope.get(2, [b""])[-1]
    if kind == "Job":
        return _pb_job(pb_fields(raw))
    if kind == "SelfSubjectAccessReview":
        return _pb_access_review(pb_fields(raw))
    raise ApiError(415, "UnsupportedMediaType",
                   f"protobuf bodies are accepted for Job and SelfSubjectAccessReview only "
                   f"(got {kind or 'an unknown kind'}); send application/json")


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


@dataclass(slots=True)
class _DeployStats:
    replicas: int = 0
    ready: int = 0
    updated: int = 0


@dataclass(slots=True)
class _Kind:
    """How one resource type lists, renders and filters."""

    plural: str
    kind: str
    api_version: str
    group: str
    items: Callable[[str | None], list[Any]]  # objects in a namespace (None: all)
    to_json: Callable[[Any], Json]
    row: Callable[[Any], list[Any]] | None = None
    fields: Callable[[Any], dict[str, str]] | None = None
    labels: Callable[[Any], dict[str, str]] | None = None
    namespace_of: Callable[[Any], str] | None = None
    namespaced: bool = True
    field_names: tuple[str, ...] = ("metadata.name", "metadata.namespace")
    cache_key: Callable[[Any], tuple[object, ...]] | None = None  # items' JSON is cached on it


class KubeApi:
    """Routes and renders the API over one model."""

    def __init__(self, model: Production) -> None:
        self.model = model
        self.ns = model.namespace
        self.writes: list[str] = []  # every request that could change something, in order
        self.posted_jobs: dict[str, Json] = {}
        deployments = self._in_ns(lambda: self.model.deployments.values())
        cronjobs = self._in_ns(lambda: self.model.cronjobs.values())
        jobs = self._in_ns(lambda: self.model.jobs.values())

        def nodes(_ns: str | None) -> list[Any]:
            return list(self.model.nodes.values())

        self.kinds: dict[str, _Kind] = {
            "pods": _Kind("pods", "Pod", "v1", "", self._pods, self.pod_json,
                          row=self._pod_row, fields=self._pod_fields,
                          labels=lambda p: p.labels, field_names=POD_FIELDS,
                          cache_key=self._pod_key),
            "deployments": _Kind("deployments", "Deployment", "apps/v1", "apps", deployments,
                                 self.deployment_json, row=self._deployment_row,
                                 labels=lambda d: {"app": d.name}),
            "nodes": _Kind("nodes", "Node", "v1", "", nodes, self.node_json, row=self._node_row,
                           fields=self._node_fields, labels=self._node_labels, namespaced=False,
                           field_names=("metadata.name", "spec.unschedulable")),
            "events": _Kind("events", "Event", "v1", "", self._events, self.event_json,
                            row=self._event_row, fields=self._event_fields,
                            namespace_of=self._event_namespace, field_names=EVENT_FIELDS),
            "cronjobs": _Kind("cronjobs", "CronJob", "batch/v1", "batch", cronjobs,
                              self.cronjob_json, row=self._cronjob_row,
                              labels=lambda c: {"app": c.name}),
            "jobs": _Kind("jobs", "Job", "batch/v1", "batch", jobs, self.job_json,
                          row=self._job_row, labels=self._job_labels),
            "namespaces": _Kind("namespaces", "Namespace", "v1", "",
                                lambda _ns: self._namespaces(), self.namespace_json,
                                row=self._namespace_row, namespaced=False,
                                labels=lambda n: {"kubernetes.io/metadata.name": n}),
            "podmetrics": _Kind("pods", "PodMetrics", "metrics.k8s.io/v1beta1", "metrics.k8s.io",
                                self._metric_pods, self.pod_metrics_json,
                                labels=lambda p: p.labels),
            "nodemetrics": _Kind("nodes", "NodeMetrics", "metrics.k8s.io/v1beta1",
                                 "metrics.k8s.io", nodes, self.node_metrics_json,
                                 labels=self._node_labels, namespaced=False,
                                 field_names=("metadata.name",)),
        }
        self._stats: dict[str, _DeployStats] | None = None
        self._rs_uids: dict[str, str] = {}
        self._digests: dict[str, str] = {}
        self._fragments: dict[str, tuple[tuple[object, ...], bytes]] = {}
        self._metric_at: tuple[float, str, str] = (-1.0, "", "")
        self._usage: dict[str, tuple[float, float]] = {}
        self._usage_at = -1.0
        self._pod_states: dict[str, tuple[bool, bool, int, str]] = {}
        self._touched_at = -1.0
        self._born: dict[str, int] = {}  # pod name -> resourceVersion when first served
        self._deleted: list[tuple[int, str, bytes | None]] = []  # (rv, name, last JSON)
        self._journal_floor = 0  # a watch from an older version gets 410 Gone
        self._stats_at: tuple[float, int] = (-1.0, -1)

    # --- plumbing -----------------------------------------------------------

    def _in_ns(self, source: Callable[[], Iterable[Any]]) -> Callable[[str | None], list[Any]]:
        def items(ns: str | None) -> list[Any]:
            return list(source()) if ns in (None, self.ns) else []
        return items

    def _namespaces(self) -> list[str]:
        return [*SYSTEM_NAMESPACES, self.ns]

    def check_namespace(self, ns: str) -> None:
        if ns not in self._namespaces():
            raise not_found("namespaces", ns)

    def respond(self, obj: Json, status: int = 200) -> web.Response:
        return web.Response(body=_encode(obj).encode(), status=status,
                            content_type="application/json")

    def meta(self, name: str, uid: str, rv: int, created: float,
             namespace: str | None = None) -> Json:
        m: Json = {"name": name}
        if namespace is not None:
            m["namespace"] = namespace
        m.update(uid=uid, resourceVersion=str(rv), creationTimestamp=_iso(created))
        return m

    def stats(self) -> dict[str, _DeployStats]:
        """Per-deployment pod counts, computed once per model state."""
        key = (self.model.now, self.model.resource_version)
        if self._stats is None or key != self._stats_at:
            now = self.model.now
            out = {name: _DeployStats() for name in self.model.deployments}
            for p in self.model.pods.values():
                s = out.get(p.deployment)
                if s is None or p.terminating_at is not None:
                    continue
                s.replicas += 1
                if now >= p.ready_at:
                    s.ready += 1
                if p.template_hash == self.model.deployments[p.deployment].template_hash:
                    s.updated += 1
            self._stats, self._stats_at = out, key
        return self._stats

    def _image(self, name: str) -> str:
        return f"{REGISTRY}/{name}:2.{len(name) % 7 + 3}.{len(name) % 4}"

    def _image_id(self, image: str) -> str:
        digest = self._digests.get(image)
        if digest is None:
            digest = self._digests[image] = hashlib.sha256(image.encode()).hexdigest()
        return f"{image.partition(':')[0]}@sha256:{digest}"

    # --- pods ---------------------------------------------------------------

    def _pods(self, ns: str | None) -> list[SimPod]:
        return list(self.model.pods.values()) if ns in (None, self.ns) else []

    def _pod_status_text(self, p: SimPod) -> str:
        if p.terminating_at is not None:
            return "Terminating"
        if self.model.now < p.ready_at:
            return "ContainerCreating" if p.node else "Pending"
        return "Running"

    def _pod_fields(self, p: SimPod) -> dict[str, str]:
        return {"metadata.name": p.name, "metadata.namespace": self.ns,
                "spec.nodeName": p.node, "status.phase": p.phase(self.model.now),
                "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
                "spec.serviceAccountName": "default", "status.podIP": _ip(p.uid, 4),
                "status.nominatedNodeName": ""}

    def _pod_row(self, p: SimPod) -> list[Any]:
        now = self.model.now
        return [p.name, f"{1 if p.ready(now) else 0}/1", self._pod_status_text(p),
                str(p.restarts), human_duration(now - p.created),
                _ip(p.uid, 4) if p.node and now >= p.ready_at else "<none>",
                p.node or "<none>", "<none>", "<none>"]

    def _containers(self, name: str, req_m: int, lim_m: int, mem_mi: int,
                    env: dict[str, str] | None = None) -> list[Json]:
        c: Json = {"name": name, "image": self._image(name)}
        if env:
            c["env"] = [{"name": k, "value": v} for k, v in env.items()]
        c["resources"] = {
            "limits": {"cpu": cpu_quantity(lim_m), "memory": f"{mem_mi}Mi"},
            "requests": {"cpu": cpu_quantity(req_m), "memory": f"{mem_mi // 2}Mi"},
        }
        return [c]

    def _pod_key(self, p: SimPod) -> tuple[object, ...]:
        """Everything a pod's JSON depends on besides its immutable fields."""
        return (p.resource_version, self.model.now >= p.ready_at, p.terminating_at, p.restarts,
                p.node)

    def _rs_uid(self, deployment: str, template_hash: str) -> str:
        key = f"{deployment}-{template_hash}"
        uid = self._rs_uids.get(key)
        if uid is None:
            uid = self._rs_uids[key] = _uid("rs", key)
        return uid

    def pod_json(self, p: SimPod) -> Json:
        now = self.model.now
        running = now >= p.ready_at
        ready = running and p.terminating_at is None
        meta = self.meta(p.name, p.uid, p.resource_version, p.created, self.ns)
        if p.terminating_at is not None:
            meta["deletionTimestamp"] = _iso(p.terminating_at)
            meta["deletionGracePeriodSeconds"] = 30
        meta["labels"] = p.labels
        meta["ownerReferences"] = [{
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": f"{p.deployment}-{p.template_hash}",
            "uid": self._rs_uid(p.deployment, p.template_hash),
            "controller": True, "blockOwnerDeletion": True}]
        containers = self._containers(p.deployment, p.cpu_request_m, p.cpu_limit_m,
                                      p.memory_limit_mi)
        spec: Json = {"containers": containers, "restartPolicy": "Always"}
        status: Json = {"phase": "Running" if running else "Pending"}
        node = self.model.nodes.get(p.node)
        if node is None:
            status["conditions"] = [{"type": "PodScheduled", "status": "False",
                                     "reason": "Unschedulable",
                                     "message": "0/0 nodes are available: node(s) were "
                                                "unschedulable.",
                                     "lastTransitionTime": _iso(p.created)}]
            return {"metadata": meta, "spec": spec, "status": status}
        spec["nodeName"] = p.node
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False",
                                 "lastTransitionTime": _iso(p.ready_at if running else p.created)}]
        status["hostIP"] = _ip(node.uid, 128)
        if running:
            status["podIP"] = _ip(p.uid, 4)
        status["startTime"] = _iso(p.created)
        image = containers[0]["image"]
        cs: Json = {"name": p.deployment, "image": image, "imageID": self._image_id(image),
                    "ready": ready, "restartCount": p.restarts, "started": running}
        if running:
            cs["state"] = {"running": {"startedAt": _iso(p.ready_at - 1)}}
        else:
            cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
        status["containerStatuses"] = [cs]
        return {"metadata": meta, "spec": spec, "status": status}

    # --- deployments ----------------------------------------------------------

    def deployment_json(self, d: SimDeployment) -> Json:
        s = self.stats().get(d.name, _DeployStats())
        meta = self.meta(d.name, d.uid, d.resource_version, d.created, self.ns)
        meta["generation"] = d.generation
        meta["labels"] = {"app": d.name}
        meta["annotations"] = {"deployment.kubernetes.io/revision": str(d.generation)}
        template_meta: Json = {"labels": {"app": d.name}}
        if d.annotations:
            template_meta["annotations"] = dict(d.annotations)
        spec = {
            "replicas": d.replicas,
            "selector": {"matchLabels": {"app": d.name}},
            "template": {"metadata": template_meta, "spec": {
                "containers": self._containers(d.name, d.cpu_request_m, d.cpu_limit_m,
                                               d.memory_limit_mi, d.env),
                "restartPolicy": "Always"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
        }
        available_ok = s.ready >= d.replicas - d.replicas // 4
        done = s.updated == d.replicas and s.replicas == d.replicas
        status: Json = {
            "observedGeneration": d.generation, "replicas": s.replicas,
            "updatedReplicas": s.updated, "readyReplicas": s.ready,
            "availableReplicas": s.ready,
            "conditions": [
                {"type": "Available", "status": "True" if available_ok else "False",
                 "reason": "MinimumReplicasAvailable" if available_ok
                 else "MinimumReplicasUnavailable",
                 "message": "Deployment has minimum availability." if available_ok
                 else "Deployment does not have minimum availability.",
                 "lastUpdateTime": _iso(d.created), "lastTransitionTime": _iso(d.created)},
                {"type": "Progressing", "status": "True",
                 "reason": "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                 "message": f'ReplicaSet "{d.name}-{d.template_hash}" '
                            f'{"has successfully progressed." if done else "is progressing."}',
                 "lastUpdateTime": _iso(d.created), "lastTransitionTime": _iso(d.created)},
            ],
        }
        if s.replicas > s.ready:
            status["unavailableReplicas"] = s.replicas - s.ready
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec,
                "status": status}

    def _deployment_row(self, d: SimDeployment) -> list[Any]:
        s = self.stats().get(d.name, _DeployStats())
        return [d.name, f"{s.ready}/{d.replicas}", s.updated, s.ready,
                human_duration(self.model.now - d.created), d.name, self._image(d.name),
                f"app={d.name}"]

    def scale_json(self, d: SimDeployment, replicas: int | None = None) -> Json:
        s = self.stats().get(d.name, _DeployStats())
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": self.meta(d.name, d.uid, d.resource_version, d.created, self.ns),
                "spec": {"replicas": d.replicas if replicas is None else replicas},
                "status": {"replicas": s.replicas, "selector": f"app={d.name}"}}

    # --- nodes ----------------------------------------------------------------

    def _node_labels(self, n: SimNode) -> dict[str, str]:
        return {"kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "cloud.google.com/gke-nodepool": "pool",
                "node.kubernetes.io/instance-type":
                    f"e2-standard-{n.cpu_capacity_m // 1000}"}

    def _node_fields(self, n: SimNode) -> dict[str, str]:
        return {"metadata.name": n.name, "spec.unschedulable": str(n.unschedulable).lower()}

    def node_json(self, n: SimNode) -> Json:
        meta = self.meta(n.name, n.uid, n.resource_version, n.created)
        meta["labels"] = self._node_labels(n)
        spec: Json = {"podCIDR": f"10.{4 + int(n.uid[0:2], 16) % 16}.{int(n.uid[2:4], 16)}.0/24",
                      "providerID": f"gce://luckygas-prod/asia-east1-b/{n.name}"}
        if n.unschedulable:
            spec["unschedulable"] = True
            spec["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                               "timeAdded": _iso(self.model.now)}]
        ip = _ip(n.uid, 128)
        cap = {"cpu": cpu_quantity(n.cpu_capacity_m),
               "memory": f"{n.memory_capacity_mi * 1024}Ki", "pods": "110",
               "ephemeral-storage": "98831908Ki"}
        alloc = {"cpu": cpu_quantity(n.cpu_capacity_m - 90),
                 "memory": f"{(n.memory_capacity_mi - 2560) * 1024}Ki", "pods": "110",
                 "ephemeral-storage": "47060071478"}
        status = {
            "capacity": cap, "allocatable": alloc,
            "conditions": [
                {"type": "MemoryPressure", "status": "False",
                 "reason": "KubeletHasSufficientMemory",
                 "message": "kubelet has sufficient memory available",
                 "lastHeartbeatTime": _iso(self.model.now), "lastTransitionTime": _iso(n.created)},
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "kubelet is posting ready status",
                 "lastHeartbeatTime": _iso(self.model.now), "lastTransitionTime": _iso(n.created)},
            ],
            "addresses": [{"type": "InternalIP", "address": ip},
                          {"type": "Hostname", "address": n.name}],
            "nodeInfo": {
                "machineID": n.uid.replace("-", ""), "systemUUID": n.uid,
                "bootID": _uid("boot", n.uid), "kernelVersion": "6.6.72+",
                "osImage": "Container-Optimized OS from Google",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux", "architecture": "amd64"},
        }
        return {"apiVersion": "v1", "kind": "Node", "metadata": meta, "spec": spec,
                "status": status}

    def _node_row(self, n: SimNode) -> list[Any]:
        return [n.name, "Ready,SchedulingDisabled" if n.unschedulable else "Ready", "<none>",
                human_duration(self.model.now - n.created), KUBELET_VERSION, _ip(n.uid, 128),
                "<none>", "Container-Optimized OS from Google", "6.6.72+",
                "containerd://1.7.24"]

    # --- events ---------------------------------------------------------------

    def _events(self, ns: str | None) -> list[SimEvent]:
        return [e for e in self.model.events if ns is None or self._event_namespace(e) == ns]

    def _event_namespace(self, e: SimEvent) -> str:
        return "default" if e.kind == "Node" else self.ns

    def _involved(self, e: SimEvent) -> Json:
        m = self.model
        api = {"Deployment": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1"}.get(e.kind, "v1")
        uid = {"Pod": lambda: m.pods[e.object_name].uid,
               "Deployment": lambda: m.deployments[e.object_name].uid,
               "Node": lambda: m.nodes[e.object_name].uid,
               "Job": lambda: m.jobs[e.object_name].uid,
               "CronJob": lambda: m.cronjobs[e.object_name].uid}.get(e.kind)
        try:
            obj_uid = uid() if uid else _uid(e.kind, e.object_name)
        except KeyError:
            obj_uid = _uid(e.kind, e.object_name)
        ref: Json = {"kind": e.kind, "name": e.object_name, "apiVersion": api, "uid": obj_uid}
        if e.kind != "Node":
            ref["namespace"] = self.ns
        return ref

    def _event_source(self, e: SimEvent) -> str:
        return {"Scheduled": "default-scheduler", "Killing": "kubelet",
                "ScalingReplicaSet": "deployment-controller",
                "SuccessfulCreate": "job-controller", "Completed": "job-controller",
                "BackoffLimitExceeded": "job-controller",
                "NodeNotSchedulable": "kubelet", "NodeSchedulable": "kubelet"}.get(
                    e.reason, "luckygas-monitor")

    def event_json(self, e: SimEvent) -> Json:
        ns = self._event_namespace(e)
        return {"apiVersion": "v1", "kind": "Event",
                "metadata": self.meta(e.name, _uid("event", e.name), self.model.resource_version,
                                      e.ts, ns),
                "involvedObject": self._involved(e), "reason": e.reason, "message": e.message,
                "type": e.type, "count": e.count, "firstTimestamp": _iso(e.ts),
                "lastTimestamp": _iso(e.ts), "source": {"component": self._event_source(e)},
                "reportingComponent": self._event_source(e), "reportingInstance": ""}

    def _event_fields(self, e: SimEvent) -> dict[str, str]:
        inv = self._involved(e)
        return {"metadata.name": e.name, "metadata.namespace": self._event_namespace(e),
                "type": e.type, "reason": e.reason, "source": self._event_source(e),
                "reportingComponent": self._event_source(e),
                "involvedObject.kind": e.kind, "involvedObject.name": e.object_name,
                "involvedObject.namespace": inv.get("namespace", ""),
                "involvedObject.uid": inv["uid"], "involvedObject.apiVersion": inv["apiVersion"],
                "involvedObject.resourceVersion": "", "involvedObject.fieldPath": ""}

    def _event_row(self, e: SimEvent) -> list[Any]:
        age = human_duration(self.model.now - e.ts)
        return [age, e.type, e.reason, f"{e.kind.lower()}/{e.object_name}", e.message,
                self._event_source(e), age, e.count, e.name]

    # --- cronjobs and jobs ------------------------------------------------------

    def _job_template(self, cronjob: str) -> Json:
        return {"metadata": {"labels": {"app": cronjob}},
                "spec": {"backoffLimit": 2, "template": {
                    "metadata": {"labels": {"app": cronjob}},
                    "spec": {"restartPolicy": "OnFailure", "containers": [
                        {"name": "aggregate", "image": self._image(cronjob),
                         "args": ["aggregate", "--window=15m"],
                         "resources": {"requests": {"cpu": "500m", "memory": "512Mi"},
                                       "limits": {"cpu": "1", "memory": "1Gi"}}}]}}}}

    def cronjob_json(self, c: SimCronJob) -> Json:
        now = self.model.now
        active = [{"kind": "Job", "namespace": self.ns, "name": j.name, "uid": j.uid,
                   "apiVersion": "batch/v1", "resourceVersion": str(j.resource_version)}
                  for j in self.model.jobs.values()
                  if j.from_cronjob == c.name and not j.succeeded(now)]
        status: Json = {}
        if active:
            status["active"] = active
        if c.last_schedule is not None:
            status["lastScheduleTime"] = _iso(c.last_schedule)
        return {"apiVersion": "batch/v1", "kind": "CronJob",
                "metadata": {**self.meta(c.name, c.uid, c.resource_version, c.created, self.ns),
                             "labels": {"app": c.name}},
                "spec": {"schedule": c.schedule, "concurrencyPolicy": "Forbid", "suspend": False,
                         "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                         "jobTemplate": self._job_template(c.name)},
                "status": status}

    def _cronjob_row(self, c: SimCronJob) -> list[Any]:
        j = self.cronjob_json(c)
        last = c.last_schedule
        return [c.name, c.schedule, "<none>", "False", len(j["status"].get("active", [])),
                human_duration(self.model.now - last) if last is not None else "<none>",
                human_duration(self.model.now - c.created), "aggregate", self._image(c.name),
                "<none>"]

    def _job_labels(self, j: SimJob) -> dict[str, str]:
        posted = self.posted_jobs.get(j.uid)
        labels = _dig(posted, "metadata", "labels") if posted else None
        if isinstance(labels, dict):
            return {str(k): str(v) for k, v in labels.items()}
        return {"job-name": j.name}

    def job_json(self, j: SimJob) -> Json:
        now = self.model.now
        posted = self.posted_jobs.get(j.uid, {})
        meta = self.meta(j.name, j.uid, j.resource_version, j.created, self.ns)
        pm = posted.get("metadata", {})
        meta["labels"] = self._job_labels(j)
        for key in ("annotations", "ownerReferences"):
            if pm.get(key):
                meta[key] = pm[key]
        if "ownerReferences" not in meta and j.from_cronjob in self.model.cronjobs:
            c = self.model.cronjobs[j.from_cronjob]
            meta["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "CronJob",
                                        "name": c.name, "uid": c.uid, "controller": True,
                                        "blockOwnerDeletion": True}]
        if "spec" in posted:
            spec = posted["spec"]
        elif j.from_cronjob:
            spec = self._job_template(j.from_cronjob)["spec"]
        else:
            spec = self._job_template(j.name)["spec"]
        spec = {"parallelism": 1, "completions": 1, "backoffLimit": 6, **spec}
        status: Json = {"startTime": _iso(j.created)}
        if j.succeeded(now):
            status.update(succeeded=1, ready=0, completionTime=_iso(j.completes_at), conditions=[
                {"type": "SuccessCriteriaMet", "status": "True",
                 "lastProbeTime": _iso(j.completes_at), "lastTransitionTime": _iso(j.completes_at)},
                {"type": "Complete", "status": "True", "lastProbeTime": _iso(j.completes_at),
                 "lastTransitionTime": _iso(j.completes_at)}])
        else:
            status.update(active=1, ready=1 if now >= j.created + 2 else 0)
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec,
                "status": status}

    def _job_row(self, j: SimJob) -> list[Any]:
        now = self.model.now
        done = j.succeeded(now)
        end = j.completes_at if done else now
        return [j.name, "Complete" if done else "Running", f"{1 if done else 0}/1",
                human_duration(end - j.created), human_duration(now - j.created)]

    # --- namespaces -------------------------------------------------------------

    def namespace_json(self, name: str) -> Json:
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {**self.meta(name, _uid("ns", name), 100,
                                         self.model.started - 86400 * 30),
                             "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

    def _namespace_row(self, name: str) -> list[Any]:
        return [name, "Active", human_duration(self.model.now - self.model.started + 86400 * 30)]

    # --- metrics ----------------------------------------------------------------

    def _metric_pods(self, ns: str | None) -> list[SimPod]:
        now = self.model.now
        return [p for p in self._pods(ns) if p.node and now >= p.ready_at]

    def _metric_times(self) -> tuple[str, str]:
        now = self.model.now
        if self._metric_at[0] != now:
            self._metric_at = (now, _iso(now), _iso(now - 5))
        return self._metric_at[1], self._metric_at[2]

    def pod_metrics_json(self, p: SimPod) -> Json:
        created, sampled = self._metric_times()
        return {"metadata": {"name": p.name, "namespace": self.ns, "creationTimestamp": created},
                "timestamp": sampled, "window": "15s",
                "containers": [{"name": p.deployment, "usage": {
                    "cpu": f"{int(p.cpu_m * 1_000_000)}n",
                    "memory": f"{int(p.memory_mi * 1024)}Ki"}}]}

    def _node_usage(self) -> dict[str, tuple[float, float]]:
        """Per node: (CPU millicores, memory MiB) of its running pods plus the system's."""
        now = self.model.now
        if self._usage_at != now:
            usage = {n: [180.0, 1536.0] for n in self.model.nodes}
            for p in self.model.pods.values():
                u = usage.get(p.node)
                if u is not None and now >= p.ready_at:
                    u[0] += p.cpu_m
                    u[1] += p.memory_mi
            self._usage = {n: (u[0], u[1]) for n, u in usage.items()}
            self._usage_at = now
        return self._usage

    def node_metrics_json(self, n: SimNode) -> Json:
        created, sampled = self._metric_times()
        cpu, mem = self._node_usage().get(n.name, (180.0, 1536.0))
        return {"metadata": {"name": n.name, "creationTimestamp": created,
                             "labels": self._node_labels(n)},
                "timestamp": sampled, "window": "20s",
                "usage": {"cpu": f"{int(cpu * 1_000_000)}n", "memory": f"{int(mem * 1024)}Ki"}}

    def touch_pods(self) -> None:
        """Give a pod a new resourceVersion when what is served of it changes.

        The model bumps versions on the changes it makes itself; a pod that
        becomes ready as time passes is bumped here, as a kubelet's status
        update would, so clients can trust "same version, same object".
        """
        now = self.model.now
        if now == self._touched_at:
            return
        seen, states = self._pod_states, {}
        for p in self.model.pods.values():
            state = (now >= p.ready_at, p.terminating_at is not None, p.restarts, p.node)
            before = seen.get(p.name)
            if before is not None and before != state:
                p.resource_version = self.model.next_rv()
            if p.name not in self._born:
                self._born[p.name] = p.resource_version
            states[p.name] = state
        for name in [n for n in self._born if n not in self.model.pods]:  # gone: journal it
            del self._born[name]
            cached = self._fragments.get(name)
            self._deleted.append((self.model.next_rv(), name, cached[1] if cached else None))
        if len(self._deleted) > DELETION_JOURNAL:
            self._journal_floor = self._deleted[-DELETION_JOURNAL - 1][0]
            del self._deleted[:-DELETION_JOURNAL]
        self._pod_states, self._touched_at = states, now

    # --- watch (pods) ---------------------------------------------------------------

    async def watch(self, request: web.Request, key: str, ns: str | None) -> web.StreamResponse:
        """GET ...?watch=1: the changes after resourceVersion as a stream of JSON lines
        (ADDED, MODIFIED, DELETED, BOOKMARK; ERROR 410 when that version is too old),
        until timeoutSeconds. Pods only: the resource a war room watches."""
        if key != "pods":
            raise ApiError(405, "MethodNotAllowed",
                           f"watch is supported for pods only by this server, not {key}")
        query = request.query
        try:
            since = int(query.get("resourceVersion") or 0)
            timeout = min(float(query.get("timeoutSeconds") or WATCH_MAX_S), WATCH_MAX_S)
        except ValueError:
            raise ApiError(400, "BadRequest", "resourceVersion and timeoutSeconds must be "
                           "numbers") from None
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        k = self.kinds["pods"]
        if since and since < self._journal_floor:
            expired = ApiError(410, "Expired", f"too old resource version: {since} "
                               f"({self._journal_floor})").status()
            await response.write(_encode({"type": "ERROR", "object": expired}).encode() + b"\n")
            return response
        sent: set[str] = set()
        last = since
        if not since:  # no version: the current state as ADDED, then the changes
            last = self.model.resource_version
            await self._send(response, [("ADDED", p.resource_version, p) for p in k.items(ns)])
            sent = {p.name for p in k.items(ns)}
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        marked = loop.time()
        try:
            while loop.time() < end:
                self.model.sync()
                self.touch_pods()
                events: list[tuple[str, int, Any]] = []
                for p in k.items(ns):
                    if p.resource_version > last:
                        new = self._born.get(p.name, 0) > since and p.name not in sent
                        events.append(("ADDED" if new else "MODIFIED", p.resource_version, p))
                        sent.add(p.name)
                events += [("DELETED", rv, (name, frag)) for rv, name, frag in self._deleted
                           if rv > last]
                last = max(last, self.model.resource_version)
                if events:
                    await self._send(response, sorted(events, key=lambda e: e[1]))
                elif bookmarks and loop.time() - marked >= WATCH_BOOKMARK_S:
                    mark = {"kind": "Pod", "apiVersion": "v1",
                            "metadata": {"resourceVersion": str(last)}}
                    await response.write(_encode({"type": "BOOKMARK", "object": mark}).encode()
                                         + b"\n")
                    marked = loop.time()
                await asyncio.sleep(WATCH_TICK_S)
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        return response

    async def _send(self, response: web.StreamResponse,
                    events: list[tuple[str, int, Any]]) -> None:
        k, lines = self.kinds["pods"], []
        for kind, rv, obj in events:
            if kind == "DELETED":
                name, frag = obj
                doc = json.loads(frag) if frag else {"metadata": {"name": name,
                                                                  "namespace": self.ns}}
                doc["metadata"]["resourceVersion"] = str(rv)
                body = _encode({"kind": "Pod", "apiVersion": "v1", **doc}).encode()
            else:
                body = b'{"kind":"Pod","apiVersion":"v1",' + self._items(k, [obj])[0][1:]
            lines.append(b'{"type":"' + kind.encode() + b'","object":' + body + b"}\n")
        if lines:
            await response.write(b"".join(lines))

    # --- generic read paths -------------------------------------------------------

    def _name_of(self, obj: Any) -> str:
        return obj if isinstance(obj, str) else str(obj.name)

    def _find(self, k: _Kind, ns: str | None, name: str) -> Any:
        for obj in k.items(ns):
            if self._name_of(obj) == name:
                return obj
        raise not_found(k.plural, name, k.group)

    def _row_metadata(self, k: _Kind, obj: Any) -> Json:
        if isinstance(obj, SimPod):
            m = self.meta(obj.name, obj.uid, obj.resource_version, obj.created, self.ns)
            m["labels"] = obj.labels
        elif isinstance(obj, SimDeployment):
            m = self.meta(obj.name, obj.uid, obj.resource_version, obj.created, self.ns)
            m["labels"] = {"app": obj.name}
        elif isinstance(obj, SimNode):
            m = self.meta(obj.name, obj.uid, obj.resource_version, obj.created)
            m["labels"] = self._node_labels(obj)
        else:
            m = k.to_json(obj)["metadata"]
        return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": m}

    def table(self, k: _Kind, objs: Sequence[Any], list_meta: Json) -> Json:
        cols = COLUMNS.get(k.plural if k.row else "", DEFAULT_COLUMNS)
        rows = []
        for obj in objs:
            if k.row is not None:
                cells = k.row(obj)
            else:
                created = _dig(k.to_json(obj), "metadata", "creationTimestamp")
                cells = [self._name_of(obj), created or "<unknown>"]
            rows.append({"cells": cells, "object": self._row_metadata(k, obj)})
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
                "columnDefinitions": cols, "rows": rows}

    def _filter(self, request: web.Request, k: _Kind,
                pairs: list[tuple[tuple[str, str], Any]]) -> list[tuple[tuple[str, str], Any]]:
        labels = request.query.get("labelSelector")
        if labels:
            matchers = parse_label_selector(labels)
            get_labels = k.labels or (lambda _o: {})
            pairs = [kv for kv in pairs if all(m(get_labels(kv[1])) for m in matchers)]
        fields = request.query.get("fieldSelector")
        if fields:
            reqs = parse_field_selector(fields, k.field_names)
            pairs = [kv for kv in pairs
                     if all((self._fields(k, kv[0], kv[1]).get(f, "") == v) == eq
                            for f, eq, v in reqs)]
        return pairs

    def _fields(self, k: _Kind, key: tuple[str, str], obj: Any) -> dict[str, str]:
        if k.fields is not None:
            return k.fields(obj)
        return {"metadata.name": key[1], "metadata.namespace": key[0]}

    def list_objects(self, request: web.Request, key: str, ns: str | None) -> web.Response:
        if request.query.get("watch") in ("true", "1"):
            raise ApiError(405, "MethodNotAllowed", "watch is not supported by this server")
        k = self.kinds[key]
        rv = str(self.model.resource_version)
        ns_of = k.namespace_of or ((lambda _o: "") if not k.namespaced else
                                   (lambda _o: self.ns))
        pairs = sorted((((ns_of(o), self._name_of(o)), o) for o in k.items(ns)),
                       key=lambda kv: kv[0])
        start = self._continue_from(request)
        if start is not None:
            pairs = [kv for kv in pairs if kv[0] > start]
        pairs = self._filter(request, k, pairs)
        limit = request.query.get("limit", "")
        list_meta: Json = {"resourceVersion": rv}
        if limit.isdigit() and 0 < int(limit) < len(pairs):
            n = int(limit)
            list_meta["continue"] = self._continue_token(rv, pairs[n - 1][0])
            list_meta["remainingItemCount"] = len(pairs) - n
            pairs = pairs[:n]
        objs = [o for _, o in pairs]
        if _wants_table(request):
            return self.respond(self.table(k, objs, list_meta))
        head = _encode({"kind": f"{k.kind}List", "apiVersion": k.api_version,
                        "metadata": list_meta, "items": []})[:-3].encode()
        return web.Response(body=b"".join((head, b"[", b",".join(self._items(k, objs)), b"]}")),
                            content_type="application/json")

    def _items(self, k: _Kind, objs: list[Any]) -> list[bytes]:
        """Each object's JSON, from the cache when its state has not changed."""
        metrics = k.kind.endswith("Metrics")
        if k.cache_key is None:
            out = []
            for o in objs:
                js = k.to_json(o)
                if metrics:
                    js = {"kind": k.kind, "apiVersion": k.api_version, **js}
                else:
                    js.pop("kind", None)
                    js.pop("apiVersion", None)
                out.append(_encode(js).encode())
            return out
        cache, key_of, frags = self._fragments, k.cache_key, []
        for o in objs:
            key = key_of(o)
            hit = cache.get(o.name)
            if hit is None or hit[0] != key:
                hit = cache[o.name] = (key, _encode(k.to_json(o)).encode())
            frags.append(hit[1])
        if len(cache) > 2 * len(self.model.pods) + 100:
            live = self.model.pods
            for name in [n for n in cache if n not in live]:
                del cache[name]
        return frags

    def _continue_token(self, rv: str, key: tuple[str, str]) -> str:
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": "/".join(key) + "\x00"})
        return base64.urlsafe_b64encode(raw.encode()).decode()

    def _continue_from(self, request: web.Request) -> tuple[str, str] | None:
        token = request.query.get("continue")
        if not token:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            ns, _, name = str(data["start"]).rstrip("\x00").partition("/")
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise bad_request("continue key is not valid: incorrect encoded start "
                              "resourceVersion (version meta.k8s.io/v1)") from None
        return (ns, name)

    def get_object(self, request: web.Request, key: str, ns: str | None, name: str) -> web.Response:
        k = self.kinds[key]
        obj = self._find(k, ns, name)
        if _wants_table(request):
            return self.respond(self.table(k, [obj], {"resourceVersion": str(
                self.model.resource_version)}))
        js = k.to_json(obj)
        js.setdefault("kind", k.kind)
        js.setdefault("apiVersion", k.api_version)
        return self.respond(js)

    # --- writes -------------------------------------------------------------------

    def _deployment(self, ns: str, name: str) -> SimDeployment:
        d = self.model.deployments.get(name) if ns == self.ns else None
        if d is None:
            raise not_found("deployments", name, "apps")
        return d

    @staticmethod
    def _replicas(obj: Json, kind: str, name: str) -> int:
        value = _dig(obj, "spec", "replicas")
        if value is None:
            return 1
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(kind, name, "spec.replicas", value, "must be an integer")
        if value < 0:
            raise invalid(kind, name, "spec.replicas", value,
                          "must be greater than or equal to 0")
        return value

    @staticmethod
    def _changes(old: dict[str, str], new: dict[str, str]) -> dict[str, str | None]:
        out: dict[str, str | None] = {k: None for k in old if k not in new}
        out.update({k: v for k, v in new.items() if old.get(k) != v})
        return out

    def _template_changes(self, d: SimDeployment, obj: Json) -> tuple[
            dict[str, str | None], dict[str, str | None]]:
        name = f"Deployment.apps \"{d.name}\""
        ann = _dig(obj, "spec", "template", "metadata", "annotations") or {}
        if not isinstance(ann, dict) or not all(isinstance(v, str) for v in ann.values()):
            raise invalid("Deployment.apps", d.name, "spec.template.metadata.annotations", ann,
                          "annotation values must be strings")
        containers = _dig(obj, "spec", "template", "spec", "containers")
        if not isinstance(containers, list) or not containers:
            raise ApiError(422, "Invalid", f"{name} is invalid: spec.template.spec.containers: "
                           "Required value")
        main = next((c for c in containers if isinstance(c, dict) and c.get("name") == d.name),
                    containers[0])
        env: dict[str, str] = {}
        for item in (main.get("env") if isinstance(main, dict) else None) or []:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ApiError(422, "Invalid", f"{name} is invalid: "
                               "spec.template.spec.containers[0].env: Required value: name")
            if "valueFrom" in item:
                raise invalid("Deployment.apps", d.name,
                              "spec.template.spec.containers[0].env.valueFrom", item["name"],
                              "valueFrom is not supported here")
            value = item.get("value", "")
            if not isinstance(value, str):
                raise invalid("Deployment.apps", d.name,
                              "spec.template.spec.containers[0].env.value", value,
                              "must be a string")
            env[item["name"]] = value
        return self._changes(d.annotations, ann), self._changes(d.env, env)

    async def patch_deployment(self, request: web.Request, ns: str, name: str) -> web.Response:
        d = self._deployment(ns, name)
        current = self.deployment_json(d)
        new = await apply_patch(request, current)
        replicas = self._replicas(new, "Deployment.apps", name)
        ann, env = self._template_changes(d, new)
        if _dry_run(request):
            return self.respond(new)
        if ann or env:
            self.model.patch_template(name, ann, env)
        self.model.scale(name, replicas)
        return self.respond(self.deployment_json(d))

    async def patch_scale(self, request: web.Request, ns: str, name: str) -> web.Response:
        d = self._deployment(ns, name)
        new = await apply_patch(request, self.scale_json(d))
        replicas = self._replicas(new, "Scale.autoscaling", name)
        if _dry_run(request):
            return self.respond(self.scale_json(d, replicas))
        self.model.scale(name, replicas)
        return self.respond(self.scale_json(d))

    async def patch_node(self, request: web.Request, name: str) -> web.Response:
        n = self.model.nodes.get(name)
        if n is None:
            raise not_found("nodes", name)
        new = await apply_patch(request, self.node_json(n))
        flag = _dig(new, "spec", "unschedulable")
        if flag is not None and not isinstance(flag, bool):
            raise invalid("Node", name, "spec.unschedulable", flag, "must be a boolean")
        if _dry_run(request):
            return self.respond(new)
        self.model.set_unschedulable(name, bool(flag))
        return self.respond(self.node_json(n))

    async def _json_body(self, request: web.Request) -> Json:
        """A posted object, from JSON or (for the kinds kubectl sends so) protobuf."""
        if request.content_type == PROTOBUF:
            try:
                return decode_protobuf(await request.read())
            except (ValueError, UnicodeDecodeError, IndexError) as e:
                raise bad_request(f"error decoding protobuf body: {e}") from None
        # the python client posts JSON without a Content-Type header
        if "Content-Type" in request.headers and request.content_type != "application/json":
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - accepted media "
                           f"types include: application/json (got {request.content_type})")
        try:
            body = json.loads(await request.read())
        except ValueError as e:
            raise bad_request(f"error decoding body: {e}") from None
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        return body

    async def create_job(self, request: web.Request, ns: str) -> web.Response:
        self.check_namespace(ns)
        body = await self._json_body(request)
        dry = _dry_run(request)
        meta = body.get("metadata") or {}
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if meta.get("namespace") not in (None, ns):
            raise bad_request("the namespace of the provided object does not match the "
                              "namespace sent on the request")
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = f"{meta['generateName']}{_uid('gen', self.model.now, len(self.model.jobs))[:5]}"
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
                                                         name):
            raise invalid("Job.batch", str(name or ""), "metadata.name", name or "",
                          "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                          "characters or '-', and must start and end with an alphanumeric "
                          "character")
        if ns != self.ns:
            raise ApiError(403, "Forbidden", f'jobs.batch "{name}" is forbidden: only namespace '
                           f'"{self.ns}" runs workloads in this cluster')
        containers = _dig(body, "spec", "template", "spec", "containers")
        if not isinstance(containers, list) or not containers:
            raise ApiError(422, "Invalid", f'Job.batch "{name}" is invalid: '
                           "spec.template.spec.containers: Required value")
        if name in self.model.jobs:
            raise ApiError(409, "AlreadyExists", f'jobs.batch "{name}" already exists',
                           {"name": name, "group": "batch", "kind": "jobs"})
        owner = None
        for ref in meta.get("ownerReferences") or []:
            if isinstance(ref, dict) and ref.get("kind") == "CronJob":
                owner = str(ref.get("name"))
        if owner is not None and owner not in self.model.cronjobs:
            raise invalid("Job.batch", name, "metadata.ownerReferences", owner,
                          "no such CronJob in this namespace")
        stored = {"metadata": {k: meta[k] for k in ("labels", "annotations", "ownerReferences")
                               if meta.get(k)}, "spec": body.get("spec") or {}}
        if dry:
            job = SimJob(name, _uid("dry-run", name), self.model.now, self.model.now + 8, owner,
                         self.model.resource_version)
            self.posted_jobs[job.uid] = stored
            try:
                return self.respond(self.job_json(job), 201)
            finally:
                del self.posted_jobs[job.uid]
        job = self.model.create_job(name, owner)
        self.posted_jobs[job.uid] = stored
        return self.respond(self.job_json(job), 201)

    async def access_review(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        spec = body.get("spec")
        if not isinstance(spec, dict):
            raise ApiError(422, "Invalid", 'SelfSubjectAccessReview.authorization.k8s.io "" is '
                           "invalid: spec: Required value")
        return self.respond({"kind": "SelfSubjectAccessReview",
                             "apiVersion": "authorization.k8s.io/v1",
                             "metadata": {"creationTimestamp": None}, "spec": spec,
                             "status": {"allowed": True,
                                        "reason": "the simulated cluster allows everything"}},
                            201)

    # --- routing ------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        r = app.router
        api = self

        def read(key: str, namespaced: bool, prefix: str) -> None:
            plural = self.kinds[key].plural
            if namespaced:
                async def list_ns(req: web.Request) -> web.StreamResponse:
                    if req.query.get("watch") in ("true", "1"):
                        return await api.watch(req, key, req.match_info["ns"])
                    return api.list_objects(req, key, req.match_info["ns"])

                async def get_ns(req: web.Request) -> web.Response:
                    return api.get_object(req, key, req.match_info["ns"], req.match_info["name"])

                async def list_all(req: web.Request) -> web.StreamResponse:
                    if req.query.get("watch") in ("true", "1"):
                        return await api.watch(req, key, None)
                    return api.list_objects(req, key, None)

                r.add_get(f"{prefix}/namespaces/{{ns}}/{plural}", list_ns)
                r.add_get(f"{prefix}/namespaces/{{ns}}/{plural}/{{name}}", get_ns)
                r.add_get(f"{prefix}/{plural}", list_all)
            else:
                async def list_cluster(req: web.Request) -> web.Response:
                    return api.list_objects(req, key, None)

                async def get_cluster(req: web.Request) -> web.Response:
                    return api.get_object(req, key, None, req.match_info["name"])

                r.add_get(f"{prefix}/{plural}", list_cluster)
                r.add_get(f"{prefix}/{plural}/{{name}}", get_cluster)

        async def version(_req: web.Request) -> web.Response:
            return api.respond(SERVER_VERSION)

        async def core_versions(req: web.Request) -> web.Response:
            host = req.host or "127.0.0.1"
            return api.respond({"kind": "APIVersions", "versions": ["v1"],
                                "serverAddressByClientCIDRs": [
                                    {"clientCIDR": "0.0.0.0/0", "serverAddress": host}]})

        async def groups(_req: web.Request) -> web.Response:
            return api.respond(_group_list())

        async def core_resources(_req: web.Request) -> web.Response:
            return api.respond(_resource_list("v1"))

        async def group_resources(req: web.Request) -> web.Response:
            gv = f"{req.match_info['group']}/{req.match_info['version']}"
            if gv not in DISCOVERY:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return api.respond(_resource_list(gv))

        r.add_get("/version", version)
        r.add_get("/api", core_versions)
        r.add_get("/apis", groups)
        r.add_get("/api/v1", core_resources)
        r.add_get("/apis/{group}/{version}", group_resources)

        async def get_namespace(req: web.Request) -> web.Response:
            name = req.match_info["name"]
            if name not in api._namespaces():
                raise not_found("namespaces", name)
            return api.get_object(req, "namespaces", None, name)

        async def list_namespaces(req: web.Request) -> web.Response:
            return api.list_objects(req, "namespaces", None)

        r.add_get("/api/v1/namespaces", list_namespaces)
        r.add_get("/api/v1/namespaces/{name}", get_namespace)
        read("pods", True, "/api/v1")
        read("events", True, "/api/v1")
        read("nodes", False, "/api/v1")
        read("deployments", True, "/apis/apps/v1")
        read("cronjobs", True, "/apis/batch/v1")
        read("jobs", True, "/apis/batch/v1")
        read("podmetrics", True, "/apis/metrics.k8s.io/v1beta1")
        read("nodemetrics", False, "/apis/metrics.k8s.io/v1beta1")

        async def get_scale(req: web.Request) -> web.Response:
            d = api._deployment(req.match_info["ns"], req.match_info["name"])
            return api.respond(api.scale_json(d))

        async def patch_scale(req: web.Request) -> web.Response:
            return await api.patch_scale(req, req.match_info["ns"], req.match_info["name"])

        async def patch_deployment(req: web.Request) -> web.Response:
            return await api.patch_deployment(req, req.match_info["ns"], req.match_info["name"])

        async def patch_node(req: web.Request) -> web.Response:
            return await api.patch_node(req, req.match_info["name"])

        async def create_job(req: web.Request) -> web.Response:
            return await api.create_job(req, req.match_info["ns"])

        async def access_review(req: web.Request) -> web.Response:
            return await api.access_review(req)

        deploy = "/apis/apps/v1/namespaces/{ns}/deployments/{name}"
        r.add_patch(deploy, patch_deployment)
        r.add_get(f"{deploy}/scale", get_scale)
        r.add_patch(f"{deploy}/scale", patch_scale)
        r.add_patch("/api/v1/nodes/{name}", patch_node)
        r.add_post("/apis/batch/v1/namespaces/{ns}/jobs", create_job)
        r.add_post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", access_review)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD") and "selfsubjectaccessreviews" not in request.path:
            self.writes.append(f"{request.method} {request.path_qs}")  # the audit trail
        try:
            self.model.sync()
            self.touch_pods()
            return await handler(request)
        except ApiError as e:
            return self.respond(e.status(), e.code)
        except web.HTTPMethodNotAllowed:
            e2 = ApiError(405, "MethodNotAllowed",
                          f"the server does not allow this method on the requested resource "
                          f"({request.method} {request.path})")
            return self.respond(e2.status(), 405)
        except web.HTTPNotFound:
            e3 = ApiError(404, "NotFound", "the server could not find the requested resource")
            return self.respond(e3.status(), 404)


def _resource_list(gv: str) -> Json:
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [r.discovery() for r in DISCOVERY[gv]]}


KUBE_API = web.AppKey("kube_api", KubeApi)


def make_kube_app(model: Production) -> web.Application:
    """An aiohttp application serving the Kubernetes API subset over `model`."""
    api = KubeApi(model)
    app = web.Application(middlewares=[api.middleware], client_max_size=4 * 1024 * 1024)
    api.routes(app)
    app[KUBE_API] = api
    return app
