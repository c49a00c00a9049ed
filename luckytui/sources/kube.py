"""Pods, deployments and nodes of one namespace, from the Kubernetes API.

The official client is synchronous and heavy to import (a quarter to half a
second), so it is imported in a worker thread on the first fetch, never when
this module loads, and every call runs in a thread. Lists are requested with
`_preload_content=False` and their JSON parsed here straight into snapshot
dataclasses: the client's own model deserialisation takes seconds for a few
thousand pods.

One refresh lists pods (paged), deployments and nodes, and reads the metrics
API for pod and node CPU. The metrics API is optional: when it is missing or
failing the snapshot still carries the pods, with `cpu_m=None` and
`metrics_available=False`. Every other failure is a `SourceError` with one
short line (never a traceback, never a credential).

Given a `PrometheusCpu`, pod CPU comes from Prometheus instead (metrics.k8s.io
is then asked only for nodes): its range query fills every pod's history on the
first fetch, then one instant query a fetch runs beside the list calls. When
Prometheus fails, the pods still show, without CPU, and `cpu_error` says why.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from luckytui.kubedescribe import last_exit
from luckytui.snapshots import DeploymentInfo, KubeWarning, NodeInfo, PodInfo, PodsSnapshot
from luckytui.sources.base import SourceError, one_line
from luckytui.systems.http import AnswerLimit, read_sync

if TYPE_CHECKING:
    from luckytui.sources.kubewatch import PodWatch
    from luckytui.sources.prometheus import PrometheusCpu

log = logging.getLogger(__name__)

MAX_WARNINGS = 20
PAGE_SIZE = 500  # pods per list request, as kubectl pages: shorter holds of the GIL
CONNECT_BOUND_S = 30.0  # loading a kubeconfig may run an exec credential plugin

_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_FACTOR = {
    None: 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "P": 1e15, "E": 1e18, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
    "Pi": 2.0**50, "Ei": 2.0**60,
}
_SECRET = re.compile(r"(?i)\b(bearer|basic|token)([\s=:]+)\S+")


def parse_quantity(value: object) -> float:
    """A Kubernetes quantity ("500m", "0.5", "123456789n", "2Gi", 1) as a plain number."""
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"not a quantity: {value!r}")
    digits, suffix = value[:-1], value[-1:]
    if suffix in ("n", "m", "u") and digits.isdigit() and digits.isascii():  # metrics' usual form
        return int(digits) * _FACTOR[suffix]
    m = _QUANTITY.match(value.strip())
    if m is None:
        raise ValueError(f"not a quantity: {value!r}")
    return float(m[1]) * _FACTOR[m[2]]


def parse_cpu_m(value: object) -> float:
    """CPU in millicores: "123m" → 123, "0.5" → 500, "123456789n" → 123.456789, "1" → 1000."""
    return parse_quantity(value) * 1000.0


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def pod_deployment(meta: dict[str, Any]) -> str:
    """The deployment that owns a pod, through its ReplicaSet; "" when none."""
    for ref in _list(meta.get("ownerReferences")):
        ref = _dict(ref)
        if ref.get("kind") != "ReplicaSet" or not isinstance(ref.get("name"), str):
            continue
        rs: str = ref["name"]
        template_hash = _dict(meta.get("labels")).get("pod-template-hash")
        if isinstance(template_hash, str) and rs.endswith(f"-{template_hash}"):
            return rs[: -len(template_hash) - 1]
        return rs.rpartition("-")[0] or rs
    return ""


def pod_phase(meta: dict[str, Any], status: dict[str, Any]) -> str:
    """What `kubectl get pods` would show in STATUS, near enough."""
    if meta.get("deletionTimestamp"):
        return "Terminating"
    for cs in _list(status.get("initContainerStatuses")):
        waiting = _dict(_dict(_dict(cs).get("state")).get("waiting"))
        if waiting.get("reason") and waiting["reason"] != "PodInitializing":
            return f"Init:{waiting['reason']}"
    phase = str(status.get("phase") or "Unknown")
    terminated = ""
    for cs in _list(status.get("containerStatuses")):
        state = _dict(_dict(cs).get("state"))
        reason = _dict(state.get("waiting")).get("reason")
        if reason:
            return str(reason)
        reason = _dict(state.get("terminated")).get("reason")
        if reason and not terminated:
            terminated = str(reason)
    if terminated and phase != "Succeeded":
        return terminated
    return str(status.get("reason") or phase)


def pod_ready(status: dict[str, Any]) -> bool:
    for cond in _list(status.get("conditions")):
        cond = _dict(cond)
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    statuses = _list(status.get("containerStatuses"))
    return bool(statuses) and all(_dict(cs).get("ready") is True for cs in statuses)


def pod_cpu_limit_m(spec: dict[str, Any]) -> float | None:
    """The pod's CPU limit: its containers' limits summed; None if any is unlimited."""
    containers = _list(spec.get("containers"))
    if not containers:
        return None
    total = 0.0
    for c in containers:
        limit = _dict(_dict(_dict(c).get("resources")).get("limits")).get("cpu")
        if limit is None:
            return None
        total += parse_cpu_m(limit)
    return total


def metrics_cpu_m(items: list[Any]) -> dict[str, float]:
    """Name → CPU in millicores from the items of a PodMetricsList or NodeMetricsList."""
    out: dict[str, float] = {}
    for item in items:
        try:
            name = item["metadata"]["name"]
            if "usage" in item:  # node metrics
                out[name] = parse_cpu_m(item["usage"]["cpu"])
            else:
                total = 0.0
                for c in item["containers"]:
                    total += parse_cpu_m(c["usage"]["cpu"])
                out[name] = total
        except (KeyError, TypeError, ValueError):
            continue  # a malformed entry: that pod shows no CPU
    return out


def _nonneg_int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _object_name(meta: dict[str, Any], kind: str) -> str:
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise SourceError(f"the API server answered a {kind} without metadata.name")
    return name


def parse_deployment(item: dict[str, Any]) -> DeploymentInfo:
    meta, spec, status = (_dict(item.get(k)) for k in ("metadata", "spec", "status"))
    return DeploymentInfo(
        name=_object_name(meta, "deployment"), desired=_nonneg_int(spec.get("replicas"), 1),
        ready=_nonneg_int(status.get("readyReplicas")),
        updated=_nonneg_int(status.get("updatedReplicas")),
        available=_nonneg_int(status.get("availableReplicas")),
        resource_version=str(meta.get("resourceVersion") or ""))


def parse_node(item: dict[str, Any], cpu: dict[str, float] | None) -> NodeInfo:
    meta, spec, status = (_dict(item.get(k)) for k in ("metadata", "spec", "status"))
    name = _object_name(meta, "node")
    ready = any(_dict(c).get("type") == "Ready" and _dict(c).get("status") == "True"
                for c in _list(status.get("conditions")))
    capacity = _dict(status.get("capacity")).get("cpu")
    try:
        capacity_m = parse_cpu_m(capacity) if capacity is not None else None
    except ValueError:
        capacity_m = None
    return NodeInfo(name=name, ready=ready, unschedulable=spec.get("unschedulable") is True,
                    cpu_m=cpu.get(name) if cpu is not None else None,
                    cpu_capacity_m=capacity_m)


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What a pod's JSON says besides its CPU use: unchanged while its version is."""

    deployment: str
    node: str
    phase: str
    ready: bool
    restarts: int
    started_at: datetime | None
    cpu_limit_m: float | None
    last_exit: str = ""


def _parse_pod(item: Any) -> _Parsed:
    item = _dict(item)
    meta, spec, status = (_dict(item.get(k)) for k in ("metadata", "spec", "status"))
    statuses = _list(status.get("containerStatuses"))
    try:
        limit = pod_cpu_limit_m(spec)
    except ValueError:
        limit = None
    return _Parsed(
        deployment=pod_deployment(meta), node=str(spec.get("nodeName") or ""),
        phase=pod_phase(meta, status), ready=pod_ready(status),
        restarts=sum(_nonneg_int(_dict(cs).get("restartCount")) for cs in statuses),
        started_at=_time(status.get("startTime")), cpu_limit_m=limit,
        last_exit=next(filter(None, map(last_exit, map(_dict, statuses))), ""))


class KubeSource:
    """Polls one namespace of a cluster for the pods pane."""

    name = "kube"

    def __init__(self, kubeconfig: str | None, context: str | None, namespace: str,
                 history: int = 20, *, timeout: float = 5.0,
                 cpu: PrometheusCpu | None = None, watch: bool = True,
                 limit: AnswerLimit | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.limit = limit or AnswerLimit()  # each answer's size (decoded) and time
        self.watch = watch  # pods by list + watch (False: a full list every refresh)
        self._watch: PodWatch | None = None
        self.context = context
        self.namespace = namespace
        self.history = max(1, history)
        self.timeout = timeout
        self.cpu = cpu
        self.cpu_error: str | None = None  # why Prometheus gave no pod CPU last time
        self._backfilled = False
        self._lock = threading.Lock()
        self._api: Any = None  # kubernetes.client.ApiClient, made in a worker thread
        self._address = ""
        self._cpu: dict[str, deque[float]] = {}  # per pod uid: the last CPU samples
        self._parsed: dict[tuple[str, str], _Parsed] = {}  # per (uid, resourceVersion)
        self._infos: dict[tuple[str, str], PodInfo] = {}  # the last PodInfo of each

    # --- async surface ------------------------------------------------------

    async def fetch(self) -> PodsSnapshot:
        try:
            if self._api is None:
                async with asyncio.timeout(CONNECT_BOUND_S):
                    await asyncio.to_thread(self._connect)
            async with asyncio.timeout(self._bound_s):
                (pods, deployments, nodes, (pod_cpu, seed), node_cpu,
                 events) = await asyncio.gather(
                    self._current_pods(),
                    asyncio.to_thread(self._get,
                                      "/apis/apps/v1/namespaces/{namespace}/deployments"),
                    asyncio.to_thread(self._optional, "/api/v1/nodes", 403),
                    self._pod_cpu(),
                    asyncio.to_thread(self._metrics, "nodes"),
                    asyncio.to_thread(self._warnings))
                snapshot = await asyncio.to_thread(self._snapshot, pods, deployments, nodes,
                                                   pod_cpu, node_cpu, seed)
                return replace(snapshot, warnings=events)
        except SourceError:
            raise
        except TimeoutError:
            raise SourceError(f"timed out after {self._bound_s:g} s") from None
        except Exception as exc:
            raise SourceError(self._describe(exc)) from None

    @property
    def _bound_s(self) -> float:
        """The whole refresh: each request gets `timeout`, the lot a little more (and
        stays under the poller's default 10 s, so this line is the one shown)."""
        return self.timeout + 3.0

    async def _pod_cpu(self) -> tuple[dict[str, float] | None, dict[str, list[float]] | None]:
        """Pod name → millicores (None when unknown), and, on the first good answer
        from Prometheus, each pod's backfilled CPU history."""
        cpu = self.cpu
        if cpu is None:
            return await asyncio.to_thread(self._metrics, "pods"), None
        # ends before the whole refresh does, so a failure costs only the CPU column
        bound = min(cpu.timeout + 1.0, self._bound_s - 0.5)
        try:
            async with asyncio.timeout(bound):
                seeded: dict[str, list[float]] | None = None
                if self._backfilled:
                    now = await asyncio.to_thread(cpu.read)
                else:
                    past, got = await asyncio.gather(
                        asyncio.to_thread(cpu.backfill), asyncio.to_thread(cpu.read),
                        return_exceptions=True)
                    if isinstance(got, BaseException):
                        raise got
                    now = got
                    self._backfilled = True  # Prometheus answers: backfill once only
                    if isinstance(past, BaseException):
                        log.debug("Prometheus backfill failed: %s", one_line(past))
                    else:
                        seeded = past
        except Exception as exc:
            self.cpu_error = (f"Prometheus: timed out after {bound:g} s"
                              if isinstance(exc, TimeoutError) and not str(exc)
                              else one_line(exc))
            log.debug("pod CPU from Prometheus failed: %s", self.cpu_error)
            return None, None
        self.cpu_error = None
        return now, seeded

    async def _current_pods(self) -> list[Any]:
        """The namespace's pods: from the watch (listed once, then kept current), or a
        full list when watching is off or the server does not serve watches."""
        if not self.watch:
            return await asyncio.to_thread(self._list_pods)
        watch = self._watch
        if watch is None:
            from luckytui.sources.kubewatch import PodWatch

            watch = self._watch = PodWatch(self._list_pods_rv, self._open_watch,
                                           self.limit.max_bytes).start()
        if not watch.ready.is_set():
            await asyncio.to_thread(watch.ready.wait, self._bound_s)
        if watch.unsupported:
            return await asyncio.to_thread(self._list_pods)
        if watch.synced:
            return watch.items()
        if watch.error is not None:
            raise watch.error
        raise TimeoutError

    async def aclose(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            await asyncio.to_thread(watch.stop)
        api, self._api = self._api, None
        if api is not None:
            await asyncio.to_thread(api.close)
        if self.cpu is not None:
            await asyncio.to_thread(self.cpu.close)

    # --- worker-thread side ---------------------------------------------------

    def _connect(self) -> None:
        with self._lock:
            if self._api is not None:
                return
            from luckytui.systems.kubernetes import new_client

            client = new_client(self.kubeconfig, self.context)
            self._address = client.address
            self._api = client.api

    def _get(self, path: str, query: list[tuple[str, Any]] | None = None) -> dict[str, Any]:
        """GET one API path (`{namespace}` filled in), its JSON decoded here."""
        import json

        from kubernetes.client.exceptions import ApiException

        request = self._api.param_serialize(
            method="GET", resource_path=path, path_params={"namespace": self.namespace},
            query_params=query or [], header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"])
        deadline = self.limit.deadline()
        response = self._api.call_api(*request, _request_timeout=(self.timeout, self.timeout))
        body = read_sync(response.response, self.limit, deadline)
        if not 200 <= response.status < 300:
            raise ApiException.from_response(
                http_resp=response, body=body.decode(errors="replace"), data=None)
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise SourceError("the API server answered malformed JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("items", []), list):
            raise SourceError("the API server answered something that is not a list")
        return doc

    def _list_pods(self) -> list[Any]:
        return self._list_pods_rv()[0]

    def _list_pods_rv(self) -> tuple[list[Any], str]:
        """Every pod (paged), and the list's resourceVersion to watch from."""
        items: list[Any] = []
        token: str | None = None
        version = ""
        for _ in range(1000):
            query: list[tuple[str, Any]] = [("limit", PAGE_SIZE)]
            if token:
                query.append(("continue", token))
            page = self._get("/api/v1/namespaces/{namespace}/pods", query)
            items.extend(_list(page.get("items")))
            meta = _dict(page.get("metadata"))
            version = version or str(meta.get("resourceVersion") or "")
            token = meta.get("continue")
            if not token:
                break
        return items, version

    def _open_watch(self, version: str) -> Any:
        """A watch of the namespace's pods from `version`, streamed as it comes."""
        from kubernetes.client.exceptions import ApiException

        from luckytui.sources.kubewatch import READ_TIMEOUT_S, WATCH_TIMEOUT_S

        request = self._api.param_serialize(
            method="GET", resource_path="/api/v1/namespaces/{namespace}/pods",
            path_params={"namespace": self.namespace},
            query_params=[("watch", "true"), ("resourceVersion", version),
                          ("allowWatchBookmarks", "true"), ("timeoutSeconds", WATCH_TIMEOUT_S)],
            header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
        response = self._api.call_api(*request,
                                      _request_timeout=(self.timeout, READ_TIMEOUT_S))
        if not 200 <= response.status < 300:
            body = response.read()
            raise ApiException.from_response(
                http_resp=response, body=body.decode(errors="replace"), data=None)
        return response.response  # urllib3's: its stream() yields chunks as they arrive

    def _warnings(self) -> tuple[KubeWarning, ...]:
        """The Warning events the API server still keeps (an hour by default: its
        --event-ttl), newest first; () when they cannot be read (forbidden, or any
        failure: they are a hint, not a pane)."""
        try:
            doc = self._get("/api/v1/namespaces/{namespace}/events",
                            [("fieldSelector", "type=Warning"), ("limit", 200)])
        except Exception:
            return ()
        found = []
        for item in _list(doc.get("items")):
            ev = _dict(item)
            seen = (_time(ev.get("lastTimestamp")) or _time(ev.get("eventTime"))
                    or _time(_dict(ev.get("metadata")).get("creationTimestamp")))
            obj = _dict(ev.get("involvedObject"))
            found.append(KubeWarning(
                reason=str(ev.get("reason") or ""),
                object=f"{str(obj.get('kind') or '').lower()}/{obj.get('name') or ''}",
                message=" ".join(str(ev.get("message") or "").split())[:200],
                last_seen=seen, count=int(ev.get("count") or 1)))
        found.sort(key=lambda w: w.last_seen or datetime.min.replace(tzinfo=UTC),
                   reverse=True)
        return tuple(found[:MAX_WARNINGS])

    def _optional(self, path: str, *statuses: int) -> dict[str, Any] | None:
        """A list that may be forbidden to us (nodes): None for those statuses."""
        from kubernetes.client.exceptions import ApiException

        try:
            return self._get(path)
        except ApiException as exc:
            if exc.status in statuses:
                return None
            raise

    def _metrics(self, what: str) -> dict[str, float] | None:
        """Pod or node CPU by name from the metrics API; None when it is missing,
        failing or slow."""
        try:
            if what == "pods":
                doc = self._get("/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods")
            else:
                doc = self._get("/apis/metrics.k8s.io/v1beta1/nodes")
        except Exception:
            return None
        return metrics_cpu_m(_list(doc.get("items")))

    def _snapshot(self, pods: list[Any], deployments: dict[str, Any],
                  nodes: dict[str, Any] | None, cpu: dict[str, float] | None,
                  node_cpu: dict[str, float] | None,
                  seed: dict[str, list[float]] | None = None) -> PodsSnapshot:
        try:
            with self._lock:
                infos = self._pods(pods, cpu, seed)
            deps = tuple(sorted((parse_deployment(_dict(d))
                                 for d in _list(deployments.get("items"))),
                                key=lambda d: d.name))
            node_infos = tuple(sorted((parse_node(_dict(n), node_cpu)
                                       for n in _list((nodes or {}).get("items"))),
                                      key=lambda n: n.name))
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(f"the API server answered an unexpected object ({exc})") from None
        return PodsSnapshot(taken_at=datetime.now(UTC), namespace=self.namespace, pods=infos,
                            deployments=deps, nodes=node_infos,
                            metrics_available=cpu is not None)

    def _pods(self, items: list[Any], cpu: dict[str, float] | None,
              seed: dict[str, list[float]] | None = None) -> tuple[PodInfo, ...]:
        """PodInfos for a list's items; a pod whose resourceVersion has not changed
        since the last fetch is not parsed again, only given its new CPU sample."""
        history, parsed, infos = self._cpu, self._parsed, self._infos
        kept_history: dict[str, deque[float]] = {}
        kept_parsed: dict[tuple[str, str], _Parsed] = {}
        kept_infos: dict[tuple[str, str], PodInfo] = {}
        out = []
        maxlen = self.history
        for item in items:
            meta = item["metadata"]
            name = meta["name"]
            uid = meta.get("uid") or ""
            key = (uid or name, meta.get("resourceVersion") or "")
            cpu_m = cpu.get(name) if cpu is not None else None
            before = infos.get(key) if key[1] and not seed else None
            if cpu_m is None and before is not None and before.cpu_m is None:
                # unchanged and no new sample (not among the busiest): the same PodInfo
                kept_parsed[key], kept_infos[key] = parsed[key], before
                kept_history[key[0]] = history[key[0]]
                out.append(before)
                continue
            fields = parsed.get(key) if key[1] else None
            if fields is None:
                fields = _parse_pod(item)
            kept_parsed[key] = fields
            samples = history.get(key[0])
            if samples is None:
                samples = deque(maxlen=maxlen)
            if seed and not samples and name in seed:  # history from before we started
                samples.extend(seed[name])
            kept_history[key[0]] = samples
            if cpu_m is not None:
                samples.append(cpu_m)
            info = PodInfo(name, uid, fields.deployment, fields.node, fields.phase,
                           fields.ready, fields.restarts, fields.started_at, cpu_m,
                           fields.cpu_limit_m, tuple(samples), fields.last_exit)
            kept_infos[key] = info
            out.append(info)
        # vanished pods are forgotten
        self._cpu, self._parsed, self._infos = kept_history, kept_parsed, kept_infos
        return tuple(out)

    # --- errors -----------------------------------------------------------------

    def _describe(self, exc: BaseException) -> str:
        """One short line for the pane; no traceback and no credentials."""
        return _SECRET.sub(r"\1\2***", _describe(exc, self.timeout, self._address))


def _describe(exc: BaseException, timeout: float, address: str) -> str:
    import urllib3.exceptions as ue
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException

    where = address or "the API server"
    if isinstance(exc, ApiException):
        return _http_error(exc.status, exc.reason, exc.body)
    if isinstance(exc, ConfigException):
        return one_line(SourceError(f"kubeconfig: {exc}"))
    if isinstance(exc, ue.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    # NewConnectionError subclasses ConnectTimeoutError: test it first
    if isinstance(exc, ue.NameResolutionError):
        return f"cannot resolve host: {where.rsplit(':', 1)[0]}"
    if isinstance(exc, ue.NewConnectionError | ConnectionError):
        text = str(exc)
        if "refused" in text.lower() or isinstance(exc, ConnectionRefusedError):
            return f"connection refused: {where}"
        return one_line(SourceError(f"cannot connect to {where}: {text.rpartition(': ')[2]}"))
    if isinstance(exc, ue.ConnectTimeoutError):
        return f"connection timed out after {timeout:g} s: {where}"
    if isinstance(exc, ue.ReadTimeoutError | TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, ue.SSLError):
        return one_line(SourceError(f"TLS error talking to {where}: {exc}"))
    if isinstance(exc, ue.ProtocolError):
        return f"connection to {where} dropped mid-answer"
    return one_line(exc)


def _http_error(status: object, reason: object, body: object) -> str:
    import json

    line = f"HTTP {status} {reason or ''}".rstrip()
    message = ""
    if isinstance(body, bytes | str) and body:
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("message"), str):
            message = doc["message"]
    return one_line(SourceError(f"{line}: {message}" if message else line))
