"""The parsers of what outside services answer (Prometheus, the Kubernetes API, the
login endpoint), fed any JSON hypothesis can build: a value, or one clear SourceError
line, never another exception (which would reach the pane as a Python error name)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luckytui.sources.alerts import parse_alerts_document
from luckytui.sources.base import SourceError
from luckytui.sources.endpoints import _token_from
from luckytui.sources.kube import _parse_pod, metrics_cpu_m, parse_deployment, parse_node
from luckytui.sources.prometheus import parse_matrix, parse_vector

pytestmark = pytest.mark.fuzz

KEYS = ["status", "data", "alerts", "labels", "alertname", "state", "annotations", "summary",
        "activeAt", "severity", "metric", "pod", "value", "values", "result", "metadata",
        "name", "spec", "replicas", "readyReplicas", "conditions", "type", "capacity", "cpu",
        "nodeName", "containerStatuses", "restartCount", "startTime", "containers",
        "resources", "limits", "ownerReferences", "kind", "phase", "deletionTimestamp",
        "usage", "items", "token", "access_token", "unschedulable", "firing", "success"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                    st.text(max_size=20), st.sampled_from(
                        ["success", "firing", "pending", "NaN", "+Inf", "1e400", "250m", "2",
                         "0001-01-01T00:00:00Z", "2026-12-05T03:04:05.123456789Z", "Ready",
                         "True", "Deployment", "ReplicaSet", "luckygas-backend-7d9f-abcde"]))
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner,
                        max_size=6)),
    max_leaves=30)


def _clear(exc: SourceError) -> None:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text


@given(json_values)
def test_alerts_answer(doc: Any) -> None:
    try:
        alerts = parse_alerts_document(doc)
    except SourceError as exc:
        _clear(exc)
    else:
        assert all(a.name and a.state for a in alerts)


@given(json_values)
def test_prometheus_vector_and_matrix(result: Any) -> None:
    for parse in (parse_vector, parse_matrix):
        try:
            parsed = parse(result)
        except SourceError as exc:
            _clear(exc)
        else:
            assert all(isinstance(pod, str) and pod for pod in parsed)


@given(json_values)
def test_kubernetes_objects(item: Any) -> None:
    _parse_pod(item)  # a pod's JSON never fails: what is missing shows as unknown
    metrics_cpu_m(item if isinstance(item, list) else [item])
    for parse in (parse_deployment, lambda i: parse_node(i, {})):
        try:
            parse(item if isinstance(item, dict) else {})
        except SourceError as exc:
            _clear(exc)


@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: repr(v).encode())))
def test_login_answer(payload: bytes) -> None:
    token = _token_from(payload, "access_token")
    assert token is None or (isinstance(token, str) and token)


# --- PostgreSQL rows: NULLs and the odd types a driver or a garbage answer gives --------

pg_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                      st.text(max_size=12), st.datetimes(), st.decimals(allow_nan=True),
                      st.binary(max_size=4), st.lists(st.one_of(st.none(), st.integers(),
                                                                st.text(max_size=3)),
                                                      max_size=3),
                      st.sampled_from(["active", "idle", "idle in transaction", "Lock",
                                       "client backend", "2026-12-05T03:04:05Z"]))
ACTIVITY = ["pid", "datname", "usename", "application_name", "state", "wait_event_type",
            "wait_event", "backend_start", "query_start", "state_change", "xact_start",
            "query", "blocked_by", "backend_type"]
STATEMENTS = ["queryid", "query", "calls", "total_exec_time", "mean_exec_time", "rows",
              "total_time", "mean_time"]


@given(st.lists(st.dictionaries(st.sampled_from(ACTIVITY), pg_values), max_size=4),
       st.one_of(st.none(), st.lists(st.dictionaries(st.sampled_from(STATEMENTS), pg_values),
                                     max_size=4)))
def test_postgres_rows(activity: list[dict[str, Any]],
                       statements: list[dict[str, Any]] | None) -> None:
    from datetime import UTC, datetime

    from luckytui.sources.postgres import build_db_snapshot

    try:
        snap = build_db_snapshot("prod", 100, activity, statements,
                                 datetime(2026, 12, 5, 3, 4, 5, tzinfo=UTC))
    except SourceError as exc:
        _clear(exc)
    else:
        assert snap.total >= 0 and all(isinstance(b.pid, int) for b in snap.long_running)
