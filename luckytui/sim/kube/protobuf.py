"""The protobuf bodies kubectl posts for `create job`, `create secret` and `auth can-i`."""

from __future__ import annotations

import base64
from typing import Any

from luckytui.sim.kube.common import ApiError, Json, bad_request

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


def _pb_secret(f: PbFields) -> Json:
    """A Secret (`create secret generic`): data values stay bytes, served base64 as JSON."""
    data = {}
    for entry in f.get(2, []):
        kv = pb_fields(entry)
        values = kv.get(2)
        data[_pb_str(kv, 1)] = base64.b64encode(values[-1] if values else b"").decode()
    out: Json = {"apiVersion": "v1", "kind": "Secret",
                 "metadata": _pb_object_meta(_pb_msg(f, 1)), "data": data}
    if _pb_str(f, 3):
        out["type"] = _pb_str(f, 3)
    if f.get(4):
        out["stringData"] = _pb_map(f, 4)
    return out


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
    if kind == "Secret":
        return _pb_secret(pb_fields(raw))
    raise ApiError(415, "UnsupportedMediaType",
                   f"protobuf bodies are accepted for Job, Secret and SelfSubjectAccessReview "
                   f"only "
                   f"(got {kind or 'an unknown kind'}); send application/json")

