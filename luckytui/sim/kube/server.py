"""The API over one model: its resource table, routes and error handling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from luckytui.sim.kube import rbac
from luckytui.sim.kube.base import _Kind
from luckytui.sim.kube.common import SERVER_VERSION, ApiError, Handler, not_found
from luckytui.sim.kube.discovery import (
    DISCOVERY,
    EVENT_FIELDS,
    POD_FIELDS,
    _group_list,
    _resource_list,
    openapi_document,
    openapi_root,
)
from luckytui.sim.kube.podops import PodOpsApi
from luckytui.sim.model import Production


class _Routes:
    """Adds each route twice: as itself, and under the read-only user's path prefix."""

    def __init__(self, router: web.UrlDispatcher) -> None:
        self.router = router

    def add_get(self, path: str, handler: Handler) -> None:
        for p in (path, rbac.READ_ONLY_PREFIX + path):
            self.router.add_get(p, handler)

    def add(self, method: str, path: str, handler: Handler) -> None:
        for p in (path, rbac.READ_ONLY_PREFIX + path):
            self.router.add_route(method, p, handler)

    def add_patch(self, path: str, handler: Handler) -> None:
        self.add("PATCH", path, handler)

    def add_post(self, path: str, handler: Handler) -> None:
        self.add("POST", path, handler)

    def add_delete(self, path: str, handler: Handler) -> None:
        self.add("DELETE", path, handler)


class KubeApi(PodOpsApi):
    """Routes and renders the API over one model."""

    def __init__(self, model: Production) -> None:
        super().__init__(model)
        deployments = self._in_ns(lambda: self.model.deployments.values())
        cronjobs = self._in_ns(lambda: self.model.cronjobs.values())
        jobs = self._in_ns(lambda: self.model.jobs.values())

        def nodes(_ns: str | None) -> list[Any]:
            return list(self.model.nodes.values())

        self.kinds = {
            "pods": _Kind("pods", "Pod", "v1", "", self._pods, self.pod_json,
                          row=self._pod_row, fields=self._pod_fields,
                          labels=lambda p: p.labels, field_names=POD_FIELDS,
                          cache_key=self._pod_key),
            "deployments": _Kind("deployments", "Deployment", "apps/v1", "apps", deployments,
                                 self.deployment_json, row=self._deployment_row,
                                 labels=self.deployment_labels),
            "nodes": _Kind("nodes", "Node", "v1", "", nodes, self.node_json, row=self._node_row,
                           fields=self._node_fields, labels=self._node_labels, namespaced=False,
                           field_names=("metadata.name", "spec.unschedulable")),
            "events": _Kind("events", "Event", "v1", "", self._events, self.event_json,
                            row=self._event_row, fields=self._event_fields,
                            namespace_of=self._event_namespace, field_names=EVENT_FIELDS),
            "cronjobs": _Kind("cronjobs", "CronJob", "batch/v1", "batch", cronjobs,
                              self.cronjob_json, row=self._cronjob_row,
                              labels=lambda c: {"app": c.name}),
            "jobs": _Kind("jobs", "Job", "batch/v1", "batch", jobs, self.job_json,
                          row=self._job_row, labels=self._job_labels),
            "replicasets": _Kind("replicasets", "ReplicaSet", "apps/v1", "apps",
                                 self._replicasets, self.rs_json, row=self._rs_row,
                                 labels=lambda rs: {"app": rs.d.name,
                                                    "pod-template-hash": rs.rev.template_hash}),
            "statefulsets": _Kind("statefulsets", "StatefulSet", "apps/v1", "apps",
                                  self._statefulsets, self.statefulset_json,
                                  row=self._statefulset_row, labels=lambda n: {"app": n}),
            "services": _Kind("services", "Service", "v1", "", self._services, self.service_json,
                              row=self._service_row, labels=lambda n: {"app": n}),
            "endpoints": _Kind("endpoints", "Endpoints", "v1", "", self._services,
                               self.endpoints_json, row=self._endpoints_row,
                               labels=lambda n: {"app": n}),
            "endpointslices": _Kind("endpointslices", "EndpointSlice", "discovery.k8s.io/v1",
                                    "discovery.k8s.io", self._services, self.endpointslice_json,
                                    labels=lambda n: {"kubernetes.io/service-name": n}),
            "ingresses": _Kind("ingresses", "Ingress", "networking.k8s.io/v1", "networking.k8s.io",
                               self._ingresses, self.ingress_json, row=self._ingress_row,
                               labels=lambda n: {"app": "luckygas"}),
            "configmaps": _Kind("configmaps", "ConfigMap", "v1", "", self._configmaps,
                                self.configmap_json, row=self._configmap_row,
                                labels=lambda c: c.labels),
            "secrets": _Kind("secrets", "Secret", "v1", "", self._secrets, self.secret_json,
                             row=self._secret_row, labels=lambda s: s.labels,
                             field_names=("metadata.name", "metadata.namespace", "type")),
            "namespaces": _Kind("namespaces", "Namespace", "v1", "",
                                lambda _ns: self._namespaces(), self.namespace_json,
                                row=self._namespace_row, namespaced=False,
                                labels=lambda n: {"kubernetes.io/metadata.name": n}),
            "podmetrics": _Kind("pods", "PodMetrics", "metrics.k8s.io/v1beta1", "metrics.k8s.io",
                                self._metric_pods, self.pod_metrics_json,
                                labels=lambda p: p.labels),
            "nodemetrics": _Kind("nodes", "NodeMetrics", "metrics.k8s.io/v1beta1",
                                 "metrics.k8s.io", nodes, self.node_metrics_json,
                                 labels=self._node_labels, namespaced=False,
                                 field_names=("metadata.name",)),
        }

    # --- routing ------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        r = _Routes(app.router)
        api = self

        def read(key: str, namespaced: bool, prefix: str) -> None:
            plural = self.kinds[key].plural
            if namespaced:
                async def list_ns(req: web.Request) -> web.StreamResponse:
                    if req.query.get("watch") in ("true", "1"):
                        return await api.watch(req, key, req.match_info["ns"])
                    return api.list_objects(req, key, req.match_info["ns"])

                async def get_ns(req: web.Request) -> web.Response:
                    return api.get_object(req, key, req.match_info["ns"], req.match_info["name"])

                async def list_all(req: web.Request) -> web.StreamResponse:
                    if req.query.get("watch") in ("true", "1"):
                        return await api.watch(req, key, None)
                    return api.list_objects(req, key, None)

                r.add_get(f"{prefix}/namespaces/{{ns}}/{plural}", list_ns)
                r.add_get(f"{prefix}/namespaces/{{ns}}/{plural}/{{name}}", get_ns)
                r.add_get(f"{prefix}/{plural}", list_all)
            else:
                async def list_cluster(req: web.Request) -> web.StreamResponse:
                    if req.query.get("watch") in ("true", "1"):
                        return await api.watch(req, key, None)
                    return api.list_objects(req, key, None)

                async def get_cluster(req: web.Request) -> web.Response:
                    return api.get_object(req, key, None, req.match_info["name"])

                r.add_get(f"{prefix}/{plural}", list_cluster)
                r.add_get(f"{prefix}/{plural}/{{name}}", get_cluster)

        async def version(_req: web.Request) -> web.Response:
            return api.respond(SERVER_VERSION)

        async def core_versions(req: web.Request) -> web.Response:
            host = req.host or "127.0.0.1"
            return api.respond({"kind": "APIVersions", "versions": ["v1"],
                                "serverAddressByClientCIDRs": [
                                    {"clientCIDR": "0.0.0.0/0", "serverAddress": host}]})

        async def groups(_req: web.Request) -> web.Response:
            return api.respond(_group_list())

        async def core_resources(_req: web.Request) -> web.Response:
            return api.respond(_resource_list("v1"))

        async def group_resources(req: web.Request) -> web.Response:
            gv = f"{req.match_info['group']}/{req.match_info['version']}"
            if gv not in DISCOVERY:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return api.respond(_resource_list(gv))

        async def openapi(_req: web.Request) -> web.Response:
            return api.respond(openapi_root())

        async def openapi_gv(req: web.Request) -> web.Response:
            path = req.match_info["path"]
            gv = path.removeprefix("apis/") if path.startswith("apis/") else path[4:]
            if gv not in DISCOVERY:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return api.respond(openapi_document(gv))

        r.add_get("/openapi/v3", openapi)
        r.add_get("/openapi/v3/{path:.+}", openapi_gv)
        r.add_get("/version", version)
        r.add_get("/api", core_versions)
        r.add_get("/apis", groups)
        r.add_get("/api/v1", core_resources)
        r.add_get("/apis/{group}/{version}", group_resources)

        async def get_namespace(req: web.Request) -> web.Response:
            name = req.match_info["name"]
            if name not in api._namespaces():
                raise not_found("namespaces", name)
            return api.get_object(req, "namespaces", None, name)

        async def list_namespaces(req: web.Request) -> web.Response:
            return api.list_objects(req, "namespaces", None)

        r.add_get("/api/v1/namespaces", list_namespaces)
        r.add_get("/api/v1/namespaces/{name}", get_namespace)
        read("pods", True, "/api/v1")
        read("events", True, "/api/v1")
        read("nodes", False, "/api/v1")
        read("deployments", True, "/apis/apps/v1")
        for key in ("replicasets", "statefulsets"):
            read(key, True, "/apis/apps/v1")
        for key in ("services", "endpoints", "configmaps", "secrets"):
            read(key, True, "/api/v1")
        read("ingresses", True, "/apis/networking.k8s.io/v1")
        read("endpointslices", True, "/apis/discovery.k8s.io/v1")
        read("cronjobs", True, "/apis/batch/v1")
        read("jobs", True, "/apis/batch/v1")
        read("podmetrics", True, "/apis/metrics.k8s.io/v1beta1")
        read("nodemetrics", False, "/apis/metrics.k8s.io/v1beta1")

        async def get_scale(req: web.Request) -> web.Response:
            d = api._deployment(req.match_info["ns"], req.match_info["name"])
            return api.respond(api.scale_json(d))

        async def patch_scale(req: web.Request) -> web.Response:
            return await api.patch_scale(req, req.match_info["ns"], req.match_info["name"])

        async def patch_deployment(req: web.Request) -> web.Response:
            return await api.patch_deployment(req, req.match_info["ns"], req.match_info["name"])

        async def patch_node(req: web.Request) -> web.Response:
            return await api.patch_node(req, req.match_info["name"])

        async def create_job(req: web.Request) -> web.Response:
            return await api.create_job(req, req.match_info["ns"])

        async def access_review(req: web.Request) -> web.Response:
            return await api.access_review(req)

        deploy = "/apis/apps/v1/namespaces/{ns}/deployments/{name}"
        r.add_patch(deploy, patch_deployment)
        r.add_get(f"{deploy}/scale", get_scale)
        r.add_patch(f"{deploy}/scale", patch_scale)
        r.add_patch("/api/v1/nodes/{name}", patch_node)
        r.add_post("/apis/batch/v1/namespaces/{ns}/jobs", create_job)
        r.add_post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", access_review)
        self._pod_routes(r)

    def _pod_routes(self, r: _Routes) -> None:
        api, pod = self, "/api/v1/namespaces/{ns}/pods/{name}"

        def on(method: str, path: str, op: Callable[[web.Request, str, str],
                                                     Awaitable[web.StreamResponse]]) -> None:
            async def handler(req: web.Request) -> web.StreamResponse:
                return await op(req, req.match_info["ns"], req.match_info["name"])
            r.add(method, path, handler)

        on("GET", f"{pod}/log", api.pod_log)
        on("GET", f"{pod}/exec", api.pod_exec)
        on("POST", f"{pod}/exec", api.pod_exec)
        on("POST", f"{pod}/eviction", api.evict_pod)
        on("DELETE", pod, api.delete_pod)
        on("PATCH", pod, api.patch_pod)
        on("DELETE", "/api/v1/namespaces/{ns}/secrets/{name}", api.delete_secret)
        on("PATCH", "/api/v1/namespaces/{ns}/configmaps/{name}", api.patch_configmap)

        async def create_secret(req: web.Request) -> web.Response:
            return await api.create_secret(req, req.match_info["ns"])

        r.add_post("/api/v1/namespaces/{ns}/secrets", create_secret)

    def authorize(self, request: web.Request) -> None:
        """Refuse, as the API server's RBAC would, what the sender's role does not allow."""
        path = request.path
        if path.startswith(rbac.READ_ONLY_PREFIX + "/"):
            path = path[len(rbac.READ_ONLY_PREFIX):]
        attrs = rbac.attributes(request.method, path, dict(request.query))
        user = self.user_of(request)
        if attrs is not None and not rbac.allowed(user, attrs, self.ns):
            raise ApiError(403, "Forbidden", rbac.forbidden_message(user, attrs),
                           {"name": attrs.name, "group": attrs.group, "kind": attrs.resource})

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD") and "selfsubjectaccessreviews" not in request.path:
            self.writes.append(f"{request.method} {request.path_qs}")  # the audit trail
        try:
            self.authorize(request)
            self.model.sync()
            self.touch_pods()
            return await handler(request)
        except ApiError as e:
            return self.respond(e.status(), e.code)
        except web.HTTPMethodNotAllowed:
            e2 = ApiError(405, "MethodNotAllowed",
                          f"the server does not allow this method on the requested resource "
                          f"({request.method} {request.path})")
            return self.respond(e2.status(), 405)
        except web.HTTPNotFound:
            e3 = ApiError(404, "NotFound", "the server could not find the requested resource")
            return self.respond(e3.status(), 404)




KUBE_API = web.AppKey("kube_api", KubeApi)


def make_kube_app(model: Production) -> web.Application:
    """An aiohttp application serving the Kubernetes API subset over `model`."""
    api = KubeApi(model)
    app = web.Application(middlewares=[api.middleware], client_max_size=4 * 1024 * 1024)
    api.routes(app)
    app[KUBE_API] = api
    return app
