"""The simulated Kubernetes API: the names other modules import, from the
`luckytui.sim.kube` package where it lives (one module a resource)."""

from luckytui.sim.kube import (
    KUBE_API,
    ApiError,
    KubeApi,
    cpu_quantity,
    human_duration,
    json_patch,
    make_kube_app,
    merge_patch,
    parse_field_selector,
    parse_label_selector,
    strategic_merge,
)

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
