"""Kubernetes: what luckytui needs of the API server, and the real adapter.

One way to make an API client (`new_client`), for the pods source and for the
remedies. Only the official client's ApiClient layer is used: its generated API
classes and their models cost over a second of CPU and ~27 MB to import, for
requests whose JSON luckytui decodes itself. Call from a worker thread: loading
a kubeconfig may run an exec credential plugin.

`Kubernetes` is what the remedies read and change; `KubeOps` is the real
adapter, one synchronous method each: callers run every method in a thread
(`asyncio.to_thread`); the client is imported on the first call in the calling
thread.

Each write can be a server-side dry run (`?dryRun=All`: the API server
validates the change and answers the would-be object, changing nothing), is
sent with `fieldManager=luckytui`, and is bounded by `timeout` seconds to
connect and as many to answer; each answer is read within `limit` (its size,
decoded, and its whole time: `http.AnswerLimit`). Every failure becomes a `KubeOpsError` whose
message is one line for the operator (never a credential) and whose `status`
is the HTTP status, when the server answered one.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from luckytui.systems.http import AnswerLimit, AnswerTooLarge, AnswerTooSlow, read_sync, size_text
from luckytui.systems.podlog import LOG_MAX_BYTES, LogFollow, LogLines, clean_line, read_capped

FIELD_MANAGER = "luckytui"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
INSTANTIATE = "cronjob.kubernetes.io/instantiate"
DEPLOYMENT = "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
POD = "/api/v1/namespaces/{namespace}/pods/{name}"
LOG_MAX_TAIL = 10_000  # lines one read may ask for
MAX_MESSAGE = 300

# resources without a namespace, for access reviews
CLUSTER_SCOPED = frozenset({
    "nodes", "namespaces", "persistentvolumes", "storageclasses", "clusterroles",
    "clusterrolebindings", "customresourcedefinitions", "priorityclasses",
})

_SECRET = re.compile(r"(?i)\b(bearer|basic|token)([\s=:]+)\S+")

Json = dict[str, Any]


@dataclass(frozen=True)
class Client:
    api: Any  # kubernetes.client.api_client.ApiClient
    address: str  # host:port, for messages
    token: str  # the bearer token in use, so messages can scrub it ("" when none)


def new_client(kubeconfig: str | None, context: str | None) -> Client:
    """From the kubeconfig (None: $KUBECONFIG or ~/.kube/config) and context; inside a
    pod with no kubeconfig, from its service account. Requests are never retried."""
    import urllib3
    from kubernetes import config
    from kubernetes.client.api_client import ApiClient
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.config_exception import ConfigException

    cfg = Configuration()
    cfg.retries = urllib3.Retry(total=0, redirect=0)
    try:
        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context, persist_config=False,
            client_configuration=cfg)
    except ConfigException:
        if kubeconfig is not None or not os.environ.get("KUBERNETES_SERVICE_HOST"):
            raise
        cfg = Configuration()
        cfg.retries = urllib3.Retry(total=0, redirect=0)
        config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        api = ApiClient(cfg)
    api.user_agent = "luckytui/0.1"
    auth = str((cfg.api_key or {}).get("authorization") or "")
    return Client(api, str(cfg.host).split("://", 1)[-1].rstrip("/"),
                  auth.split(" ", 1)[-1].strip())


class KubeOpsError(Exception):
    """A Kubernetes call failed; the message is one line, `status` the HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        text = " ".join(str(message).split())
        if len(text) > MAX_MESSAGE:
            text = text[: MAX_MESSAGE - 1] + "…"
        super().__init__(text)
        self.status = status


def _dict(value: object) -> Json:
    return value if isinstance(value, dict) else {}


class Kubernetes(Protocol):
    """What the remedies need of the API server, for one namespace: each call is
    synchronous (run it in a thread), answers the object's JSON, and raises
    `KubeOpsError` with one line. Writes can be server-side dry runs."""

    namespace: str

    def deployment(self, name: str) -> Json: ...

    def node(self, name: str) -> Json: ...

    def cronjob(self, name: str) -> Json: ...

    def can_i(self, verb: str, resource: str, *, group: str = "", subresource: str = "",
              name: str = "") -> bool: ...

    def scale(self, name: str, replicas: int, *, dry_run: bool) -> Json: ...

    def restart(self, name: str, at: str, *, dry_run: bool) -> Json: ...

    def set_env(self, name: str, container: str, key: str, value: str | None, *,
                dry_run: bool) -> Json: ...

    def cordon(self, name: str, unschedulable: bool, *, dry_run: bool) -> Json: ...

    def job_from_cronjob(self, cronjob: str, job_name: str, *, dry_run: bool) -> Json: ...

    def replicasets(self, selector: str) -> list[Json]: ...

    def rollback(self, name: str, template: Json, *, dry_run: bool) -> Json: ...

    def close(self) -> None: ...


class PodReads(Protocol):
    """What the pods pane reads of a pod or deployment (never a change): logs, the
    objects behind `describe`, and their events. Synchronous (run them in a thread);
    each raises `KubeOpsError` with one line."""

    namespace: str

    def pod_logs(self, name: str, tail: int = 500, previous: bool = False) -> LogLines: ...

    def follow_logs(self, name: str) -> LogFollow: ...

    def describe_pod(self, name: str) -> Json: ...

    def describe_deployment(self, name: str) -> tuple[Json, list[Json]]: ...

    def events_for(self, kind: str, name: str) -> list[Json]: ...


class KubeOps:
    """Reads and changes deployments, nodes and jobs of one namespace."""

    def __init__(self, kubeconfig: str | None, context: str | None, namespace: str, *,
                 timeout: float = 10.0, limit: AnswerLimit | None = None,
                 log_bytes: int = LOG_MAX_BYTES) -> None:
        self.kubeconfig = kubeconfig
        self.log_bytes = log_bytes  # one log read, at most
        self.limit = limit or AnswerLimit()
        self.context = context
        self.namespace = namespace
        self.timeout = timeout
        self._lock = threading.Lock()
        self._api: Any = None  # kubernetes.client.ApiClient, made on the first call
        self._address = ""
        self._token = ""  # the bearer token in use, scrubbed from any message

    # --- reads ------------------------------------------------------------------

    def deployment(self, name: str) -> Json:
        """The Deployment's JSON."""
        return self._call("GET", DEPLOYMENT, {"name": name},
                          missing=self._in_ns("deployment", name))

    def node(self, name: str) -> Json:
        return self._call("GET", "/api/v1/nodes/{name}", {"name": name},
                          missing=f"node {name} not found")

    def cronjob(self, name: str) -> Json:
        return self._call("GET", "/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}",
                          {"name": name}, missing=self._in_ns("cronjob", name))

    def can_i(self, verb: str, resource: str, *, group: str = "", subresource: str = "",
              name: str = "") -> bool:
        """Whether the API server would let us `verb` the resource (a
        SelfSubjectAccessReview, in our namespace unless the resource is cluster-wide)."""
        attrs: Json = {"verb": verb, "resource": resource, "group": group}
        if resource not in CLUSTER_SCOPED:
            attrs["namespace"] = self.namespace
        if subresource:
            attrs["subresource"] = subresource
        if name:
            attrs["name"] = name
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": attrs}}
        doc = self._call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                         body=review, content_type="application/json")
        return _dict(doc.get("status")).get("allowed") is True

    def pod_logs(self, name: str, tail: int = 500, previous: bool = False) -> LogLines:
        """The last `tail` lines of the pod's log (its previous container's with
        `previous`), cleaned (`podlog.clean_line`); past `log_bytes` received the rest
        is not read and `note` says so."""
        tail = max(1, min(int(tail), LOG_MAX_TAIL))
        query = [("tailLines", str(tail))]
        if previous:
            query.append(("previous", "true"))
        what = "previous container's log" if previous else "log"
        try:
            response = self._open(POD + "/log", {"name": name}, query,
                                  missing=self._in_ns("pod", name))
            data, cut = read_capped(response, self.log_bytes, self.limit.deadline(),
                                     self.limit)
        except KubeOpsError as exc:
            if previous and exc.status == 400 and "not found" in str(exc):
                raise KubeOpsError(f"pod {name} has no previous container: it has not "
                                   "restarted since it was created", 400) from None
            raise
        except AnswerTooSlow as exc:
            raise KubeOpsError(f"the pod's {what}: {exc}") from None
        text = data.decode(errors="replace")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        note = ""
        if cut:
            if len(lines) > 1:
                lines.pop()  # cut mid-line
            note = (f"log cut at {size_text(self.log_bytes)}: {len(lines):,} of the last "
                    f"{tail:,} lines shown, the newer ones not read")
        return LogLines(tuple(clean_line(line) for line in lines[-tail:]), note, previous)

    def follow_logs(self, name: str) -> LogFollow:
        """A stream of the pod's new lines (not started until iterated)."""
        return LogFollow(self, POD + "/log", name)

    def describe_pod(self, name: str) -> Json:
        """The Pod's JSON."""
        return self._call("GET", POD, {"name": name}, missing=self._in_ns("pod", name))

    def describe_deployment(self, name: str) -> tuple[Json, list[Json]]:
        """The Deployment's JSON and its ReplicaSets (the revisions), as `describe` reads
        them: by the deployment's selector, owned by it."""
        doc = self.deployment(name)
        uid = _dict(doc.get("metadata")).get("uid")
        labels = _dict(_dict(_dict(doc.get("spec")).get("selector")).get("matchLabels"))
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        owned = [rs for rs in self.replicasets(selector) if not uid or any(
            _dict(o).get("uid") == uid
            for o in _dict(rs.get("metadata")).get("ownerReferences") or [])]
        return doc, owned

    def events_for(self, kind: str, name: str) -> list[Json]:
        """The events about one object (by kind and name), oldest first."""
        selector = (f"involvedObject.kind={kind},involvedObject.name={name},"
                    f"involvedObject.namespace={self.namespace}")
        doc = self._call("GET", "/api/v1/namespaces/{namespace}/events",
                         query=[("fieldSelector", selector), ("limit", "500")])
        items = [_dict(i) for i in doc.get("items") or []][-500:]
        return sorted(items, key=_event_time)

    def replicasets(self, selector: str) -> list[Json]:
        """The ReplicaSets (a deployment's revisions) a label selector picks."""
        doc = self._call("GET", "/apis/apps/v1/namespaces/{namespace}/replicasets",
                         query=[("labelSelector", selector)])
        return [_dict(i) for i in doc.get("items") or []]

    # --- writes -----------------------------------------------------------------

    def scale(self, name: str, replicas: int, *, dry_run: bool) -> Json:
        """Set the replicas through the scale subresource; the Scale JSON."""
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise KubeOpsError(f"replicas must be a whole number ≥ 0, not {replicas!r}")
        return self._write("PATCH", DEPLOYMENT + "/scale", {"spec": {"replicas": replicas}},
                           dry_run, {"name": name},
                           content_type="application/merge-patch+json",
                           missing=self._in_ns("deployment", name))

    def restart(self, name: str, at: str, *, dry_run: bool) -> Json:
        """Roll every pod, as `kubectl rollout restart` does: stamp the pod template
        with the time; the Deployment JSON."""
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}}
        return self._write("PATCH", DEPLOYMENT, patch, dry_run, {"name": name},
                           missing=self._in_ns("deployment", name))

    def set_env(self, name: str, container: str, key: str, value: str | None, *,
                dry_run: bool) -> Json:
        """Set (or, with None, remove) one environment variable of one container;
        the Deployment JSON."""
        current = self.deployment(name)
        spec = _dict(_dict(_dict(current.get("spec")).get("template")).get("spec"))
        found = next((_dict(c) for c in spec.get("containers") or []
                      if _dict(c).get("name") == container), None)
        if found is None:
            raise KubeOpsError(f"deployment {name} has no container {container!r}")
        item: Json
        if value is None:
            item = {"name": key, "$patch": "delete"}
        else:
            item = {"name": key, "value": value}
            before = next((_dict(e) for e in found.get("env") or []
                           if _dict(e).get("name") == key), {})
            if "valueFrom" in before:  # a literal value replaces a reference
                item["valueFrom"] = None
        patch = {"spec": {"template": {"spec": {"containers": [
            {"name": container, "env": [item]}]}}}}
        return self._write("PATCH", DEPLOYMENT, patch, dry_run, {"name": name},
                           missing=self._in_ns("deployment", name))

    def cordon(self, name: str, unschedulable: bool, *, dry_run: bool) -> Json:
        """Mark a node (un)schedulable, as `kubectl cordon` / `uncordon`; the Node JSON."""
        patch = {"spec": {"unschedulable": True if unschedulable else None}}
        return self._write("PATCH", "/api/v1/nodes/{name}", patch, dry_run, {"name": name},
                           missing=f"node {name} not found")

    def job_from_cronjob(self, cronjob: str, job_name: str, *, dry_run: bool) -> Json:
        """Start the CronJob's job now, as `kubectl create job --from=cronjob/...`;
        the Job JSON."""
        source = self.cronjob(cronjob)
        meta = _dict(source.get("metadata"))
        template = _dict(_dict(source.get("spec")).get("jobTemplate"))
        job_spec = template.get("spec")
        if not isinstance(job_spec, dict) or not meta.get("uid"):
            raise KubeOpsError(f"cronjob {cronjob} has no job template to start")
        template_meta = _dict(template.get("metadata"))
        annotations = {**_dict(template_meta.get("annotations")), INSTANTIATE: "manual"}
        job_meta: Json = {
            "name": job_name, "namespace": self.namespace, "annotations": annotations,
            "ownerReferences": [{
                "apiVersion": "batch/v1", "kind": "CronJob", "name": meta.get("name", cronjob),
                "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}],
        }
        labels = _dict(template_meta.get("labels"))
        if labels:
            job_meta["labels"] = labels
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": job_meta, "spec": job_spec}
        return self._write("POST", "/apis/batch/v1/namespaces/{namespace}/jobs", job, dry_run,
                           content_type="application/json")

    def rollback(self, name: str, template: Json, *, dry_run: bool) -> Json:
        """Put an old revision's pod template back, as `kubectl rollout undo` does (a JSON
        patch replacing spec.template); the Deployment JSON."""
        patch = [{"op": "replace", "path": "/spec/template", "value": template}]
        return self._write("PATCH", DEPLOYMENT, patch, dry_run, {"name": name},
                           content_type="application/json-patch+json",
                           missing=self._in_ns("deployment", name))

    def close(self) -> None:
        with self._lock:
            api, self._api = self._api, None
        if api is not None:
            api.close()

    # --- plumbing ---------------------------------------------------------------

    def _in_ns(self, kind: str, name: str) -> str:
        return f"{kind} {name} not found in namespace {self.namespace}"

    def _write(self, method: str, path: str, body: Json | list[Json], dry_run: bool,
               params: dict[str, str] | None = None, *,
               content_type: str = "application/strategic-merge-patch+json",
               missing: str | None = None) -> Json:
        query: list[tuple[str, str]] = [("fieldManager", FIELD_MANAGER)]
        if dry_run:
            query.insert(0, ("dryRun", "All"))
        return self._call(method, path, params, query=query, body=body,
                          content_type=content_type, missing=missing)

    def _call(self, method: str, path: str, params: dict[str, str] | None = None, *,
              query: list[tuple[str, str]] | None = None, body: Json | list[Json] | None = None,
              content_type: str | None = None, missing: str | None = None) -> Json:
        """One request; its JSON answer, or KubeOpsError."""
        try:
            self._connect()
            return self._request(method, path, params, query, body, content_type)
        except KubeOpsError:
            raise
        except (AnswerTooLarge, AnswerTooSlow) as exc:
            write = method != "GET" and ("dryRun", "All") not in (query or [])
            unknown = " (the change may or may not have been made)" if write else ""
            raise KubeOpsError(f"the Kubernetes API's {exc}{unknown}") from None
        except Exception as exc:
            status = getattr(exc, "status", None)
            if missing is not None and status == 404:
                raise KubeOpsError(missing, 404) from None
            changes = (method != "GET" and not path.endswith("accessreviews")
                       and ("dryRun", "All") not in (query or []))
            raise KubeOpsError(self._scrub(self._describe(exc, changes)),
                               status if isinstance(status, int) else None) from None

    def _open(self, path: str, params: dict[str, str], query: list[tuple[str, str]], *,
              stream: bool = False, missing: str | None = None) -> Any:
        """A GET whose answer is text, not JSON: the urllib3 response, body unread (a
        stream has no time limit on its answer, only on connecting)."""
        try:
            self._connect()
            request = self._api.param_serialize(
                method="GET", resource_path=path,
                path_params={"namespace": self.namespace, **params}, query_params=query,
                header_params={"Accept": "*/*"}, auth_settings=["BearerToken"])
            timeout = (self.timeout, None) if stream else (self.timeout, self.timeout)
            response = self._api.call_api(*request, _request_timeout=timeout)
            if not 200 <= response.status < 300:
                from kubernetes.client.exceptions import ApiException

                data = read_sync(response.response, self.limit, self.limit.deadline())
                raise ApiException.from_response(
                    http_resp=response, body=data.decode(errors="replace"), data=None)
            return response.response
        except (KubeOpsError, AnswerTooSlow):
            raise
        except AnswerTooLarge as exc:
            raise KubeOpsError(f"the Kubernetes API's {exc}") from None
        except Exception as exc:
            status = getattr(exc, "status", None)
            if missing is not None and status == 404:
                raise KubeOpsError(missing, 404) from None
            raise KubeOpsError(self._scrub(self._describe(exc, False)),
                               status if isinstance(status, int) else None) from None

    def _connect(self) -> None:
        with self._lock:
            if self._api is not None:
                return
            from luckytui.systems.kubernetes import new_client

            client = new_client(self.kubeconfig, self.context)
            self._address = client.address
            self._token = client.token
            self._api = client.api

    def _request(self, method: str, path: str, params: dict[str, str] | None,
                 query: list[tuple[str, str]] | None, body: Json | list[Json] | None,
                 content_type: str | None) -> Json:
        from kubernetes.client.exceptions import ApiException

        headers = {"Accept": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        request = self._api.param_serialize(
            method=method, resource_path=path,
            path_params={"namespace": self.namespace, **(params or {})},
            query_params=query or [], header_params=headers, body=body,
            auth_settings=["BearerToken"])
        deadline = self.limit.deadline()
        response = self._api.call_api(*request, _request_timeout=(self.timeout, self.timeout))
        data = read_sync(response.response, self.limit, deadline)
        if not 200 <= response.status < 300:
            raise ApiException.from_response(
                http_resp=response, body=data.decode(errors="replace"), data=None)
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise KubeOpsError("the Kubernetes API answered malformed JSON",
                               response.status) from None
        if not isinstance(doc, dict):
            raise KubeOpsError("the Kubernetes API answered something that is not an object",
                               response.status)
        return doc

    def _scrub(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "***")
        return _SECRET.sub(r"\1\2***", text)

    def _describe(self, exc: BaseException, write: bool) -> str:
        import urllib3.exceptions as ue
        from kubernetes.client.exceptions import ApiException
        from kubernetes.config.config_exception import ConfigException

        where = f"the Kubernetes API at {self._address}" if self._address else \
            "the Kubernetes API"
        if isinstance(exc, ApiException):
            return _http_error(exc.status, exc.reason, exc.body)
        if isinstance(exc, ConfigException):
            return f"kubeconfig: {exc}"
        if isinstance(exc, ue.MaxRetryError) and exc.reason is not None:
            exc = exc.reason
        # NewConnectionError subclasses ConnectTimeoutError: test it first
        if isinstance(exc, ue.NameResolutionError):
            return f"cannot reach {where}: cannot resolve its host name"
        if isinstance(exc, ue.NewConnectionError | ConnectionError):
            text = str(exc)
            if "refused" in text.lower() or isinstance(exc, ConnectionRefusedError):
                return f"cannot reach {where}: connection refused"
            return f"cannot reach {where}: {text.rpartition(': ')[2]}"
        if isinstance(exc, ue.ConnectTimeoutError):
            return f"cannot reach {where}: connection timed out after {self.timeout:g} s"
        if isinstance(exc, ue.ReadTimeoutError | TimeoutError):
            unknown = " (the change may or may not have been made)" if write else ""
            return f"{where} did not answer within {self.timeout:g} s{unknown}"
        if isinstance(exc, ue.SSLError):
            return f"TLS error talking to {where}: {exc}"
        if isinstance(exc, ue.ProtocolError):
            return f"the connection to {where} dropped mid-answer"
        return f"{type(exc).__name__}: {exc}"


def _event_time(event: Json) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime")
               or _dict(event.get("metadata")).get("creationTimestamp") or "")


def _http_error(status: object, reason: object, body: object) -> str:
    """Like kubectl's "Error from server (...)" line, without the prefix."""
    message = ""
    if isinstance(body, bytes | str) and body:
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("message"), str):
            message = doc["message"].strip()
    if not message:
        message = f"HTTP {status} {reason or ''}".rstrip()
    if status == 403 and not message.lower().startswith("forbidden"):
        return f"forbidden: {message}"
    if status == 401 and not message.lower().startswith("unauthorized"):
        return f"unauthorized: {message}"
    return message
