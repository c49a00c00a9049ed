"""PostgreSQL's errors as one line for the operator, and secrets kept out of text.

Shared by the database source and the database remedies; nothing here connects.
"""

from __future__ import annotations

import re

from luckytui.redact import redact_text

_CONNECT_FAILED = re.compile(
    r'connection to server (?:at "(?P<host>[^"]*)"(?: \((?P<addr>[^)]*)\))?, '
    r'port (?P<port>\d+)|on socket "(?P<socket>[^"]*)") failed: (?P<detail>.*)')
_SEVERITY = re.compile(r"^(?:FATAL|ERROR|PANIC):\s+")


def mask_passwords(query: str) -> str:
    """Query text without secrets (`ALTER ROLE ... PASSWORD '...'` in any quoting,
    literals assigned to secret-named settings...): pg_stat_statements keeps utility
    statements verbatim, and the pane is often on a shared screen."""
    return redact_text(query)


def scrub_secrets(text: str) -> str:
    """Hide anything that looks like a password in a conninfo string, a URL or a
    message."""
    return redact_text(text)


def _where(m: re.Match[str]) -> str:
    if m.group("socket"):
        return m.group("socket")
    host = m.group("host") or m.group("addr") or "?"
    return f"[{host}]:{m.group('port')}" if ":" in host else f"{host}:{m.group('port')}"


def describe_pg_error(exc: BaseException, timeout_s: float) -> str:
    """One line for the operator saying why the database gave no snapshot.

    Shaped after what the operator needs: "connection refused: 127.0.0.1:5433",
    'password authentication failed for user "x"', "timed out after 5 s",
    "statement timeout". It never contains a password.
    """
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout_s:g} s"
    sqlstate = getattr(exc, "sqlstate", None)
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else ""
    if sqlstate == "57014":  # query_canceled
        if "statement timeout" in text:
            return "statement timeout"
        return "query cancelled by the server"
    if type(exc).__name__ == "ConnectionTimeout" or first.endswith("timeout expired"):
        return f"timed out after {timeout_s:g} s"
    m = _CONNECT_FAILED.search(first)
    if m:
        detail = _SEVERITY.sub("", m.group("detail").strip())
        low = detail.lower()
        if low.startswith("connection refused"):
            return scrub_secrets(f"connection refused: {_where(m)}")
        if m.group("socket") and low.startswith("no such file"):
            return scrub_secrets(f"no server listening on socket {_where(m)}")
        if low.startswith("timeout expired"):
            return f"timed out after {timeout_s:g} s"
        if "server closed the connection" in low:
            return scrub_secrets(f"server closed the connection: {_where(m)}")
        if low.startswith(("connection timed out", "no route to host", "network is unreachable",
                           "connection reset")):
            return scrub_secrets(f"{low.split(' (', 1)[0]}: {_where(m)}")
        return scrub_secrets(detail)
    if first.startswith("failed to resolve host"):
        host = first.split("'")[1] if first.count("'") >= 2 else ""
        return scrub_secrets(f"host name not resolved: {host}".rstrip(": "))
    if "server closed the connection" in text or "connection is lost" in text:
        return "server closed the connection"
    if primary:
        return scrub_secrets(" ".join(str(primary).split()))
    for prefix in ("connection failed: ", "connection is bad: "):
        first = first.removeprefix(prefix)
    first = _SEVERITY.sub("", first)
    return scrub_secrets(first or type(exc).__name__)
