"""Strategic merge, JSON merge and JSON patch bodies, and `?dryRun=All`."""

from __future__ import annotations

import copy
import json
from typing import Any

from aiohttp import web

from luckytui.sim.kube.common import ApiError, Json, bad_request

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

