"""ReplicaSets (one per deployment revision), the StatefulSet behind the Redis pod,
services with their endpoints, the ingress, config maps and secrets.

Secret values are served base64-encoded in `data`, as the API does, and appear in
nothing else: not in Table rows, not in errors, not in the audit trail of writes.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from luckytui.sim import objects
from luckytui.sim.kube.common import ApiError, Json, _ip, _uid, human_duration, not_found
from luckytui.sim.kube.patch import _dig, _dry_run, apply_patch
from luckytui.sim.kube.reads import ReadsApi
from luckytui.sim.resources import SimConfigMap, SimDeployment, SimRevision, SimSecret

SERVICES: tuple[tuple[str, int, int], ...] = (
    # name (also the pods' app label), port, target port
    ("luckygas-backend", 80, 8000),
    ("luckygas-frontend", 80, 8080),
    ("redis", 6379, 6379),
)
INGRESS = "luckygas-ingress"
INGRESS_RULES = (("api.luckygas.com.tw", "/", "luckygas-backend"),
                 ("www.luckygas.com.tw", "/", "luckygas-frontend"))
INGRESS_IP = "34.80.112.47"


class _Rs:
    """A ReplicaSet: one revision of one deployment."""

    __slots__ = ("d", "name", "rev")

    def __init__(self, d: SimDeployment, rev: SimRevision) -> None:
        self.d, self.rev, self.name = d, rev, f"{d.name}-{rev.template_hash}"


class ObjectsApi(ReadsApi):
    """ReplicaSets, the StatefulSet, services, endpoints, ingress, config maps, secrets."""

    # --- replicasets ----------------------------------------------------------------

    def _replicasets(self, ns: str | None) -> list[_Rs]:
        if ns not in (None, self.ns):
            return []
        return [_Rs(d, r) for d in self.model.deployments.values() for r in d.history.values()]

    def _rs_counts(self, rs: _Rs) -> tuple[int, int, int]:
        """(desired, current, ready) pods of one ReplicaSet."""
        now, h = self.model.now, rs.rev.template_hash
        pods = [p for p in self.model.pods.values()
                if p.deployment == rs.d.name and p.template_hash == h and p.terminating_at is None]
        current = rs.d.template_hash == h
        return (rs.d.replicas if current else len(pods), len(pods),
                sum(1 for p in pods if p.ready(now)))

    def rs_json(self, rs: _Rs) -> Json:
        d, rev = rs.d, rs.rev
        desired, current, ready = self._rs_counts(rs)
        labels = {"app": d.name, "pod-template-hash": rev.template_hash}
        meta = self.meta(rs.name, self._rs_uid(d.name, rev.template_hash), d.resource_version,
                         rev.created, self.ns)
        meta.update(labels=labels, generation=rev.number, annotations={
            "deployment.kubernetes.io/desired-replicas": str(d.replicas),
            "deployment.kubernetes.io/max-replicas": str(d.replicas + max(1, d.replicas // 4)),
            "deployment.kubernetes.io/revision": str(rev.number)},
            ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": d.name,
                              "uid": d.uid, "controller": True, "blockOwnerDeletion": True}])
        template_meta: Json = {"labels": labels}
        if rev.annotations:
            template_meta["annotations"] = dict(rev.annotations)
        spec = {"replicas": desired, "selector": {"matchLabels": labels},
                "template": {"metadata": template_meta, "spec": {
                    "containers": self._containers(d.name, d.cpu_request_m, d.cpu_limit_m,
                                                   d.memory_limit_mi, rev.env),
                    "restartPolicy": "Always"}}}
        return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta, "spec": spec,
                "status": {"replicas": current, "readyReplicas": ready,
                           "availableReplicas": ready, "fullyLabeledReplicas": current,
                           "observedGeneration": rev.number}}

    def _rs_row(self, rs: _Rs) -> list[Any]:
        desired, current, ready = self._rs_counts(rs)
        return [rs.name, desired, current, ready,
                human_duration(self.model.now - rs.rev.created), rs.d.name,
                self._image(rs.d.name), f"app={rs.d.name},pod-template-hash={rs.rev.template_hash}"]

    # --- the Redis StatefulSet -------------------------------------------------------

    def _statefulsets(self, ns: str | None) -> list[str]:
        return ["redis"] if ns in (None, self.ns) else []

    def statefulset_json(self, name: str) -> Json:
        pod = self.model.extra_pods[objects.REDIS_POD]
        ready = 1 if pod.ready(self.model.now) else 0
        labels = {"app": "redis"}
        return {"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {**self.meta(name, _uid("sts", name), pod.resource_version,
                                         pod.created, self.ns), "labels": labels},
                "spec": {"replicas": 1, "serviceName": "redis",
                         "selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": labels}, "spec": {
                             "containers": [{"name": "redis", "image": "redis:7.2-alpine"}]}}},
                "status": {"replicas": 1, "readyReplicas": ready, "currentReplicas": 1,
                           "updatedReplicas": 1, "availableReplicas": ready}}

    def _statefulset_row(self, name: str) -> list[Any]:
        pod = self.model.extra_pods[objects.REDIS_POD]
        return [name, f"{1 if pod.ready(self.model.now) else 0}/1",
                human_duration(self.model.now - pod.created), "redis", "redis:7.2-alpine"]

    # --- services, endpoints, ingress -------------------------------------------------

    def _services(self, ns: str | None) -> list[str]:
        return [s[0] for s in SERVICES] if ns in (None, self.ns) else []

    def service_json(self, name: str) -> Json:
        _, port, target = next(s for s in SERVICES if s[0] == name)
        uid = _uid("svc", name)
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": {**self.meta(name, uid, 100, self.model.started - 86400 * 12,
                                         self.ns), "labels": {"app": name}},
                "spec": {"type": "ClusterIP", "clusterIP": _ip(uid, 96),
                         "clusterIPs": [_ip(uid, 96)], "selector": {"app": name},
                         "ports": [{"name": "http" if port == 80 else "redis", "port": port,
                                    "targetPort": target, "protocol": "TCP"}],
                         "sessionAffinity": "None"},
                "status": {"loadBalancer": {}}}

    def _service_row(self, name: str) -> list[Any]:
        js = self.service_json(name)
        port = js["spec"]["ports"][0]["port"]
        return [name, "ClusterIP", js["spec"]["clusterIP"], "<none>", f"{port}/TCP",
                human_duration(self.model.now - self.model.started + 86400 * 12), f"app={name}"]

    def endpoints_json(self, name: str) -> Json:
        _, _, target = next(s for s in SERVICES if s[0] == name)
        now = self.model.now
        pods = [p for p in [*self.model.pods.values(), *self.model.extra_pods.values()]
                if p.labels.get("app") == name]
        ready = [{"ip": _ip(p.uid, 4), "nodeName": p.node, "targetRef": {
            "kind": "Pod", "name": p.name, "namespace": self.ns, "uid": p.uid}}
            for p in sorted(pods, key=lambda p: p.name) if p.ready(now)]
        not_ready = [{"ip": _ip(p.uid, 4), "targetRef": {"kind": "Pod", "name": p.name}}
                     for p in sorted(pods, key=lambda p: p.name)
                     if not p.ready(now) and now >= p.ready_at]
        port_name = self.service_json(name)["spec"]["ports"][0]["name"]
        subset: Json = {"ports": [{"name": port_name, "port": target, "protocol": "TCP"}]}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        return {"apiVersion": "v1", "kind": "Endpoints",
                "metadata": self.meta(name, _uid("ep", name), self.model.resource_version,
                                      self.model.started - 86400 * 12, self.ns),
                "subsets": [subset] if ready or not_ready else []}

    def endpointslice_json(self, name: str) -> Json:
        """The service's EndpointSlice (what `describe ingress` reads), from its Endpoints."""
        ep = self.endpoints_json(name)
        subsets = ep["subsets"] or [{"ports": [{"name": "", "port": 0, "protocol": "TCP"}]}]
        endpoints = [{"addresses": [a["ip"]], "conditions": {"ready": ready},
                      "targetRef": a["targetRef"], **({"nodeName": a["nodeName"]}
                                                       if "nodeName" in a else {})}
                     for s in ep["subsets"]
                     for ready, key in ((True, "addresses"), (False, "notReadyAddresses"))
                     for a in s.get(key, [])]
        meta = {**ep["metadata"], "labels": {"kubernetes.io/service-name": name}}
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta,
                "addressType": "IPv4", "endpoints": endpoints,
                "ports": [{"name": p["name"], "port": p["port"], "protocol": "TCP"}
                          for p in subsets[0]["ports"]]}

    def _endpoints_row(self, name: str) -> list[Any]:
        addrs = [f"{a['ip']}:{s['ports'][0]['port']}" for s in self.endpoints_json(name)["subsets"]
                 for a in s.get("addresses", [])]
        return [name, ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..."
                                            if len(addrs) > 3 else "") or "<none>",
                human_duration(self.model.now - self.model.started + 86400 * 12)]

    def _ingresses(self, ns: str | None) -> list[str]:
        return [INGRESS] if ns in (None, self.ns) else []

    def ingress_json(self, name: str) -> Json:
        rules = [{"host": host, "http": {"paths": [{"path": path, "pathType": "Prefix",
                                                     "backend": {"service": {
                                                         "name": svc, "port": {"number": 80}}}}]}}
                 for host, path, svc in INGRESS_RULES]
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {**self.meta(name, _uid("ing", name), 100,
                                         self.model.started - 86400 * 12, self.ns),
                             "labels": {"app": "luckygas"}},
                "spec": {"ingressClassName": "gce", "rules": rules},
                "status": {"loadBalancer": {"ingress": [{"ip": INGRESS_IP}]}}}

    def _ingress_row(self, name: str) -> list[Any]:
        return [name, "gce", ",".join(h for h, _, _ in INGRESS_RULES), INGRESS_IP, "80",
                human_duration(self.model.now - self.model.started + 86400 * 12)]

    # --- config maps and secrets -------------------------------------------------------

    def _configmaps(self, ns: str | None) -> list[SimConfigMap]:
        return list(self.model.configmaps.values()) if ns in (None, self.ns) else []

    def configmap_json(self, c: SimConfigMap) -> Json:
        meta = self.meta(c.name, c.uid, c.resource_version, c.created, self.ns)
        if c.labels:
            meta["labels"] = dict(c.labels)
        if c.annotations:
            meta["annotations"] = dict(c.annotations)
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": dict(c.data)}

    def _configmap_row(self, c: SimConfigMap) -> list[Any]:
        return [c.name, len(c.data), human_duration(self.model.now - c.created)]

    def _secrets(self, ns: str | None) -> list[SimSecret]:
        return list(self.model.secrets.values()) if ns in (None, self.ns) else []

    def secret_json(self, s: SimSecret) -> Json:
        meta = self.meta(s.name, s.uid, s.resource_version, s.created, self.ns)
        if s.labels:
            meta["labels"] = dict(s.labels)
        return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": s.type,
                "data": {k: base64.b64encode(v).decode() for k, v in s.data.items()}}

    def _secret_row(self, s: SimSecret) -> list[Any]:
        return [s.name, s.type, len(s.data), human_duration(self.model.now - s.created)]

    # --- writes ----------------------------------------------------------------------

    async def create_secret(self, request: web.Request, ns: str) -> web.Response:
        self.check_namespace(ns)
        body = await self._json_body(request)
        name = _dig(body, "metadata", "name")
        if not isinstance(name, str) or not name:
            raise ApiError(422, "Invalid", 'Secret "" is invalid: metadata.name: Required value')
        if ns != self.ns:
            raise ApiError(403, "Forbidden", f'secrets "{name}" is forbidden: only namespace '
                           f'"{self.ns}" holds secrets in this cluster')
        data: dict[str, bytes] = {}
        for key, value in (body.get("data") or {}).items():
            try:
                data[str(key)] = base64.b64decode(str(value), validate=True)
            except (ValueError, binascii.Error):
                raise ApiError(400, "BadRequest", f"data[{key}]: illegal base64 data") from None
        for key, value in (body.get("stringData") or {}).items():
            data[str(key)] = str(value).encode()
        if name in self.model.secrets:
            raise ApiError(409, "AlreadyExists", f'secrets "{name}" already exists',
                           {"name": name, "kind": "secrets"})
        labels = _dig(body, "metadata", "labels") or {}
        secret = SimSecret(name, _uid("dry-run", name), self.model.now, data,
                           str(body.get("type") or "Opaque"), self.model.resource_version)
        if not _dry_run(request):
            secret = objects.create_secret(self.model, name, data, secret.type,
                                           {str(k): str(v) for k, v in labels.items()})
            self.model.event("Normal", "Created", "Secret", name, "secret created")
        return self.respond(self.secret_json(secret), 201)

    async def delete_secret(self, request: web.Request, ns: str, name: str) -> web.Response:
        s = self.model.secrets.get(name) if ns == self.ns else None
        if s is None:
            raise not_found("secrets", name)
        if not _dry_run(request):
            objects.delete_secret(self.model, name)
            self.model.event("Normal", "Deleted", "Secret", name, "secret deleted")
        return self.respond(self.secret_json(s))

    async def patch_configmap(self, request: web.Request, ns: str, name: str) -> web.Response:
        c = self.model.configmaps.get(name) if ns == self.ns else None
        if c is None:
            raise not_found("configmaps", name)
        new = await apply_patch(request, self.configmap_json(c))
        data = new.get("data") or {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ApiError(422, "Invalid", f'ConfigMap "{name}" is invalid: data: values must '
                           "be strings")
        labels = _dig(new, "metadata", "labels") or {}
        annotations = _dig(new, "metadata", "annotations") or {}
        if _dry_run(request):
            return self.respond(new)
        if data != c.data or labels != c.labels or annotations != c.annotations:
            c.data, c.labels, c.annotations = dict(data), dict(labels), dict(annotations)
            c.resource_version = self.model.next_rv()
            self.model.event("Normal", "Updated", "ConfigMap", name,
                             f"keys now: {', '.join(sorted(data)) or '<none>'}")
        return self.respond(self.configmap_json(c))
