"""The simulated production as a Prometheus scrape target.

A real Prometheus can scrape `/metrics` of the simulated LuckyGas API and
evaluate the plan's alert rules (`RULES`) over it, so production mode can be
tried against a real Prometheus with nothing but this machine. The metric
names are the ones the rules use; pod CPU is cAdvisor's counter, which the
war room's default PromQL reads.
"""

from __future__ import annotations

from luckytui.sim.model import DATABASE, Production

RULES = """\
# The incident response plan's alerts, over the simulated production's metrics.
groups:
  - name: luckygas-incident-response-plan
    rules:
      - alert: HighAPIResponseTime
        expr: luckygas_api_p95_seconds > 2
        for: 30s
        labels: {severity: warning}
        annotations: {summary: "API p95 response time is above 2 s"}
      - alert: AnalyticsEndpointDown
        expr: luckygas_analytics_endpoint_up == 0
        for: 15s
        labels: {severity: critical}
        annotations: {summary: "Analytics endpoint {{ $labels.endpoint }} answers 5xx"}
      - alert: NoOrdersProcessed
        expr: increase(luckygas_orders_processed_total[2m]) == 0
        for: 30s
        labels: {severity: critical}
        annotations: {summary: "No orders processed in the last 2 minutes"}
      - alert: DatabaseConnectionPoolExhausted
        expr: luckygas_db_connections / luckygas_db_max_connections > 0.9
        for: 15s
        labels: {severity: critical}
        annotations: {summary: "Database connections above 90% of max_connections"}
      - alert: SuspiciousLoginActivity
        expr: rate(luckygas_login_failures_total[1m]) > 1 or luckygas_login_compromised > 0
        for: 15s
        labels: {severity: critical}
        annotations: {summary: "Failed logins above 1/s, or a login from an attacking address"}
"""


def _labels(**labels: str) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return "{" + inner + "}"


def exposition(model: Production) -> str:
    """The model's state in Prometheus's text format, version 0.0.4."""
    model.sync()
    ns = model.namespace
    out = [
        "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.",
        "# TYPE container_cpu_usage_seconds_total counter",
    ]
    for p in model.every_pod().values():
        labels = _labels(namespace=ns, pod=p.name, container=p.deployment)
        out.append(f"container_cpu_usage_seconds_total{labels} {p.cpu_seconds:.6f}")
    analytics = [e for e in model.endpoints if e.group == "analytics"]
    out += ["# TYPE luckygas_api_p95_seconds gauge",
            f"luckygas_api_p95_seconds {model.api_p95_ms() / 1000:.4f}",
            "# TYPE luckygas_analytics_endpoint_up gauge"]
    for ep in analytics:
        status, _ = model.endpoint_response(ep, 0.5)
        out.append(f"luckygas_analytics_endpoint_up{_labels(endpoint=ep.name)} "
                   f"{1 if status < 500 else 0}")
    clients = (model.server.clients if model.server is not None else
               sum(1 for c in model.connections.values() if c.backend_type == "client backend"))
    out += ["# TYPE luckygas_orders_processed_total counter",
            f"luckygas_orders_processed_total {model.orders_processed}",
            "# TYPE luckygas_db_connections gauge",
            f"luckygas_db_connections{_labels(datname=DATABASE)} {clients}",
            "# TYPE luckygas_db_max_connections gauge",
            f"luckygas_db_max_connections{_labels(datname=DATABASE)} {model.db_max_connections()}",
            "# TYPE luckygas_login_failures_total counter"]
    for ip, count in sorted(model.logins.failures.items()):
        out.append(f"luckygas_login_failures_total{_labels(source=ip)} {int(count)}")
    out += ["# TYPE luckygas_login_compromised gauge",
            f"luckygas_login_compromised {1 if model.logins.compromised_since else 0}"]
    return "\n".join(out) + "\n"
