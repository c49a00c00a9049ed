"""Build the configured sources from Settings (no I/O, no heavy imports)."""

from __future__ import annotations

from typing import Any

from luckytui.config import ConfigError, Settings
from luckytui.sources.alerts import AlertsSource
from luckytui.sources.base import Source
from luckytui.sources.endpoints import EndpointSpec, EndpointsSource, LoginSpec
from luckytui.sources.kube import KubeSource
from luckytui.sources.postgres import PostgresSource
from luckytui.sources.prometheus import PrometheusCpu
from luckytui.systems.http import api_limit, probe_limit
from luckytui.systems.postgres import PgOpsError, twin_for

CPU_HISTORY = 20  # samples in each pod's CPU trend
CPU_TOP = 200  # pods whose CPU is read each refresh: the pane shows the top 100

def build_sources(settings: Settings, *, watch: bool = True) -> list[Source[Any]]:
    """One source per configured system; an unconfigured one is simply absent.
    watch=False for one-shot reads (`luckytui check`): pods by one list, no watch."""
    sources: list[Source[Any]] = []
    api = api_limit(settings.limits)  # every answer's size and time: [limits]
    if settings.kube is not None:
        k = settings.kube
        cpu = None
        if settings.prometheus is not None:
            # pod CPU from PromQL, its trend backfilled at start; metrics.k8s.io otherwise
            cpu = PrometheusCpu(settings.prometheus.url, k.namespace,
                                query=settings.prometheus.cpu_query, history=CPU_HISTORY,
                                step_s=settings.refresh, top=CPU_TOP, limit=api)
        sources.append(KubeSource(k.kubeconfig, k.context, k.namespace, CPU_HISTORY, cpu=cpu,
                                  watch=watch, limit=api))
    if settings.databases:
        db = settings.databases[0]
        if db.api_url:
            try:
                twin = twin_for(db.api_url)
            except PgOpsError as exc:
                raise ConfigError(f"databases: {exc}") from None
            sources.append(twin.source(db.api_url, db.name, api))
        elif db.dsn:
            sources.append(PostgresSource(db.dsn, db.name))
    if settings.endpoints or settings.login:
        login = None
        if settings.login is not None:
            lg = settings.login
            login = LoginSpec(url=lg.url, email=lg.email, password=lg.password())
        specs = [
            EndpointSpec(name=e.name, group=e.group, method=e.method, url=e.url,
                         expect_status=e.expect_status, timeout_s=e.timeout, auth=e.auth,
                         body=dict(e.body) if e.body is not None else None, slow_ms=e.slow_ms,
                         verify_tls=e.verify_tls)
            for e in settings.endpoints
        ]
        sources.append(EndpointsSource(specs, login, limit=probe_limit(settings.limits)))
    if settings.prometheus is not None:
        sources.append(AlertsSource(settings.prometheus.url, limit=api))
    return sources


def preload_clients(names: tuple[str, ...]) -> None:
    """Import the heavy client libraries (call in a thread, off the first frame)."""
    if "kube" in names:
        import kubernetes.client.api_client
        import kubernetes.config  # noqa: F401
    if "prometheus" in names:
        import prometheus_api_client.prometheus_connect  # noqa: F401
