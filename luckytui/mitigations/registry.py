"""Which actions a configuration offers."""

from __future__ import annotations

from typing import Any

from luckytui.config import Settings
from luckytui.mitigations.base import Action


def build_actions(settings: Settings, *, force: bool = False) -> dict[str, Action]:
    """The actions the configured systems allow, by name (none in read-only mode)."""
    if settings.read_only:
        return {}
    actions: list[Any] = []
    if settings.kube is not None:
        from luckytui.mitigations.k8s import KubeContext, kube_actions
        from luckytui.mitigations.kubeops import KubeOps

        k = settings.kube
        ctx = KubeContext(KubeOps(k.kubeconfig, k.context, k.namespace), k.namespace,
                          max_replicas=settings.max_replicas, force=force)
        actions += kube_actions(ctx)
    return {a.name: a for a in actions}


def close_actions(actions: dict[str, Action]) -> None:
    closed: set[int] = set()
    for action in actions.values():
        ctx = getattr(action, "ctx", None)
        if ctx is not None and id(ctx) not in closed:
            closed.add(id(ctx))
            ctx.ops.close()
