"""A subset of the Kubernetes API, served over the simulation model.

Enough of the API for the real `kubectl` (v1.32) and the official python
client to work against the simulated cluster: version and legacy discovery,
namespaces, pods, nodes, events, deployments (with the `scale` subresource),
cronjobs, jobs, the metrics API and SelfSubjectAccessReview.

Reads answer JSON, or a meta.k8s.io/v1 Table when the client asks for one (as
`kubectl get` does). Lists are sorted by name and honour `limit` with a
`continue` token, label and field selectors. PATCH accepts strategic merge,
JSON merge and JSON patch bodies on the same paths; `?dryRun=All` validates
and answers the would-be object without touching the model. Errors are Status
objects with the code and reason a real API server would give.

POSTs take JSON, and also the protobuf kubectl sends for `create job` and
`auth can-i` (answered in JSON, which kubectl accepts). Pods can be watched
(`?watch=1`, resuming from a resourceVersion, with bookmarks when asked);
watches of other resources are refused with 405.

Every request first brings the model up to its clock. A pod whose served
state changes as time passes (it becomes ready) gets a new resourceVersion
from the model's counter, as a kubelet's status update would give it, so a
client may trust "same version, same object". Each pod's JSON is cached on
that state: a full list of 2,030 pods is mostly a join of cached bytes.

One module a concern: `common` (versions, formatters, errors), `discovery`
(resources and Table columns), `selectors`, `patch`, `protobuf`; the API class
is built up resource by resource (`base` → `pods` → `deployments` → `nodes`
(with events and namespaces) → `jobs` → `metrics` → `reads` (get, list, watch)
→ `server` (the resource table, routes and errors)).
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
