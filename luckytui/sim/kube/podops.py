"""What kubectl does to one pod: its log (tail, follow), exec over the WebSocket
channel protocol, eviction (drain), delete, and label/annotate patches.

`kubectl exec` (v1.32) first asks for a WebSocket with the `v5.channel.k8s.io`
subprotocol: every binary message starts with its channel (1 stdout, 2 stderr,
3 the error channel, whose Status object carries the exit code). Only the model's
diagnostic commands run (:func:`luckytui.sim.objects.run`).
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import WSMsgType, web

from luckytui.sim import objects, rollouts
from luckytui.sim.kube.common import WATCH_TICK_S, ApiError, _encode, bad_request, not_found
from luckytui.sim.kube.objects import ObjectsApi
from luckytui.sim.kube.patch import _dig, _dry_run, apply_patch
from luckytui.sim.resources import SimPod, iso

EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDOUT, STDERR, ERROR = 1, 2, 3
FOLLOW_MAX_S = 300.0


class PodOpsApi(ObjectsApi):
    """Logs, exec, eviction, delete and metadata patches of pods."""

    def _pod(self, ns: str, name: str) -> SimPod:
        p = None
        if ns == self.ns:
            p = self.model.pods.get(name) or self.model.extra_pods.get(name)
        if p is None:
            raise not_found("pods", name)
        return p

    # --- logs -----------------------------------------------------------------------

    async def pod_log(self, request: web.Request, ns: str, name: str) -> web.StreamResponse:
        p = self._pod(ns, name)
        container = request.query.get("container")
        if container and container != p.deployment:
            raise bad_request(f"container {container} is not valid for pod {name}")
        tail_q = request.query.get("tailLines", "")
        tail = int(tail_q) if tail_q.lstrip("-").isdigit() else None
        if self.model.now < p.ready_at:
            raise bad_request(f'container "{p.deployment}" in pod "{name}" is waiting to start: '
                              "ContainerCreating")
        if request.query.get("previous") in ("true", "1") and not p.crashed(self.model.now):
            raise bad_request(f'previous terminated container "{p.deployment}" in pod '
                              f'"{name}" not found')
        lines = rollouts.pod_log(self.model, p, tail)
        if request.query.get("follow") not in ("true", "1"):
            return web.Response(text="".join(f"{ln}\n" for ln in lines),
                                content_type="text/plain")
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        # lines go by their time stamp: those of the last second sent are remembered
        last = lines[-1][:20] if lines else iso(self.model.now)
        sent = {ln for ln in rollouts.pod_log(self.model, p, 200) if ln[:20] == last}
        await response.write("".join(f"{ln}\n" for ln in lines).encode())
        loop = asyncio.get_running_loop()
        end = loop.time() + FOLLOW_MAX_S
        try:
            while loop.time() < end and (p.name in self.model.pods
                                         or p.name in self.model.extra_pods):
                await asyncio.sleep(WATCH_TICK_S)
                self.model.sync()
                fresh = [ln for ln in rollouts.pod_log(self.model, p, 200)
                         if ln[:20] > last or (ln[:20] == last and ln not in sent)]
                if fresh:
                    if fresh[-1][:20] != last:
                        last, sent = fresh[-1][:20], set()
                    sent.update(ln for ln in fresh if ln[:20] == last)
                    await response.write("".join(f"{ln}\n" for ln in fresh).encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    # --- exec -----------------------------------------------------------------------

    async def pod_exec(self, request: web.Request, ns: str, name: str) -> web.StreamResponse:
        p = self._pod(ns, name)
        argv = request.query.getall("command", [])
        if not argv:
            raise bad_request("you must specify at least 1 command")
        if not p.ready(self.model.now):
            raise bad_request(f"unable to upgrade connection: container not found "
                              f'("{p.deployment}")')
        ws = web.WebSocketResponse(protocols=EXEC_PROTOCOLS)
        if not ws.can_prepare(request).ok:
            raise ApiError(400, "BadRequest", "exec is served over WebSocket "
                           f"({', '.join(EXEC_PROTOCOLS)}) only")
        await ws.prepare(request)
        code, out, err = objects.run(self.model, p, argv)
        self.writes.append(f"EXEC {p.name} {argv[0]} -> {code}")
        if out and request.query.get("stdout") in ("true", "1"):
            await ws.send_bytes(bytes([STDOUT]) + out.encode())
        if err and request.query.get("stderr") in ("true", "1"):
            await ws.send_bytes(bytes([STDERR]) + err.encode())
        status: dict[str, object] = {"metadata": {}, "status": "Success"}
        if code:
            status = {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                      "message": f"command terminated with non-zero exit code: error executing "
                                 f"command {json.dumps(list(argv))}, exit code {code}",
                      "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
        await ws.send_bytes(bytes([ERROR]) + _encode(status).encode())
        await ws.close()
        async for msg in ws:  # drain what the client still sends (close of stdin)
            if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
        return ws

    # --- writes -----------------------------------------------------------------------

    def _evictable(self, p: SimPod) -> None:
        if p.name in self.model.extra_pods:
            raise ApiError(403, "Forbidden", f'pods "{p.name}" is forbidden: the simulation '
                           "keeps this pod (its controller is not simulated)")

    async def evict_pod(self, request: web.Request, ns: str, name: str) -> web.Response:
        p = self._pod(ns, name)
        self._evictable(p)
        if not _dry_run(request):
            self.model.delete_pod(name)
        return self.respond({"kind": "Status", "apiVersion": "v1", "metadata": {},
                             "status": "Success", "code": 201}, 201)

    async def delete_pod(self, request: web.Request, ns: str, name: str) -> web.Response:
        p = self._pod(ns, name)
        self._evictable(p)
        if not _dry_run(request):
            self.model.delete_pod(name)
        return self.respond({"kind": "Pod", "apiVersion": "v1", **self.pod_json(p)})

    async def patch_pod(self, request: web.Request, ns: str, name: str) -> web.Response:
        """Labels and annotations (`kubectl label` / `annotate`); nothing else changes."""
        p = self._pod(ns, name)
        current = {"kind": "Pod", "apiVersion": "v1", **self.pod_json(p)}
        new = await apply_patch(request, current)
        labels = _dig(new, "metadata", "labels") or {}
        annotations = _dig(new, "metadata", "annotations") or {}
        for what, value in (("labels", labels), ("annotations", annotations)):
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ApiError(422, "Invalid", f'Pod "{name}" is invalid: metadata.{what}: '
                               "values must be strings")
        if new.get("spec") != current.get("spec"):
            raise ApiError(422, "Invalid", f'Pod "{name}" is invalid: spec: Forbidden: pod '
                           "updates may not change fields other than `spec.containers[*].image`")
        if _dry_run(request):
            return self.respond(new)
        if labels != p.labels or annotations != p.annotations:
            p.labels, p.annotations = dict(labels), dict(annotations)
            p.resource_version = self.model.next_rv()
        return self.respond({"kind": "Pod", "apiVersion": "v1", **self.pod_json(p)})
