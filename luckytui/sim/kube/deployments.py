"""Deployments, their `scale` subresource, and the patches that scale them or
roll them out (a changed pod template)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from luckytui.sim.kube.base import _DeployStats
from luckytui.sim.kube.common import ApiError, Json, _iso, human_duration, invalid, not_found
from luckytui.sim.kube.patch import _dig, _dry_run, apply_patch
from luckytui.sim.kube.pods import PodsApi
from luckytui.sim.model import SimDeployment
from luckytui.sim.rollouts import changes


class DeploymentsApi(PodsApi):
    """Deployments and their scale subresource, read and patched."""

    def deployment_json(self, d: SimDeployment) -> Json:
        s = self.stats().get(d.name, _DeployStats())
        meta = self.meta(d.name, d.uid, d.resource_version, d.created, self.ns)
        meta["generation"] = d.generation
        meta["labels"] = self.deployment_labels(d)
        meta["annotations"] = {**d.meta_annotations,
                               "deployment.kubernetes.io/revision": str(d.revision)}
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

    @staticmethod
    def deployment_labels(d: SimDeployment) -> dict[str, str]:
        return {"app": d.name, **d.labels}

    def _metadata_changes(self, d: SimDeployment, obj: Json) -> tuple[
            dict[str, str], dict[str, str]] | None:
        """The Deployment's own labels and annotations after a patch (None: unchanged)."""
        labels = _dig(obj, "metadata", "labels") or {}
        ann = dict(_dig(obj, "metadata", "annotations") or {})
        ann.pop("deployment.kubernetes.io/revision", None)
        for what, value in (("labels", labels), ("annotations", ann)):
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise invalid("Deployment.apps", d.name, f"metadata.{what}", value,
                              "values must be strings")
        labels = {k: v for k, v in labels.items() if k != "app" or v != d.name}
        if labels == d.labels and ann == d.meta_annotations:
            return None
        return labels, ann

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


    # --- writes ---

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
        return changes(d.annotations, ann), changes(d.env, env)

    async def patch_deployment(self, request: web.Request, ns: str, name: str) -> web.Response:
        d = self._deployment(ns, name)
        current = self.deployment_json(d)
        new = await apply_patch(request, current)
        replicas = self._replicas(new, "Deployment.apps", name)
        ann, env = self._template_changes(d, new)
        meta = self._metadata_changes(d, new)
        if _dry_run(request):
            return self.respond(new)
        if meta is not None:
            d.labels, d.meta_annotations = meta
            d.resource_version = self.model.next_rv()
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

