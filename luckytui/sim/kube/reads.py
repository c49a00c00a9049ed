"""The read paths every resource shares (get, list as JSON or Table, paging,
selectors), and the pod watch with its resourceVersion bookkeeping."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from luckytui.sim.kube.base import _Kind
from luckytui.sim.kube.common import (
    DELETION_JOURNAL,
    WATCH_BOOKMARK_S,
    WATCH_MAX_S,
    WATCH_TICK_S,
    ApiError,
    Json,
    _encode,
    bad_request,
    not_found,
)
from luckytui.sim.kube.discovery import COLUMNS, DEFAULT_COLUMNS, _wants_table
from luckytui.sim.kube.metrics import MetricsApi
from luckytui.sim.kube.patch import _dig
from luckytui.sim.kube.selectors import parse_field_selector, parse_label_selector
from luckytui.sim.model import SimDeployment, SimNode, SimPod


class ReadsApi(MetricsApi):
    """Get, list (JSON or Table, paged, filtered) and watch, for every resource."""

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
            m["labels"] = {"app": obj.name, **obj.labels}
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
        until timeoutSeconds. Pods keep a deletion journal; other resources are watched by
        comparing what is served of them from one tick to the next."""
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
        k = self.kinds[key]
        if key != "pods":
            return await self._watch_diff(request, response, k, ns, since, timeout)
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

    def _served(self, request: web.Request, k: _Kind, ns: str | None) -> dict[str, Json]:
        ns_of = k.namespace_of or ((lambda _o: "") if not k.namespaced else
                                   (lambda _o: self.ns))
        pairs = self._filter(request, k, [((ns_of(o), self._name_of(o)), o)
                                          for o in k.items(ns)])
        out = {}
        for key, o in pairs:
            js = k.to_json(o)
            js.setdefault("kind", k.kind)
            js.setdefault("apiVersion", k.api_version)
            out["/".join(key)] = js
        return out

    async def _watch_diff(self, request: web.Request, response: web.StreamResponse, k: _Kind,
                          ns: str | None, since: int, timeout: float) -> web.StreamResponse:
        """A watch of any resource: ADDED, MODIFIED and DELETED as what is served changes
        (with a version to resume from, the objects newer than it first)."""
        def line(kind: str, obj: Json) -> bytes:
            return _encode({"type": kind, "object": obj}).encode() + b"\n"

        seen = self._served(request, k, ns)
        first = [line("ADDED", js) for js in seen.values()] if not since else [
            line("MODIFIED", js) for js in seen.values()
            if int(js["metadata"].get("resourceVersion") or 0) > since]
        if first:
            await response.write(b"".join(first))
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        try:
            while loop.time() < end:
                await asyncio.sleep(WATCH_TICK_S)
                self.model.sync()
                now = self._served(request, k, ns)
                out = [line("ADDED" if name not in seen else "MODIFIED", js)
                       for name, js in now.items() if seen.get(name) != js]
                out += [line("DELETED", js) for name, js in seen.items() if name not in now]
                seen = now
                if out:
                    await response.write(b"".join(out))
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

