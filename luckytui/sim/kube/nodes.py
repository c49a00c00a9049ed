"""Nodes (and cordoning them), events and namespaces."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from luckytui.sim.kube.common import (
    KUBELET_VERSION,
    Json,
    _ip,
    _iso,
    _uid,
    cpu_quantity,
    human_duration,
    invalid,
    not_found,
)
from luckytui.sim.kube.deployments import DeploymentsApi
from luckytui.sim.kube.patch import _dig, _dry_run, apply_patch
from luckytui.sim.model import SimEvent, SimNode


class NodesApi(DeploymentsApi):
    """Nodes (read and cordoned), events and namespaces."""

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

    # --- namespaces -------------------------------------------------------------

    def namespace_json(self, name: str) -> Json:
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {**self.meta(name, _uid("ns", name), 100,
                                         self.model.started - 86400 * 30),
                             "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

    def _namespace_row(self, name: str) -> list[Any]:
        return [name, "Active", human_duration(self.model.now - self.model.started + 86400 * 30)]


    # --- writes ---

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

