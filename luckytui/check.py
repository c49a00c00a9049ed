"""`luckytui check`: one health snapshot of every configured source.

The plan's quick diagnostics, scriptable: each source is fetched once, at
the same time, through the same code the dashboard uses. The result is a
table for a person or one JSON document for a script; the exit code says
whether all is well.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TextIO

from luckytui.config import Settings
from luckytui.snapshots import AlertsSnapshot, DbSnapshot, EndpointsSnapshot, PodsSnapshot
from luckytui.sources.base import Source, SourceError, one_line
from luckytui.text import visible

# the names a script sees, in the order a person reads them
SECTIONS = {"kube": "kubernetes", "db": "postgresql", "endpoints": "endpoints",
            "alerts": "prometheus"}


@dataclass
class SourceCheck:
    name: str  # kubernetes, postgresql, endpoints, prometheus
    configured: bool
    ok: bool = False
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what makes a working source unwell


@dataclass
class CheckReport:
    checked_at: datetime
    sources: list[SourceCheck]

    @property
    def ok(self) -> bool:
        return all(s.ok and not s.problems for s in self.sources if s.configured)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked_at": _iso(self.checked_at),
            "sources": {
                s.name: {"configured": s.configured, "ok": s.ok and not s.problems,
                         "error": s.error if s.error else ("; ".join(s.problems) or None),
                         **s.data}
                for s in self.sources
            },
        }


def _iso(ts: datetime | None) -> str | None:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z") if ts else None


def _pods(snap: PodsSnapshot) -> dict[str, Any]:
    return {
        "namespace": snap.namespace,
        "pods": [{"name": p.name, "phase": p.phase, "ready": p.ready, "restarts": p.restarts,
                  "cpu_millicores": None if p.cpu_m is None else round(p.cpu_m, 1)}
                 for p in sorted(snap.pods, key=lambda p: p.name)],
        "deployments": [{"name": d.name, "desired": d.desired, "ready": d.ready}
                        for d in sorted(snap.deployments, key=lambda d: d.name)],
        "nodes": [{"name": n.name, "ready": n.ready, "cordoned": n.unschedulable}
                  for n in snap.nodes],
        "metrics_available": snap.metrics_available,
        "warnings": [{"reason": w.reason, "object": w.object, "message": w.message,
                      "count": w.count, "last_seen": _iso(w.last_seen)}
                     for w in snap.warnings],
    }


def _db(snap: DbSnapshot) -> dict[str, Any]:
    return {
        "database": snap.database,
        "max_connections": snap.max_connections,
        "connections": {**snap.counts, "total": snap.total},
        "long_running": [{"pid": b.pid, "duration_s": round(b.duration_s, 1),
                          "state": b.state, "wait_event_type": b.wait_event_type,
                          "blocked_by": list(b.blocked_by), "query": b.query}
                         for b in snap.long_running],
        "statements_available": snap.statements_available,
        "statements": [{"queryid": s.queryid, "mean_ms": round(s.mean_ms, 3),
                        "calls": s.calls, "total_ms": round(s.total_ms, 3), "query": s.query}
                       for s in snap.statements],
    }


def _endpoints(snap: EndpointsSnapshot) -> dict[str, Any]:
    return {"endpoints": [
        {"name": e.name, "group": e.group, "method": e.method, "url": e.url, "status": e.status,
         "latency_ms": None if e.latency_ms is None else round(e.latency_ms, 1), "ok": e.ok,
         "error": e.error}
        for e in snap.endpoints]}


def _alerts(snap: AlertsSnapshot) -> dict[str, Any]:
    return {"alerts": [
        {"name": a.name, "state": a.state, "severity": a.severity,
         "active_at": _iso(a.active_at), "summary": a.summary}
        for a in snap.alerts]}


def _describe(check: SourceCheck, snapshot: Any) -> None:
    if isinstance(snapshot, PodsSnapshot):
        check.data = _pods(snapshot)
        bad = [d["name"] for d in check.data["deployments"] if d["ready"] < d["desired"]]
        if bad:
            check.problems.append(f"deployments not ready: {', '.join(bad)}")
    elif isinstance(snapshot, DbSnapshot):
        check.data = _db(snapshot)
    elif isinstance(snapshot, EndpointsSnapshot):
        check.data = _endpoints(snapshot)
        down = [e.name for e in snapshot.endpoints if not e.ok]
        if down:
            check.problems.append(f"endpoints down: {', '.join(down)}")
    elif isinstance(snapshot, AlertsSnapshot):
        check.data = _alerts(snapshot)


async def _fetch(source: Source[Any], timeout: float) -> tuple[Any, str | None]:
    try:
        return await asyncio.wait_for(source.fetch(), timeout), None
    except TimeoutError:
        return None, f"timed out after {timeout:g} s"
    except SourceError as exc:
        return None, one_line(exc)
    except Exception as exc:  # a check reports, it never crashes
        return None, one_line(exc)
    finally:
        # closing a broken connection can fail too; there is nothing more to report
        with contextlib.suppress(Exception):
            await source.aclose()


async def run_check(settings: Settings, *, timeout: float = 15.0,
                    sources: Sequence[Source[Any]] | None = None) -> CheckReport:
    """Fetch every configured source once, concurrently; ``timeout`` is a cap: no source
    is waited on longer (an endpoint's own timeout is shortened to it)."""
    if sources is None:
        from luckytui.sources.factory import build_sources

        # a probe gives up a little before the source is given up on, so it says why
        probe_s = max(0.1, timeout * 0.8)
        capped = tuple(replace(e, timeout=min(e.timeout, probe_s)) for e in settings.endpoints)
        sources = build_sources(replace(settings, endpoints=capped), watch=False)
    by_name = {s.name: s for s in sources}
    results = await asyncio.gather(*(_fetch(s, timeout) for s in sources))
    fetched = dict(zip(by_name, results, strict=True))
    checks = []
    for key, section in SECTIONS.items():
        if key not in by_name:
            checks.append(SourceCheck(section, configured=False))
            continue
        snapshot, error = fetched[key]
        check = SourceCheck(section, configured=True, ok=error is None, error=error)
        if snapshot is not None:
            _describe(check, snapshot)
        checks.append(check)
    return CheckReport(datetime.now(UTC), checks)


def print_json(report: CheckReport, out: TextIO) -> None:
    json.dump(report.to_json(), out, indent=2)
    out.write("\n")


def print_table(report: CheckReport, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def outside(text: str) -> Text:  # names and errors: never markup, controls shown
        return Text(visible(text, multiline=True))

    table = Table(title=f"luckytui check · {report.checked_at:%Y-%m-%d %H:%M:%S} UTC",
                  title_justify="left")
    table.add_column("source")
    table.add_column("health")
    table.add_column("what it says")
    for s in report.sources:
        if not s.configured:
            table.add_row(s.name, "[dim]not configured[/]", "")
            continue
        if s.error:
            table.add_row(s.name, "[bold red]✖ failing[/]", outside(s.error))
            continue
        health = "[green]✓ ok[/]" if not s.problems else "[bold red]✖ unwell[/]"
        table.add_row(s.name, health, outside(_summary(s)))
    console = Console(file=out, soft_wrap=False)
    console.print(table)
    verdict = ("[green]all well[/]" if report.ok else "[bold red]something is wrong[/]")
    console.print(verdict)


def _summary(s: SourceCheck) -> str:
    d = s.data
    lines = list(s.problems)
    if s.name == "kubernetes":
        ready = sum(1 for p in d["pods"] if p["ready"])
        lines.append(f"{len(d['pods'])} pods ({ready} ready), {len(d['deployments'])} "
                     f"deployments, {sum(n['cordoned'] for n in d['nodes'])} nodes cordoned")
    elif s.name == "postgresql":
        c = d["connections"]
        lines.append(f"{d['database']}: {c['total']} of {d['max_connections']} connections "
                     f"(active {c.get('active', 0)}, idle {c.get('idle', 0)}, idle in "
                     f"transaction {c.get('idle in transaction', 0)}, waiting "
                     f"{c.get('waiting', 0)})")
        over = [q for q in d["long_running"] if q["duration_s"] > 300]
        lines.append(f"{len(d['long_running'])} long-running queries, {len(over)} over 5 min")
    elif s.name == "endpoints":
        up = sum(1 for e in d["endpoints"] if e["ok"])
        lines.append(f"{up} of {len(d['endpoints'])} endpoints up")
    elif s.name == "prometheus":
        firing = [a["name"] for a in d["alerts"] if a["state"] == "firing"]
        lines.append(f"firing: {', '.join(firing)}" if firing else "no alerts firing")
    return "\n".join(lines)
