"""The metrics API (metrics.k8s.io/v1beta1): pod and node usage."""

from __future__ import annotations

from luckytui.sim.kube.common import Json, _iso
from luckytui.sim.kube.jobs import JobsApi
from luckytui.sim.model import SimNode, SimPod


class MetricsApi(JobsApi):
    """Pod and node usage, as the metrics API serves it."""

    def _metric_pods(self, ns: str | None) -> list[SimPod]:
        now = self.model.now
        return [p for p in self._pods(ns) if p.node and now >= p.ready_at]

    def _metric_times(self) -> tuple[str, str]:
        now = self.model.now
        if self._metric_at[0] != now:
            self._metric_at = (now, _iso(now), _iso(now - 5))
        return self._metric_at[1], self._metric_at[2]

    def pod_metrics_json(self, p: SimPod) -> Json:
        created, sampled = self._metric_times()
        return {"metadata": {"name": p.name, "namespace": self.ns, "creationTimestamp": created},
                "timestamp": sampled, "window": "15s",
                "containers": [{"name": p.deployment, "usage": {
                    "cpu": f"{int(p.cpu_m * 1_000_000)}n",
                    "memory": f"{int(p.memory_mi * 1024)}Ki"}}]}

    def _node_usage(self) -> dict[str, tuple[float, float]]:
        """Per node: (CPU millicores, memory MiB) of its running pods plus the system's."""
        now = self.model.now
        if self._usage_at != now:
            usage = {n: [180.0, 1536.0] for n in self.model.nodes}
            for p in self.model.pods.values():
                u = usage.get(p.node)
                if u is not None and now >= p.ready_at:
                    u[0] += p.cpu_m
                    u[1] += p.memory_mi
            self._usage = {n: (u[0], u[1]) for n, u in usage.items()}
            self._usage_at = now
        return self._usage

    def node_metrics_json(self, n: SimNode) -> Json:
        created, sampled = self._metric_times()
        cpu, mem = self._node_usage().get(n.name, (180.0, 1536.0))
        return {"metadata": {"name": n.name, "creationTimestamp": created,
                             "labels": self._node_labels(n)},
                "timestamp": sampled, "window": "20s",
                "usage": {"cpu": f"{int(cpu * 1_000_000)}n", "memory": f"{int(mem * 1024)}Ki"}}

