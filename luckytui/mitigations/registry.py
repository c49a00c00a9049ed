"""Which actions a configuration offers."""

from __future__ import annotations

from typing import Any

from luckytui.config import ConfigError, DatabaseSettings, Settings, dsn_database
from luckytui.mitigations.base import Action
from luckytui.systems.http import AnswerLimit, api_limit


def build_actions(settings: Settings, *, force: bool = False) -> dict[str, Action]:
    """The actions the configured systems allow, by name. Read-only: only the custom
    commands declared `mutating = false` (they change nothing)."""
    from luckytui.mitigations.custom import custom_actions

    custom = custom_actions(settings.commands)
    if settings.read_only:
        return {a.name: a for a in custom if not a.mutating}
    actions: list[Any] = []
    if settings.kube is not None:
        from luckytui.mitigations.k8s import KubeContext, kube_actions
        from luckytui.systems.kubernetes import KubeOps

        k = settings.kube
        ops = KubeOps(k.kubeconfig, k.context, k.namespace, limit=api_limit(settings.limits))
        ctx = KubeContext(ops, k.namespace,
                          max_replicas=settings.max_replicas, force=force,
                          ceiling=settings.limits.max_replicas)
        actions += kube_actions(ctx, dict(settings.emergency_scale))
    if settings.databases:
        actions += _pg_actions(settings.databases[0], force, api_limit(settings.limits))
    if settings.cache_url:
        from luckytui.mitigations.cache import cache_actions

        actions += cache_actions(settings.cache_url)
    built_in = {a.name for a in actions}
    for a in custom:
        if a.name in built_in:
            raise ConfigError(f"{settings.source_file}: commands: {a.name!r} is the name of a "
                              "built-in action; choose another")
    return {a.name: a for a in [*actions, *custom]}


def _pg_actions(db: DatabaseSettings, force: bool, limit: AnswerLimit) -> list[Any]:
    """The PostgreSQL remedies on the first configured database."""
    from luckytui.mitigations.pg import PgContext, pg_actions
    from luckytui.systems.postgres import PgOps, PgOpsError, RealPgOps, twin_for

    ops: PgOps
    if db.dsn:
        ops, database = RealPgOps(db.dsn), dsn_database(db.dsn)
    else:
        assert db.api_url is not None
        try:
            twin = twin_for(db.api_url)
        except PgOpsError as exc:
            raise ConfigError(f"databases: {exc}") from None
        ops, database = twin.ops(db.api_url, db.name, limit)
    return pg_actions(PgContext(ops, database, force=force))


def close_actions(actions: dict[str, Action]) -> None:
    closed: set[int] = set()
    for action in actions.values():
        ctx = getattr(action, "ctx", None)
        if ctx is not None and id(ctx) not in closed:
            closed.add(id(ctx))
            ctx.ops.close()
