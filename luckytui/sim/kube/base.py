"""The state the API keeps over one model, and the plumbing every resource uses."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from luckytui.sim.kube import rbac
from luckytui.sim.kube.common import (
    REGISTRY,
    SYSTEM_NAMESPACES,
    ApiError,
    Json,
    _encode,
    _iso,
    bad_request,
    not_found,
)
from luckytui.sim.kube.protobuf import PROTOBUF, decode_protobuf
from luckytui.sim.model import Production

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


class ApiBase:
    """The state kept over one model, and the helpers every resource uses."""

    kinds: dict[str, _Kind]  # filled by KubeApi, which knows every resource

    def __init__(self, model: Production) -> None:
        self.model = model
        self.ns = model.namespace
        self.writes: list[str] = []  # every request that could change something, in order
        self.posted_jobs: dict[str, Json] = {}
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
        self.tokens: dict[str, str] = {}  # bearer token -> user (others are the on-call user)

    def user_of(self, request: web.Request) -> str:
        """Who sent the request: by its path prefix (kubectl over http sends no token) or
        its bearer token; anyone else is the on-call user."""
        if request.path.startswith(rbac.READ_ONLY_PREFIX + "/"):
            return rbac.READONLY
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return self.tokens.get(auth[7:].strip(), rbac.ONCALL)
        return rbac.ONCALL

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
                if p.ready(now):  # the Ready condition: a crash-looping pod is not
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

