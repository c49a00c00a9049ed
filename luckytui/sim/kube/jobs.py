"""CronJobs, Jobs (created by `kubectl create job --from=cronjob/...`) and
SelfSubjectAccessReview."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from luckytui.sim.kube import rbac
from luckytui.sim.kube.common import (
    ApiError,
    Json,
    _iso,
    _uid,
    bad_request,
    human_duration,
    invalid,
)
from luckytui.sim.kube.nodes import NodesApi
from luckytui.sim.kube.patch import _dig, _dry_run
from luckytui.sim.model import SimCronJob, SimJob


class JobsApi(NodesApi):
    """CronJobs and Jobs (read and created), and SelfSubjectAccessReview."""

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
                  if j.from_cronjob == c.name and not j.succeeded(now) and j.failed is None]
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
        elif j.failed is not None:
            status.update(failed=1, ready=0, conditions=[
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                 "message": j.failed, "lastProbeTime": _iso(j.created + 305),
                 "lastTransitionTime": _iso(j.created + 305)}])
        else:
            status.update(active=1, ready=1 if now >= j.created + 2 else 0)
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec,
                "status": status}

    def _job_row(self, j: SimJob) -> list[Any]:
        now = self.model.now
        done = j.succeeded(now)
        end = j.completes_at if done else now
        state = "Failed" if j.failed is not None else "Complete" if done else "Running"
        return [j.name, state, f"{1 if done else 0}/1",
                human_duration(end - j.created), human_duration(now - j.created)]

    # --- writes ---

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
        attrs = spec.get("resourceAttributes") or {}
        if not isinstance(attrs, dict):
            raise bad_request("spec.resourceAttributes must be an object")
        user = self.user_of(request)
        ok = rbac.allowed(user, rbac.Attributes(
            str(attrs.get("verb") or ""), str(attrs.get("group") or ""),
            str(attrs.get("resource") or ""), str(attrs.get("subresource") or ""),
            str(attrs.get("namespace") or ""), str(attrs.get("name") or "")), self.ns)
        status: Json = {"allowed": ok}
        if ok:
            status["reason"] = f'RBAC: allowed by the role of user "{user}"'
        return self.respond({"kind": "SelfSubjectAccessReview",
                             "apiVersion": "authorization.k8s.io/v1",
                             "metadata": {"creationTimestamp": None}, "spec": spec,
                             "status": status}, 201)

