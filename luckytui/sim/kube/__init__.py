"""A subset of the Kubernetes API, served over the simulation model.

Enough of the API for the real `kubectl` (v1.32) and the official python
client to work against the simulated cluster: version and legacy discovery,
namespaces, pods (log, exec, eviction, delete, label), nodes, events,
deployments (with the `scale` subresource), ReplicaSets (one per revision),
the Redis StatefulSet, services, endpoints and EndpointSlices, the ingress,
config maps, secrets, cronjobs, jobs, the metrics API and
SelfSubjectAccessReview, each answered from one RBAC model (`rbac`).

Reads answer JSON, or a meta.k8s.io/v1 Table when the client asks for one (as
`kubectl get` does). Lists are sorted by name and honour `limit` with a
`continue` token, label and field selectors. PATCH accepts strategic merge,
JSON merge and JSON patch bodies on the same paths; `?dryRun=All` validates
and answers the would-be object without touching the model. Errors are Status
objects with the code and reason a real API server would give.

POSTs take JSON, and also the protobuf kubectl sends for `create job`, `create
secret` and `auth can-i` (answered in JSON, which kubectl accepts). Pods can be
watched (`?watch=1`, resuming from a resourceVersion, with bookmarks when
asked); other resources are watched by comparing what is served of them tick
by tick (what `rollout status` and `get -w` need).

What kubectl 1.32 asks for beyond reads, found with a request log: `rollout
undo` lists ReplicaSets by the deployment's selector and sends a JSON patch
replacing `/spec/template`; `rollout status` lists then watches the deployment
by `fieldSelector=metadata.name=...`; `describe ingress` reads EndpointSlices
(`kubernetes.io/service-name=...`; a port without `name` crashes it) and
`describe` of anything lists events by `involvedObject` field selectors;
`drain` checks discovery for `pods/eviction` (group policy) and POSTs an
Eviction per pod, then polls each pod until it is gone; `edit` validates
nothing itself only when `/openapi/v3` lists the PATCH operation with the
`fieldValidation` parameter (otherwise it fails, wanting the schema); `exec`
asks for a WebSocket with the `v5.channel.k8s.io` subprotocol first (channel
1 stdout, 2 stderr, 3 a Status carrying the exit code).

Every request first brings the model up to its clock. A pod whose served
state changes as time passes (it becomes ready) gets a new resourceVersion
from the model's counter, as a kubelet's status update would give it, so a
client may trust "same version, same object". Each pod's JSON is cached on
that state: a full list of 2,030 pods is mostly a join of cached bytes.

One module a concern: `common` (versions, formatters, errors), `discovery`
(resources and Table columns), `selectors`, `patch`, `protobuf`; the API class
is built up resource by resource (`base` → `pods` → `deployments` → `nodes`
(with events and namespaces) → `jobs` → `metrics` → `reads` (get, list, watch)
→ `objects` (ReplicaSets, services, ingress, config maps, secrets) → `podops`
(logs, exec, eviction, delete) → `server` (the resource table, routes, RBAC
and errors)).
"""

from luckytui.sim.kube.common import ApiError, cpu_quantity, human_duration
from luckytui.sim.kube.patch import json_patch, merge_patch, strategic_merge
from luckytui.sim.kube.selectors import parse_field_selector, parse_label_selector
from luckytui.sim.kube.server import KUBE_API, KubeApi, make_kube_app

__all__ = [
    "KUBE_API",
    "ApiError",
    "KubeApi",
    "cpu_quantity",
    "human_duration",
    "json_patch",
    "make_kube_app",
    "merge_patch",
    "parse_field_selector",
    "parse_label_selector",
    "strategic_merge",
]
