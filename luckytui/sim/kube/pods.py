"""Pods as the API serves them."""

from __future__ import annotations

from typing import Any

from luckytui.sim.kube.base import ApiBase
from luckytui.sim.kube.common import Json, _ip, _iso, _uid, cpu_quantity, human_duration
from luckytui.sim.model import SimPod


class PodsApi(ApiBase):
    """Pods: their JSON (cached on what is served of them) and `kubectl get` rows."""

    def _pods(self, ns: str | None) -> list[SimPod]:
        if ns not in (None, self.ns):
            return []
        return list(self.model.every_pod().values())

    def _pod_status_text(self, p: SimPod) -> str:
        if p.terminating_at is not None:
            return "Terminating"
        if self.model.now < p.ready_at:
            return "ContainerCreating" if p.node else "Pending"
        if p.finished(self.model.now):
            return "Error" if p.crash_message else "Completed"
        if p.crashed(self.model.now):
            return "CrashLoopBackOff"
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
                p.node, p.crashed(self.model.now), p.finished(self.model.now))

    def _rs_uid(self, deployment: str, template_hash: str) -> str:
        key = f"{deployment}-{template_hash}"
        uid = self._rs_uids.get(key)
        if uid is None:
            uid = self._rs_uids[key] = _uid("rs", key)
        return uid

    def _owner(self, p: SimPod) -> Json:
        if p.deployment in self.model.deployments:
            return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": f"{p.deployment}-{p.template_hash}",
                    "uid": self._rs_uid(p.deployment, p.template_hash),
                    "controller": True, "blockOwnerDeletion": True}
        job = p.labels.get("batch.kubernetes.io/job-name")
        if job is not None:
            return {"apiVersion": "batch/v1", "kind": "Job", "name": job,
                    "uid": p.labels.get("controller-uid", ""), "controller": True,
                    "blockOwnerDeletion": True}
        return {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": p.deployment,
                "uid": _uid("sts", p.deployment), "controller": True, "blockOwnerDeletion": True}

    def pod_json(self, p: SimPod) -> Json:
        now = self.model.now
        running = now >= p.ready_at
        ready = p.ready(now)
        meta = self.meta(p.name, p.uid, p.resource_version, p.created, self.ns)
        if p.terminating_at is not None:
            meta["deletionTimestamp"] = _iso(p.terminating_at)
            meta["deletionGracePeriodSeconds"] = 30
        meta["labels"] = p.labels
        if p.annotations:
            meta["annotations"] = p.annotations
        meta["ownerReferences"] = [self._owner(p)]
        d = self.model.deployments.get(p.deployment)
        rev = d.history.get(p.template_hash) if d is not None else None
        env = rev.env if rev is not None else d.env if d is not None and \
            p.template_hash == d.template_hash else None  # its template's, as created
        containers = self._containers(p.deployment, p.cpu_request_m, p.cpu_limit_m,
                                      p.memory_limit_mi, env)
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
        if p.finished(now):
            failed = p.crash_message is not None
            status["phase"] = "Failed" if failed else "Succeeded"
            cs["state"] = {"terminated": {"exitCode": 1 if failed else 0,
                                          "reason": "Error" if failed else "Completed",
                                          "startedAt": _iso(p.ready_at - 1),
                                          "finishedAt": _iso(p.finished_at or now)}}
        elif p.crashed(now):
            cs["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": (
                f"back-off {int(p.backoff_s / 2)}s restarting failed container={p.deployment} "
                f"pod={p.name}_{self.ns}({p.uid})")}}
            # the last run: a restart exits again at once, so it started as it finished
            exited = p.exited_at or p.crash_at or now
            cs["lastState"] = {"terminated": {
                "exitCode": 1, "reason": "Error",
                "startedAt": _iso(exited if p.exited_at else p.ready_at - 1),
                "finishedAt": _iso(exited), "containerID": f"containerd://{p.uid}"}}
        elif running:
            cs["state"] = {"running": {"startedAt": _iso(p.ready_at - 1)}}
        else:
            cs["state"] = {"waiting": {"reason": "ContainerCreating"}}
        status["containerStatuses"] = [cs]
        return {"metadata": meta, "spec": spec, "status": status}

